package dev.xbt.kernels;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Backends;
import dev.xbt.engine.backend.BinaryOp;
import dev.xbt.engine.backend.Buffer;
import dev.xbt.engine.backend.ReduceOp;
import dev.xbt.engine.backend.UnaryOp;
import dev.xbt.kernels.cuda.CudaBackend;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Random;
import java.util.function.Function;

/**
 * Runs every kernel of the Backend SPI on one backend and on a reference backend, from identical
 * inputs at model-sized shapes, and prints one line per kernel: PASS or FAIL, the largest relative
 * difference max |a − b| / (1 + |b|) and the tolerance (1e-4 for FP32 arithmetic, 0 for data
 * movement). On CUDA it also checks every GEMM path (cuBLAS and our kernels, FP32, TF32, BF16; the
 * reduced precisions against their own looser bounds, relative to the largest output) and times a
 * 4096³ product on each. Needs no JUnit and no Maven: the device check runs it from the shaded jar.
 *
 * <pre>java -cp xbt-all.jar dev.xbt.kernels.KernelCheck [backend [reference]]   (defaults: cuda cpu)</pre>
 *
 * Exit status 0 when everything passed, 1 when something failed, 2 for bad arguments or an
 * unavailable backend.
 */
public final class KernelCheck {
    /** Float32 arithmetic against float32 arithmetic: the bound. */
    static final double FP32 = 1e-4;
    /** Reduced-precision products, measured as max |a − b| / max |b|. */
    static final double TF32_BOUND = 2e-3, BF16_BOUND = 2e-2;

    private final Backend be, ref;
    private final PrintStream out;
    private int failed, passed;

    KernelCheck(Backend be, Backend ref, PrintStream out) {
        this.be = be;
        this.ref = ref;
        this.out = out;
    }

    public static void main(String[] args) {
        if (args.length > 2 || (args.length > 0 && (args[0].equals("-h") || args[0].equals("--help")))) {
            System.out.println("usage: KernelCheck [backend [reference]]  (defaults: cuda cpu)");
            System.exit(args.length > 2 ? 2 : 0);
        }
        String name = args.length > 0 ? args[0] : "cuda", refName = args.length > 1 ? args[1] : "cpu";
        Backend be, ref;
        try {
            be = Backends.get(name);
            ref = Backends.get(refName);
        } catch (RuntimeException e) {
            System.err.println("KernelCheck: " + e.getMessage());
            System.exit(2);
            return;
        }
        KernelCheck k = new KernelCheck(be, ref, System.out);
        System.out.println("# KernelCheck: " + (be instanceof CudaBackend cb ? cb.describe() : be.name()) + " against " + ref.name());
        k.runAll();
        System.out.println("# " + k.passed + " passed, " + k.failed + " failed");
        System.exit(k.failed == 0 ? 0 : 1);
    }

    int failures() {
        return failed;
    }

    // ================================================================ harness

    /** What a kernel run leaves behind: the buffers to compare, read back. */
    @FunctionalInterface
    interface Run extends Function<Backend, float[]> {}

    void check(String name, double tol, Run run) {
        long t0 = System.nanoTime();
        try {
            float[] got = runOn(be, run), want = run.apply(ref);
            double worst = maxRel(got, want);
            boolean ok = got.length == want.length && worst <= tol;
            report(ok, name, String.format(Locale.ROOT, "max-rel %.3g (tol %.0g)", worst, tol), t0);
        } catch (RuntimeException | AssertionError e) {
            report(false, name, "error: " + e.getClass().getSimpleName() + ": " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""), t0);
        }
    }

    /** On CUDA inside a memory scope, so that each check's buffers are freed when it ends, not by the collector. */
    private static float[] runOn(Backend b, Run run) {
        if (b instanceof CudaBackend cb) {
            try (CudaBackend.MemoryScope s = cb.scope()) {
                return run.apply(b);
            }
        }
        return run.apply(b);
    }

    private void report(boolean ok, String name, String detail, long t0) {
        if (ok) passed++;
        else failed++;
        out.printf(Locale.ROOT, "%s %-44s %s  [%d ms]%n", ok ? "PASS" : "FAIL", name, detail, (System.nanoTime() - t0) / 1_000_000);
    }

    /** max |a − b| / (1 + |b|); a mismatch of non-finite values counts as infinite. */
    static double maxRel(float[] a, float[] b) {
        if (a.length != b.length) return Double.POSITIVE_INFINITY;
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            if (!Float.isFinite(a[i]) || !Float.isFinite(b[i])) {
                if (Float.compare(a[i], b[i]) != 0) return Double.POSITIVE_INFINITY;
                continue;
            }
            worst = Math.max(worst, Math.abs((double) a[i] - b[i]) / (1 + Math.abs((double) b[i])));
        }
        return worst;
    }

    /** max |a − b| / max |b|: the scale-free error of a reduced-precision product. */
    static double maxRelToLargest(float[] a, float[] b) {
        double d = 0, m = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs((double) a[i] - b[i]));
            m = Math.max(m, Math.abs((double) b[i]));
        }
        return (a.length != b.length || Double.isNaN(d)) ? Double.POSITIVE_INFINITY : d / Math.max(m, Double.MIN_NORMAL);
    }

    static float[] normal(long seed, int n) {
        Random r = new Random(seed);
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = (float) r.nextGaussian();
        return d;
    }

    static float[] uniform(long seed, float lo, float hi, int n) {
        Random r = new Random(seed);
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = lo + (hi - lo) * r.nextFloat();
        return d;
    }

    static float[] read(Backend b, Buffer... bufs) {
        int n = 0;
        for (Buffer x : bufs) n += (int) x.length();
        float[] all = new float[n];
        int off = 0;
        for (Buffer x : bufs) {
            b.download(x, all, off);
            off += (int) x.length();
        }
        return all;
    }

    static Buffer up(Backend b, float[] d) {
        return b.upload(d, 0, d.length);
    }

    // ================================================================ the kernels

    void runAll() {
        memory();
        gemm();
        elementwise();
        reductions();
        movement();
        fused();
        attention();
        readBacksAndOptimizers();
        if (be instanceof CudaBackend cb) gemmPaths(cb);
    }

    void memory() {
        float[] x = normal(1, 100_003);
        check("upload/download", 0, b -> read(b, up(b, x)));
        check("allocate zero-fills", 0, b -> read(b, b.allocate(4099)));
        check("fill slice", 0, b -> {
            Buffer y = up(b, x);
            b.fill(y.slice(10, 5000), -2.5f);
            return read(b, y);
        });
        check("copy into slice", 0, b -> {
            Buffer y = b.allocate(x.length + 7);
            b.copy(up(b, x), y.slice(7, x.length));
            return read(b, y);
        });
    }

    void gemmCase(String name, double tol, int batch, boolean ta, boolean tb, int m, int n, int k, float alpha, float beta,
                  boolean sharedB, long strideC) {
        float[] a = normal(10 + m, batch * m * k), bb = normal(11 + n, (sharedB ? 1 : batch) * k * n);
        float[] c0 = normal(12 + k, (int) (strideC == 0 ? m * n : batch * m * n));
        check(name, tol, b -> {
            Buffer C = up(b, c0);
            b.gemm(batch, ta, tb, m, n, k, alpha, up(b, a), (long) m * k, up(b, bb), sharedB ? 0 : (long) k * n, beta, C, strideC);
            return read(b, C);
        });
    }

    void gemm() {
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                String t = (ta ? "T" : "N") + (tb ? "T" : "N");
                gemmCase("gemm " + t + " 3×[67×45·45×131] α β", FP32, 3, ta, tb, 67, 131, 45, 0.5f, 0.75f, false, 67 * 131);
                gemmCase("gemm " + t + " 512×768·768×3072", FP32, 1, ta, tb, 512, 3072, 768, 1f, 0f, false, 512 * 3072);
            }
        }
        gemmCase("gemm shared B 12×[50×64·64×50]", FP32, 12, false, true, 50, 50, 64, 0.125f, 0f, true, 2500);
        gemmCase("gemm batches accumulate into one C", FP32, 4, true, false, 33, 17, 29, 1f, 1f, false, 0);
    }

    void elementwise() {
        int rows = 256 * 50, w = 768;
        float[] x = normal(20, rows * w), bias = normal(21, w), y = uniform(22, 0.5f, 2f, rows * w);
        for (BinaryOp op : BinaryOp.values()) {
            String o = op.name().toLowerCase(Locale.ROOT);
            check(o + " same shape [12800,768]", FP32, b -> {
                Buffer out = b.allocate(x.length);
                b.binary(op, new int[] {rows, w}, up(b, x), new int[] {w, 1}, up(b, y), new int[] {w, 1}, out);
                return read(b, out);
            });
            check(o + " bias broadcast [12800,768]+[768]", FP32, b -> {
                Buffer out = b.allocate(x.length);
                b.binary(op, new int[] {rows, w}, up(b, x), new int[] {w, 1}, up(b, bias), new int[] {0, 1}, out);
                return read(b, out);
            });
            float[] p = normal(23, 8 * 50), q = uniform(24, 0.5f, 2f, 8 * 12);
            check(o + " outer broadcast [8,1,50]·[8,12,1]", FP32, b -> {
                Buffer out = b.allocate(8 * 12 * 50);
                b.binary(op, new int[] {8, 12, 50}, up(b, p), new int[] {50, 0, 1}, up(b, q), new int[] {12, 1, 0}, out);
                return read(b, out);
            });
        }
        for (UnaryOp op : UnaryOp.values()) {
            boolean positive = switch (op) {
                case LOG, SQRT, RSQRT, RECIPROCAL -> true;
                default -> false;
            };
            float[] in = positive ? uniform(25, 0.1f, 4f, 1 << 20) : uniform(25, -6f, 6f, 1 << 20);
            float[] g = normal(26, 1 << 20);
            String o = op.name().toLowerCase(Locale.ROOT);
            check(o, FP32, b -> {
                Buffer out = b.allocate(in.length);
                b.unary(op, up(b, in), out);
                return read(b, out);
            });
            check(o + " backward", FP32, b -> {
                Buffer out = b.allocate(in.length);
                b.unaryBackward(op, up(b, in), up(b, g), out);
                return read(b, out);
            });
        }
        check("affine", FP32, b -> {
            Buffer X = up(b, x);
            b.affine(X, 0.7f, -0.2f, X);
            return read(b, X);
        });
    }

    void reductions() {
        float[] x = normal(30, 64 * 77 * 512);
        int[][] shapes = {{64 * 77, 512, 1}, {64, 77, 512}, {1, 4096, 300}, {1, 771_000, 1}};
        for (int[] s : shapes) {
            for (ReduceOp op : ReduceOp.values()) {
                String name = op.name().toLowerCase(Locale.ROOT) + " outer " + s[0] + " n " + s[1] + " inner " + s[2];
                float[] in = s[0] * s[1] * s[2] == x.length ? x : normal(31, s[0] * s[1] * s[2]);
                check(name, op == ReduceOp.MAX ? 0 : FP32, b -> {
                    Buffer out = b.allocate((long) s[0] * s[2]);
                    b.reduce(op, up(b, in), s[0], s[1], s[2], out);
                    return read(b, out);
                });
            }
        }
        float[] d = new float[64 * 77 * 33];
        for (int i = 0; i < d.length; i++) d[i] = ((i * 7919) % d.length) / 64f; // distinct: no ties
        float[] g = normal(32, 64 * 33);
        check("reduceMaxBackward [64,77,33] axis 1", 0, b -> {
            Buffer X = up(b, d), M = b.allocate(64 * 33), gi = b.allocate(d.length);
            b.reduce(ReduceOp.MAX, X, 64, 77, 33, M);
            b.reduceMaxBackward(X, M, up(b, g), 64, 77, 33, gi);
            return read(b, gi);
        });
    }

    void movement() {
        float[] x = normal(40, 2 * 77 * 8 * 64);
        check("stridedCopy permute heads [2,77,8,64]", 0, b -> {
            Buffer out = b.allocate(x.length);
            // out[b, h, t, l] = x[b, t, h, l]
            b.stridedCopy(new int[] {2, 8, 77, 64}, up(b, x), new int[] {77 * 512, 64, 512, 1}, out,
                    new int[] {8 * 77 * 64, 77 * 64, 64, 1}, false);
            return read(b, out);
        });
        float[] img = normal(44, 16 * 3 * 224 * 224);
        check("stridedCopy image to patches [16,7,7,3,32,32]", 0, b -> {
            Buffer out = b.allocate(img.length);
            // out[b, gy, gx, c, py, px] = img[b, c, 32 gy + py, 32 gx + px]: ViT-B-32's patch embedding
            b.stridedCopy(new int[] {16, 7, 7, 3, 32, 32}, up(b, img), new int[] {3 * 224 * 224, 32 * 224, 32, 224 * 224, 224, 1}, out,
                    new int[] {7 * 7 * 3 * 32 * 32, 7 * 3 * 32 * 32, 3 * 32 * 32, 32 * 32, 32, 1}, false);
            return read(b, out);
        });
        float[] big = normal(41, 256 * 768);
        check("stridedCopy accumulate over a stride-0 axis", FP32, b -> {
            Buffer out = up(b, normal(42, 768));
            b.stridedCopy(new int[] {256, 768}, up(b, big), new int[] {768, 1}, out, new int[] {0, 1}, true);
            return read(b, out);
        });
        float[] table = normal(43, 4096 * 512);
        int[] rows = new int[4 * 77];
        Random r = new Random(44);
        for (int i = 0; i < rows.length; i++) rows[i] = i % 5 == 0 ? 7 : r.nextInt(4096);
        check("gatherRows [308] of [4096,512]", 0, b -> {
            Buffer out = b.allocate((long) rows.length * 512);
            b.gatherRows(up(b, table), 512, rows, out);
            return read(b, out);
        });
        float[] src = normal(45, rows.length * 512);
        check("scatterAddRows repeated rows", FP32, b -> {
            Buffer t = up(b, table);
            b.scatterAddRows(up(b, src), 512, rows, t);
            return read(b, t);
        });
    }

    void fused() {
        // 64 images × 50 tokens: gradGamma and gradBeta sum over the rows, and over many more rows two
        // correct FP32 summation orders drift apart by ~1e-4 (seen between the CPU backends at 12800 rows).
        int rows = 64 * 50, n = 768;
        float[] x = normal(50, rows * n), gamma = uniform(51, 0.5f, 1.5f, n), beta = normal(52, n), g = normal(53, rows * n);
        float[] pre = normal(54, n);
        check("layerNorm [3200,768]", FP32, b -> {
            Buffer out = b.allocate(x.length), mean = b.allocate(rows), rstd = b.allocate(rows);
            b.layerNorm(up(b, x), up(b, gamma), up(b, beta), rows, n, 1e-5f, out, mean, rstd);
            return read(b, out, mean, rstd);
        });
        check("layerNormBackward gradX, gradGamma +=, gradBeta +=", FP32, b -> {
            Buffer X = up(b, x), G = up(b, gamma), out = b.allocate(x.length), mean = b.allocate(rows), rstd = b.allocate(rows);
            b.layerNorm(X, G, up(b, beta), rows, n, 1e-5f, out, mean, rstd);
            Buffer dx = b.allocate(x.length), dg = up(b, pre), db = up(b, pre);
            b.layerNormBackward(X, G, mean, rstd, up(b, g), rows, n, dx, dg, db);
            return read(b, dx, dg, db);
        });
        int srows = 12 * 77, sn = 77;
        float[] s = normal(55, srows * sn), sg = normal(56, srows * sn);
        for (boolean log : new boolean[] {false, true}) {
            String nm = log ? "logSoftmax" : "softmax";
            check(nm + " [924,77] and backward", FP32, b -> {
                Buffer y = b.allocate(s.length), gi = b.allocate(s.length);
                b.softmax(up(b, s), srows, sn, log, y);
                b.softmaxBackward(y, up(b, sg), srows, sn, log, gi);
                return read(b, y, gi);
            });
        }
        check("softmax wide rows [16,49408]", FP32, b -> {
            float[] w = normal(57, 16 * 49408);
            Buffer y = b.allocate(w.length);
            b.softmax(up(b, w), 16, 49408, false, y);
            return read(b, y);
        });
        int ce = 256, classes = 1000;
        float[] logits = normal(58, ce * classes), gl = normal(59, ce);
        int[] targets = new int[ce];
        for (int i = 0; i < ce; i++) targets[i] = i % 7 == 3 ? -1 : (i * 31) % classes;
        check("crossEntropy [256,1000] and backward", FP32, b -> {
            Buffer L = up(b, logits), loss = b.allocate(ce), lse = b.allocate(ce), gi = b.allocate(logits.length);
            b.crossEntropy(L, ce, classes, targets, loss, lse);
            b.crossEntropyBackward(L, lse, targets, up(b, gl), ce, classes, gi);
            return read(b, loss, lse, gi);
        });
        float[] dx = normal(60, 1 << 20);
        check("dropout p=0.1 (same mask)", FP32, b -> {
            Buffer out = b.allocate(dx.length);
            b.dropout(up(b, dx), 0.1f, 1234567L, out);
            return read(b, out);
        });
    }

    void attentionCase(String name, int bh, int t, int d, boolean causal, boolean masked, int maskGroup) {
        float[] q = normal(70 + t, bh * t * d), k = normal(71 + t, bh * t * d), v = normal(72 + t, bh * t * d), g = normal(73, bh * t * d);
        int maskSlices = masked ? Math.max(1, bh / maskGroup) : 0;
        float[] mask = uniform(74, -2f, 0f, Math.max(1, maskSlices * t * t));
        Random r = new Random(75);
        for (int i = 0; i < mask.length; i++) if (i % t != 0 && r.nextFloat() < 0.2f) mask[i] = Float.NEGATIVE_INFINITY;
        float scale = (float) (1 / Math.sqrt(d));
        check(name, FP32, b -> {
            Buffer Q = up(b, q), K = up(b, k), V = up(b, v), M = masked ? up(b, mask) : null;
            Buffer out = b.allocate(q.length), lse = b.allocate((long) bh * t);
            b.attention(bh, t, t, d, scale, Q, K, V, M, maskGroup, causal, out, lse);
            Buffer gq = b.allocate(q.length), gk = b.allocate(k.length), gv = b.allocate(v.length);
            b.attentionBackward(bh, t, t, d, scale, Q, K, V, M, maskGroup, causal, out, lse, up(b, g), gq, gk, gv);
            return read(b, out, lse, gq, gk, gv);
        });
    }

    void attention() {
        attentionCase("attention ViT-B-32 16×12 heads t=50 d=64 fwd+bwd", 16 * 12, 50, 64, false, false, Integer.MAX_VALUE);
        attentionCase("attention text causal 8×8 heads t=77 d=64 fwd+bwd", 8 * 8, 77, 64, true, false, Integer.MAX_VALUE);
        attentionCase("attention additive mask per batch t=33 d=40", 4 * 3, 33, 40, false, true, 3);
    }

    void readBacksAndOptimizers() {
        float[] x = normal(80, 3_000_001);
        x[17] = Float.NaN;
        x[2_999_999] = Float.NaN;
        float[] clean = normal(81, 3_000_001);
        check("sumOfSquares (float64)", 1e-9, b -> new float[] {(float) (b.sumOfSquares(up(b, clean)) / clean.length)});
        check("countNaN", 0, b -> new float[] {b.countNaN(up(b, x))});
        int n = 1 << 20;
        float[] p = normal(82, n), g = normal(83, n), m = normal(84, n), v = uniform(85, 0f, 0.1f, n);
        check("adamw step", FP32, b -> {
            Buffer P = up(b, p), M = up(b, m), V = up(b, v);
            b.adamw(P, up(b, g), M, V, 1e-3f, 0.9f, 0.98f, 1e-6f, 0.2f, 1 - 0.9f * 0.9f, 1 - 0.98f * 0.98f);
            return read(b, P, M, V);
        });
        for (boolean nesterov : new boolean[] {false, true}) {
            check("sgd momentum" + (nesterov ? " nesterov" : ""), FP32, b -> {
                Buffer P = up(b, p), B = up(b, m);
                b.sgd(P, up(b, g), B, 1e-2f, 0.9f, 1e-4f, nesterov);
                return read(b, P, B);
            });
        }
    }

    // ================================================================ the GEMM paths of CUDA

    void gemmPaths(CudaBackend cb) {
        CudaBackend.GemmPath savedPath = cb.gemmPath();
        CudaBackend.Precision savedPrecision = cb.precision();
        int m = 512, n = 3072, k = 768;
        float[] a = normal(90, m * k), bm = normal(91, k * n);
        Buffer rA = up(ref, a), rB = up(ref, bm), rC = ref.allocate((long) m * n);
        ref.gemm(1, false, false, m, n, k, 1f, rA, 0, rB, 0, 0f, rC, 0);
        float[] want = read(ref, rC);
        try {
            for (CudaBackend.GemmPath path : CudaBackend.GemmPath.values()) {
                if (path == CudaBackend.GemmPath.CUBLAS && !cb.hasCublas()) {
                    out.println("SKIP gemm paths on cuBLAS: it did not load (" + cb.describe() + ")");
                    continue;
                }
                for (CudaBackend.Precision pr : CudaBackend.Precision.values()) {
                    String name = "gemm " + path.name().toLowerCase(Locale.ROOT) + " " + pr.name().toLowerCase(Locale.ROOT);
                    long t0 = System.nanoTime();
                    try {
                        cb.setGemm(path, pr);
                        Buffer C = cb.allocate((long) m * n);
                        cb.gemm(1, false, false, m, n, k, 1f, up(cb, a), 0, up(cb, bm), 0, 0f, C, 0);
                        float[] got = read(cb, C);
                        double err = pr == CudaBackend.Precision.FP32 ? maxRel(got, want) : maxRelToLargest(got, want);
                        double tol = switch (pr) {
                            case FP32 -> FP32;
                            case TF32 -> TF32_BOUND;
                            case BF16 -> BF16_BOUND;
                        };
                        String metric = pr == CudaBackend.Precision.FP32 ? "max-rel" : "max-err/max";
                        double tflops = timeGemm(cb, 4096);
                        report(err <= tol, name + " 512×768·768×3072", String.format(Locale.ROOT,
                                "%s %.3g (tol %.0g); 4096³ at %.1f TFLOP/s", metric, err, tol, tflops), t0);
                    } catch (RuntimeException e) {
                        report(false, name, "error: " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""), t0);
                    }
                }
            }
        } finally {
            cb.setGemm(savedPath, savedPrecision);
        }
    }

    /** Throughput of an s×s·s×s product on the backend's current GEMM path (2 warm-ups, then 10 timed). */
    static double timeGemm(CudaBackend cb, int s) {
        try (CudaBackend.MemoryScope scope = cb.scope()) {
            Buffer A = cb.upload(normal(92, s * s), 0, s * s), B = cb.upload(normal(93, s * s), 0, s * s), C = cb.allocate((long) s * s);
            for (int i = 0; i < 2; i++) cb.gemm(1, false, false, s, s, s, 1f, A, 0, B, 0, 0f, C, 0);
            cb.synchronize();
            int reps = 10;
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) cb.gemm(1, false, false, s, s, s, 1f, A, 0, B, 0, 0f, C, 0);
            cb.synchronize();
            double sec = (System.nanoTime() - t0) / 1e9;
            return 2.0 * s * s * s * reps / sec / 1e12;
        }
    }
}

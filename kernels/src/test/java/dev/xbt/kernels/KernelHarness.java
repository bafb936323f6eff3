package dev.xbt.kernels;

import dev.xbt.engine.Rng;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Backends;
import dev.xbt.engine.backend.BinaryOp;
import dev.xbt.engine.backend.Buffer;
import dev.xbt.engine.backend.ReduceOp;
import dev.xbt.engine.backend.UnaryOp;
import dev.xbt.kernels.opencl.OpenClBackend;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The kernel development harness. For each kernel of the Backend SPI: a check of every launch
 * configuration against the CPU reference backend "scalar" at a small shape, then a timing at a
 * CLIP-sized shape with the achieved GB/s (memory-bound kernels) or GFLOP/s (GEMM, attention).
 *
 * <pre>
 *   kernels/harness [--backend opencl] [--only NAME[,NAME...]] [--seconds 0.3]
 * </pre>
 *
 * Exit code 1 when any check fails. Throughput counts the bytes each kernel must move at least
 * (every input read once, every output written once) or the flops of the mathematical product.
 */
public final class KernelHarness {
    private final Backend be;
    private final Backend ref = Backends.get("scalar");
    private final double seconds;
    private final List<String> only;
    private int failures;

    private KernelHarness(Backend be, double seconds, List<String> only) {
        this.be = be;
        this.seconds = seconds;
        this.only = only;
    }

    public static void main(String[] args) {
        String backend = "opencl";
        double seconds = 0.3;
        List<String> only = List.of();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--backend" -> backend = args[++i];
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--only" -> only = List.of(args[++i].split(","));
                case "-h", "--help" -> {
                    System.out.println("usage: kernels/harness [--backend opencl|cuda|cpu] [--only KERNEL[,KERNEL...]] [--seconds S]");
                    return;
                }
                default -> {
                    System.err.println("harness: unknown option " + args[i] + " (see --help)");
                    System.exit(2);
                }
            }
        }
        Backend be = Backends.get(backend);
        System.out.println("backend " + be + (be instanceof OpenClBackend cl ? "; program built in " + cl.buildMillis() + " ms" : ""));
        System.out.printf(Locale.ROOT, "%-26s %-22s %-26s %12s %14s%n", "kernel", "launch config", "check vs scalar", "time", "throughput");
        KernelHarness h = new KernelHarness(be, seconds, only);
        h.runAll();
        if (h.failures > 0) {
            System.out.println(h.failures + " check(s) FAILED");
            System.exit(1);
        }
        System.out.println("all checks passed");
    }

    // ------------------------------------------------------------------ machinery

    private boolean wanted(String kernel) {
        return only.isEmpty() || only.stream().anyMatch(kernel::startsWith);
    }

    private static float[] normal(long seed, int n, float std) {
        Rng r = new Rng(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * std);
        return x;
    }

    private static float[] uniform(long seed, int n, float lo, float hi) {
        Rng r = new Rng(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = lo + (hi - lo) * r.nextFloat();
        return x;
    }

    /** Runs {@code fn} on the backend under test and on the reference; prints the worst error relative to 1 + |reference|. */
    private void check(String kernel, String config, double tol, Function<Backend, float[]> fn) {
        float[] got = fn.apply(be), want = fn.apply(ref);
        double worst = 0;
        boolean ok = got.length == want.length;
        for (int i = 0; ok && i < got.length; i++) {
            double a = got[i], b = want[i];
            double err = Double.isFinite(b) || Double.isFinite(a) ? Math.abs(a - b) / (1 + Math.abs(b)) : 0;
            if (Double.isNaN(err) || (Double.isInfinite(b) && a != b)) err = Double.POSITIVE_INFINITY;
            worst = Math.max(worst, err);
        }
        ok &= worst <= tol;
        if (!ok) failures++;
        System.out.printf(Locale.ROOT, "%-26s %-22s %-26s%n", kernel, config,
                (ok ? "ok " : "FAILED ") + String.format(Locale.ROOT, "%.1e (tol %.0e)", worst, tol));
    }

    /** Times {@code launch} (no read-back inside) and prints the throughput of {@code work} units per launch. */
    private void time(String kernel, String config, Runnable launch, double work, String unit) {
        launch.run();
        sync();
        int iters = 0;
        long t0 = System.nanoTime(), t;
        do {
            launch.run();
            iters++;
            if (iters % 4 == 0 || iters == 1) sync();
            t = System.nanoTime();
        } while (t - t0 < seconds * 1e9 && iters < 10_000);
        sync();
        double per = (System.nanoTime() - t0) / 1e9 / iters;
        double rate = work / per / 1e9;
        System.out.printf(Locale.ROOT, "%-26s %-22s %-26s %9.3f ms %9.2f %s%n", kernel, config, "", per * 1e3, rate, unit);
    }

    private void sync() {
        if (be instanceof OpenClBackend cl) cl.finish();
        else be.sumOfSquares(be.allocate(1)); // any read-back waits for the queue
    }

    private Buffer up(Backend b, float[] x) {
        return b.upload(x, 0, x.length);
    }

    private int[] rowWorkGroups() {
        return be instanceof PortableBackend ? new int[] {32, 64, 128, 256} : new int[] {0};
    }

    private void setRowWorkGroup(int wg) {
        if (be instanceof PortableBackend pb && wg > 0) pb.limitRowWorkGroup(wg);
    }

    private static String wgName(int wg) {
        return wg > 0 ? "row group " + wg : "default";
    }

    // ------------------------------------------------------------------ the kernels

    private void runAll() {
        if (wanted("fill")) fillCopy();
        if (wanted("binary")) binary();
        if (wanted("unary")) unary();
        if (wanted("affine")) affine();
        if (wanted("stridedCopy")) stridedCopy();
        if (wanted("reduce")) reduce();
        if (wanted("gatherRows")) gatherScatter();
        if (wanted("layerNorm")) layerNorm();
        if (wanted("softmax")) softmax();
        if (wanted("crossEntropy")) crossEntropy();
        if (wanted("attention")) attention();
        if (wanted("gemm")) gemm();
        if (wanted("dropout")) dropout();
        if (wanted("adamw")) optimizers();
        if (wanted("sumOfSquares")) readBacks();
        if (!only.isEmpty() && wanted("vit")) vit();
    }

    /**
     * Timing only, at the shapes of a ViT-B-32 encoding of 256 images (12 800 tokens of width 768, 12
     * heads of 64): what the device check's profile lists, each kernel against the copy's bandwidth.
     * Too large for the CPU; asked for by name ({@code --only vit}).
     */
    private void vit() {
        int tokens = 256 * 50, w = 768, mlp = 3072;
        Buffer x = be.upload(normal(90, tokens * mlp, 1), 0, tokens * mlp), y = be.allocate((long) tokens * mlp),
                z = be.allocate((long) tokens * mlp), bias = be.upload(normal(91, mlp, 1), 0, mlp);
        Buffer xs = x.slice(0, (long) tokens * w), ys = y.slice(0, (long) tokens * w), zs = z.slice(0, (long) tokens * w);
        time("vit copy", "[12800,3072]", () -> be.copy(x, y), 8.0 * tokens * mlp, "GB/s");
        time("vit binary add", "[12800,768] same shape", () -> be.binary(BinaryOp.ADD, new int[] {tokens, w}, xs, new int[] {w, 1}, ys,
                new int[] {w, 1}, zs), 12.0 * tokens * w, "GB/s");
        time("vit binary add", "bias [12800,3072]+[3072]", () -> be.binary(BinaryOp.ADD, new int[] {tokens, mlp}, x, new int[] {mlp, 1},
                bias, new int[] {0, 1}, z), 8.0 * tokens * mlp, "GB/s");
        time("vit unary quick_gelu", "[12800,3072]", () -> be.unary(UnaryOp.QUICK_GELU, x, z), 8.0 * tokens * mlp, "GB/s");
        // [B, T, 3, H, Dh] -> [3, B, H, T, Dh], and the heads back: [B, H, T, Dh] -> [B, T, H, Dh]
        int b = 256, t = 50, h = 12, dh = 64;
        Buffer qkv = x.slice(0, (long) 3 * tokens * w), heads = y.slice(0, (long) 3 * tokens * w);
        time("vit stridedCopy", "qkv to heads", () -> be.stridedCopy(new int[] {3, b, h, t, dh}, qkv,
                new int[] {h * dh, t * 3 * h * dh, dh, 3 * h * dh, 1}, heads, new int[] {b * h * t * dh, h * t * dh, t * dh, dh, 1}, false),
                8.0 * 3 * tokens * w, "GB/s");
        time("vit stridedCopy", "heads to tokens", () -> be.stridedCopy(new int[] {b, t, h, dh}, xs, new int[] {h * t * dh, dh, t * dh, 1}, zs,
                new int[] {t * h * dh, h * dh, dh, 1}, false), 8.0 * tokens * w, "GB/s");
        int img = 256 * 3 * 224 * 224;
        Buffer pixels = be.allocate(img), patches = be.allocate(img);
        time("vit stridedCopy", "image to patches", () -> be.stridedCopy(new int[] {256, 7, 7, 3, 32, 32}, pixels,
                new int[] {3 * 224 * 224, 32 * 224, 32, 224 * 224, 224, 1}, patches,
                new int[] {7 * 7 * 3 * 32 * 32, 7 * 3 * 32 * 32, 3 * 32 * 32, 32 * 32, 32, 1}, false), 8.0 * img, "GB/s");
        Buffer gamma = be.upload(uniform(92, w, 0.5f, 1.5f), 0, w), beta = be.upload(normal(93, w, 1), 0, w);
        Buffer mean = be.allocate(tokens), rstd = be.allocate(tokens), dg = be.allocate(w), db = be.allocate(w);
        time("vit layerNorm", "[12800,768]", () -> be.layerNorm(xs, gamma, beta, tokens, w, 1e-5f, zs, mean, rstd), 8.0 * tokens * w, "GB/s");
        time("vit layerNormBackward", "[12800,768]", () -> be.layerNormBackward(xs, gamma, mean, rstd, ys, tokens, w, zs, dg, db),
                12.0 * tokens * w, "GB/s");
        int bh = b * h;
        Buffer q = x.slice(0, (long) bh * t * dh), k = x.slice((long) bh * t * dh, (long) bh * t * dh),
                v = x.slice(2L * bh * t * dh, (long) bh * t * dh), o = y.slice(0, (long) bh * t * dh), lse = y.slice((long) bh * t * dh, bh * t),
                gq = z.slice(0, (long) bh * t * dh), gk = z.slice((long) bh * t * dh, (long) bh * t * dh),
                gv = z.slice(2L * bh * t * dh, (long) bh * t * dh);
        double flops = 4.0 * bh * t * t * dh;
        time("vit attention fwd", "B256 H12 T50 d64", () -> be.attention(bh, t, t, dh, 0.125f, q, k, v, null, 1, false, o, lse), flops, "GFLOP/s");
        time("vit attention bwd", "B256 H12 T50 d64", () -> be.attentionBackward(bh, t, t, dh, 0.125f, q, k, v, null, 1, false, o, lse, o,
                gq, gk, gv), 2 * flops, "GFLOP/s");
        time("vit allocate", "zero-filled [12800,768]", () -> be.allocate((long) tokens * w).close(), 4.0 * tokens * w, "GB/s");
    }

    private void fillCopy() {
        float[] x = normal(1, 1000, 1);
        check("fill/copy", "1-D", 0, b -> {
            Buffer a = b.allocate(1000), c = b.allocate(1000);
            b.fill(a, 2.5f);
            b.copy(up(b, x), c);
            return KernelCheck.read(b, a, c);
        });
        int n = 16 << 20;
        Buffer a = be.allocate(n), c = be.allocate(n);
        time("fill", "1-D", () -> be.fill(a, 1f), 4.0 * n, "GB/s");
        time("copy", "1-D", () -> be.copy(a, c), 8.0 * n, "GB/s");
    }

    private void binary() {
        float[] x = normal(2, 7 * 13 * 5, 1), y = uniform(3, 13 * 5, 0.5f, 2f);
        for (BinaryOp op : BinaryOp.values()) {
            check("binary " + op.name().toLowerCase(Locale.ROOT), "broadcast [7,13,5]+[13,5]", 1e-6, b -> {
                Buffer o = b.allocate(x.length);
                b.binary(op, new int[] {7, 13, 5}, up(b, x), new int[] {65, 5, 1}, up(b, y), new int[] {0, 5, 1}, o);
                return KernelCheck.read(b, o);
            });
        }
        check("binary add", "6-D, host loops", 1e-6, b -> {
            float[] z = normal(4, 2 * 3 * 2 * 3 * 2 * 3, 1), w = normal(5, 3 * 3 * 3, 1);
            Buffer o = b.allocate(z.length);
            b.binary(BinaryOp.ADD, new int[] {2, 3, 2, 3, 2, 3}, up(b, z), new int[] {108, 36, 18, 6, 3, 1},
                    up(b, w), new int[] {0, 9, 0, 3, 0, 1}, o);
            return KernelCheck.read(b, o);
        });
        int rows = 4096, n = 768;
        Buffer a = be.allocate((long) rows * n), bias = be.allocate(n), o = be.allocate((long) rows * n);
        time("binary add", "bias [4096,768]+[768]", () -> be.binary(BinaryOp.ADD, new int[] {rows, n}, a, new int[] {n, 1}, bias,
                new int[] {0, 1}, o), 8.0 * rows * n, "GB/s");
    }

    private void unary() {
        float[] x = uniform(6, 4099, -8f, 8f), pos = uniform(7, 4099, 0.05f, 20f), g = normal(8, 4099, 1);
        for (UnaryOp op : UnaryOp.values()) {
            float[] in = switch (op) {
                case LOG, SQRT, RSQRT, RECIPROCAL -> pos;
                default -> x;
            };
            check("unary " + op.name().toLowerCase(Locale.ROOT), "fwd + bwd", 1e-5, b -> {
                Buffer o = b.allocate(in.length), gi = b.allocate(in.length);
                Buffer X = up(b, in);
                b.unary(op, X, o);
                b.unaryBackward(op, X, up(b, g), gi);
                return KernelCheck.read(b, o, gi);
            });
        }
        int n = 8 << 20;
        Buffer a = be.upload(uniform(9, n, -4f, 4f), 0, n), o = be.allocate(n), gg = be.allocate(n);
        time("unary gelu", "1-D", () -> be.unary(UnaryOp.GELU, a, o), 8.0 * n, "GB/s");
        time("unaryBackward gelu", "1-D", () -> be.unaryBackward(UnaryOp.GELU, a, o, gg), 12.0 * n, "GB/s");
    }

    private void affine() {
        float[] x = normal(10, 1001, 1);
        check("affine", "1-D", 1e-6, b -> {
            Buffer o = b.allocate(x.length);
            b.affine(up(b, x), 1.5f, -0.25f, o);
            return KernelCheck.read(b, o);
        });
        int n = 16 << 20;
        Buffer a = be.allocate(n), o = be.allocate(n);
        time("affine", "1-D", () -> be.affine(a, 2f, 1f, o), 8.0 * n, "GB/s");
    }

    private void stridedCopy() {
        float[] x = normal(11, 2 * 77 * 8 * 64, 1), acc = normal(12, 2 * 77 * 8 * 64, 1);
        check("stridedCopy", "heads permute", 0, b -> {
            Buffer o = b.allocate(x.length);
            // [2,77,8,64] -> [2,8,77,64]
            b.stridedCopy(new int[] {2, 8, 77, 64}, up(b, x), new int[] {77 * 512, 64, 512, 1}, o, new int[] {8 * 77 * 64, 77 * 64, 64, 1}, false);
            return KernelCheck.read(b, o);
        });
        check("stridedCopy", "accumulate, dst stride 0", 1e-5, b -> {
            Buffer o = up(b, Arrays.copyOf(acc, 77 * 64));
            b.stridedCopy(new int[] {2, 77, 8, 64}, up(b, x), new int[] {77 * 512, 512, 64, 1}, o, new int[] {0, 64, 0, 1}, true);
            return KernelCheck.read(b, o);
        });
        int r = 768, c = 3072;
        Buffer a = be.allocate((long) r * c), o = be.allocate((long) r * c);
        time("stridedCopy", "transpose 768x3072", () -> be.stridedCopy(new int[] {c, r}, a, new int[] {1, c}, o, new int[] {r, 1}, false),
                8.0 * r * c, "GB/s");
    }

    private void reduce() {
        float[] x = normal(13, 37 * 1000, 1);
        for (int wg : rowWorkGroups()) {
            for (ReduceOp op : ReduceOp.values()) {
                check("reduce rows " + op.name().toLowerCase(Locale.ROOT), wgName(wg), 1e-5, b -> {
                    if (b == be) setRowWorkGroup(wg);
                    Buffer o = b.allocate(37);
                    b.reduce(op, up(b, x), 37, 1000, 1, o);
                    return KernelCheck.read(b, o);
                });
            }
        }
        setRowWorkGroup(256);
        check("reduce cols sum", "1 item per column", 1e-5, b -> {
            Buffer o = b.allocate(37 * 10);
            b.reduce(ReduceOp.SUM, up(b, x), 1, 100, 370, o);
            return KernelCheck.read(b, o);
        });
        check("reduceMaxBackward", "1 item per column", 0, b -> {
            Buffer X = up(b, x), m = b.allocate(370), gi = b.allocate(x.length);
            b.reduce(ReduceOp.MAX, X, 1, 100, 370, m);
            b.reduceMaxBackward(X, m, up(b, normal(14, 370, 1)), 1, 100, 370, gi);
            return KernelCheck.read(b, gi);
        });
        int rows = 4096, n = 768;
        Buffer a = be.allocate((long) rows * n), o = be.allocate(Math.max(rows, n));
        time("reduce rows sum", "[4096,768] axis 1", () -> be.reduce(ReduceOp.SUM, a, rows, n, 1, o.slice(0, rows)), 4.0 * rows * n, "GB/s");
        time("reduce cols sum", "[4096,768] axis 0", () -> be.reduce(ReduceOp.SUM, a, 1, rows, n, o.slice(0, n)), 4.0 * rows * n, "GB/s");
    }

    private void gatherScatter() {
        int vocab = 1000, w = 64;
        float[] table = normal(15, vocab * w, 1), src = normal(16, 300 * w, 1);
        int[] ids = new int[300];
        Rng r = new Rng(17);
        for (int i = 0; i < ids.length; i++) ids[i] = i % 4 == 0 ? 3 : r.nextInt(vocab);
        check("gatherRows/scatterAddRows", "1-D / per column", 1e-5, b -> {
            Buffer o = b.allocate(300 * w), t = up(b, table);
            b.gatherRows(t, w, ids, o);
            b.scatterAddRows(up(b, src), w, ids, t);
            return KernelCheck.read(b, o, t);
        });
        int[] tokens = new int[4 * 77];
        for (int i = 0; i < tokens.length; i++) tokens[i] = r.nextInt(49408);
        Buffer emb = be.allocate(49408L * 512), o = be.allocate(tokens.length * 512L);
        time("gatherRows", "[49408,512] x 308", () -> be.gatherRows(emb, 512, tokens, o), 8.0 * tokens.length * 512, "GB/s");
        time("scatterAddRows", "[49408,512] x 308", () -> be.scatterAddRows(o, 512, tokens, emb), 12.0 * tokens.length * 512, "GB/s");
    }

    private void layerNorm() {
        int rows = 9, n = 768;
        float[] x = normal(18, rows * n, 2), gamma = uniform(19, n, 0.5f, 1.5f), beta = normal(20, n, 1), g = normal(21, rows * n, 1);
        for (int wg : rowWorkGroups()) {
            check("layerNorm fwd + bwd", wgName(wg), 1e-4, b -> {
                if (b == be) setRowWorkGroup(wg);
                Buffer X = up(b, x), G = up(b, gamma), o = b.allocate(x.length), m = b.allocate(rows), rs = b.allocate(rows);
                b.layerNorm(X, G, up(b, beta), rows, n, 1e-5f, o, m, rs);
                Buffer dx = b.allocate(x.length), dg = b.allocate(n), db = b.allocate(n);
                b.layerNormBackward(X, G, m, rs, up(b, g), rows, n, dx, dg, db);
                return KernelCheck.read(b, o, m, rs, dx, dg, db);
            });
        }
        setRowWorkGroup(256);
        int R = 4 * 77 * 4;
        Buffer X = be.allocate((long) R * n), G = be.allocate(n), B = be.allocate(n), o = be.allocate((long) R * n), m = be.allocate(R),
                rs = be.allocate(R), dx = be.allocate((long) R * n), dg = be.allocate(n), db = be.allocate(n);
        be.fill(rs, 1f);
        time("layerNorm", "[1232,768]", () -> be.layerNorm(X, G, B, R, n, 1e-5f, o, m, rs), 8.0 * R * n, "GB/s");
        time("layerNormBackward", "[1232,768]", () -> be.layerNormBackward(X, G, m, rs, o, R, n, dx, dg, db), 12.0 * R * n, "GB/s");
    }

    private void softmax() {
        int rows = 12, n = 77;
        float[] x = normal(22, rows * n, 2), g = normal(23, rows * n, 1);
        for (int wg : rowWorkGroups()) {
            for (boolean log : new boolean[] {false, true}) {
                check(log ? "logSoftmax fwd + bwd" : "softmax fwd + bwd", wgName(wg), 1e-5, b -> {
                    if (b == be) setRowWorkGroup(wg);
                    Buffer o = b.allocate(x.length), gi = b.allocate(x.length);
                    b.softmax(up(b, x), rows, n, log, o);
                    b.softmaxBackward(o, up(b, g), rows, n, log, gi);
                    return KernelCheck.read(b, o, gi);
                });
            }
        }
        setRowWorkGroup(256);
        int R = 8 * 12 * 77;
        Buffer X = be.allocate((long) R * n), o = be.allocate((long) R * n);
        time("softmax", "[7392,77]", () -> be.softmax(X, R, n, false, o), 8.0 * R * n, "GB/s");
    }

    private void crossEntropy() {
        int rows = 16, n = 1000;
        float[] x = normal(24, rows * n, 3), gl = normal(25, rows, 1);
        int[] t = new int[rows];
        for (int i = 0; i < rows; i++) t[i] = i == 3 ? -1 : (i * 61) % n;
        for (int wg : rowWorkGroups()) {
            check("crossEntropy fwd + bwd", wgName(wg), 1e-5, b -> {
                if (b == be) setRowWorkGroup(wg);
                Buffer X = up(b, x), loss = b.allocate(rows), lse = b.allocate(rows), gi = b.allocate(x.length);
                b.crossEntropy(X, rows, n, t, loss, lse);
                b.crossEntropyBackward(X, lse, t, up(b, gl), rows, n, gi);
                return KernelCheck.read(b, loss, lse, gi);
            });
        }
        setRowWorkGroup(256);
    }

    private void attention() {
        for (boolean causal : new boolean[] {false, true}) {
            for (boolean masked : new boolean[] {false, true}) {
                int bh = 4, t = 50, d = 64;
                float[] q = normal(26, bh * t * d, 1), k = normal(27, bh * t * d, 1), v = normal(28, bh * t * d, 1), g = normal(29, bh * t * d, 1);
                float[] mask = uniform(30, 2 * t * t, -2f, 0f);
                check("attention fwd + bwd", (causal ? "causal" : "full") + (masked ? " + mask" : ""), 1e-4, b -> {
                    Buffer Q = up(b, q), K = up(b, k), V = up(b, v), M = masked ? up(b, mask) : null;
                    Buffer o = b.allocate(q.length), lse = b.allocate(bh * t), gq = b.allocate(q.length), gk = b.allocate(q.length),
                            gv = b.allocate(q.length);
                    b.attention(bh, t, t, d, 0.125f, Q, K, V, M, 2, causal, o, lse);
                    b.attentionBackward(bh, t, t, d, 0.125f, Q, K, V, M, 2, causal, o, lse, up(b, g), gq, gk, gv);
                    return KernelCheck.read(b, o, lse, gq, gk, gv);
                });
            }
        }
        int bh = 8 * 8, t = 77, d = 64;
        Buffer Q = be.upload(normal(31, bh * t * d, 1), 0, bh * t * d), o = be.allocate((long) bh * t * d), lse = be.allocate(bh * t),
                gq = be.allocate((long) bh * t * d), gk = be.allocate((long) bh * t * d), gv = be.allocate((long) bh * t * d);
        double flops = 4.0 * bh * t * t * d;
        time("attention fwd", "B8 H8 T77 d64 causal", () -> be.attention(bh, t, t, d, 0.125f, Q, Q, Q, null, 1, true, o, lse), flops / 2, "GFLOP/s");
        time("attention bwd", "B8 H8 T77 d64 causal", () -> be.attentionBackward(bh, t, t, d, 0.125f, Q, Q, Q, null, 1, true, o, lse, o, gq, gk, gv),
                2 * flops / 2, "GFLOP/s");
    }

    private void gemm() {
        int m = 67, n = 129, k = 65;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                float[] a = normal(32, 2 * m * k, 1), bm = normal(33, k * n, 1), c = normal(34, 2 * m * n, 1);
                check("gemm " + (ta ? "T" : "N") + (tb ? "T" : "N"), "67x129x65 batch 2", 1e-4, b -> {
                    Buffer C = up(b, c);
                    b.gemm(2, ta, tb, m, n, k, 0.5f, up(b, a), (long) m * k, up(b, bm), 0, 0.25f, C, (long) m * n);
                    return KernelCheck.read(b, C);
                });
            }
        }
        check("gemm NN", "strideC 0 (in order)", 1e-4, b -> {
            Buffer C = up(b, normal(35, m * n, 1));
            b.gemm(3, false, false, m, n, k, 1f, up(b, normal(36, 3 * m * k, 1)), (long) m * k, up(b, normal(37, 3 * k * n, 1)),
                    (long) k * n, 1f, C, 0);
            return KernelCheck.read(b, C);
        });
        int M = 512, N = 3072, K = 768;
        Buffer A = be.upload(normal(38, M * K, 1), 0, M * K), B = be.upload(normal(39, K * N, 1), 0, K * N), C = be.allocate((long) M * N);
        time("gemm NN", "512x3072x768", () -> be.gemm(1, false, false, M, N, K, 1f, A, 0, B, 0, 0f, C, 0), 2.0 * M * N * K, "GFLOP/s");
        time("gemm NT", "512x3072x768", () -> be.gemm(1, false, true, M, N, K, 1f, A, 0, B, 0, 0f, C, 0), 2.0 * M * N * K, "GFLOP/s");
        time("gemm TN", "768x3072x512", () -> be.gemm(1, true, false, K, N, M, 1f, A, 0, C, 0, 0f, B, 0), 2.0 * M * N * K, "GFLOP/s");
    }

    private void dropout() {
        float[] x = normal(40, 10007, 1);
        check("dropout", "p=0.3 (Rng.uniform)", 1e-6, b -> {
            Buffer o = b.allocate(x.length);
            b.dropout(up(b, x), 0.3f, 1234567L, o);
            return KernelCheck.read(b, o);
        });
        int n = 16 << 20;
        Buffer a = be.allocate(n), o = be.allocate(n);
        time("dropout", "p=0.1", () -> be.dropout(a, 0.1f, 99L, o), 8.0 * n, "GB/s");
    }

    private void optimizers() {
        float[] p = normal(41, 5000, 1), g = normal(42, 5000, 1), m = normal(43, 5000, 0.1f), v = uniform(44, 5000, 0f, 0.1f);
        check("adamw", "1-D", 1e-5, b -> {
            Buffer P = up(b, p), M = up(b, m), V = up(b, v);
            b.adamw(P, up(b, g), M, V, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.1f, 0.19f, 0.002f);
            return KernelCheck.read(b, P, M, V);
        });
        check("sgd", "nesterov", 1e-5, b -> {
            Buffer P = up(b, p), M = up(b, m);
            b.sgd(P, up(b, g), M, 1e-2f, 0.9f, 0.01f, true);
            return KernelCheck.read(b, P, M);
        });
        int n = 16 << 20;
        Buffer P = be.allocate(n), G = be.allocate(n), M = be.allocate(n), V = be.allocate(n);
        time("adamw", "16M params", () -> be.adamw(P, G, M, V, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.1f, 0.1f, 0.1f), 28.0 * n, "GB/s");
        time("sgd", "16M params", () -> be.sgd(P, G, M, 1e-2f, 0.9f, 0f, false), 20.0 * n, "GB/s");
    }

    private void readBacks() {
        float[] x = normal(45, 100_003, 1);
        x[77] = Float.NaN;
        check("countNaN", "partials", 0, b -> new float[] {b.countNaN(up(b, x))});
        float[] y = Arrays.copyOf(x, 77);
        double want = 0;
        for (float f : y) want += (double) f * f;
        double got = be.sumOfSquares(be.upload(y, 0, y.length));
        boolean ok = Math.abs(got - want) <= 1e-12 * want;
        if (!ok) failures++;
        System.out.printf(Locale.ROOT, "%-26s %-22s %-26s%n", "sumOfSquares", "float64 total", (ok ? "ok " : "FAILED ")
                + String.format(Locale.ROOT, "%.1e (tol 1e-12)", Math.abs(got - want) / want));
        int n = 16 << 20;
        Buffer a = be.allocate(n);
        time("sumOfSquares", "16M (incl. read-back)", () -> be.sumOfSquares(a), 4.0 * n, "GB/s");
        time("countNaN", "16M (incl. read-back)", () -> be.countNaN(a), 4.0 * n, "GB/s");
    }
}

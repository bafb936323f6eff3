package dev.xbt.engine.cpu;

import dev.xbt.engine.Rng;
import dev.xbt.engine.Shape;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.BackendProvider;
import dev.xbt.engine.backend.Backends;
import dev.xbt.engine.backend.BinaryOp;
import dev.xbt.engine.backend.Buffer;
import dev.xbt.engine.backend.ReduceOp;
import dev.xbt.engine.backend.UnaryOp;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Kernel-level checks of {@link VectorBackend} against the float32 {@link ScalarBackend}: random
 * inputs at awkward sizes (below, at and above the vector width and the threading thresholds),
 * float32 tolerances, plus bit-for-bit determinism of the kernels that reduce across threads.
 */
class VectorBackendKernelTest {
    private static final Backend REF = new ScalarBackend();
    private static final VectorBackend VEC = new VectorBackend();
    private static final int[] SIZES = {1, 3, 15, 16, 17, 33, 50, 77, 129, 1000, 4097, 40_000, 70_001};

    // ---------------------------------------------------------------- helpers

    private static float[] rand(int n, long seed, float lo, float hi) {
        Rng r = new Rng(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * r.nextFloat();
        return a;
    }

    private static float[] randn(int n, long seed) {
        Rng r = new Rng(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    private static Buffer up(Backend be, float[] a) {
        return be.upload(a, 0, a.length);
    }

    private static float[] down(Backend be, Buffer b) {
        float[] a = new float[(int) b.length()];
        be.download(b, a, 0);
        return a;
    }

    /** |actual − expected| ≤ abs + rel·|expected| elementwise (NaN must match NaN). */
    private static void close(float[] expected, float[] actual, double rel, double abs, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i], a = actual[i];
            if (Float.isNaN(e) || Float.isNaN(a)) {
                if (Float.isNaN(e) != Float.isNaN(a)) fail(what + " [" + i + "]: expected " + e + " got " + a);
                continue;
            }
            if (Float.isInfinite(e) || Float.isInfinite(a)) {
                if (e != a) fail(what + " [" + i + "]: expected " + e + " got " + a);
                continue;
            }
            double tol = abs + rel * Math.abs(e);
            if (!(Math.abs(a - e) <= tol)) {
                fail(what + " [" + i + "]: expected " + e + " got " + a + " (diff " + Math.abs(a - e) + " > " + tol + ")");
            }
        }
    }

    private static void exact(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])
                    && !(expected[i] == 0f && actual[i] == 0f)) {
                fail(what + " [" + i + "]: expected " + expected[i] + " got " + actual[i]);
            }
        }
    }

    private static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) m = Math.max(m, Math.abs(v));
        return m;
    }

    // ---------------------------------------------------------------- gemm (delegation and argument mapping)

    @Test
    void gemmMapsLayoutsAndStrides() {
        int[][] cases = {{1, 1, 1, 1}, {3, 17, 5, 33}, {2, 7, 50, 3}};
        for (int[] cs : cases) {
            int batch = cs[0], m = cs[1], n = cs[2], k = cs[3];
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    for (boolean sharedB : new boolean[] {false, true}) {
                        float[] a = randn(batch * m * k, 1), b = randn((sharedB ? 1 : batch) * k * n, 2);
                        float[] c = randn(batch * m * n, 3);
                        long sb = sharedB ? 0 : (long) k * n;
                        Buffer cr = up(REF, c), cv = up(VEC, c);
                        REF.gemm(batch, ta, tb, m, n, k, 0.5f, up(REF, a), (long) m * k, up(REF, b), sb, 0.25f, cr, (long) m * n);
                        VEC.gemm(batch, ta, tb, m, n, k, 0.5f, up(VEC, a), (long) m * k, up(VEC, b), sb, 0.25f, cv, (long) m * n);
                        close(down(REF, cr), down(VEC, cv), 1e-5, 1e-5 * k, "gemm " + Arrays.toString(cs) + " " + ta + tb);
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- binary

    private static void checkBinary(int[] aShape, int[] bShape, String label) {
        int[] shape = Shape.broadcast(aShape, bShape);
        int[] as = Shape.broadcastStrides(aShape, shape), bs = Shape.broadcastStrides(bShape, shape);
        float[] a = rand(Shape.size(aShape), 11, -2f, 2f), b = rand(Shape.size(bShape), 12, 0.5f, 2f);
        for (BinaryOp op : BinaryOp.values()) {
            Buffer or = REF.allocate(Shape.size(shape)), ov = VEC.allocate(Shape.size(shape));
            REF.binary(op, shape, up(REF, a), as, up(REF, b), bs, or);
            VEC.binary(op, shape, up(VEC, a), as, up(VEC, b), bs, ov);
            // one float operation per element: the results must be identical
            exact(down(REF, or), down(VEC, ov), "binary " + op + " " + label);
        }
    }

    @Test
    void binaryBroadcastPatterns() {
        for (int n : new int[] {1, 3, 16, 17, 77, 129, 40_000, 70_001}) {
            checkBinary(new int[] {n}, new int[] {n}, "same " + n);
            checkBinary(new int[] {n}, new int[] {}, "scalar b " + n);
            checkBinary(new int[] {}, new int[] {n}, "scalar a " + n);
        }
        for (int[] rc : new int[][] {{1, 1}, {3, 17}, {50, 77}, {129, 33}, {7, 768}, {1000, 3}, {300, 257}}) {
            int r = rc[0], c = rc[1];
            checkBinary(new int[] {r, c}, new int[] {c}, "bias row " + r + "x" + c);
            checkBinary(new int[] {r, c}, new int[] {r, 1}, "per-row " + r + "x" + c);
            checkBinary(new int[] {r, 1}, new int[] {r, c}, "per-row a " + r + "x" + c);
            checkBinary(new int[] {r, c}, new int[] {1, 1}, "scalar 2d " + r + "x" + c);
            checkBinary(new int[] {c}, new int[] {r, c}, "bias row a " + r + "x" + c);
            checkBinary(new int[] {r, 1}, new int[] {1, c}, "outer " + r + "x" + c);
        }
        checkBinary(new int[] {2, 3, 5, 7}, new int[] {3, 1, 7}, "general 4d");
        checkBinary(new int[] {2, 1, 5, 1}, new int[] {1, 3, 1, 7}, "general outer 4d");
        checkBinary(new int[] {4, 12, 50, 50}, new int[] {4, 1, 50, 50}, "attention-mask like");
        checkBinary(new int[] {8, 1, 33}, new int[] {8, 17, 1}, "mixed");
    }

    @Test
    void binaryStridedOperandAndAliasing() {
        // a is a transposed view (strides of a 5×7 matrix read as 7×5)
        int[] shape = {7, 5};
        float[] a = rand(35, 21, -1f, 1f), b = rand(35, 22, -1f, 1f);
        int[] as = {1, 7}, bs = {5, 1};
        for (BinaryOp op : BinaryOp.values()) {
            Buffer or = REF.allocate(35), ov = VEC.allocate(35);
            REF.binary(op, shape, up(REF, a), as, up(REF, b), bs, or);
            VEC.binary(op, shape, up(VEC, a), as, up(VEC, b), bs, ov);
            exact(down(REF, or), down(VEC, ov), "strided " + op);
        }
        // out == a: in-place accumulation, contiguous and with a broadcast bias, large and small
        for (int[] rc : new int[][] {{1, 5}, {3, 17}, {300, 257}, {70, 1000}}) {
            int r = rc[0], c = rc[1];
            float[] x = rand(r * c, 31, -1f, 1f), y = rand(r * c, 32, -1f, 1f), bias = rand(c, 33, -1f, 1f);
            for (BinaryOp op : BinaryOp.values()) {
                Buffer xr = up(REF, x), xv = up(VEC, x);
                REF.binary(op, new int[] {r * c}, xr, new int[] {1}, up(REF, y), new int[] {1}, xr);
                VEC.binary(op, new int[] {r * c}, xv, new int[] {1}, up(VEC, y), new int[] {1}, xv);
                exact(down(REF, xr), down(VEC, xv), "in-place " + op);
                REF.binary(op, new int[] {r, c}, xr, new int[] {c, 1}, up(REF, bias), new int[] {0, 1}, xr);
                VEC.binary(op, new int[] {r, c}, xv, new int[] {c, 1}, up(VEC, bias), new int[] {0, 1}, xv);
                exact(down(REF, xr), down(VEC, xv), "in-place bias " + op);
            }
        }
        // operands that are slices of a larger buffer
        float[] big = rand(100, 41, -1f, 1f);
        Buffer br = up(REF, big), bv = up(VEC, big);
        Buffer or = REF.allocate(17), ov = VEC.allocate(17);
        REF.binary(BinaryOp.SUB, new int[] {17}, br.slice(3, 17), new int[] {1}, br.slice(50, 17), new int[] {1}, or);
        VEC.binary(BinaryOp.SUB, new int[] {17}, bv.slice(3, 17), new int[] {1}, bv.slice(50, 17), new int[] {1}, ov);
        exact(down(REF, or), down(VEC, ov), "slices");
    }

    // ---------------------------------------------------------------- unary

    private static float[] inputFor(UnaryOp op, int n, long seed) {
        return switch (op) {
            case LOG, SQRT, RSQRT, RECIPROCAL -> rand(n, seed, 0.05f, 20f);
            case EXP -> rand(n, seed, -20f, 20f);
            default -> rand(n, seed, -8f, 8f);
        };
    }

    private static double unaryRel(UnaryOp op) {
        return switch (op) {
            case NEG, ABS, SQUARE, RELU, SQRT, RECIPROCAL -> 0;
            default -> 2e-6;
        };
    }

    @Test
    void unaryAndBackwardAllOps() {
        for (UnaryOp op : UnaryOp.values()) {
            for (int n : SIZES) {
                float[] x = inputFor(op, n, 100 + n), g = rand(n, 200 + n, -1f, 1f);
                Buffer yr = REF.allocate(n), yv = VEC.allocate(n);
                REF.unary(op, up(REF, x), yr);
                VEC.unary(op, up(VEC, x), yv);
                close(down(REF, yr), down(VEC, yv), unaryRel(op), 1e-7, "unary " + op + " n=" + n);
                Buffer gr = REF.allocate(n), gv = VEC.allocate(n);
                REF.unaryBackward(op, up(REF, x), up(REF, g), gr);
                VEC.unaryBackward(op, up(VEC, x), up(VEC, g), gv);
                close(down(REF, gr), down(VEC, gv), 4e-6, 2e-7, "unaryBackward " + op + " n=" + n);
            }
        }
    }

    @Test
    void unaryInPlaceAndSpecialValues() {
        float[] x = {0f, -0f, 1e-30f, -1e-30f, 1e-45f, 88f, 89f, -87f, -100f, -104f, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, Float.NaN, 3f, -3f, 0.6f, -0.6f, 0.7f, 10f, -10f, 30f, -30f};
        for (UnaryOp op : new UnaryOp[] {UnaryOp.EXP, UnaryOp.LOG, UnaryOp.TANH, UnaryOp.SIGMOID, UnaryOp.GELU,
                UnaryOp.QUICK_GELU, UnaryOp.RELU, UnaryOp.SQRT}) {
            Buffer yr = REF.allocate(x.length);
            REF.unary(op, up(REF, x), yr);
            Buffer xv = up(VEC, x);
            VEC.unary(op, xv, xv); // out aliases x
            float[] e = down(REF, yr), a = down(VEC, xv);
            for (int i = 0; i < x.length; i++) {
                if (Float.isNaN(e[i]) && Float.isNaN(a[i])) continue;
                if (Float.isInfinite(e[i])) {
                    assertEquals(e[i], a[i], op + "(" + x[i] + ")");
                    continue;
                }
                assertTrue(Math.abs(e[i] - a[i]) <= 1e-6 * Math.abs(e[i]) + 1e-20,
                        op + "(" + x[i] + "): expected " + e[i] + " got " + a[i]);
            }
        }
    }

    /** erf, GELU and GELU' against the float64 formulas of UnaryOp on a dense grid. */
    @Test
    void erfAndGeluAccuracy() {
        int n = 200_001;
        float[] z = new float[n];
        for (int i = 0; i < n; i++) z[i] = -6f + 12f * i / (n - 1);
        float[] e = new float[n];
        VectorMath.erf(z, e, n);
        double maxAbs = 0, maxRel = 0;
        for (int i = 0; i < n; i++) {
            double ref = UnaryOp.erf(z[i]);
            double d = Math.abs(e[i] - ref);
            maxAbs = Math.max(maxAbs, d);
            if (ref != 0) maxRel = Math.max(maxRel, d / Math.abs(ref));
        }
        assertTrue(maxAbs < 2e-7, "erf max abs error " + maxAbs);
        assertTrue(maxRel < 3e-7, "erf max rel error " + maxRel);

        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -10f + 20f * i / (n - 1);
        Buffer xv = up(VEC, x), yv = VEC.allocate(n), gv = VEC.allocate(n);
        float[] ones = new float[n];
        Arrays.fill(ones, 1f);
        VEC.unary(UnaryOp.GELU, xv, yv);
        VEC.unaryBackward(UnaryOp.GELU, xv, up(VEC, ones), gv);
        float[] y = down(VEC, yv), g = down(VEC, gv);
        double gAbs = 0, dAbs = 0;
        for (int i = 0; i < n; i++) {
            gAbs = Math.max(gAbs, Math.abs(y[i] - UnaryOp.GELU.apply(x[i])) / Math.max(1, Math.abs(x[i])));
            dAbs = Math.max(dAbs, Math.abs(g[i] - UnaryOp.GELU.derivative(x[i])));
        }
        assertTrue(gAbs < 1e-6, "GELU max error " + gAbs);
        assertTrue(dAbs < 1e-6, "GELU' max abs error " + dAbs);
        // the lower tail keeps its relative accuracy (below -5 the float64 reference itself cancels)
        double gRel = 0, dRel = 0;
        for (int i = 0; i < n; i++) {
            if (x[i] < -5 || x[i] > -0.01) continue;
            double ye = UnaryOp.GELU.apply(x[i]), de = UnaryOp.GELU.derivative(x[i]);
            gRel = Math.max(gRel, Math.abs(y[i] - ye) / Math.abs(ye));
            if (x[i] < -1) dRel = Math.max(dRel, Math.abs(g[i] - de) / Math.abs(de));
        }
        assertTrue(gRel < 2e-6, "GELU tail relative error " + gRel);
        assertTrue(dRel < 2e-6, "GELU' tail relative error " + dRel);
    }

    @Test
    void registeredAsTheCpuBackend() {
        BackendProvider p = Backends.providers().stream().filter(b -> b.name().equals("cpu")).findFirst().orElseThrow();
        assertEquals(100, p.rank());
        assertTrue(p.unavailableReason().isEmpty());
        assertTrue(Backends.get("cpu") instanceof VectorBackend);
        assertEquals("cpu", VEC.name());
    }

    @Test
    void affine() {
        for (int n : SIZES) {
            float[] x = rand(n, n, -3f, 3f);
            Buffer or = REF.allocate(n);
            REF.affine(up(REF, x), 1.7f, -0.3f, or);
            Buffer xv = up(VEC, x);
            VEC.affine(xv, 1.7f, -0.3f, xv);
            close(down(REF, or), down(VEC, xv), 1.2e-7, 1e-7, "affine n=" + n);
        }
    }

    // ---------------------------------------------------------------- reductions

    @Test
    void reduceSumAndMax() {
        int[][] shapes = {{1, 1, 1}, {3, 17, 1}, {5, 129, 1}, {2, 40_000, 1}, {1, 70_001, 1}, {1000, 3, 1},
                {1, 50, 77}, {3, 33, 17}, {2, 7, 3}, {4, 129, 130}, {1, 1576, 768}, {7, 1, 5}, {2, 3, 64}};
        for (int[] s : shapes) {
            int outer = s[0], n = s[1], inner = s[2];
            float[] x = rand(outer * n * inner, outer + 31L * n + inner, -1f, 1f);
            for (ReduceOp op : ReduceOp.values()) {
                Buffer or = REF.allocate(outer * inner), ov = VEC.allocate(outer * inner);
                REF.reduce(op, up(REF, x), outer, n, inner, or);
                VEC.reduce(op, up(VEC, x), outer, n, inner, ov);
                if (op == ReduceOp.MAX) exact(down(REF, or), down(VEC, ov), "max " + Arrays.toString(s));
                else close(down(REF, or), down(VEC, ov), 0, 2e-7 * n, "sum " + Arrays.toString(s));
            }
        }
    }

    @Test
    void reduceMaxBackwardPicksFirstMaximum() {
        int[][] shapes = {{1, 1, 1}, {3, 17, 1}, {5, 129, 1}, {1, 50, 77}, {3, 33, 17}, {2, 7, 3}, {2, 40, 33}};
        for (int[] s : shapes) {
            int outer = s[0], n = s[1], inner = s[2];
            float[] x = rand(outer * n * inner, n * 7L + inner, 0f, 4f);
            for (int i = 0; i < x.length; i++) x[i] = (float) Math.floor(x[i]); // many ties
            float[] g = rand(outer * inner, 5, 1f, 2f);
            Buffer mr = REF.allocate(outer * inner);
            REF.reduce(ReduceOp.MAX, up(REF, x), outer, n, inner, mr);
            float[] max = down(REF, mr);
            Buffer gr = REF.allocate(x.length), gv = VEC.allocate(x.length);
            REF.reduceMaxBackward(up(REF, x), up(REF, max), up(REF, g), outer, n, inner, gr);
            VEC.reduceMaxBackward(up(VEC, x), up(VEC, max), up(VEC, g), outer, n, inner, gv);
            exact(down(REF, gr), down(VEC, gv), "reduceMaxBackward " + Arrays.toString(s));
        }
    }

    // ---------------------------------------------------------------- data movement

    private static void checkCopy(int[] shape, int srcLen, int[] ss, int srcOff, int dstLen, int[] ds, int dstOff,
                                  boolean acc, String label) {
        float[] src = rand(srcLen, srcLen + 1L, -1f, 1f), dst = rand(dstLen, dstLen + 2L, -1f, 1f);
        Buffer sr = up(REF, src), dr = up(REF, dst), sv = up(VEC, src), dv = up(VEC, dst);
        REF.stridedCopy(shape, sr.slice(srcOff, srcLen - srcOff), ss, dr.slice(dstOff, dstLen - dstOff), ds, acc);
        VEC.stridedCopy(shape, sv.slice(srcOff, srcLen - srcOff), ss, dv.slice(dstOff, dstLen - dstOff), ds, acc);
        exact(down(REF, dr), down(VEC, dv), "stridedCopy " + label + (acc ? " +=" : ""));
    }

    private static int[] permutedStrides(int[] shape, int[] perm) {
        int[] st = Shape.strides(shape), out = new int[perm.length];
        for (int i = 0; i < perm.length; i++) out[i] = st[perm[i]];
        return out;
    }

    @Test
    void stridedCopyPatterns() {
        for (boolean acc : new boolean[] {false, true}) {
            // permutations of a 4-d tensor: inner axis kept (heads split) and swapped (tiled transpose)
            for (int[] s : new int[][] {{2, 50, 3, 17}, {1, 77, 12, 64}, {3, 5, 7, 9}, {2, 33, 129, 1}}) {
                for (int[] perm : new int[][] {{0, 2, 1, 3}, {0, 1, 3, 2}, {3, 2, 1, 0}, {0, 2, 3, 1}, {1, 0, 2, 3}}) {
                    int[] os = new int[4];
                    for (int i = 0; i < 4; i++) os[i] = s[perm[i]];
                    int size = Shape.size(s);
                    checkCopy(os, size, permutedStrides(s, perm), 0, size, Shape.strides(os), 0, acc,
                            Arrays.toString(s) + " perm " + Arrays.toString(perm));
                }
            }
            // 2-d transposes large enough to run on several threads
            for (int[] rc : new int[][] {{1, 1}, {3, 17}, {197, 768}, {513, 129}}) {
                int r = rc[0], c = rc[1];
                checkCopy(new int[] {c, r}, r * c, new int[] {1, c}, 0, r * c, new int[] {r, 1}, 0, acc, "T " + r + "x" + c);
            }
            // expand (broadcast source), slices and concatenation into a wider destination
            checkCopy(new int[] {50, 77}, 77, new int[] {0, 1}, 0, 50 * 77, new int[] {77, 1}, 0, acc, "expand rows");
            checkCopy(new int[] {50, 77}, 50, new int[] {1, 0}, 0, 50 * 77, new int[] {77, 1}, 0, acc, "expand cols");
            checkCopy(new int[] {17, 33}, 17 * 100, new int[] {100, 1}, 5, 17 * 33, new int[] {33, 1}, 0, acc, "slice");
            checkCopy(new int[] {17, 33}, 17 * 33, new int[] {33, 1}, 0, 17 * 80, new int[] {80, 1}, 40, acc, "concat");
            checkCopy(new int[] {300, 2, 129}, 300 * 2 * 129, new int[] {258, 129, 1}, 0, 300 * 3 * 129,
                    new int[] {387, 129, 1}, 129, acc, "concat 3d");
            checkCopy(new int[] {70_001}, 70_001, new int[] {1}, 0, 70_001, new int[] {1}, 0, acc, "flat");
            checkCopy(new int[] {1, 1, 1}, 1, new int[] {1, 1, 1}, 0, 1, new int[] {1, 1, 1}, 0, acc, "single");
            checkCopy(new int[] {5, 0, 3}, 1, new int[] {0, 3, 1}, 0, 1, new int[] {0, 3, 1}, 0, acc, "empty");
        }
        // accumulating into a broadcast destination (the gradient of an expand, written as a copy)
        checkCopy(new int[] {40, 33}, 40 * 33, new int[] {33, 1}, 0, 33, new int[] {0, 1}, 0, true, "sum into row");
    }

    @Test
    void gatherAndScatterRows() {
        for (int rowLen : new int[] {1, 3, 16, 17, 77, 768}) {
            int tableRows = 37;
            float[] table = rand(tableRows * rowLen, rowLen, -1f, 1f);
            int[] rows = new int[300];
            Rng r = new Rng(rowLen);
            for (int i = 0; i < rows.length; i++) rows[i] = r.nextInt(tableRows);
            Buffer or = REF.allocate((long) rows.length * rowLen), ov = VEC.allocate((long) rows.length * rowLen);
            REF.gatherRows(up(REF, table), rowLen, rows, or);
            VEC.gatherRows(up(VEC, table), rowLen, rows, ov);
            exact(down(REF, or), down(VEC, ov), "gather " + rowLen);
            float[] src = rand(rows.length * rowLen, rowLen + 9L, -1f, 1f);
            Buffer tr = up(REF, table), tv = up(VEC, table);
            REF.scatterAddRows(up(REF, src), rowLen, rows, tr);
            VEC.scatterAddRows(up(VEC, src), rowLen, rows, tv);
            exact(down(REF, tr), down(VEC, tv), "scatterAdd " + rowLen);
        }
    }

    // ---------------------------------------------------------------- layer norm

    @Test
    void layerNormForwardAndBackward() {
        int[][] shapes = {{1, 1}, {3, 17}, {50, 77}, {7, 768}, {130, 33}, {1576, 64}, {5, 16}};
        for (int[] s : shapes) {
            int rows = s[0], n = s[1];
            float[] x = randn(rows * n, rows * 13L + n), gamma = rand(n, 3, 0.5f, 1.5f), beta = rand(n, 4, -0.5f, 0.5f);
            for (int i = 0; i < x.length; i++) x[i] = x[i] * 2f + 3f; // offset mean, non-unit variance
            float[] go = randn(rows * n, 77);
            Buffer orr = REF.allocate(rows * n), mr = REF.allocate(rows), rr = REF.allocate(rows);
            Buffer ov = VEC.allocate(rows * n), mv = VEC.allocate(rows), rv = VEC.allocate(rows);
            REF.layerNorm(up(REF, x), up(REF, gamma), up(REF, beta), rows, n, 1e-5f, orr, mr, rr);
            VEC.layerNorm(up(VEC, x), up(VEC, gamma), up(VEC, beta), rows, n, 1e-5f, ov, mv, rv);
            String l = Arrays.toString(s);
            close(down(REF, orr), down(VEC, ov), 1e-5, 1e-5, "layerNorm out " + l);
            close(down(REF, mr), down(VEC, mv), 1e-6, 1e-6, "layerNorm mean " + l);
            close(down(REF, rr), down(VEC, rv), 2e-5, 0, "layerNorm rstd " + l);
            // backward from the reference's saved statistics; gamma/beta gradients accumulate on non-zero values
            float[] mean = down(REF, mr), rstd = down(REF, rr);
            float[] gg0 = rand(n, 8, -1f, 1f), gb0 = rand(n, 9, -1f, 1f);
            Buffer dxr = REF.allocate(rows * n), dgr = up(REF, gg0), dbr = up(REF, gb0);
            Buffer dxv = VEC.allocate(rows * n), dgv = up(VEC, gg0), dbv = up(VEC, gb0);
            REF.layerNormBackward(up(REF, x), up(REF, gamma), up(REF, mean), up(REF, rstd), up(REF, go), rows, n, dxr, dgr, dbr);
            VEC.layerNormBackward(up(VEC, x), up(VEC, gamma), up(VEC, mean), up(VEC, rstd), up(VEC, go), rows, n, dxv, dgv, dbv);
            close(down(REF, dxr), down(VEC, dxv), 1e-4, 2e-5, "layerNorm dx " + l);
            double scaleG = Math.sqrt(rows) * 3;
            close(down(REF, dgr), down(VEC, dgv), 0, 2e-6 * scaleG + 1e-6, "layerNorm dgamma " + l);
            close(down(REF, dbr), down(VEC, dbv), 0, 2e-6 * scaleG + 1e-6, "layerNorm dbeta " + l);
            // optional outputs left out
            Buffer dgv2 = up(VEC, gg0);
            VEC.layerNormBackward(up(VEC, x), up(VEC, gamma), up(VEC, mean), up(VEC, rstd), up(VEC, go), rows, n, null, dgv2, null);
            exact(down(VEC, dgv), down(VEC, dgv2), "layerNorm dgamma alone " + l);
            Buffer dxv2 = VEC.allocate(rows * n);
            VEC.layerNormBackward(up(VEC, x), up(VEC, gamma), up(VEC, mean), up(VEC, rstd), up(VEC, go), rows, n, dxv2, null, null);
            exact(down(VEC, dxv), down(VEC, dxv2), "layerNorm dx alone " + l);
        }
    }

    @Test
    void layerNormBackwardIsDeterministic() {
        int rows = 1576, n = 768;
        float[] x = randn(rows * n, 1), gamma = rand(n, 2, 0.5f, 1.5f), go = randn(rows * n, 3);
        Buffer xb = up(VEC, x), gb = up(VEC, gamma), gob = up(VEC, go);
        Buffer o = VEC.allocate(rows * n), mb = VEC.allocate(rows), rb = VEC.allocate(rows);
        VEC.layerNorm(xb, gb, up(VEC, new float[n]), rows, n, 1e-6f, o, mb, rb);
        float[][] runs = new float[2][];
        for (int t = 0; t < 2; t++) {
            Buffer dx = VEC.allocate(rows * n), dg = VEC.allocate(n), dbb = VEC.allocate(n);
            VEC.layerNormBackward(xb, gb, mb, rb, gob, rows, n, dx, dg, dbb);
            float[] all = new float[rows * n + 2 * n];
            VEC.download(dx, all, 0);
            VEC.download(dg, all, rows * n);
            VEC.download(dbb, all, rows * n + n);
            runs[t] = all;
        }
        assertArrayEquals(runs[0], runs[1], "layerNormBackward must give the same bits twice");
    }

    // ---------------------------------------------------------------- softmax, cross-entropy, dropout

    @Test
    void softmaxForwardAndBackward() {
        int[][] shapes = {{1, 1}, {3, 17}, {50, 77}, {7, 1000}, {129, 33}, {2, 40_000}, {300, 16}};
        for (int[] s : shapes) {
            int rows = s[0], n = s[1];
            float[] x = rand(rows * n, rows + 7L * n, -8f, 8f), g = randn(rows * n, 5);
            for (boolean log : new boolean[] {false, true}) {
                String l = (log ? "log_softmax " : "softmax ") + Arrays.toString(s);
                Buffer yr = REF.allocate(rows * n), yv = VEC.allocate(rows * n);
                REF.softmax(up(REF, x), rows, n, log, yr);
                VEC.softmax(up(VEC, x), rows, n, log, yv);
                float[] y = down(REF, yr);
                close(y, down(VEC, yv), 3e-6, log ? 3e-6 : 1e-9, l);
                Buffer gr = REF.allocate(rows * n), gv = VEC.allocate(rows * n);
                REF.softmaxBackward(up(REF, y), up(REF, g), rows, n, log, gr);
                VEC.softmaxBackward(up(VEC, y), up(VEC, g), rows, n, log, gv);
                close(down(REF, gr), down(VEC, gv), 1e-5, log ? 1e-6 * Math.sqrt(n) : 1e-7, l + " backward");
            }
        }
    }

    @Test
    void crossEntropyForwardAndBackward() {
        int[][] shapes = {{1, 1}, {3, 17}, {50, 77}, {7, 1000}, {129, 33}, {2, 40_000}};
        for (int[] s : shapes) {
            int rows = s[0], n = s[1];
            float[] x = rand(rows * n, rows + 3L * n, -6f, 6f), gl = rand(rows, 4, 0.1f, 1f);
            int[] t = new int[rows];
            Rng r = new Rng(n);
            for (int i = 0; i < rows; i++) t[i] = i % 5 == 3 ? -1 : r.nextInt(n);
            Buffer lr = REF.allocate(rows), er = REF.allocate(rows), lv = VEC.allocate(rows), ev = VEC.allocate(rows);
            REF.crossEntropy(up(REF, x), rows, n, t, lr, er);
            VEC.crossEntropy(up(VEC, x), rows, n, t, lv, ev);
            String l = Arrays.toString(s);
            close(down(REF, er), down(VEC, ev), 1e-6, 1e-6, "crossEntropy lse " + l);
            close(down(REF, lr), down(VEC, lv), 1e-6, 2e-6, "crossEntropy loss " + l);
            float[] lse = down(REF, er);
            Buffer gr = REF.allocate(rows * n), gv = VEC.allocate(rows * n);
            REF.crossEntropyBackward(up(REF, x), up(REF, lse), t, up(REF, gl), rows, n, gr);
            VEC.crossEntropyBackward(up(VEC, x), up(VEC, lse), t, up(VEC, gl), rows, n, gv);
            close(down(REF, gr), down(VEC, gv), 3e-6, 1e-8, "crossEntropyBackward " + l);
        }
    }

    @Test
    void dropoutMatchesTheReferenceMask() {
        for (int n : SIZES) {
            for (float p : new float[] {0f, 0.1f, 0.5f, 0.9f, 1f}) {
                float[] x = rand(n, n, 0.5f, 2f);
                long seed = 0x1234_5678_9ABCL + n;
                Buffer or = REF.allocate(n), ov = VEC.allocate(n);
                REF.dropout(up(REF, x), p, seed, or);
                VEC.dropout(up(VEC, x), p, seed, ov);
                float[] e = down(REF, or), a = down(VEC, ov);
                for (int i = 0; i < n; i++) {
                    assertEquals(e[i] == 0f, a[i] == 0f, "dropout mask n=" + n + " p=" + p + " at " + i);
                    assertEquals(e[i], a[i], 1.2e-7 * Math.abs(e[i]), "dropout value n=" + n + " p=" + p + " at " + i);
                    if (a[i] != 0f) assertEquals(x[i] * (1f / (1f - p)), a[i], 0f);
                }
            }
        }
    }

    // ---------------------------------------------------------------- read-backs and optimizers

    @Test
    void sumOfSquaresAndCountNaN() {
        for (int n : new int[] {0, 1, 3, 17, 129, 4097, 70_001, 300_000}) {
            float[] x = rand(n, n, -3f, 3f);
            double e = REF.sumOfSquares(up(REF, x)), a = VEC.sumOfSquares(up(VEC, x));
            assertEquals(e, a, 1e-12 * Math.max(1, e), "sumOfSquares n=" + n);
            for (int i = 0; i < n; i += 7) x[i] = Float.NaN;
            assertEquals(REF.countNaN(up(REF, x)), VEC.countNaN(up(VEC, x)), "countNaN n=" + n);
        }
    }

    @Test
    void optimizerSteps() {
        for (int n : SIZES) {
            float[] p = randn(n, 1), m = new float[n], v = new float[n];
            Buffer pr = up(REF, p), mr = up(REF, m), vr = up(REF, v), pv = up(VEC, p), mv = up(VEC, m), vv = up(VEC, v);
            for (int step = 1; step <= 3; step++) {
                float[] g = randn(n, 10 + step);
                float b1 = 0.9f, b2 = 0.999f;
                float bias1 = (float) (1 - Math.pow(b1, step)), bias2 = (float) (1 - Math.pow(b2, step));
                REF.adamw(pr, up(REF, g), mr, vr, 1e-3f, b1, b2, 1e-8f, 0.05f, bias1, bias2);
                VEC.adamw(pv, up(VEC, g), mv, vv, 1e-3f, b1, b2, 1e-8f, 0.05f, bias1, bias2);
            }
            close(down(REF, pr), down(VEC, pv), 1e-6, 1e-7, "adamw p n=" + n);
            close(down(REF, mr), down(VEC, mv), 1e-5, 1e-7, "adamw m n=" + n);
            close(down(REF, vr), down(VEC, vv), 1e-5, 1e-9, "adamw v n=" + n);
            for (boolean nesterov : new boolean[] {false, true}) {
                Buffer sr = up(REF, p), br = REF.allocate(n), sv = up(VEC, p), bv = VEC.allocate(n);
                for (int step = 1; step <= 3; step++) {
                    float[] g = randn(n, 20 + step);
                    REF.sgd(sr, up(REF, g), br, 0.1f, 0.9f, 1e-4f, nesterov);
                    VEC.sgd(sv, up(VEC, g), bv, 0.1f, 0.9f, 1e-4f, nesterov);
                }
                close(down(REF, sr), down(VEC, sv), 1e-5, 1e-6, "sgd p n=" + n + " nesterov=" + nesterov);
                close(down(REF, br), down(VEC, bv), 1e-5, 1e-6, "sgd buf n=" + n + " nesterov=" + nesterov);
            }
        }
    }

    // ---------------------------------------------------------------- attention

    /** maskKind: 0 none, 1 one shared [tq, tk], 2 per batch [B, 1, tq, tk], 3 per head [B, H, tq, tk]. */
    private static void checkAttention(int batch, int heads, int tq, int tk, int d, int maskKind, boolean causal,
                                       boolean fullyMaskedRow, boolean[] want, String label) {
        int bh = batch * heads;
        float[] q = randn(bh * tq * d, 1), k = randn(bh * tk * d, 2), v = randn(bh * tk * d, 3), go = randn(bh * tq * d, 4);
        int slices = switch (maskKind) {
            case 1 -> 1;
            case 2 -> batch;
            case 3 -> bh;
            default -> 0;
        };
        int group = slices <= 1 ? Integer.MAX_VALUE : bh / slices;
        float[] mask = null;
        if (slices > 0) {
            mask = rand(slices * tq * tk, 5, -2f, 1f);
            Rng r = new Rng(6);
            for (int i = 0; i < mask.length; i++) if (r.nextInt(7) == 0) mask[i] = Float.NEGATIVE_INFINITY;
            if (fullyMaskedRow) {
                for (int sl = 0; sl < slices; sl++) {
                    int row = Math.min(tq - 1, 1);
                    Arrays.fill(mask, (sl * tq + row) * tk, (sl * tq + row + 1) * tk, Float.NEGATIVE_INFINITY);
                }
            }
        }
        float scale = (float) (1 / Math.sqrt(Math.max(1, d)));
        Buffer[] out = new Buffer[2], lse = new Buffer[2];
        float[][] grads = new float[6][];
        Backend[] bes = {REF, VEC};
        for (int b = 0; b < 2; b++) {
            Backend be = bes[b];
            Buffer qb = up(be, q), kb = up(be, k), vb = up(be, v), mb = mask == null ? null : up(be, mask);
            out[b] = be.allocate(bh * tq * d);
            lse[b] = be.allocate(bh * tq);
            be.attention(bh, tq, tk, d, scale, qb, kb, vb, mb, group, causal, out[b], lse[b]);
            // backward from the reference forward, so both see the same out and lse
            Buffer o = up(be, down(REF, out[0])), l = up(be, down(REF, lse[0]));
            Buffer gq = want[0] ? be.allocate(bh * tq * d) : null;
            Buffer gk = want[1] ? be.allocate(bh * tk * d) : null;
            Buffer gv = want[2] ? be.allocate(bh * tk * d) : null;
            if (gq != null) be.fill(gq, 7f); // must be overwritten
            if (gk != null) be.fill(gk, 7f);
            if (gv != null) be.fill(gv, 7f);
            be.attentionBackward(bh, tq, tk, d, scale, qb, kb, vb, mb, group, causal, o, l, up(be, go), gq, gk, gv);
            grads[b * 3] = gq == null ? null : down(be, gq);
            grads[b * 3 + 1] = gk == null ? null : down(be, gk);
            grads[b * 3 + 2] = gv == null ? null : down(be, gv);
        }
        close(down(REF, out[0]), down(VEC, out[1]), 1e-4, 2e-5, "attention out " + label);
        close(down(REF, lse[0]), down(VEC, lse[1]), 1e-5, 2e-5, "attention lse " + label);
        String[] names = {"gradQ", "gradK", "gradV"};
        for (int i = 0; i < 3; i++) {
            if (!want[i]) continue;
            float[] e = grads[i], a = grads[3 + i];
            close(e, a, 2e-4, 5e-5 * Math.max(1, maxAbs(e)), "attention " + names[i] + " " + label);
        }
    }

    @Test
    void attentionPlain() {
        boolean[] all = {true, true, true};
        checkAttention(1, 3, 50, 50, 32, 0, false, false, all, "50x50 d32");
        checkAttention(2, 2, 77, 77, 64, 0, false, false, all, "77x77 d64");
        checkAttention(1, 2, 197, 197, 64, 0, false, false, all, "197x197 d64");
        checkAttention(1, 1, 1, 1, 1, 0, false, false, all, "1x1 d1");
        checkAttention(2, 3, 17, 33, 24, 0, false, false, all, "17x33 d24");
        checkAttention(1, 2, 65, 3, 17, 0, false, false, all, "65x3 d17");
        // more keys than one tile holds: the online softmax rescales across tiles
        checkAttention(1, 2, 40, 300, 32, 0, false, false, all, "40x300 d32");
        checkAttention(1, 2, 600, 600, 8, 0, true, false, all, "causal 600 d8");
        checkAttention(2, 2, 33, 530, 16, 3, false, true, all, "33x530 masked");
    }

    /** A row whose first tiles are all masked, then visible keys: the running max starts at -inf. */
    @Test
    void attentionLateFirstVisibleKey() {
        int tq = 3, tk = 700, d = 16;
        float[] mask = new float[tq * tk];
        Arrays.fill(mask, 0, 650, Float.NEGATIVE_INFINITY);
        Arrays.fill(mask, tk + 100, tk + 400, Float.NEGATIVE_INFINITY);
        float[] q = randn(tq * d, 1), k = randn(tk * d, 2), v = randn(tk * d, 3), go = randn(tq * d, 4);
        float[][] res = new float[2][];
        Backend[] bes = {REF, VEC};
        for (int b = 0; b < 2; b++) {
            Backend be = bes[b];
            Buffer out = be.allocate(tq * d), lse = be.allocate(tq), gq = be.allocate(tq * d), gk = be.allocate(tk * d);
            Buffer gv = be.allocate(tk * d), qb = up(be, q), kb = up(be, k), vb = up(be, v), mb = up(be, mask);
            be.attention(1, tq, tk, d, 0.25f, qb, kb, vb, mb, Integer.MAX_VALUE, false, out, lse);
            be.attentionBackward(1, tq, tk, d, 0.25f, qb, kb, vb, mb, Integer.MAX_VALUE, false, out, lse, up(be, go), gq, gk, gv);
            float[] all = new float[tq * d + tq + tq * d + 2 * tk * d];
            be.download(out, all, 0);
            be.download(lse, all, tq * d);
            be.download(gq, all, tq * d + tq);
            be.download(gk, all, 2 * tq * d + tq);
            be.download(gv, all, 2 * tq * d + tq + tk * d);
            res[b] = all;
        }
        close(res[0], res[1], 2e-4, 5e-5, "attention with late first visible key");
    }

    @Test
    void attentionCausal() {
        boolean[] all = {true, true, true};
        checkAttention(2, 3, 77, 77, 64, 0, true, false, all, "causal 77 d64");
        checkAttention(1, 2, 50, 50, 32, 0, true, false, all, "causal 50 d32");
        checkAttention(1, 1, 129, 129, 8, 0, true, false, all, "causal 129 d8");
        checkAttention(1, 2, 17, 40, 16, 0, true, false, all, "causal 17x40");
        checkAttention(1, 2, 40, 17, 16, 0, true, false, all, "causal 40x17");
    }

    @Test
    void attentionMasks() {
        boolean[] all = {true, true, true};
        for (int kind = 1; kind <= 3; kind++) {
            checkAttention(2, 3, 50, 50, 32, kind, false, false, all, "mask" + kind + " 50 d32");
            checkAttention(2, 3, 17, 33, 20, kind, false, true, all, "mask" + kind + " fully masked row");
            checkAttention(2, 2, 77, 77, 64, kind, true, true, all, "mask" + kind + " causal fully masked row");
        }
    }

    @Test
    void attentionNullGradients() {
        boolean[][] wants = {{true, false, false}, {false, true, false}, {false, false, true}, {false, true, true},
                {true, false, true}, {false, false, false}};
        for (boolean[] w : wants) {
            checkAttention(1, 3, 33, 50, 32, 2, true, false, w, "want " + Arrays.toString(w));
            checkAttention(2, 2, 17, 17, 24, 3, false, true, w, "want " + Arrays.toString(w) + " masked");
        }
    }

    @Test
    void attentionFullyMaskedRowGivesZerosAndNegInfLse() {
        int tq = 5, tk = 7, d = 16;
        float[] mask = new float[tq * tk];
        Arrays.fill(mask, 2 * tk, 3 * tk, Float.NEGATIVE_INFINITY);
        Buffer q = up(VEC, randn(tq * d, 1)), k = up(VEC, randn(tk * d, 2)), v = up(VEC, randn(tk * d, 3));
        Buffer out = VEC.allocate(tq * d), lse = VEC.allocate(tq);
        VEC.fill(out, 9f);
        VEC.attention(1, tq, tk, d, 0.25f, q, k, v, up(VEC, mask), Integer.MAX_VALUE, false, out, lse);
        float[] o = down(VEC, out), l = down(VEC, lse);
        assertEquals(Float.NEGATIVE_INFINITY, l[2]);
        for (int j = 0; j < d; j++) assertEquals(0f, o[2 * d + j]);
        Buffer gq = VEC.allocate(tq * d);
        VEC.attentionBackward(1, tq, tk, d, 0.25f, q, k, v, up(VEC, mask), Integer.MAX_VALUE, false, out, lse,
                up(VEC, randn(tq * d, 4)), gq, null, null);
        float[] g = down(VEC, gq);
        for (int j = 0; j < d; j++) assertEquals(0f, g[2 * d + j]);
    }

    @Test
    void attentionIsDeterministic() {
        int bh = 24, t = 77, d = 64;
        float[] q = randn(bh * t * d, 1), k = randn(bh * t * d, 2), v = randn(bh * t * d, 3), go = randn(bh * t * d, 4);
        float[] mask = rand(2 * t * t, 5, -1f, 0f);
        float[][] runs = new float[2][];
        for (int r = 0; r < 2; r++) {
            Buffer qb = up(VEC, q), kb = up(VEC, k), vb = up(VEC, v), mb = up(VEC, mask);
            Buffer out = VEC.allocate(bh * t * d), lse = VEC.allocate(bh * t);
            VEC.attention(bh, t, t, d, 0.125f, qb, kb, vb, mb, bh / 2, true, out, lse);
            Buffer gq = VEC.allocate(bh * t * d), gk = VEC.allocate(bh * t * d), gv = VEC.allocate(bh * t * d);
            VEC.attentionBackward(bh, t, t, d, 0.125f, qb, kb, vb, mb, bh / 2, true, out, lse, up(VEC, go), gq, gk, gv);
            float[] all = new float[bh * t * d * 4 + bh * t];
            VEC.download(out, all, 0);
            VEC.download(gq, all, bh * t * d);
            VEC.download(gk, all, 2 * bh * t * d);
            VEC.download(gv, all, 3 * bh * t * d);
            VEC.download(lse, all, 4 * bh * t * d);
            runs[r] = all;
        }
        assertArrayEquals(runs[0], runs[1], "attention forward/backward must give the same bits twice");
    }
}

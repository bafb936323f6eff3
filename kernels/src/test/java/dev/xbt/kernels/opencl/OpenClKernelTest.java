package dev.xbt.kernels.opencl;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.Rng;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.BackendProvider;
import dev.xbt.engine.backend.Backends;
import dev.xbt.engine.backend.BinaryOp;
import dev.xbt.engine.backend.Buffer;
import dev.xbt.engine.backend.ReduceOp;
import dev.xbt.engine.backend.UnaryOp;
import dev.xbt.kernels.PortableKernels;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Targeted checks of the portable kernels on the OpenCL backend, against float64 implementations
 * written here (independent of the engine's reference backend): GEMM at odd shapes that cut every
 * tile edge, flash attention at CLIP's sequence lengths with causal and additive masks, every
 * work-group size of the row kernels, the op codes shared with the kernel header, and buffer
 * release.
 */
class OpenClKernelTest {

    // ------------------------------------------------------------------ helpers

    private static float[] normal(long seed, int n) {
        Rng r = new Rng(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    private static float[] down(Backend be, Buffer b) {
        float[] d = new float[(int) b.length()];
        be.download(b, d, 0);
        return d;
    }

    /** |got − want| ≤ tol · scale[i] everywhere (scale: a bound on the magnitudes summed into element i). */
    private static void assertClose(String what, double[] want, float[] got, double[] scale, double tol) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            if (!(Math.abs(got[i] - want[i]) <= tol * scale[i])) {
                fail(what + ": element " + i + " is " + got[i] + ", float64 says " + want[i] + " (allowed " + tol * scale[i] + ")");
            }
        }
    }

    // ------------------------------------------------------------------ op codes

    /** The kernels receive enum ordinals: they must equal the header's #defines, name for name. */
    @Test
    void opCodesMatchTheKernelHeader() {
        Map<String, Integer> defines = new HashMap<>();
        Matcher m = Pattern.compile("#define XBT_([A-Z_]+) (\\d+)\\b").matcher(PortableKernels.read("xbt_util.h"));
        while (m.find()) defines.put(m.group(1), Integer.parseInt(m.group(2)));
        for (BinaryOp op : BinaryOp.values()) assertEquals(op.ordinal(), defines.get(op.name()), "XBT_" + op.name());
        for (UnaryOp op : UnaryOp.values()) assertEquals(op.ordinal(), defines.get(op.name()), "XBT_" + op.name());
        for (ReduceOp op : ReduceOp.values()) assertEquals(op.ordinal(), defines.get(op.name()), "XBT_" + op.name());
        assertEquals(PortableKernels.ROW_WG_MAX, defines.get("WG_MAX"));
    }

    // ------------------------------------------------------------------ GEMM

    private static double[] gemmRef(int batch, boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int sa,
                                    float[] b, int sb, float beta, float[] c0, int sc, double[] scale) {
        double[] c = new double[c0.length];
        for (int i = 0; i < c0.length; i++) c[i] = c0[i];
        for (int p = 0; p < batch; p++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0, mag = 0;
                    for (int l = 0; l < k; l++) {
                        double av = ta ? a[p * sa + l * m + i] : a[p * sa + i * k + l];
                        double bv = tb ? b[p * sb + j * k + l] : b[p * sb + l * n + j];
                        acc += av * bv;
                        mag += Math.abs(av * bv);
                    }
                    int ci = p * sc + i * n + j;
                    c[ci] = alpha * acc + (beta == 0 ? 0 : beta * c[ci]);
                    scale[ci] += Math.abs(alpha) * mag + Math.abs(beta * c0[ci]) + 1;
                }
            }
        }
        return c;
    }

    @Test
    void gemmAtOddShapesEveryTransposeBatchedAndShared() {
        OpenClBackend be = OpenClTesting.backend();
        int[][] shapes = {{1, 1, 1}, {65, 67, 129}, {130, 3, 64}, {17, 200, 5}, {64, 64, 16}, {3, 77, 1}};
        long seed = 1;
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    int batch = 2;
                    float[] a = normal(seed++, batch * m * k), b = normal(seed++, k * n), c = normal(seed++, batch * m * n);
                    double[] scale = new double[c.length];
                    // Batched A, one shared B (stride 0), alpha and beta.
                    double[] want = gemmRef(batch, ta, tb, m, n, k, 0.7f, a, m * k, b, 0, 0.3f, c, m * n, scale);
                    Buffer C = be.upload(c, 0, c.length);
                    be.gemm(batch, ta, tb, m, n, k, 0.7f, be.upload(a, 0, a.length), (long) m * k, be.upload(b, 0, b.length), 0,
                            0.3f, C, (long) m * n);
                    assertClose("gemm " + m + "x" + n + "x" + k + (ta ? " T" : " N") + (tb ? "T" : "N"), want, down(be, C), scale, 1e-6);
                }
            }
        }
    }

    @Test
    void gemmWithOverlappingOutputsAccumulatesInOrder() {
        OpenClBackend be = OpenClTesting.backend();
        int batch = 5, m = 33, n = 70, k = 9;
        float[] a = normal(11, batch * m * k), b = normal(12, batch * k * n), c = normal(13, m * n);
        double[] scale = new double[c.length];
        // strideC = 0 and beta = 1: C += Σ_p A_p·B_p.
        double[] want = gemmRef(batch, false, false, m, n, k, 1f, a, m * k, b, k * n, 1f, c, 0, scale);
        Buffer C = be.upload(c, 0, c.length);
        be.gemm(batch, false, false, m, n, k, 1f, be.upload(a, 0, a.length), (long) m * k, be.upload(b, 0, b.length), (long) k * n, 1f, C, 0);
        assertClose("gemm strideC = 0", want, down(be, C), scale, 1e-6);
    }

    // ------------------------------------------------------------------ attention

    /** Float64 attention and its gradients, written out plainly. */
    private static final class AttentionRef {
        final double[] out, lse, gq, gk, gv;

        AttentionRef(int bh, int tq, int tk, int d, float scale, float[] q, float[] k, float[] v, float[] mask, int group,
                     boolean causal, float[] g) {
            out = new double[bh * tq * d];
            lse = new double[bh * tq];
            gq = new double[bh * tq * d];
            gk = new double[bh * tk * d];
            gv = new double[bh * tk * d];
            double[] p = new double[tk];
            for (int h = 0; h < bh; h++) {
                for (int i = 0; i < tq; i++) {
                    double mx = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < tk; j++) {
                        double s = Double.NEGATIVE_INFINITY;
                        if (!(causal && j > i)) {
                            s = 0;
                            for (int l = 0; l < d; l++) s += (double) q[(h * tq + i) * d + l] * k[(h * tk + j) * d + l];
                            s *= scale;
                            if (mask != null) s += mask[(h / group) * tq * tk + i * tk + j];
                        }
                        p[j] = s;
                        mx = Math.max(mx, s);
                    }
                    double sum = 0;
                    for (int j = 0; j < tk; j++) sum += p[j] = mx == Double.NEGATIVE_INFINITY ? 0 : Math.exp(p[j] - mx);
                    lse[h * tq + i] = mx == Double.NEGATIVE_INFINITY ? mx : mx + Math.log(sum);
                    if (sum > 0) for (int j = 0; j < tk; j++) p[j] /= sum;
                    for (int l = 0; l < d; l++) {
                        double o = 0;
                        for (int j = 0; j < tk; j++) o += p[j] * v[(h * tk + j) * d + l];
                        out[(h * tq + i) * d + l] = o;
                    }
                    // dP = g·vᵀ, dS = P ⊙ (dP − rowsum(g ⊙ out)).
                    double delta = 0;
                    for (int l = 0; l < d; l++) delta += g[(h * tq + i) * d + l] * out[(h * tq + i) * d + l];
                    for (int j = 0; j < tk; j++) {
                        if (p[j] == 0) continue;
                        double dp = 0;
                        for (int l = 0; l < d; l++) dp += (double) g[(h * tq + i) * d + l] * v[(h * tk + j) * d + l];
                        double ds = p[j] * (dp - delta) * scale;
                        for (int l = 0; l < d; l++) {
                            gq[(h * tq + i) * d + l] += ds * k[(h * tk + j) * d + l];
                            gk[(h * tk + j) * d + l] += ds * q[(h * tq + i) * d + l];
                            gv[(h * tk + j) * d + l] += p[j] * g[(h * tq + i) * d + l];
                        }
                    }
                }
            }
        }
    }

    private static double[] ones(int n, double v) {
        double[] s = new double[n];
        java.util.Arrays.fill(s, v);
        return s;
    }

    private void checkAttention(String name, int bh, int tq, int tk, int d, boolean causal, boolean masked, int group, long seed) {
        OpenClBackend be = OpenClTesting.backend();
        float scale = (float) (1 / Math.sqrt(d));
        float[] q = normal(seed, bh * tq * d), k = normal(seed + 1, bh * tk * d), v = normal(seed + 2, bh * tk * d);
        float[] g = normal(seed + 3, bh * tq * d);
        float[] mask = null;
        if (masked) {
            int groups = (bh + group - 1) / group;
            mask = new float[groups * tq * tk];
            Rng r = new Rng(seed + 4);
            for (int i = 0; i < mask.length; i++) {
                mask[i] = i % tk == 0 ? 0f : (r.nextFloat() < 0.25f ? Float.NEGATIVE_INFINITY : -2f * r.nextFloat());
            }
        }
        AttentionRef want = new AttentionRef(bh, tq, tk, d, scale, q, k, v, mask, group, causal, g);
        Buffer Q = be.upload(q, 0, q.length), K = be.upload(k, 0, k.length), V = be.upload(v, 0, v.length);
        Buffer M = mask == null ? null : be.upload(mask, 0, mask.length);
        Buffer out = be.allocate(q.length), lse = be.allocate(bh * tq);
        be.attention(bh, tq, tk, d, scale, Q, K, V, M, group, causal, out, lse);
        Buffer gq = be.allocate(q.length), gk = be.allocate(k.length), gv = be.allocate(v.length);
        be.attentionBackward(bh, tq, tk, d, scale, Q, K, V, M, group, causal, out, lse, be.upload(g, 0, g.length), gq, gk, gv);
        // Tolerances relative to the natural size of each quantity (unit-normal inputs).
        assertClose(name + " out", want.out, down(be, out), ones(want.out.length, 1), 2e-5);
        float[] l = down(be, lse);
        for (int i = 0; i < l.length; i++) {
            if (Double.isInfinite(want.lse[i])) assertEquals(want.lse[i], l[i], name + " lse " + i);
            else assertEquals(want.lse[i], l[i], 2e-5 * (1 + Math.abs(want.lse[i])), name + " lse " + i);
        }
        double gs = Math.sqrt(Math.max(tq, tk));
        assertClose(name + " gradQ", want.gq, down(be, gq), ones(want.gq.length, gs), 2e-5);
        assertClose(name + " gradK", want.gk, down(be, gk), ones(want.gk.length, gs), 2e-5);
        assertClose(name + " gradV", want.gv, down(be, gv), ones(want.gv.length, gs), 2e-5);
    }

    @Test
    void attentionCausalAtClipLengths() {
        checkAttention("T=77 d=64 causal", 4, 77, 77, 64, true, false, 1, 100);
        checkAttention("T=50 d=64 causal", 4, 50, 50, 64, true, false, 1, 200);
        checkAttention("T=77 d=128 causal + mask", 2, 77, 77, 128, true, true, 1, 300);
    }

    @Test
    void attentionMasksAndUnevenTiles() {
        checkAttention("T=50 d=64 mask per 2 heads", 4, 50, 50, 64, false, true, 2, 400);
        checkAttention("tq=33 tk=77 d=40 causal", 3, 33, 77, 40, true, false, 1, 500);
        checkAttention("tq=70 tk=17 d=3 mask", 2, 70, 17, 3, false, true, 2, 600);
    }

    @Test
    void attentionRefusesHeadsAboveTheKernelLimit() {
        OpenClBackend be = OpenClTesting.backend();
        int d = PortableKernels.ATTENTION_MAX_D + 1;
        Buffer x = be.allocate(2 * d);
        EngineException e = assertThrows(EngineException.class,
                () -> be.attention(1, 2, 2, d, 1f, x, x, x, null, 1, false, be.allocate(2 * d), be.allocate(2)));
        assertTrue(e.getMessage().contains("head size " + d), e.getMessage());
    }

    // ------------------------------------------------------------------ row kernels at every work-group size

    @Test
    void rowKernelsAgreeAtEveryWorkGroupSize() {
        OpenClBackend be = OpenClTesting.backend();
        Backend ref = Backends.get("scalar");
        int rows = 6;
        try {
            for (int n : new int[] {1, 13, 256, 1000}) {
                float[] x = normal(n, rows * n), gamma = normal(n + 1, n), beta = normal(n + 2, n), g = normal(n + 3, rows * n);
                int[] targets = new int[rows];
                for (int r = 0; r < rows; r++) targets[r] = r == 2 ? -1 : (r * 7) % n;
                float[][] want = rowResults(ref, x, gamma, beta, g, targets, rows, n);
                for (int wg = 1; wg <= PortableKernels.ROW_WG_MAX; wg <<= 1) {
                    int used = be.limitRowWorkGroup(wg);
                    float[][] got = rowResults(be, x, gamma, beta, g, targets, rows, n);
                    for (int o = 0; o < want.length; o++) {
                        double[] w = new double[want[o].length];
                        for (int i = 0; i < w.length; i++) w[i] = want[o][i];
                        double[] sc = new double[w.length];
                        for (int i = 0; i < w.length; i++) sc[i] = 1 + Math.abs(w[i]) + (o == 0 ? Math.sqrt(n) : 0);
                        assertClose("row output " + o + " n=" + n + " work-group " + used, w, got[o], sc, 2e-5);
                    }
                }
            }
        } finally {
            be.limitRowWorkGroup(PortableKernels.ROW_WG_MAX);
        }
    }

    /**
     * Column sums over many rows with few outputs take the chunked path (chunks of 64 rows, then the
     * chunks): bias gradients and layer-norm parameter gradients, with and without a ragged tail,
     * against the scalar reference; the gradients accumulate into what the buffers held.
     */
    @Test
    void chunkedColumnSumsAgreeWithTheReference() {
        OpenClBackend be = OpenClTesting.backend();
        Backend ref = Backends.get("scalar");
        int n = 24;
        for (int rows : new int[] {127, 128, 1000, 1024}) {
            float[] x = normal(rows, rows * n), g = normal(rows + 1, rows * n), gamma = normal(rows + 2, n), start = normal(rows + 3, n);
            float[][] want = columnResults(ref, x, g, gamma, start, rows, n), got = columnResults(be, x, g, gamma, start, rows, n);
            for (int o = 0; o < want.length; o++) {
                double[] w = new double[want[o].length], sc = new double[w.length];
                for (int i = 0; i < w.length; i++) {
                    w[i] = want[o][i];
                    sc[i] = 1 + Math.sqrt(rows);
                }
                assertClose("column output " + o + " rows=" + rows, w, got[o], sc, 1e-5);
            }
        }
    }

    /** Column sum and max over rows, and layer-norm gamma/beta gradients added to {@code start}. */
    private static float[][] columnResults(Backend b, float[] x, float[] g, float[] gamma, float[] start, int rows, int n) {
        Buffer X = b.upload(x, 0, x.length), G = b.upload(g, 0, g.length);
        Buffer sum = b.allocate(n), max = b.allocate(n);
        b.reduce(ReduceOp.SUM, X, 1, rows, n, sum);
        b.reduce(ReduceOp.MAX, X, 1, rows, n, max);
        Buffer mean = b.allocate(rows), rstd = b.allocate(rows), y = b.allocate(x.length);
        b.layerNorm(X, b.upload(gamma, 0, n), b.upload(start, 0, n), rows, n, 1e-5f, y, mean, rstd);
        Buffer dg = b.upload(start, 0, n), db = b.upload(start, 0, n), dbOnly = b.upload(start, 0, n);
        b.layerNormBackward(X, b.upload(gamma, 0, n), mean, rstd, G, rows, n, null, dg, db);
        b.layerNormBackward(X, b.upload(gamma, 0, n), mean, rstd, G, rows, n, null, null, dbOnly);
        return new float[][] {down(b, sum), down(b, max), down(b, dg), down(b, db), down(b, dbOnly)};
    }

    /** Row sums, layer norm (+ backward), softmax (+ backward), log-softmax, cross-entropy on one backend. */
    private static float[][] rowResults(Backend b, float[] x, float[] gamma, float[] beta, float[] g, int[] targets, int rows, int n) {
        Buffer X = b.upload(x, 0, x.length), G = b.upload(g, 0, g.length);
        Buffer sum = b.allocate(rows), max = b.allocate(rows);
        b.reduce(ReduceOp.SUM, X, rows, n, 1, sum);
        b.reduce(ReduceOp.MAX, X, rows, n, 1, max);
        Buffer ln = b.allocate(x.length), mean = b.allocate(rows), rstd = b.allocate(rows);
        Buffer Gm = b.upload(gamma, 0, n);
        b.layerNorm(X, Gm, b.upload(beta, 0, n), rows, n, 1e-5f, ln, mean, rstd);
        Buffer dx = b.allocate(x.length), dg = b.allocate(n), db = b.allocate(n);
        b.layerNormBackward(X, Gm, mean, rstd, G, rows, n, dx, dg, db);
        Buffer sm = b.allocate(x.length), dsm = b.allocate(x.length), lsm = b.allocate(x.length);
        b.softmax(X, rows, n, false, sm);
        b.softmaxBackward(sm, G, rows, n, false, dsm);
        b.softmax(X, rows, n, true, lsm);
        Buffer loss = b.allocate(rows), lse = b.allocate(rows), dl = b.allocate(x.length);
        b.crossEntropy(X, rows, n, targets, loss, lse);
        b.crossEntropyBackward(X, lse, targets, b.upload(new float[rows], 0, rows), rows, n, dl);
        return new float[][] {down(b, sum), down(b, max), down(b, ln), down(b, dx), down(b, dg), down(b, db), down(b, sm),
                down(b, dsm), down(b, lsm), down(b, loss), down(b, lse)};
    }

    // ------------------------------------------------------------------ registration and memory

    @Test
    void aCpuDeviceRanksBelowTheVectorBackend() {
        OpenClBackend be = OpenClTesting.backend();
        BackendProvider p = new OpenClBackendProvider();
        BackendProvider cpu = Backends.providers().stream().filter(x -> x.name().equals("cpu")).findFirst().orElseThrow();
        if (be.deviceDescription().contains("CPU)")) {
            assertTrue(p.rank() < cpu.rank(), "an OpenCL CPU device must rank below \"cpu\": " + p.rank());
        } else {
            assertTrue(p.rank() > cpu.rank(), "an OpenCL GPU must rank above \"cpu\": " + p.rank());
        }
    }

    @Test
    void closingTheLastViewReleasesTheAllocation() {
        OpenClBackend be = OpenClTesting.backend();
        long before = be.liveBytes();
        Buffer big = be.allocate(1 << 20);
        Buffer view = big.slice(10, 100);
        assertEquals(before + (4L << 20), be.liveBytes());
        big.close();
        assertEquals(before + (4L << 20), be.liveBytes(), "a live slice keeps the allocation");
        float[] d = down(be, view); // still readable
        assertEquals(100, d.length);
        view.close();
        view.close(); // idempotent
        assertEquals(before, be.liveBytes());
    }
}

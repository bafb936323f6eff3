package dev.xbt.xbt;

import dev.xbt.engine.Rng;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PipelineBaselinesTest {
    /** A random orthogonal d×d matrix (Gram–Schmidt on Gaussian columns), row-major. */
    static double[] rotation(int d, Rng rng) {
        double[][] q = new double[d][d];
        for (int j = 0; j < d; j++) {
            double[] v = new double[d];
            for (int i = 0; i < d; i++) v[i] = rng.nextGaussian();
            for (int k = 0; k < j; k++) {
                double dot = 0;
                for (int i = 0; i < d; i++) dot += v[i] * q[k][i];
                for (int i = 0; i < d; i++) v[i] -= dot * q[k][i];
            }
            double n = 0;
            for (double x : v) n += x * x;
            for (int i = 0; i < d; i++) q[j][i] = v[i] / Math.sqrt(n);
        }
        double[] w = new double[d * d];
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) w[i * d + j] = q[j][i];
        return w;
    }

    static float[] randomRows(int n, int d, Rng rng) {
        float[] x = new float[n * d];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
        return Baselines.normalizeRows(x, n, d);
    }

    static float[] times(float[] x, int n, int d, double[] w, int e) {
        float[] y = new float[n * e];
        for (int i = 0; i < n; i++) for (int k = 0; k < d; k++) for (int j = 0; j < e; j++) y[i * e + j] += (float) (x[i * d + k] * w[k * e + j]);
        return y;
    }

    @Test
    void procrustesRecoversAKnownRotation() {
        Rng rng = new Rng(3);
        int n = 200, d = 8;
        double[] r = rotation(d, rng);
        float[] x = randomRows(n, d, rng);
        float[] y = times(x, n, d, r, d);
        double[] w = Baselines.procrustes(x, y, n, d, d);
        for (int i = 0; i < d * d; i++) assertEquals(r[i], w[i], 1e-5, "entry " + i);
    }

    @Test
    void procrustesIntoASmallerSpaceRecoversTheKeptColumns() {
        // y = first 4 coordinates of a rotated 6-d x: W must be the rotation's first 4 columns. The rows of x are
        // ±e_i, so XᵀX is a multiple of the identity and XᵀY = c·C, whose polar factor is C itself.
        Rng rng = new Rng(5);
        int d = 6, e = 4, n = 2 * d;
        double[] r = rotation(d, rng), cols = new double[d * e];
        for (int i = 0; i < d; i++) for (int j = 0; j < e; j++) cols[i * e + j] = r[i * d + j];
        float[] x = new float[n * d];
        for (int i = 0; i < d; i++) {
            x[(2 * i) * d + i] = 1;
            x[(2 * i + 1) * d + i] = -1;
        }
        double[] w = Baselines.procrustes(x, times(x, n, d, cols, e), n, d, e);
        for (int i = 0; i < d * e; i++) assertEquals(cols[i], w[i], 1e-5, "entry " + i);
    }

    @Test
    void ridgeWithoutPenaltyRecoversALinearMap() {
        Rng rng = new Rng(7);
        int n = 100, d = 5, e = 3;
        double[] a = new double[d * e];
        for (int i = 0; i < a.length; i++) a[i] = rng.nextGaussian();
        float[] x = randomRows(n, d, rng);
        double[] w = Baselines.ridge(x, times(x, n, d, a, e), n, d, e, 0);
        for (int i = 0; i < a.length; i++) assertEquals(a[i], w[i], 1e-4);
    }

    @Test
    void rawPadsOrTruncatesAndRenormalises() {
        assertArrayEquals(new float[] {0.6f, 0.8f, 0f, 0f}, Baselines.raw(new float[] {0.6f, 0.8f}, 1, 2, 4), 1e-7f);
        assertArrayEquals(new float[] {0.6f, 0.8f}, Baselines.raw(new float[] {0.3f, 0.4f, 0.866f}, 1, 3, 2), 1e-6f);
    }

    @Test
    void slerpFollowsTheGreatCircle() {
        float[] a = {1, 0}, b = {0, 1};
        assertArrayEquals(a, Baselines.slerp(a, b, 1, 2, 0), 1e-7f);
        assertArrayEquals(b, Baselines.slerp(a, b, 1, 2, 1), 1e-7f);
        // A third of the way: 30 degrees from a.
        float c = (float) Math.cos(Math.PI / 6), s = (float) Math.sin(Math.PI / 6);
        assertArrayEquals(new float[] {c, s}, Baselines.slerp(a, b, 1, 2, 1.0 / 3), 1e-6f);
    }
}

package dev.xbt.xbt;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * The training-free maps new→old of the compatibility report, fitted on paired text embeddings (rows of
 * {@code zNew} [n, dNew] and {@code zOld} [n, dOld]); each map's output rows are re-normalised. Also SLERP between
 * an old query embedding and a mapped new one.
 */
public final class Baselines {
    private Baselines() {}

    /** Zero-pads or truncates each row to {@code dOld}, then re-normalises. */
    public static float[] raw(float[] x, int n, int dNew, int dOld) {
        float[] out = new float[n * dOld];
        int k = Math.min(dNew, dOld);
        for (int i = 0; i < n; i++) System.arraycopy(x, i * dNew, out, i * dOld, k);
        return normalizeRows(out, n, dOld);
    }

    /** Ridge regression W [dNew, dOld] = (XᵀX + λI)⁻¹XᵀY. */
    public static double[] ridge(float[] zNew, float[] zOld, int n, int dNew, int dOld, double lambda) {
        DMatrixRMaj x = matrix(zNew, n, dNew), y = matrix(zOld, n, dOld);
        DMatrixRMaj xtx = new DMatrixRMaj(dNew, dNew);
        CommonOps_DDRM.multTransA(x, x, xtx);
        for (int i = 0; i < dNew; i++) xtx.add(i, i, lambda);
        DMatrixRMaj xty = new DMatrixRMaj(dNew, dOld);
        CommonOps_DDRM.multTransA(x, y, xty);
        DMatrixRMaj w = new DMatrixRMaj(dNew, dOld);
        if (!CommonOps_DDRM.solve(xtx, xty, w)) throw new IllegalArgumentException("ridge: the system is singular; raise baselines.ridge");
        return w.data;
    }

    /**
     * Orthogonal Procrustes: the W [dNew, dOld] with orthonormal columns (or rows, when dNew &lt; dOld) that minimises
     * ‖XW − Y‖: W = UVᵀ from the thin SVD XᵀY = UΣVᵀ.
     */
    public static double[] procrustes(float[] zNew, float[] zOld, int n, int dNew, int dOld) {
        DMatrixRMaj m = new DMatrixRMaj(dNew, dOld);
        CommonOps_DDRM.multTransA(matrix(zNew, n, dNew), matrix(zOld, n, dOld), m);
        SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(dNew, dOld, true, true, true);
        if (!svd.decompose(m)) throw new IllegalArgumentException("procrustes: the SVD did not converge");
        DMatrixRMaj u = svd.getU(null, false), vt = svd.getV(null, true);
        DMatrixRMaj w = new DMatrixRMaj(dNew, dOld);
        CommonOps_DDRM.mult(u, vt, w);
        return w.data;
    }

    /** Rows of x [n, dNew] times W [dNew, dOld], re-normalised. */
    public static float[] apply(float[] x, int n, int dNew, double[] w, int dOld) {
        float[] out = new float[n * dOld];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < dNew; k++) {
                double v = x[i * dNew + k];
                if (v == 0) continue;
                for (int j = 0; j < dOld; j++) out[i * dOld + j] += (float) (v * w[k * dOld + j]);
            }
        }
        return normalizeRows(out, n, dOld);
    }

    /**
     * Spherical interpolation per row between unit rows a (α = 0) and b (α = 1); rows that (almost) coincide or are
     * opposite fall back to the normalised linear mix.
     */
    public static float[] slerp(float[] a, float[] b, int n, int d, double alpha) {
        float[] out = new float[n * d];
        for (int i = 0; i < n; i++) {
            double dot = 0;
            for (int k = 0; k < d; k++) dot += a[i * d + k] * b[i * d + k];
            dot = Math.max(-1, Math.min(1, dot));
            double theta = Math.acos(dot), s = Math.sin(theta);
            double wa, wb;
            if (s < 1e-6) {
                wa = 1 - alpha;
                wb = alpha;
            } else {
                wa = Math.sin((1 - alpha) * theta) / s;
                wb = Math.sin(alpha * theta) / s;
            }
            for (int k = 0; k < d; k++) out[i * d + k] = (float) (wa * a[i * d + k] + wb * b[i * d + k]);
        }
        return normalizeRows(out, n, d);
    }

    static float[] normalizeRows(float[] x, int n, int d) {
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int k = 0; k < d; k++) s += (double) x[i * d + k] * x[i * d + k];
            if (s == 0) continue;
            float inv = (float) (1 / Math.sqrt(s));
            for (int k = 0; k < d; k++) x[i * d + k] *= inv;
        }
        return x;
    }

    private static DMatrixRMaj matrix(float[] x, int n, int d) {
        DMatrixRMaj m = new DMatrixRMaj(n, d);
        for (int i = 0; i < x.length; i++) m.data[i] = x[i];
        return m;
    }
}

package dev.xbt.xbt;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * A linear map new→old fitted in closed form on paired embeddings of the same texts (X [N, newDim] from the new
 * model, Y [N, oldDim] from the old): y = x·W, then L2-normalised. W is [newDim, oldDim].
 * <ul>
 *   <li>{@link #ridge}: least squares with an L2 penalty, W = (XᵀX + λI)⁻¹XᵀY.</li>
 *   <li>{@link #procrustes}: the orthogonal map that best aligns the pairs, W = U·Vᵀ from the thin SVD XᵀY = UΣVᵀ
 *       (Schönemann's solution). When the dimensions differ W is semi-orthogonal: orthonormal columns when newDim >
 *       oldDim (an isometric projection), orthonormal rows when newDim < oldDim (an isometric embedding).</li>
 * </ul>
 * Fitting runs in float64 with EJML.
 */
public final class LinearMap implements EmbeddingMap {
    private final String name;
    private final int newDim;
    private final int oldDim;
    private final double[] w;

    /** A map with the given W [newDim, oldDim], row-major. */
    public LinearMap(String name, double[] w, int newDim, int oldDim) {
        if (w.length != newDim * oldDim) throw new IllegalArgumentException(name + ": W must be " + newDim + " x " + oldDim);
        this.name = name;
        this.newDim = newDim;
        this.oldDim = oldDim;
        this.w = w.clone();
    }

    /** Ridge regression of Y on X with penalty {@code lambda} ≥ 0. */
    public static LinearMap ridge(float[] x, float[] y, int n, int newDim, int oldDim, double lambda) {
        if (!(lambda >= 0)) throw new IllegalArgumentException("ridge: lambda must be >= 0, got " + lambda);
        DMatrixRMaj xm = matrix("ridge", x, n, newDim), ym = matrix("ridge", y, n, oldDim);
        DMatrixRMaj a = new DMatrixRMaj(newDim, newDim), b = new DMatrixRMaj(newDim, oldDim), wm = new DMatrixRMaj(newDim, oldDim);
        CommonOps_DDRM.multTransA(xm, xm, a);
        for (int i = 0; i < newDim; i++) a.add(i, i, lambda);
        CommonOps_DDRM.multTransA(xm, ym, b);
        if (!CommonOps_DDRM.solve(a, b, wm) || org.ejml.dense.row.MatrixFeatures_DDRM.hasUncountable(wm)) {
            throw new IllegalArgumentException("ridge: XᵀX + λI is singular (too few text pairs for " + newDim
                    + " dimensions; raise lambda)");
        }
        return new LinearMap("linear", wm.getData(), newDim, oldDim);
    }

    /** Orthogonal (or semi-orthogonal) Procrustes fitted on the pairs. */
    public static LinearMap procrustes(float[] x, float[] y, int n, int newDim, int oldDim) {
        DMatrixRMaj xm = matrix("procrustes", x, n, newDim), ym = matrix("procrustes", y, n, oldDim);
        DMatrixRMaj m = new DMatrixRMaj(newDim, oldDim);
        CommonOps_DDRM.multTransA(xm, ym, m);
        SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(newDim, oldDim, true, true, true);
        if (!svd.decompose(m)) throw new IllegalArgumentException("procrustes: the SVD of XᵀY did not converge");
        DMatrixRMaj u = svd.getU(null, false), v = svd.getV(null, false);
        DMatrixRMaj wm = new DMatrixRMaj(newDim, oldDim);
        CommonOps_DDRM.multTransB(u, v, wm);
        return new LinearMap("procrustes", wm.getData(), newDim, oldDim);
    }

    private static DMatrixRMaj matrix(String what, float[] v, int n, int d) {
        EmbeddingMap.checkRows(what, v, n, d);
        if (n == 0) throw new IllegalArgumentException(what + ": no pairs to fit on");
        DMatrixRMaj m = new DMatrixRMaj(n, d);
        for (int i = 0; i < v.length; i++) m.data[i] = v[i];
        return m;
    }

    /** W [newDim, oldDim], row-major (a copy). */
    public double[] weight() {
        return w.clone();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int newDim() {
        return newDim;
    }

    @Override
    public int oldDim() {
        return oldDim;
    }

    @Override
    public float[] map(float[] newEmb, float[] oldEmb, int n) {
        EmbeddingMap.checkRows(name, newEmb, n, newDim);
        float[] out = new float[n * oldDim];
        double[] row = new double[oldDim];
        for (int i = 0; i < n; i++) {
            java.util.Arrays.fill(row, 0);
            for (int k = 0; k < newDim; k++) {
                double xk = newEmb[i * newDim + k];
                if (xk == 0) continue;
                for (int j = 0; j < oldDim; j++) row[j] += xk * w[k * oldDim + j];
            }
            for (int j = 0; j < oldDim; j++) out[i * oldDim + j] = (float) row[j];
        }
        return EmbeddingMap.normalizeRows(out, n, oldDim);
    }
}

package dev.xbt.xbt;

import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import dev.xbt.eval.Compatibility;
import dev.xbt.eval.CompatibilityReport;
import dev.xbt.eval.EncodedSet;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.RandomMatrices_DDRM;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The closed-form baselines recover maps that are known by construction; SLERP behaves at its endpoints. */
class BaselinesTest {

    static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    /** x [n, a] · m [a, b] in float64, as floats. */
    static float[] times(float[] x, int n, DMatrixRMaj m) {
        int a = m.numRows, b = m.numCols;
        float[] y = new float[n * b];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < b; j++) {
                double s = 0;
                for (int k = 0; k < a; k++) s += x[i * a + k] * m.get(k, j);
                y[i * b + j] = (float) s;
            }
        }
        return y;
    }

    static void assertMatrix(DMatrixRMaj expected, double[] actual, double tol) {
        assertEquals(expected.getNumElements(), actual.length);
        for (int i = 0; i < actual.length; i++) assertEquals(expected.data[i], actual[i], tol, "element " + i);
    }

    @Test
    void rawMapPadsOrTruncatesThenNormalises() {
        float[] x = {3, 4, 12};
        assertArrayEquals(new float[] {.6f, .8f}, new RawMap(3, 2).map(x, null, 1), 1e-7f);
        assertArrayEquals(new float[] {3 / 13f, 4 / 13f, 12 / 13f, 0}, new RawMap(3, 4).map(x, null, 1), 1e-7f);
        assertThrows(IllegalArgumentException.class, () -> new RawMap(3, 2).map(new float[4], null, 1));
    }

    @Test
    void ridgeRecoversAKnownLinearMap() {
        Random r = new Random(1);
        int n = 60, dn = 6, dold = 4;
        DMatrixRMaj a = RandomMatrices_DDRM.rectangle(dn, dold, -1, 1, r);
        float[] x = gaussian(r, n * dn);
        float[] y = times(x, n, a);
        assertMatrix(a, LinearMap.ridge(x, y, n, dn, dold, 1e-9).weight(), 1e-5);
    }

    @Test
    void ridgeShrinksAsWorkedOutByHand() {
        // One dimension: w = Σxy / (Σx² + λ) = (1·2 + 2·3 + 3·7) / (1 + 4 + 9 + 1) = 29 / 15.
        LinearMap m = LinearMap.ridge(new float[] {1, 2, 3}, new float[] {2, 3, 7}, 3, 1, 1, 1.0);
        assertEquals(29 / 15.0, m.weight()[0], 1e-12);
        assertThrows(IllegalArgumentException.class, () -> LinearMap.ridge(new float[3], new float[3], 3, 1, 1, 0));
    }

    @Test
    void procrustesRecoversARotation() {
        Random r = new Random(2);
        int n = 40, d = 5;
        DMatrixRMaj q = RandomMatrices_DDRM.orthogonal(d, d, r);
        float[] x = gaussian(r, n * d);
        assertMatrix(q, LinearMap.procrustes(x, times(x, n, q), n, d, d).weight(), 1e-5);
    }

    @Test
    void procrustesRecoversSemiOrthogonalMapsBetweenDifferentWidths() {
        Random r = new Random(3);
        // Isotropic inputs (XᵀX = 2I: two orthogonal matrices stacked), so the best semi-orthogonal map is the true one.
        for (int[] dims : new int[][] {{6, 4}, {4, 6}}) {
            int dn = dims[0], dold = dims[1];
            DMatrixRMaj q = RandomMatrices_DDRM.orthogonal(Math.max(dn, dold), Math.min(dn, dold), r);
            if (dn < dold) q = CommonOps_DDRM.transpose(q, null); // [4, 6] with orthonormal rows
            DMatrixRMaj o1 = RandomMatrices_DDRM.orthogonal(dn, dn, r), o2 = RandomMatrices_DDRM.orthogonal(dn, dn, r);
            float[] x = new float[2 * dn * dn];
            for (int i = 0; i < dn * dn; i++) {
                x[i] = (float) o1.data[i];
                x[dn * dn + i] = (float) o2.data[i];
            }
            LinearMap m = LinearMap.procrustes(x, times(x, 2 * dn, q), 2 * dn, dn, dold);
            assertMatrix(q, m.weight(), 1e-5);
            // Semi-orthogonal: WᵀW = I (wider input) or WWᵀ = I (narrower input).
            DMatrixRMaj w = new DMatrixRMaj(dn, dold, true, m.weight());
            DMatrixRMaj g = dn > dold ? CommonOps_DDRM.multTransA(w, w, null) : CommonOps_DDRM.multTransB(w, w, null);
            assertTrue(org.ejml.dense.row.MatrixFeatures_DDRM.isIdentity(g, 1e-9));
        }
    }

    @Test
    void slerpEndpointsNormAndMidpoint() {
        double[] u = {1, 0, 0}, v = {0, 0.6, 0.8}, out = new double[3];
        SlerpMap.slerp(u, v, 0, out);
        assertArrayEquals(u, out, 1e-12);
        SlerpMap.slerp(u, v, 1, out);
        assertArrayEquals(v, out, 1e-12);
        SlerpMap.slerp(u, v, 0.5, out);
        // Halfway along a quarter circle: 45° from both ends, unit length.
        assertEquals(1, out[0] * out[0] + out[1] * out[1] + out[2] * out[2], 1e-12);
        assertEquals(Math.cos(Math.PI / 4), out[0], 1e-12);
        assertEquals(Math.cos(Math.PI / 4), 0.6 * out[1] + 0.8 * out[2], 1e-12);
        SlerpMap.slerp(u, u, 0.3, out); // identical ends: no division by sin 0
        assertArrayEquals(u, out, 1e-12);

        // Through the interface: α = 0 returns the old embedding, α = 1 the inner map's output.
        float[] oldEmb = {0, 1}, newEmb = {3, 4};
        assertArrayEquals(oldEmb, new SlerpMap(new RawMap(2, 2), 0).map(newEmb, oldEmb, 1), 1e-7f);
        assertArrayEquals(new float[] {.6f, .8f}, new SlerpMap(new RawMap(2, 2), 1).map(newEmb, oldEmb, 1), 1e-7f);
        assertThrows(IllegalArgumentException.class, () -> new SlerpMap(new RawMap(2, 2), 1.5));
    }

    /** Old embeddings = clean items + noise; new embeddings = the clean items rotated (a better, incompatible model). */
    record World(EncodedSet old, EncodedSet fresh, DMatrixRMaj rotation) {}

    static World world(long seed, int n, int d, float noise) {
        Random r = new Random(seed);
        DMatrixRMaj q = RandomMatrices_DDRM.orthogonal(d, d, r);
        float[] items = gaussian(r, n * d);
        float[] captionsClean = new float[n * d];
        for (int i = 0; i < n * d; i++) captionsClean[i] = items[i] + 0.5f * (float) r.nextGaussian();
        float[] oldImg = items.clone(), oldCap = captionsClean.clone();
        for (int i = 0; i < n * d; i++) {
            oldImg[i] += noise * (float) r.nextGaussian();
            oldCap[i] += noise * (float) r.nextGaussian();
        }
        int[] owner = new int[n];
        for (int i = 0; i < n; i++) owner[i] = i;
        EncodedSet old = new EncodedSet(EmbeddingMap.normalizeRows(oldImg, n, d), EmbeddingMap.normalizeRows(oldCap, n, d), owner, d);
        EncodedSet fresh = new EncodedSet(EmbeddingMap.normalizeRows(times(items, n, q), n, d),
                EmbeddingMap.normalizeRows(times(captionsClean, n, q), n, d), owner, d);
        return new World(old, fresh, q);
    }

    @Test
    void procrustesOnTextPairsMakesABetterModelCompatible() {
        World train = world(5, 400, 8, 0.8f);
        // Fit new -> old on caption pairs of a training split (the rotation back, approximately).
        LinearMap proc = LinearMap.procrustes(train.fresh().captions(), train.old().captions(), 400, 8, 8);
        LinearMap ridge = LinearMap.ridge(train.fresh().captions(), train.old().captions(), 400, 8, 8, 1e-3);
        EncodedSet oldT = train.old(), newT = train.fresh();
        CompatibilityReport rep = Compatibility.evaluateMaps("toy", oldT, newT, List.of(new RawMap(8, 8), proc, ridge));
        assertEquals(CompatibilityReport.GATE_FAILED, rep.gate("raw"), rep.table());
        assertEquals(0, rep.gate("procrustes"), rep.table());
        assertTrue(rep.method("procrustes").rsum() > rep.oldOld().rsum(), rep.table());
        assertTrue(rep.newNew().rsum() > rep.method("procrustes").rsum(), rep.table());

        // SLERP fitted on the same split cannot be worse than either endpoint there.
        SlerpMap s = SlerpMap.fit(proc, newT, oldT, SlerpMap.DEFAULT_GRID);
        double blended = dev.xbt.eval.Retrieval.evaluate(s.apply(newT, oldT), oldT).rsum();
        assertTrue(blended >= rep.method("procrustes").rsum() - 1e-9 && blended >= rep.oldOld().rsum() - 1e-9);
    }

    @Test
    void slerpFitPicksTheEndpointThatRetrieves() {
        World w = world(6, 200, 8, 0.3f);
        // The raw map of a rotated space is useless, so α = 0 (old model alone) must win.
        assertEquals(0.0, SlerpMap.fit(new RawMap(8, 8), w.fresh(), w.old(), SlerpMap.DEFAULT_GRID).alpha());
        // Old image embeddings that are pure noise, old captions clean: an image query is only found through the new
        // model (mapped back exactly), so α = 1 must win; caption queries are the same for every α (u = v there).
        LinearMap back = new LinearMap("back", CommonOps_DDRM.transpose(w.rotation(), null).data, 8, 8);
        EncodedSet mapped = back.apply(w.fresh(), w.old());
        EncodedSet garbledOld = new EncodedSet(EmbeddingMap.normalizeRows(gaussian(new Random(7), 200 * 8), 200, 8),
                mapped.captions(), mapped.captionImage(), 8);
        assertEquals(1.0, SlerpMap.fit(back, w.fresh(), garbledOld, new double[] {0, 0.5, 1}).alpha());
    }

    @Test
    void projectionMapIsTheProjection() {
        Projection psi = new Projection(ProjectionConfig.defaults(6, 4), new Rng(1));
        ProjectionTest.randomise(psi, 2);
        float[] x = gaussian(new Random(3), 3 * 6);
        ProjectionMap m = new ProjectionMap(psi);
        assertArrayEquals(psi.forward(Tensor.of(x, 3, 6)).toArray(), m.map(x, null, 3), 1e-6f);
        assertEquals("xbt+slerp", new SlerpMap(m, 0.5).name());
    }
}

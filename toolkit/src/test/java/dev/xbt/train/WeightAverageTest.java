package dev.xbt.train;

import dev.xbt.engine.Parameter;
import dev.xbt.engine.ParameterSet;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The moving average against the closed-form weighted sum of the snapshots, computed here in double. */
class WeightAverageTest {
    /** Two parameters (a matrix and a vector, so the set has a decay and a no-decay range). */
    private static ParameterSet params() {
        return ParameterSet.of(List.of(new Parameter("w", Tensor.zeros(3, 2)), new Parameter("b", Tensor.zeros(4))));
    }

    /** Sets the flat weights (the set's layout: w then b). */
    private static void set(ParameterSet ps, float[] flat) {
        int off = 0;
        for (Parameter p : ps.parameters()) {
            p.copyFrom(java.util.Arrays.copyOfRange(flat, off, off + (int) p.size()));
            off += (int) p.size();
        }
    }

    private static float[] get(ParameterSet ps) {
        float[] out = new float[(int) ps.count()];
        int off = 0;
        for (Parameter p : ps.parameters()) {
            float[] v = p.toArray();
            System.arraycopy(v, 0, out, off, v.length);
            off += v.length;
        }
        return out;
    }

    /** Σ_{k=1..t} (1 − d) d^(t−k) w_k / Σ_{k=1..t} (1 − d) d^(t−k), the weights summed independently of the recursion. */
    static double[] closedForm(List<float[]> snapshots, double d) {
        int t = snapshots.size(), n = snapshots.getFirst().length;
        double[] sum = new double[n];
        double norm = 0;
        for (int k = 1; k <= t; k++) {
            double weight = (1 - d) * Math.pow(d, t - k);
            norm += weight;
            for (int i = 0; i < n; i++) sum[i] += weight * snapshots.get(k - 1)[i];
        }
        for (int i = 0; i < n; i++) sum[i] /= norm;
        return sum;
    }

    @Test
    void averageAfterEachStepIsTheWeightedSumOfTheSnapshots() {
        for (double d : new double[] {0.5, 0.9, 0.999}) {
            ParameterSet ps = params();
            WeightAverage avg = new WeightAverage(ps, d);
            Rng rng = new Rng(7);
            List<float[]> snapshots = new ArrayList<>();
            for (int step = 1; step <= 40; step++) {
                float[] w = new float[(int) ps.count()];
                // A drifting walk with noise, like weights under an optimizer.
                for (int i = 0; i < w.length; i++) w[i] = 0.05f * step + (float) rng.nextGaussian();
                set(ps, w);
                snapshots.add(w);
                avg.update();
                double[] expected = closedForm(snapshots, d);
                float[] got = avg.toArray();
                for (int i = 0; i < got.length; i++) {
                    assertEquals(expected[i], got[i], 1e-5 * (1 + Math.abs(expected[i])), "decay " + d + ", step " + step + ", element " + i);
                }
            }
            assertEquals(40, avg.updates());
            // The parameters keep the last step's weights until the average is copied in.
            assertArrayEquals(snapshots.getLast(), get(ps));
            avg.copyToParameters();
            assertArrayEquals(avg.toArray(), get(ps));
        }
    }

    @Test
    void firstAverageIsTheFirstWeightsAndDecayZeroFollowsTheWeights() {
        ParameterSet ps = params();
        WeightAverage avg = new WeightAverage(ps, 0.0);
        float[] before = get(ps);
        avg.copyToParameters();
        assertArrayEquals(before, get(ps), "no update yet: the parameters are left alone");
        for (int step = 1; step <= 3; step++) {
            float[] w = new float[(int) ps.count()];
            for (int i = 0; i < w.length; i++) w[i] = step * 10 + i;
            set(ps, w);
            avg.update();
            assertArrayEquals(w, avg.toArray());
        }
    }

    @Test
    void restoreCarriesTheAverageOn() {
        ParameterSet a = params(), b = params();
        WeightAverage wa = new WeightAverage(a, 0.9), wb = new WeightAverage(b, 0.9);
        Rng rng = new Rng(3);
        for (int step = 1; step <= 10; step++) {
            float[] w = new float[(int) a.count()];
            for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextGaussian();
            set(a, w);
            wa.update();
            if (step == 6) wb.restore(wa.toArray(), wa.updates());
            if (step > 6) {
                set(b, w);
                wb.update();
            }
        }
        assertEquals(wa.updates(), wb.updates());
        assertArrayEquals(wa.toArray(), wb.toArray());
    }

    @Test
    void badDecayAndBadRestoreAreRefused() {
        ParameterSet ps = params();
        assertThrows(IllegalArgumentException.class, () -> new WeightAverage(ps, 1.0));
        assertThrows(IllegalArgumentException.class, () -> new WeightAverage(ps, -0.1));
        assertThrows(IllegalArgumentException.class, () -> new WeightAverage(ps, Double.NaN));
        WeightAverage avg = new WeightAverage(ps, 0.9);
        assertThrows(IllegalArgumentException.class, () -> avg.restore(new float[3], 1));
    }
}

package dev.xbt.engine;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Backends;
import dev.xbt.engine.optim.AdamW;
import dev.xbt.engine.optim.Sgd;
import dev.xbt.engine.optim.WarmupCosine;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The optimizers against hand-written float64 references of PyTorch's update rules
 * (torch.optim.AdamW, torch.optim.SGD), on the float64 backend so that the comparison is tight;
 * plus the parameter set's packing, gradient clipping and the learning-rate schedule.
 */
class OptimizerTest {
    private static final Backend F64 = Backends.get("scalar64");

    /** A tiny model: two matrices (decayed by default), a bias and a gain (not decayed). */
    private static List<Parameter> model() {
        List<Parameter> ps = new ArrayList<>();
        ps.add(new Parameter("bias", Tensor.of(F64, new double[] {0.1, -0.2, 0.3}, 3)));
        ps.add(new Parameter("w", Tensor.of(F64, new double[] {0.5, -1, 1.5, 2, -0.25, 0.75}, 2, 3)));
        ps.add(new Parameter("gain", Tensor.of(F64, new double[] {1, 1.1}, 2)));
        ps.add(new Parameter("w2", Tensor.of(F64, new double[] {-0.3, 0.8, 0.05, -1.2}, 2, 2)));
        return ps;
    }

    /** The gradients of step t, a fixed function of (t, parameter, element), exact in float32. */
    private static float grad(int t, int p, int i) {
        return (float) Math.sin(1.3 * t + 2.1 * p + 0.7 * i) * (p == 3 ? 0.01f : 1f);
    }

    private static void setGrads(ParameterSet set, List<Parameter> ps, int t) {
        set.zeroGrad();
        for (int p = 0; p < ps.size(); p++) {
            float[] g = new float[ps.get(p).size()];
            for (int i = 0; i < g.length; i++) g[i] = grad(t, p, i);
            ps.get(p).grad().copyFrom(g);
        }
    }

    private static double[][] values(List<Parameter> ps) {
        double[][] v = new double[ps.size()][];
        for (int p = 0; p < ps.size(); p++) v[p] = ps.get(p).toDoubleArray();
        return v;
    }

    // ================================================================ AdamW

    /** torch.optim.AdamW's update for one tensor, in float64 (amsgrad off). */
    private static void torchAdamW(double[] p, double[] g, double[] m, double[] v, int t, double lr, double b1, double b2,
                                   double eps, double wd) {
        for (int i = 0; i < p.length; i++) {
            p[i] *= 1 - lr * wd;                                   // decoupled weight decay
            m[i] = b1 * m[i] + (1 - b1) * g[i];
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
            double bc1 = 1 - Math.pow(b1, t), bc2 = 1 - Math.pow(b2, t);
            double denom = Math.sqrt(v[i]) / Math.sqrt(bc2) + eps;
            p[i] -= lr / bc1 * m[i] / denom;
        }
    }

    private static void checkAdamW(Predicate<Parameter> decayRule, boolean[] decays, float b1, float b2, float eps, float wd,
                                   boolean defaults) {
        List<Parameter> ps = model();
        ParameterSet set = decayRule == null ? ParameterSet.of(ps) : ParameterSet.of(ps, decayRule);
        AdamW opt = defaults ? new AdamW(set) : new AdamW(set, b1, b2, eps, wd);
        double[][] p = values(ps), m = new double[ps.size()][], v = new double[ps.size()][];
        for (int k = 0; k < ps.size(); k++) {
            m[k] = new double[p[k].length];
            v[k] = new double[p[k].length];
        }
        for (int t = 1; t <= 6; t++) {
            setGrads(set, ps, t);
            float lr = 0.01f * t;                                 // a changing learning rate, as a schedule gives
            opt.step(lr);
            for (int k = 0; k < ps.size(); k++) {
                double[] g = new double[p[k].length];
                for (int i = 0; i < g.length; i++) g[i] = grad(t, k, i);
                torchAdamW(p[k], g, m[k], v[k], t, lr, b1, b2, eps, decays[k] ? wd : 0);
                // 2e-8, not 1e-12: the hyper-parameters are float32 and used exactly by both
                // sides, but the engine hands the bias corrections 1 − βᵗ to the kernel rounded
                // to float32 (relative error ≤ 6e-8, half of it through the square root), and
                // each step moves a parameter by at most ~lr: Σ lr · 9e-8 ≈ 2e-8 over 6 steps.
                // Observed: 1e-9.
                assertArrayEquals(p[k], ps.get(k).toDoubleArray(), 2e-8, "AdamW step " + t + " " + ps.get(k).describe());
            }
        }
        assertEquals(6, opt.steps());
        double[] flatM = new double[(int) set.count()];
        F64.downloadDoubles(opt.firstMoments(), flatM);
        // First moments are packed in the set's order: decayed parameters first.
        int off = 0;
        for (Parameter q : set.parameters()) {
            int k = ps.indexOf(q);
            for (int i = 0; i < q.size(); i++) assertEquals(m[k][i], flatM[off + i], 1e-12, "first moment of " + q.describe());
            off += q.size();
        }
    }

    @Test
    void adamWMatchesTorchWithTheDefaultDecayRule() {
        // Decay on rank ≥ 2 only: w and w2 decay, bias and gain do not.
        checkAdamW(null, new boolean[] {false, true, false, true}, 0.9f, 0.999f, 1e-8f, 0.1f, false);
    }

    @Test
    void adamWDefaultsAreTorchDefaults() {
        checkAdamW(null, new boolean[] {false, true, false, true}, 0.9f, 0.999f, 1e-8f, 0.01f, true);
    }

    @Test
    void adamWWithACustomDecayRule() {
        checkAdamW(p -> !p.name().equals("w2"), new boolean[] {true, true, true, false}, 0.8f, 0.95f, 1e-6f, 0.05f, false);
    }

    @Test
    void adamWRejectsBadHyperParameters() {
        ParameterSet set = ParameterSet.of(model());
        assertThrows(IllegalArgumentException.class, () -> new AdamW(set, 1f, 0.999f, 1e-8f, 0f));
        assertThrows(IllegalArgumentException.class, () -> new AdamW(set, 0.9f, -0.1f, 1e-8f, 0f));
        assertThrows(IllegalArgumentException.class, () -> new AdamW(set, 0.9f, 0.999f, 0f, 0f));
        assertThrows(IllegalArgumentException.class, () -> new AdamW(set, 0.9f, 0.999f, 1e-8f, -1f));
    }

    // ================================================================ SGD

    /** torch.optim.SGD's update for one tensor, in float64 (dampening 0). */
    private static void torchSgd(double[] p, double[] g, double[] buf, boolean first, double lr, double mu, double wd, boolean nesterov) {
        for (int i = 0; i < p.length; i++) {
            double d = g[i] + wd * p[i];
            if (mu != 0) {
                buf[i] = first ? d : mu * buf[i] + d;
                d = nesterov ? d + mu * buf[i] : buf[i];
            }
            p[i] -= lr * d;
        }
    }

    private static void checkSgd(float mu, float wd, boolean nesterov) {
        List<Parameter> ps = model();
        ParameterSet set = ParameterSet.of(ps);
        Sgd opt = new Sgd(set, mu, wd, nesterov);
        boolean[] decays = {false, true, false, true};
        double[][] p = values(ps), buf = new double[ps.size()][];
        for (int k = 0; k < ps.size(); k++) buf[k] = new double[p[k].length];
        for (int t = 1; t <= 6; t++) {
            setGrads(set, ps, t);
            float lr = 0.05f;
            opt.step(lr);
            for (int k = 0; k < ps.size(); k++) {
                double[] g = new double[p[k].length];
                for (int i = 0; i < g.length; i++) g[i] = grad(t, k, i);
                torchSgd(p[k], g, buf[k], t == 1, lr, mu, decays[k] ? wd : 0, nesterov);
                assertArrayEquals(p[k], ps.get(k).toDoubleArray(), 1e-12,
                        "SGD mu=" + mu + " nesterov=" + nesterov + " step " + t + " " + ps.get(k).describe());
            }
        }
        assertEquals(6, opt.steps());
    }

    @Test
    void sgdMomentumMatchesTorch() {
        checkSgd(0.9f, 0.01f, false);
    }

    @Test
    void sgdNesterovMatchesTorch() {
        checkSgd(0.9f, 0.01f, true);
    }

    @Test
    void plainSgd() {
        checkSgd(0f, 0f, false);
        checkSgd(0f, 0.1f, false);
    }

    @Test
    void sgdRejectsBadHyperParameters() {
        ParameterSet set = ParameterSet.of(model());
        assertThrows(IllegalArgumentException.class, () -> new Sgd(set, -0.1f, 0f, false));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(set, 0.9f, Float.NaN, false));
    }

    // ================================================================ parameter set

    @Test
    void packingPutsDecayedParametersFirstAndSkipsFrozenOnes() {
        List<Parameter> ps = model();
        Parameter frozen = new Parameter("frozen", Tensor.of(F64, new double[] {7, 8, 9, 10}, 2, 2)).freeze(true);
        ps.add(frozen);
        double[][] before = values(ps);
        ParameterSet set = ParameterSet.of(ps);
        assertEquals(List.of("w", "w2", "bias", "gain"), set.parameters().stream().map(Parameter::name).toList());
        assertEquals(10, set.decayedCount());
        assertEquals(15, set.count());
        assertSame(F64, set.backend());
        for (int k = 0; k < ps.size(); k++) assertArrayEquals(before[k], ps.get(k).toDoubleArray(), 0, "packing changed a value");
        // Parameters now live in the flat buffer: writing it shows through them.
        double[] flat = new double[15];
        F64.downloadDoubles(set.data(), flat);
        assertArrayEquals(new double[] {0.5, -1, 1.5, 2, -0.25, 0.75, -0.3, 0.8, 0.05, -1.2, 0.1, -0.2, 0.3, 1, 1.1}, flat, 0);
        F64.fill(set.data().slice(6, 4), 3f);
        assertArrayEquals(new double[] {3, 3, 3, 3}, ps.get(3).toDoubleArray(), 0);
        // Gradients of a backward pass land in the flat gradient buffer.
        try (Tape tape = Tape.record()) {
            tape.backward(Ops.add(Ops.sum(Ops.scale(ps.get(1), 2f)), Ops.sum(Ops.mul(ps.get(2), Ops.slice(frozen.reshape(4), 0, 0, 2)))));
        }
        double[] g = new double[15];
        F64.downloadDoubles(set.grads(), g);
        assertArrayEquals(new double[] {2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 7, 8}, g, 0);
        set.zeroGrad();
        F64.downloadDoubles(set.grads(), g);
        assertArrayEquals(new double[15], g, 0);
        assertArrayEquals(new double[] {7, 8, 9, 10}, frozen.toDoubleArray(), 0);
    }

    @Test
    void emptyParameterSetIsAnError() {
        Parameter frozen = new Parameter("f", Tensor.of(F64, new double[] {1}, 1)).freeze(true);
        EngineException e = assertThrows(EngineException.class, () -> ParameterSet.of(List.of(frozen)));
        assertTrue(e.getMessage().contains("no trainable parameters"), e.getMessage());
        Parameter other = new Parameter("o", Tensor.of(Backends.get("scalar"), new float[] {1}, 1));
        EngineException mixed = assertThrows(EngineException.class,
                () -> ParameterSet.of(List.of(new Parameter("a", Tensor.of(F64, new double[] {1}, 1)), other)));
        assertTrue(mixed.getMessage().contains("different backends"), mixed.getMessage());
    }

    // ================================================================ clipping

    @Test
    void clipGradNormScalesToTheLimit() {
        List<Parameter> ps = List.of(
                new Parameter("a", Tensor.of(F64, new double[2], 2)),
                new Parameter("b", Tensor.of(F64, new double[1], 1, 1)));
        ParameterSet set = ParameterSet.of(ps);
        ps.get(0).grad().copyFrom(new float[] {3, 4});
        ps.get(1).grad().copyFrom(new float[] {12});
        assertEquals(13, set.gradNorm(), 1e-12);
        assertEquals(13, set.clipGradNorm(6.5), 1e-12, "returns the norm before clipping");
        double c = 6.5 / (13 + 1e-6);  // torch.nn.utils.clip_grad_norm_'s coefficient
        assertArrayEquals(new double[] {3 * c, 4 * c}, ps.get(0).grad().toDoubleArray(), 1e-6);
        assertArrayEquals(new double[] {12 * c}, ps.get(1).grad().toDoubleArray(), 1e-6);
        assertEquals(6.5, set.gradNorm(), 1e-5);
        // Below the limit: unchanged.
        double n = set.gradNorm();
        assertEquals(n, set.clipGradNorm(100), 0);
        assertArrayEquals(new double[] {3 * c, 4 * c}, ps.get(0).grad().toDoubleArray(), 1e-6);
    }

    @Test
    void clipGradNormLeavesNonFiniteGradientsAlone() {
        List<Parameter> ps = List.of(new Parameter("a", Tensor.of(F64, new double[3], 3)));
        ParameterSet set = ParameterSet.of(ps);
        ps.get(0).grad().copyFrom(new float[] {1, Float.POSITIVE_INFINITY, 2});
        assertEquals(Double.POSITIVE_INFINITY, set.clipGradNorm(1));
        assertArrayEquals(new float[] {1, Float.POSITIVE_INFINITY, 2}, ps.get(0).grad().toArray());
        ps.get(0).grad().copyFrom(new float[] {1, Float.NaN, 2});
        assertTrue(Double.isNaN(set.clipGradNorm(1)));
        assertEquals(2f, ps.get(0).grad().toArray()[2]);
    }

    // ================================================================ schedule

    private static void assertClose(double want, float got, String what) {
        assertEquals(want, got, 1e-6 * Math.abs(want), what);
    }

    @Test
    void warmupCosineValues() {
        WarmupCosine s = new WarmupCosine(1e-3f, 10, 110, 1e-5f);
        // The schedule computes in float32: compare to 1e-6 relative.
        assertClose(1e-4, s.lr(0), "start of warmup: peak/warmup");
        assertClose(5e-4, s.lr(4), "warmup is linear");
        assertClose(1e-3, s.lr(9), "end of warmup: peak");
        assertClose(1e-3, s.lr(10), "start of the cosine: peak");
        assertClose((1e-3 + 1e-5) / 2, s.lr(60), "half way: the mean of peak and floor");
        assertClose(1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + Math.cos(Math.PI * 0.25)), s.lr(35), "a quarter of the way");
        assertEquals(1e-5f, s.lr(110), 0, "end: the floor");
        assertEquals(1e-5f, s.lr(10_000), 0, "after the end: the floor");
        assertClose(1e-5 + 0.5 * (1e-3 - 1e-5) * (1 - Math.cos(Math.PI / 100)), s.lr(109), "last step: just above the floor");
        for (int t = 10; t < 120; t++) assertTrue(s.lr(t + 1) <= s.lr(t), "not decreasing at " + t);
        for (int t = 0; t < 9; t++) assertTrue(s.lr(t + 1) > s.lr(t), "not increasing at " + t);

        WarmupCosine noWarmup = new WarmupCosine(0.1f, 0, 100, 0f);
        assertEquals(0.1f, noWarmup.lr(0), 0);
        assertEquals(0f, noWarmup.lr(100), 0);
        WarmupCosine allWarmup = new WarmupCosine(0.1f, 100, 100, 0.05f);
        assertClose(0.1, allWarmup.lr(99), "all warmup: peak at the last step");
        assertEquals(0.05f, allWarmup.lr(100), 0);

        assertThrows(IllegalArgumentException.class, () -> new WarmupCosine(1, -1, 10, 0));
        assertThrows(IllegalArgumentException.class, () -> new WarmupCosine(1, 11, 10, 0));
        assertThrows(IllegalArgumentException.class, () -> new WarmupCosine(1, 0, 0, 0));
    }
}

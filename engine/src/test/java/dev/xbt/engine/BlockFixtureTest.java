package dev.xbt.engine;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.BackendProvider;
import dev.xbt.engine.backend.Backends;
import dev.xbt.engine.optim.AdamW;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * One CLIP residual block (pre-LN, multi-head self-attention with a fused in-projection, exact-GELU
 * MLP) rebuilt from the engine's ops and checked against PyTorch: the output, the gradient of
 * {@code loss = sum(out * R)} with respect to the input and every parameter, and the losses and
 * parameters of 5 AdamW steps. The reference values come from
 * engine/src/test/python/make_block_fixture.py (float64 torch, stored as float32); see
 * src/test/resources/fixtures/README.md.
 *
 * <p>Tolerances, per tensor with a = ours and b = torch's: {@code max|a−b| / max|b| ≤ tol} and, for
 * every element, {@code |a−b| ≤ tol·(|b| + 1e-2·max|b|)}; tol = 1e-4 on the float32 backends and
 * 1e-5 on scalar64 (float64 storage: what remains is the fixture's float32 rounding and the float32
 * constants of the engine's API, such as the attention scale 1/√d and the layer-norm eps, which
 * move elements near zero by a few 1e-9 of max|b|). AdamW losses: {@code |a−b| ≤ tol·|b|} per
 * step; parameters after the AdamW steps: {@code max|a−b| / max|b| ≤ 1e-4} (see
 * {@link #TOL_ADAM_PARAMS}; the attention's key bias, whose gradient is exactly zero, is checked
 * apart). The element floor of 1e-2·max|b| is float32's own limit: a weight gradient sums
 * B·T = 231 products, and a float32 sum of that length (any order, torch's included) is exact only to
 * about 1e-7 of the summed magnitudes, so an element that cancels to 1e-4 of max|b| cannot be held to
 * 1e-4 of itself.
 *
 * <p>Backends: scalar (float32 reference) and scalar64 always; cpu when its provider is on the class
 * path and available, else that case is skipped with the reason.
 */
class BlockFixtureTest {
    private static final String RESOURCE = "/fixtures/clip_block.xbtfix";
    private static final double TOL_F32 = 1e-4, TOL_F64 = 1e-5;
    /**
     * Parameters after 5 AdamW steps, norm-relative only: an element whose gradient is tiny moves by
     * up to lr per step whatever its sign, so element-wise bounds would be meaningless there.
     */
    private static final double TOL_ADAM_PARAMS = 1e-4;

    private static Fixture fx;
    private static List<String> paramNames;
    private static int heads;
    private static float lnEps, lr, beta1, beta2, adamEps, weightDecay;
    private static int steps;

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void load() {
        fx = Fixture.load(RESOURCE);
        paramNames = (List<String>) (List<?>) fx.meta("params");
        heads = (int) fx.metaNumber("heads");
        lnEps = (float) fx.metaNumber("ln_eps");
        lr = (float) fx.metaNumber("adamw.lr");
        beta1 = (float) fx.metaNumber("adamw.beta1");
        beta2 = (float) fx.metaNumber("adamw.beta2");
        adamEps = (float) fx.metaNumber("adamw.eps");
        weightDecay = (float) fx.metaNumber("adamw.weight_decay");
        steps = (int) fx.metaNumber("adamw.steps");
        assertEquals("sum(out * R)", fx.meta("loss"));
        assertEquals("rank >= 2", fx.meta("adamw.decay"));
        assertEquals("erf", fx.meta("gelu"));
    }

    /** How the text case's causal mask reaches the attention kernel. */
    enum Masking { NONE, CAUSAL_FLAG, ADDITIVE_MASK }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String be : new String[] {"scalar", "scalar64", "cpu"}) {
            out.add(Arguments.of(be, "text", Masking.CAUSAL_FLAG));
            out.add(Arguments.of(be, "text", Masking.ADDITIVE_MASK));
            out.add(Arguments.of(be, "vision", Masking.NONE));
        }
        return out.stream();
    }

    /** The backend, or a skipped test with the one-line reason it is missing. */
    private static Backend backend(String name) {
        Optional<BackendProvider> p = Backends.providers().stream().filter(q -> q.name().equals(name)).findFirst();
        Assumptions.assumeTrue(p.isPresent(), () -> "backend '" + name + "' is not on the class path (providers: "
                + Backends.providers().stream().map(BackendProvider::name).toList() + ")");
        Optional<String> why = p.get().unavailableReason();
        Assumptions.assumeTrue(why.isEmpty(), () -> "backend '" + name + "' is unavailable here: " + why.orElse(""));
        return Backends.get(name);
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void matchesPyTorch(String backendName, String c, Masking masking) {
        Backend be = backend(backendName);
        double tol = backendName.equals("scalar64") ? TOL_F64 : TOL_F32;
        String label = backendName + " " + c + " " + masking;
        boolean causalCase = (Boolean) fx.meta("cases." + c + ".causal");
        assertEquals(causalCase, masking != Masking.NONE, "masking mode fits the case");

        Map<String, Parameter> params = parameters(be);
        ParameterSet set = ParameterSet.of(params.values());
        Tensor x = tensor(be, c + ".x").requiresGrad(true);
        Tensor r = tensor(be, c + ".R");
        Tensor mask = masking == Masking.ADDITIVE_MASK ? tensor(be, c + ".mask") : null;
        boolean causal = masking == Masking.CAUSAL_FLAG;

        List<String> failures = new ArrayList<>();
        List<String> report = new ArrayList<>();

        // Forward, backward at the initial parameters.
        set.zeroGrad();
        float loss;
        try (Tape tape = Tape.record()) {
            Tensor out = block(params, x, mask, causal);
            Tensor l = Ops.sum(Ops.mul(out, r));
            loss = l.item();
            check(label, "out", out.toArray(), fx.entry(c + ".out"), out.shape(), tol, failures, report);
            tape.backward(l);
        }
        checkScalar(label, "loss", loss, fx.metaNumber("cases." + c + ".loss"), tol, failures, report);
        check(label, "grad.x", x.grad().toArray(), fx.entry(c + ".grad.x"), x.shape(), tol, failures, report);
        double worstParamGrad = 0;
        for (String n : paramNames) {
            Parameter p = params.get(n);
            worstParamGrad = Math.max(worstParamGrad, check(label, "grad." + n, p.grad().toArray(),
                    fx.entry(c + ".grad." + n), p.shape(), tol, failures, report));
        }
        report.add(String.format("%-36s all parameter gradients: worst max|a-b|/max|b| %.3g", label, worstParamGrad));

        // Five AdamW steps from the same start.
        Map<String, Parameter> fresh = parameters(be);
        ParameterSet trainSet = ParameterSet.of(fresh.values());
        assertEquals(count(fresh, true), trainSet.decayedCount(), "decay range = the rank >= 2 tensors");
        AdamW opt = new AdamW(trainSet, beta1, beta2, adamEps, weightDecay);
        Tensor xConst = tensor(be, c + ".x");
        List<Object> expectedLosses = castList(fx.meta("cases." + c + ".adamw_losses"));
        assertEquals(steps, expectedLosses.size());
        double worstLoss = 0;
        for (int s = 0; s < steps; s++) {
            trainSet.zeroGrad();
            try (Tape tape = Tape.record()) {
                Tensor l = Ops.sum(Ops.mul(block(fresh, xConst, mask, causal), r));
                double e = (Double) expectedLosses.get(s);
                worstLoss = Math.max(worstLoss, checkScalar(label, "adamw loss before step " + (s + 1), l.item(), e, tol,
                        failures, report));
                tape.backward(l);
            }
            opt.step(lr);
        }
        report.add(String.format("%-36s adamw losses: worst |a-b|/|b| %.3g", label, worstLoss));
        double worstAdam = 0;
        for (String n : paramNames) {
            Parameter p = fresh.get(n);
            Fixture.Entry e = fx.entry(c + ".adamw.param." + n);
            assertArrayEquals(e.shape(), p.shape(), n);
            float[] a = p.toArray(), b = e.data();
            if (n.equals("attn.in_proj_bias")) {
                // The key bias [W, 2W) adds q·b_k to every score of a row, which the softmax cancels:
                // its gradient is exactly zero, so only rounding noise reaches AdamW (~1e-15 in
                // torch's float64, far below eps, so torch's key bias stays put; ~1e-6 in float32,
                // where m/√v ≈ ±1 moves it by up to lr per step, as torch in float32 does too).
                // Check that part only against that bound; the q and v parts as usual.
                int w = p.dim(0) / 3;
                float[] start = fx.data("param." + n);
                double moved = 0;
                for (int i = w; i < 2 * w; i++) moved = Math.max(moved, Math.abs((double) a[i] - start[i]));
                double bound = steps * lr * 1.05; // |m̂|/√v̂ ≤ ~1.011 in the first 5 steps (Cauchy–Schwarz)
                report.add(String.format("%-36s adamw.param.%-22s key bias (zero gradient) moved %.3g (bound %.3g)",
                        label, n, moved, bound));
                if (!(moved <= bound)) failures.add(label + ": key bias moved " + moved + " in " + steps + " steps > " + bound);
                a = without(a, w, 2 * w);
                b = without(b, w, 2 * w);
            }
            double nr = normRelative(a, b);
            worstAdam = Math.max(worstAdam, nr);
            report.add(String.format("%-36s adamw.param.%-22s max|a-b|/max|b| %.3g", label, n, nr));
        }
        report.add(String.format("%-36s params after %d AdamW steps: worst max|a-b|/max|b| %.3g", label, steps, worstAdam));
        if (worstAdam > TOL_ADAM_PARAMS) {
            failures.add(label + ": parameters after AdamW: max|a-b|/max|b| = " + worstAdam + " > " + TOL_ADAM_PARAMS);
        }

        report.forEach(System.out::println);
        if (!failures.isEmpty()) fail(failures.size() + " mismatches against PyTorch:\n  " + String.join("\n  ", failures));
    }

    /**
     * CLIP's residual block: x + out_proj(attention(ln_1(x))), then + c_proj(gelu(c_fc(ln_2(·)))).
     * Linear weights are torch's [out, in], hence the transposed right operand.
     */
    static Tensor block(Map<String, Parameter> p, Tensor x, Tensor mask, boolean causal) {
        int b = x.dim(0), t = x.dim(1), w = x.dim(2), d = w / heads;
        Tensor h = Nn.layerNorm(x, p.get("ln_1.weight"), p.get("ln_1.bias"), lnEps);
        Tensor qkv = linear(h, p.get("attn.in_proj_weight"), p.get("attn.in_proj_bias"));   // [B, T, 3W]
        Tensor q = heads(Ops.slice(qkv, 2, 0, w), b, t, d);
        Tensor k = heads(Ops.slice(qkv, 2, w, 2 * w), b, t, d);
        Tensor v = heads(Ops.slice(qkv, 2, 2 * w, 3 * w), b, t, d);
        Tensor a = Nn.attention(q, k, v, mask, causal);                                     // [B, H, T, D]
        a = Ops.reshape(Ops.permute(a, 0, 2, 1, 3), b, t, w);
        Tensor x1 = Ops.add(x, linear(a, p.get("attn.out_proj.weight"), p.get("attn.out_proj.bias")));
        Tensor h2 = Nn.layerNorm(x1, p.get("ln_2.weight"), p.get("ln_2.bias"), lnEps);
        Tensor f = Ops.gelu(linear(h2, p.get("mlp.c_fc.weight"), p.get("mlp.c_fc.bias")));
        return Ops.add(x1, linear(f, p.get("mlp.c_proj.weight"), p.get("mlp.c_proj.bias")));
    }

    private static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        return Ops.add(Ops.matmul(x, weight, false, true), bias);
    }

    /** [B, T, W] → [B, H, T, D]. */
    private static Tensor heads(Tensor x, int b, int t, int d) {
        return Ops.permute(Ops.reshape(x, b, t, heads, d), 0, 2, 1, 3);
    }

    private static Map<String, Parameter> parameters(Backend be) {
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (String n : paramNames) m.put(n, new Parameter(n, tensor(be, "param." + n)));
        return m;
    }

    private static long count(Map<String, Parameter> params, boolean matrices) {
        long n = 0;
        for (Parameter p : params.values()) if ((p.rank() >= 2) == matrices) n += p.size();
        return n;
    }

    private static Tensor tensor(Backend be, String name) {
        Fixture.Entry e = fx.entry(name);
        return Tensor.of(be, e.data(), e.shape());
    }

    @SuppressWarnings("unchecked")
    private static List<Object> castList(Object o) {
        return (List<Object>) o;
    }

    /** The elements outside [from, to). */
    private static float[] without(float[] x, int from, int to) {
        float[] out = new float[x.length - (to - from)];
        System.arraycopy(x, 0, out, 0, from);
        System.arraycopy(x, to, out, from, x.length - to);
        return out;
    }

    /** max|a−b| / max|b|. */
    static double normRelative(float[] a, float[] b) {
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < a.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs((double) a[i] - b[i]));
            maxRef = Math.max(maxRef, Math.abs((double) b[i]));
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }

    /**
     * Both criteria on one tensor; records failures and a report line, returns the norm-relative
     * error.
     */
    private static double check(String label, String what, float[] a, Fixture.Entry ref, int[] shape, double tol,
                                List<String> failures, List<String> report) {
        assertArrayEquals(ref.shape(), shape, what + ": shape");
        float[] b = ref.data();
        double maxRef = 0;
        for (float v : b) maxRef = Math.max(maxRef, Math.abs((double) v));
        double normRel = normRelative(a, b);
        // Element-wise: |a−b| ≤ tol·(|b| + 1e-2·max|b|); report the worst ratio to that bound, in units of tol.
        double worst = 0;
        int worstAt = -1, bad = 0;
        for (int i = 0; i < a.length; i++) {
            double diff = Math.abs((double) a[i] - b[i]);
            double bound = tol * (Math.abs((double) b[i]) + 1e-2 * maxRef);
            double ratio = bound == 0 ? (diff == 0 ? 0 : Double.POSITIVE_INFINITY) : diff / bound;
            if (!(ratio <= 1)) bad++;
            if (!(ratio <= worst)) {
                worst = ratio;
                worstAt = i;
            }
        }
        report.add(String.format("%-36s %-26s max|a-b|/max|b| %.3g   worst element at %.3g of its bound", label, what,
                normRel, worst));
        if (!(normRel <= tol)) failures.add(what + ": max|a-b|/max|b| = " + normRel + " > " + tol);
        if (bad > 0) {
            failures.add(what + ": " + bad + " of " + a.length + " elements off; worst at " + worstAt + ": ours "
                    + a[worstAt] + ", torch " + b[worstAt] + " (max|b| " + maxRef + ")");
        }
        return normRel;
    }

    private static double checkScalar(String label, String what, double a, double b, double tol,
                                      List<String> failures, List<String> report) {
        double rel = Math.abs(a - b) / Math.abs(b);
        report.add(String.format("%-36s %-26s ours %.9g torch %.9g  |a-b|/|b| %.3g", label, what, a, b, rel));
        if (!(rel <= tol)) failures.add(what + ": ours " + a + ", torch " + b + ", relative " + rel + " > " + tol);
        return rel;
    }
}

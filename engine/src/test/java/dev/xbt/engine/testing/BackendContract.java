package dev.xbt.engine.testing;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.Nn;
import dev.xbt.engine.Ops;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.ParameterSet;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Shape;
import dev.xbt.engine.Tape;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Backends;
import dev.xbt.engine.backend.BinaryOp;
import dev.xbt.engine.backend.Buffer;
import dev.xbt.engine.backend.ReduceOp;
import dev.xbt.engine.backend.UnaryOp;
import dev.xbt.engine.optim.AdamW;
import dev.xbt.engine.optim.Optimizer;
import dev.xbt.engine.optim.Sgd;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The test suite every backend must pass. Each op of {@link Ops} and {@link Nn} runs forward and
 * backward (with a random upstream gradient) on the backend under test and on the float32
 * reference backend "scalar", from identical float32 inputs; outputs and every input gradient must
 * agree within float32 tolerances. Then the optimizer steps through {@link ParameterSet}, dropout's
 * mask, and the documented semantics of the {@link Backend} kernels themselves (accumulation,
 * aliasing, strides, masked rows).
 *
 * <p>A subclass says which backend it tests:
 *
 * <pre>{@code
 * class CudaBackendContractTest extends BackendContract {
 *     @Override
 *     protected Backend backend() {
 *         return require("cuda"); // skips the class, with the reason, when CUDA is unavailable
 *     }
 * }
 * }</pre>
 *
 * <p>Only the public API is used, so backends in other modules (CUDA, OpenCL) reuse the suite
 * through the engine's test-jar. Tolerances are per {@link Kind} of computation and can be widened
 * by a subclass ({@link #tolerance}) where a device's arithmetic differs legitimately.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class BackendContract {

    /** The backend under test. Call {@link #require} or abort with an assumption when it is unavailable. */
    protected abstract Backend backend();

    /** The backend results are compared with: the float32 scalar reference. */
    protected Backend reference() {
        return Backends.get("scalar");
    }

    /**
     * Whether to run the few cases sized to cross multi-threading thresholds (a 512×768·768×3072
     * product and its gradients). A single-threaded reference backend may turn them off.
     */
    protected boolean largeCases() {
        return true;
    }

    /** Classes of computation, each with its own allowed difference |a − b| ≤ tol·(1 + |b|). */
    public enum Kind {
        /** Pure data movement: bit-identical. */
        EXACT(0),
        /** One or a few correctly rounded float32 operations per element. */
        ELEMENTWISE(1e-6),
        /** exp, log, tanh, erf and friends: backends may use their own approximations. */
        TRANSCENDENTAL(1e-5),
        /** Sums over an axis: the summation order may differ. */
        REDUCTION(1e-5),
        /** Dot products, fused kernels, and chains of them. */
        FUSED(1e-4);

        public final double defaultTolerance;

        Kind(double tol) {
            this.defaultTolerance = tol;
        }
    }

    /** The tolerance for a kind of computation; override to widen for a device. */
    protected double tolerance(Kind kind) {
        return kind.defaultTolerance;
    }

    /**
     * The backend registered under {@code name}; when it is unknown or unavailable, aborts the
     * calling test with a one-line reason, so the suite shows up as skipped.
     */
    public static Backend require(String name) {
        try {
            return Backends.get(name);
        } catch (EngineException e) {
            Assumptions.assumeTrue(false, "backend '" + name + "' not available here: " + e.getMessage().lines().findFirst().orElse(""));
            throw new AssertionError("unreachable");
        }
    }

    private Backend be;
    private Backend ref;

    @BeforeEach
    void setUpBackends() {
        // The subclass's availability check runs here, before every test, so that an unavailable
        // backend shows up as skipped tests with the reason (an abort in @BeforeAll would leave
        // the reports saying "0 tests run" without one).
        be = backend();
        assertNotNull(be, "backend() returned null");
        ref = reference();
    }

    // ================================================================ cases

    /** One input of a case. */
    public record In(float[] data, int[] shape, boolean differentiable) {}

    /** A function of tensors run on both backends. */
    @FunctionalInterface
    public interface Fn {
        Tensor apply(Tensor[] in);
    }

    /** An op run forward and backward on both backends and compared. */
    public static final class Case {
        final String name;
        final Fn fn;
        final List<In> inputs = new ArrayList<>();
        Kind forward = Kind.FUSED, backward = Kind.FUSED;

        Case(String name, Fn fn) {
            this.name = name;
            this.fn = fn;
        }

        /** A differentiable input. */
        public Case in(float[] data, int... shape) {
            if (data.length != Shape.size(shape)) throw new IllegalArgumentException(name + ": " + data.length + " values for " + Arrays.toString(shape));
            inputs.add(new In(data, shape, true));
            return this;
        }

        /** An input that takes no gradient (masks, constants). */
        public Case constant(float[] data, int... shape) {
            inputs.add(new In(data, shape, false));
            return this;
        }

        public Case kinds(Kind forward, Kind backward) {
            this.forward = forward;
            this.backward = backward;
            return this;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    public static Case op(String name, Fn fn) {
        return new Case(name, fn);
    }

    /** What one backend computed for a case. */
    private record Run(float[] out, int[] outShape, float[][] grads) {}

    private Run run(Backend b, Case c) {
        Tensor[] leaves = new Tensor[c.inputs.size()];
        for (int i = 0; i < leaves.length; i++) {
            In in = c.inputs.get(i);
            leaves[i] = Tensor.of(b, in.data, in.shape).requiresGrad(in.differentiable);
        }
        float[] out;
        int[] outShape;
        try (Tape tape = Tape.record()) {
            Tensor y = c.fn.apply(leaves);
            assertSame(b, y.backend(), c.name + ": output on the wrong backend");
            outShape = y.shape();
            out = y.toArray();
            float[] up = normal(c.name.hashCode() * 31L + 7, 1f, out.length);
            if (y.requiresGrad()) tape.backward(y, Tensor.of(b, up, outShape));
        }
        float[][] grads = new float[leaves.length][];
        for (int i = 0; i < leaves.length; i++) {
            if (!c.inputs.get(i).differentiable) continue;
            Tensor g = leaves[i].grad();
            if (g == null) {
                grads[i] = new float[leaves[i].size()];
            } else {
                assertSame(b, g.backend(), c.name + ": gradient of input " + i + " on the wrong backend");
                assertArrayEquals(c.inputs.get(i).shape, g.shape(), c.name + ": gradient shape of input " + i);
                grads[i] = g.toArray();
            }
        }
        return new Run(out, outShape, grads);
    }

    /** Runs a case on the backend under test and on the reference, and compares. */
    protected void check(Case c) {
        Run got = run(be, c), want = run(ref, c);
        assertArrayEquals(want.outShape, got.outShape, c.name + ": output shape");
        compare(c.name + " forward", got.out, want.out, tolerance(c.forward));
        for (int i = 0; i < got.grads.length; i++) {
            if (got.grads[i] == null) continue;
            compare(c.name + " gradient of input " + i + " " + Arrays.toString(c.inputs.get(i).shape),
                    got.grads[i], want.grads[i], tolerance(c.backward));
        }
    }

    /** |a − b| ≤ tol·(1 + |b|) everywhere; non-finite values must match exactly. */
    protected static void compare(String what, float[] got, float[] want, double tol) {
        assertEquals(want.length, got.length, what + ": length");
        int bad = 0, first = -1;
        double worst = 0;
        for (int i = 0; i < got.length; i++) {
            double a = got[i], b = want[i];
            boolean ok;
            if (!Double.isFinite(b) || !Double.isFinite(a)) ok = Double.compare(a, b) == 0;
            else ok = Math.abs(a - b) <= tol * (1 + Math.abs(b));
            if (!ok) {
                if (first < 0) first = i;
                bad++;
                worst = Math.max(worst, Math.abs(a - b) / (1 + Math.abs(b)));
            }
        }
        if (bad > 0) {
            fail(what + ": " + bad + " of " + got.length + " elements differ beyond tol " + tol + " (worst relative "
                    + worst + "); first at " + first + ": got " + got[first] + ", reference " + want[first]);
        }
    }

    // ================================================================ input generators

    /** Normal(0, std²) floats. */
    public static float[] normal(long seed, float std, int n) {
        Rng rng = new Rng(seed);
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = (float) (rng.nextGaussian() * std);
        return d;
    }

    public static float[] randn(long seed, int... shape) {
        return normal(seed, 1f, Shape.size(shape));
    }

    public static float[] uniform(long seed, float lo, float hi, int... shape) {
        Rng rng = new Rng(seed);
        float[] d = new float[Shape.size(shape)];
        for (int i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * rng.nextFloat();
        return d;
    }

    /** Random sign, magnitude in [lo, hi). */
    public static float[] awayFromZero(long seed, float lo, float hi, int... shape) {
        Rng rng = new Rng(seed);
        float[] d = new float[Shape.size(shape)];
        for (int i = 0; i < d.length; i++) {
            float m = lo + (hi - lo) * rng.nextFloat();
            d[i] = rng.nextFloat() < 0.5f ? -m : m;
        }
        return d;
    }

    /** Distinct values (a shuffled ramp with step 1/64, exact in float32): max has no ties. */
    public static float[] distinct(long seed, int... shape) {
        int n = Shape.size(shape);
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        new Rng(seed).shuffle(perm);
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = (perm[i] - n / 2) / 64f;
        return d;
    }

    /** Soft additive biases in [-2, 0] with some keys hidden (-inf), never a whole row. */
    public static float[] mask(long seed, int... shape) {
        float[] m = uniform(seed, -2f, 0f, shape);
        int tk = shape[shape.length - 1];
        Rng rng = new Rng(seed + 1);
        for (int i = 0; i < m.length; i++) if (i % tk != 0 && rng.nextFloat() < 0.2f) m[i] = Float.NEGATIVE_INFINITY;
        return m;
    }

    /** Keys from position {@code valid} on hidden from every query (a padding mask). */
    public static float[] paddingMask(int batch, int t, int[] valid) {
        float[] m = new float[batch * t * t];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < t; i++) for (int j = valid[b]; j < t; j++) m[(b * t + i) * t + j] = Float.NEGATIVE_INFINITY;
        }
        return m;
    }

    private static int[] shape(int... s) {
        return s;
    }

    private static int[] stored(int[] lead, int rows, int cols, boolean trans) {
        int[] s = Arrays.copyOf(lead, lead.length + 2);
        s[lead.length] = trans ? cols : rows;
        s[lead.length + 1] = trans ? rows : cols;
        return s;
    }

    // ================================================================ the op cases

    static List<Case> opCases() {
        List<Case> cs = new ArrayList<>();
        long seed = 1;

        // ---- element-wise binary, every broadcasting pattern
        int[][][] pairs = {
                {{7, 13}, {7, 13}}, {{7, 13}, {13}}, {{13}, {7, 13}}, {{3, 1, 5}, {4, 1}}, {{4, 1}, {1, 3}},
                {{2, 3, 1, 5}, {3, 4, 1}}, {{}, {3, 4}}, {{3, 4}, {}}, {{3, 4}, {1, 1}}, {{1}, {7}}, {{2, 3, 4}, {2, 1, 4}},
                {{512, 768}, {768}},          // a bias add above any threading threshold
                {{64, 77, 77}, {64, 1, 77}},  // broadcast over a middle axis, large
        };
        for (BinaryOp op : BinaryOp.values()) {
            for (int[][] p : pairs) {
                float[] b = op == BinaryOp.DIV ? awayFromZero(seed++, 0.5f, 2f, p[1]) : randn(seed++, p[1]);
                Fn f = switch (op) {
                    case ADD -> in -> Ops.add(in[0], in[1]);
                    case SUB -> in -> Ops.sub(in[0], in[1]);
                    case MUL -> in -> Ops.mul(in[0], in[1]);
                    case DIV -> in -> Ops.div(in[0], in[1]);
                };
                cs.add(op(op.name().toLowerCase() + " " + Arrays.toString(p[0]) + " " + Arrays.toString(p[1]), f)
                        .in(randn(seed++, p[0]), p[0]).in(b, p[1]).kinds(Kind.ELEMENTWISE, Kind.REDUCTION));
            }
        }
        cs.add(op("scale", in -> Ops.scale(in[0], -1.75f)).in(randn(seed++, 7, 13), 7, 13).kinds(Kind.ELEMENTWISE, Kind.ELEMENTWISE));
        cs.add(op("addScalar", in -> Ops.addScalar(in[0], 0.3f)).in(randn(seed++, 7, 13), 7, 13).kinds(Kind.ELEMENTWISE, Kind.ELEMENTWISE));
        cs.add(op("affine", in -> Ops.affine(in[0], 2.5f, -0.5f)).in(randn(seed++, 7, 13), 7, 13).kinds(Kind.ELEMENTWISE, Kind.ELEMENTWISE));
        cs.add(op("affine large", in -> Ops.affine(in[0], 0.7f, 0.1f)).in(randn(seed++, 1024, 1031), 1024, 1031).kinds(Kind.ELEMENTWISE, Kind.ELEMENTWISE));

        // ---- unary, inside each function's smooth domain
        for (UnaryOp op : UnaryOp.values()) {
            Function<Tensor, Tensor> f = unaryOp(op);
            Kind k = switch (op) {
                case NEG, SQUARE, ABS, RELU, SQRT, RECIPROCAL -> Kind.ELEMENTWISE;
                default -> Kind.TRANSCENDENTAL;
            };
            cs.add(op(op.name().toLowerCase() + " [37,29]", in -> f.apply(in[0])).in(unaryInput(op, seed++, 37, 29), 37, 29).kinds(k, k));
            cs.add(op(op.name().toLowerCase() + " [768,771]", in -> f.apply(in[0])).in(unaryInput(op, seed++, 768, 771), 768, 771).kinds(k, k));
        }

        // ---- reductions
        cs.add(op("sum all", in -> Ops.sum(in[0])).in(randn(seed++, 37, 29), 37, 29).kinds(Kind.REDUCTION, Kind.EXACT));
        // Positive summands: the tolerance is relative to the result, so a large zero-mean sum (a
        // result far smaller than its summands) would demand more than float32 accumulation gives.
        cs.add(op("sum all large", in -> Ops.sum(in[0])).in(uniform(seed++, 0.5f, 1.5f, 1000, 771), 1000, 771).kinds(Kind.REDUCTION, Kind.EXACT));
        cs.add(op("mean all", in -> Ops.mean(in[0])).in(randn(seed++, 5, 7, 3), 5, 7, 3).kinds(Kind.REDUCTION, Kind.ELEMENTWISE));
        int[][] axesSets = {{0}, {1}, {2}, {-1}, {0, 2}, {1, 2}, {0, 1, 2}};
        for (int[] axes : axesSets) {
            for (boolean keep : new boolean[] {true, false}) {
                cs.add(op("sum " + Arrays.toString(axes) + (keep ? " keep" : ""), in -> Ops.sum(in[0], keep, axes))
                        .in(randn(seed++, 5, 7, 9), 5, 7, 9).kinds(Kind.REDUCTION, Kind.EXACT));
                cs.add(op("mean " + Arrays.toString(axes) + (keep ? " keep" : ""), in -> Ops.mean(in[0], keep, axes))
                        .in(randn(seed++, 5, 7, 9), 5, 7, 9).kinds(Kind.REDUCTION, Kind.ELEMENTWISE));
            }
        }
        cs.add(op("sum axis 0 large", in -> Ops.sum(in[0], false, 0)).in(randn(seed++, 4096, 300), 4096, 300).kinds(Kind.REDUCTION, Kind.EXACT));
        cs.add(op("mean axis 1 large", in -> Ops.mean(in[0], true, 1)).in(randn(seed++, 64, 77, 512), 64, 77, 512).kinds(Kind.REDUCTION, Kind.ELEMENTWISE));
        for (int axis : new int[] {0, 1, 2, -1}) {
            for (boolean keep : new boolean[] {true, false}) {
                cs.add(op("max axis " + axis + (keep ? " keep" : ""), in -> Ops.max(in[0], axis, keep))
                        .in(distinct(seed++, 5, 7, 9), 5, 7, 9).kinds(Kind.EXACT, Kind.EXACT));
            }
        }
        cs.add(op("max ties go to the first", in -> Ops.max(in[0], 1, false))
                .in(new float[] {1, 3, 3, 0, 2, 2, -1, -1, -1}, 3, 3).kinds(Kind.EXACT, Kind.EXACT));
        cs.add(op("max large", in -> Ops.max(in[0], -1, false)).in(distinct(seed++, 2048, 301), 2048, 301).kinds(Kind.EXACT, Kind.EXACT));

        // ---- shape ops (pure data movement: exact)
        cs.add(op("expand [3,1]->[2,3,4]", in -> Ops.expand(in[0], 2, 3, 4)).in(randn(seed++, 3, 1), 3, 1).kinds(Kind.EXACT, Kind.REDUCTION));
        cs.add(op("expand [768]->[512,768]", in -> Ops.expand(in[0], 512, 768)).in(randn(seed++, 768), 768).kinds(Kind.EXACT, Kind.REDUCTION));
        cs.add(op("reshape", in -> Ops.reshape(in[0], -1, 5)).in(randn(seed++, 3, 2, 5), 3, 2, 5).kinds(Kind.EXACT, Kind.EXACT));
        cs.add(op("permute 3d", in -> Ops.permute(in[0], 2, 0, 1)).in(randn(seed++, 3, 5, 7), 3, 5, 7).kinds(Kind.EXACT, Kind.EXACT));
        cs.add(op("permute heads [2,77,8,64]", in -> Ops.permute(in[0], 0, 2, 1, 3)).in(randn(seed++, 2, 77, 8, 64), 2, 77, 8, 64)
                .kinds(Kind.EXACT, Kind.EXACT));
        cs.add(op("transpose", in -> Ops.transpose(in[0], 0, -1)).in(randn(seed++, 13, 3, 7), 13, 3, 7).kinds(Kind.EXACT, Kind.EXACT));
        cs.add(op("transpose large", in -> Ops.transpose(in[0], 0, 1)).in(randn(seed++, 768, 1031), 768, 1031).kinds(Kind.EXACT, Kind.EXACT));
        cs.add(op("slice axis 0 (view)", in -> Ops.slice(in[0], 0, 2, 5)).in(randn(seed++, 7, 3, 5), 7, 3, 5).kinds(Kind.EXACT, Kind.EXACT));
        cs.add(op("slice inner axis (copy)", in -> Ops.slice(in[0], 1, 1, 3)).in(randn(seed++, 7, 3, 5), 7, 3, 5).kinds(Kind.EXACT, Kind.EXACT));
        cs.add(op("slice last axis", in -> Ops.slice(in[0], -1, 256, 768)).in(randn(seed++, 77, 1536), 77, 1536).kinds(Kind.EXACT, Kind.EXACT));
        cs.add(op("overlapping slices", in -> Ops.add(Ops.slice(in[0], 1, 0, 3), Ops.slice(in[0], 1, 1, 4)))
                .in(randn(seed++, 3, 4, 2), 3, 4, 2).kinds(Kind.ELEMENTWISE, Kind.ELEMENTWISE));
        cs.add(op("concat axis 0", in -> Ops.concat(0, in[0], in[1], in[2]))
                .in(randn(seed++, 2, 3), 2, 3).in(randn(seed++, 1, 3), 1, 3).in(randn(seed++, 4, 3), 4, 3).kinds(Kind.EXACT, Kind.EXACT));
        cs.add(op("concat axis 1", in -> Ops.concat(1, in[0], in[1]))
                .in(randn(seed++, 2, 1, 3), 2, 1, 3).in(randn(seed++, 2, 5, 3), 2, 5, 3).kinds(Kind.EXACT, Kind.EXACT));
        cs.add(op("concat axis -1", in -> Ops.concat(-1, in[0], in[1], in[2]))
                .in(randn(seed++, 3, 2, 5), 3, 2, 5).in(randn(seed++, 3, 2, 1), 3, 2, 1).in(randn(seed++, 3, 2, 7), 3, 2, 7)
                .kinds(Kind.EXACT, Kind.EXACT));
        cs.add(op("concat large", in -> Ops.concat(-1, in[0], in[1]))
                .in(randn(seed++, 512, 384), 512, 384).in(randn(seed++, 512, 385), 512, 385).kinds(Kind.EXACT, Kind.EXACT));
        cs.add(op("stack", in -> Ops.stack(in[0], in[1], in[2]))
                .in(randn(seed++, 3, 5), 3, 5).in(randn(seed++, 3, 5), 3, 5).in(randn(seed++, 3, 5), 3, 5).kinds(Kind.EXACT, Kind.EXACT));

        // ---- indexing
        int[] rows = {2, 0, 2, 2, 4, 1, 0};
        cs.add(op("gatherRows repeated", in -> Ops.gatherRows(in[0], rows)).in(randn(seed++, 6, 5), 6, 5).kinds(Kind.EXACT, Kind.REDUCTION));
        cs.add(op("gatherRows 3d", in -> Ops.gatherRows(in[0], rows)).in(randn(seed++, 5, 2, 3), 5, 2, 3).kinds(Kind.EXACT, Kind.REDUCTION));
        int[] ids = new int[4 * 77];
        Rng idRng = new Rng(seed++);
        for (int i = 0; i < ids.length; i++) ids[i] = i % 5 == 0 ? 7 : idRng.nextInt(4096); // plenty of repeats
        cs.add(op("embedding [4,77] of [4096,512]", in -> Ops.embedding(in[0], ids, 4, 77)).in(randn(seed++, 4096, 512), 4096, 512)
                .kinds(Kind.EXACT, Kind.REDUCTION));
        cs.add(op("selectPerRow", in -> Ops.selectPerRow(in[0], new int[] {76, 0, 40, 12}))
                .in(randn(seed++, 4, 77, 33), 4, 77, 33).kinds(Kind.EXACT, Kind.EXACT));
        cs.add(op("selectPerRow 2d", in -> Ops.selectPerRow(in[0], new int[] {1, 2})).in(randn(seed++, 2, 3), 2, 3).kinds(Kind.EXACT, Kind.EXACT));

        // ---- matrix products
        boolean[] tf = {false, true};
        for (boolean ta : tf) {
            for (boolean tb : tf) {
                String t = (ta ? "T" : "N") + (tb ? "T" : "N");
                int m = 7, k = 13, n = 5;
                cs.add(op("matmul " + t, in -> Ops.matmul(in[0], in[1], ta, tb))
                        .in(randn(seed++, stored(shape(), m, k, ta)), stored(shape(), m, k, ta))
                        .in(randn(seed++, stored(shape(), k, n, tb)), stored(shape(), k, n, tb)));
                for (int[] lead : new int[][] {{3}, {2, 3}}) {
                    cs.add(op("matmul batched " + Arrays.toString(lead) + " " + t, in -> Ops.matmul(in[0], in[1], ta, tb))
                            .in(randn(seed++, stored(lead, m, k, ta)), stored(lead, m, k, ta))
                            .in(randn(seed++, stored(lead, k, n, tb)), stored(lead, k, n, tb)));
                    cs.add(op("matmul shared rank-2 B " + Arrays.toString(lead) + " " + t, in -> Ops.matmul(in[0], in[1], ta, tb))
                            .in(randn(seed++, stored(lead, m, k, ta)), stored(lead, m, k, ta))
                            .in(randn(seed++, stored(shape(), k, n, tb)), stored(shape(), k, n, tb)));
                }
                cs.add(op("matmul shared rank-2 A " + t, in -> Ops.matmul(in[0], in[1], ta, tb))
                        .in(randn(seed++, stored(shape(), m, k, ta)), stored(shape(), m, k, ta))
                        .in(randn(seed++, stored(shape(3), k, n, tb)), stored(shape(3), k, n, tb)));
                // Attention-sized batched products, d = 64 heads.
                cs.add(op("matmul heads [2,12,77,64] " + t, in -> Ops.matmul(in[0], in[1], ta, tb))
                        .in(randn(seed++, stored(shape(2, 12), 77, 64, ta)), stored(shape(2, 12), 77, 64, ta))
                        .in(randn(seed++, stored(shape(2, 12), 64, 50, tb)), stored(shape(2, 12), 64, 50, tb)));
            }
        }
        cs.add(op("linear [2,77,192]x[288,192]^T", in -> Ops.matmul(in[0], in[1], false, true))
                .in(randn(seed++, 2, 77, 192), 2, 77, 192).in(normal(seed++, 0.1f, 288 * 192), 288, 192));
        cs.add(op("matmul 1x1", in -> Ops.matmul(in[0], in[1])).in(randn(seed++, 1, 1), 1, 1).in(randn(seed++, 1, 1), 1, 1));
        cs.add(op("matmul k=1 outer product", in -> Ops.matmul(in[0], in[1])).in(randn(seed++, 9, 1), 9, 1).in(randn(seed++, 1, 11), 1, 11));

        // ---- layer norm, softmax
        cs.add(op("layerNorm [7,13]", in -> Nn.layerNorm(in[0], in[1], in[2], 1e-5f))
                .in(randn(seed++, 7, 13), 7, 13).in(uniform(seed++, 0.5f, 1.5f, 13), 13).in(randn(seed++, 13), 13));
        for (int t : new int[] {50, 77}) {
            int w = t == 50 ? 768 : 512;
            cs.add(op("layerNorm [4," + t + "," + w + "]", in -> Nn.layerNorm(in[0], in[1], in[2], 1e-5f))
                    .in(randn(seed++, 4, t, w), 4, t, w).in(uniform(seed++, 0.5f, 1.5f, w), w).in(randn(seed++, w), w));
            cs.add(op("softmax [2,12," + t + "," + t + "]", in -> Nn.softmax(in[0])).in(randn(seed++, 2, 12, t, t), 2, 12, t, t));
            cs.add(op("logSoftmax [3," + t + "," + t + "]", in -> Nn.logSoftmax(in[0])).in(randn(seed++, 3, t, t), 3, t, t));
        }
        cs.add(op("layerNorm shifted input", in -> Nn.layerNorm(in[0], in[1], in[2], 1e-5f))
                .in(shifted(randn(seed++, 9, 64), 50f), 9, 64).in(uniform(seed++, 0.5f, 1.5f, 64), 64).in(randn(seed++, 64), 64));
        cs.add(op("softmax [7,13]", in -> Nn.softmax(in[0])).in(randn(seed++, 7, 13), 7, 13));
        cs.add(op("logSoftmax [7,13]", in -> Nn.logSoftmax(in[0])).in(randn(seed++, 7, 13), 7, 13));
        cs.add(op("softmax large logits", in -> Nn.softmax(in[0])).in(shifted(randn(seed++, 5, 11), 80f), 5, 11));
        cs.add(op("softmax wide [3,50000]", in -> Nn.softmax(in[0])).in(randn(seed++, 3, 50000), 3, 50000));

        // ---- attention
        int b = 2, h = 3, tq = 5, tk = 7, d = 4;
        int[] qs = {b, h, tq, d}, ks = {b, h, tk, d};
        cs.add(attention("attention no mask", qs, ks, null, null, false, seed++));
        cs.add(attention("attention mask [Tq,Tk]", qs, ks, mask(seed++, tq, tk), shape(tq, tk), false, seed++));
        cs.add(attention("attention mask [B,1,Tq,Tk]", qs, ks, mask(seed++, b, 1, tq, tk), shape(b, 1, tq, tk), false, seed++));
        cs.add(attention("attention mask [B,H,Tq,Tk]", qs, ks, mask(seed++, b, h, tq, tk), shape(b, h, tq, tk), false, seed++));
        cs.add(attention("attention causal", shape(b, h, 6, d), shape(b, h, 6, d), null, null, true, seed++));
        cs.add(attention("attention causal + mask", shape(b, h, 6, d), shape(b, h, 6, d), mask(seed++, 6, 6), shape(6, 6), true, seed++));
        cs.add(attention("attention rank 3", shape(3, 5, 4), shape(3, 6, 4), null, null, false, seed++));
        for (int t : new int[] {50, 77}) {
            int[] s = {2, 8, t, 64};
            cs.add(attention("attention T=" + t + " d=64", s, s, null, null, false, seed++));
            cs.add(attention("attention T=" + t + " d=64 causal", s, s, null, null, true, seed++));
            cs.add(attention("attention T=" + t + " d=64 padding [B,1,T,T]", s, s,
                    paddingMask(2, t, new int[] {t, t / 2 + 1}), shape(2, 1, t, t), false, seed++));
        }
        // A row whose keys are all hidden yields zeros (and zero gradients), by the Backend contract.
        float[] fullyMasked = new float[4 * 4];
        for (int j = 0; j < 4; j++) fullyMasked[2 * 4 + j] = Float.NEGATIVE_INFINITY;
        cs.add(attention("attention fully masked row", shape(1, 2, 4, 3), shape(1, 2, 4, 3), fullyMasked, shape(4, 4), false, seed++));

        // ---- losses and normalisations
        cs.add(op("crossEntropy", in -> Nn.crossEntropy(in[0], new int[] {12, 0, 5, 5, -1, 3, 11})).in(randn(seed++, 7, 13), 7, 13));
        int[] targets = new int[512];
        Rng tr = new Rng(seed++);
        for (int i = 0; i < targets.length; i++) targets[i] = i % 17 == 0 ? -1 : tr.nextInt(1000);
        cs.add(op("crossEntropy [512,1000]", in -> Nn.crossEntropy(in[0], targets)).in(normal(seed++, 3f, 512 * 1000), 512, 1000));
        cs.add(op("l2Normalize", in -> Nn.l2Normalize(in[0])).in(randn(seed++, 7, 13), 7, 13));
        cs.add(op("l2Normalize [512,768]", in -> Nn.l2Normalize(in[0])).in(randn(seed++, 512, 768), 512, 768));
        cs.add(op("l2Normalize eps", in -> Nn.l2Normalize(in[0], 0.5f)).in(normal(seed++, 0.3f, 5 * 7), 5, 7));
        cs.add(op("cosineSimilarity", in -> Nn.cosineSimilarity(in[0], in[1])).in(randn(seed++, 5, 9), 5, 9).in(randn(seed++, 5, 9), 5, 9));
        cs.add(op("cosineSimilarity broadcast", in -> Nn.cosineSimilarity(in[0], in[1]))
                .in(randn(seed++, 3, 1, 64), 3, 1, 64).in(randn(seed++, 4, 64), 4, 64));
        cs.add(op("mse", in -> Nn.mse(in[0], in[1])).in(randn(seed++, 7, 13), 7, 13).in(randn(seed++, 7, 13), 7, 13));
        cs.add(op("dropout p=0.1", in -> Nn.dropout(in[0], 0.1f, new Rng(42), true)).in(randn(seed++, 37, 29), 37, 29)
                .kinds(Kind.ELEMENTWISE, Kind.ELEMENTWISE));
        cs.add(op("dropout p=0.5 large", in -> Nn.dropout(in[0], 0.5f, new Rng(43), true)).in(randn(seed++, 512, 771), 512, 771)
                .kinds(Kind.ELEMENTWISE, Kind.ELEMENTWISE));
        cs.add(op("dropout eval", in -> Ops.scale(Nn.dropout(in[0], 0.5f, new Rng(44), false), 1f)).in(randn(seed++, 5, 3), 5, 3)
                .kinds(Kind.ELEMENTWISE, Kind.ELEMENTWISE));

        // ---- a composite: a pre-norm transformer block with tied weights (gradients accumulate)
        int bb = 2, tt = 9, ww = 16, hh = 2;
        cs.add(op("transformer block", in -> {
            Tensor x = in[0];
            Tensor n = Nn.layerNorm(x, in[1], in[2], 1e-5f);
            Tensor qkv = Ops.matmul(n, in[3]);
            Tensor q = Ops.permute(Ops.reshape(Ops.slice(qkv, -1, 0, ww), bb, tt, hh, ww / hh), 0, 2, 1, 3);
            Tensor k = Ops.permute(Ops.reshape(Ops.slice(qkv, -1, ww, 2 * ww), bb, tt, hh, ww / hh), 0, 2, 1, 3);
            Tensor v = Ops.permute(Ops.reshape(Ops.slice(qkv, -1, 2 * ww, 3 * ww), bb, tt, hh, ww / hh), 0, 2, 1, 3);
            Tensor a = Ops.reshape(Ops.permute(Nn.attention(q, k, v, null, true), 0, 2, 1, 3), bb, tt, ww);
            Tensor r = Ops.add(x, a);
            Tensor mlp = Ops.matmul(Ops.quickGelu(Ops.add(Ops.matmul(r, in[4]), in[5])), in[4], false, true);
            return Ops.add(r, mlp);
        }).in(randn(seed++, bb, tt, ww), bb, tt, ww).in(uniform(seed++, 0.5f, 1.5f, ww), ww).in(randn(seed++, ww), ww)
                .in(normal(seed++, 0.25f, ww * 3 * ww), ww, 3 * ww).in(normal(seed++, 0.25f, ww * 32), ww, 32).in(randn(seed++, 32), 32));
        return cs;
    }

    private static Case attention(String name, int[] qs, int[] ks, float[] mask, int[] maskShape, boolean causal, long seed) {
        Case c = op(name, in -> Nn.attention(in[0], in[1], in[2], in.length > 3 ? in[3] : null, causal))
                .in(randn(seed, qs), qs).in(randn(seed + 1, ks), ks).in(randn(seed + 2, ks), ks);
        if (mask != null) c.constant(mask, maskShape);
        return c;
    }

    private static float[] shifted(float[] x, float by) {
        float[] y = x.clone();
        for (int i = 0; i < y.length; i++) y[i] += by;
        return y;
    }

    private static Function<Tensor, Tensor> unaryOp(UnaryOp op) {
        return switch (op) {
            case NEG -> Ops::neg;
            case EXP -> Ops::exp;
            case LOG -> Ops::log;
            case SQRT -> Ops::sqrt;
            case RSQRT -> Ops::rsqrt;
            case SQUARE -> Ops::square;
            case RECIPROCAL -> Ops::reciprocal;
            case ABS -> Ops::abs;
            case TANH -> Ops::tanh;
            case SIGMOID -> Ops::sigmoid;
            case RELU -> Ops::relu;
            case GELU -> Ops::gelu;
            case QUICK_GELU -> Ops::quickGelu;
        };
    }

    private static float[] unaryInput(UnaryOp op, long seed, int... shape) {
        return switch (op) {
            case LOG, SQRT, RSQRT, RECIPROCAL -> uniform(seed, 0.05f, 20f, shape);
            case ABS, RELU -> awayFromZero(seed, 1e-3f, 5f, shape);
            case EXP -> uniform(seed, -20f, 20f, shape);
            case TANH, SIGMOID, GELU, QUICK_GELU -> uniform(seed, -10f, 10f, shape);
            default -> randn(seed, shape);
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("opCases")
    void opMatchesReference(Case c) {
        check(c);
    }

    // ================================================================ large products

    @Test
    void largeMatmulAboveThreadingThresholds() {
        Assumptions.assumeTrue(largeCases(), "large cases turned off for this backend");
        int m = 512, k = 768, n = 3072;
        float[] a = normal(901, 1f, m * k), w = normal(902, 1f, k * n), g = normal(903, 1f, m * n);
        // x·W (W stored [k, n]) and x·Wᵀ (W stored [n, k], the nn.Linear layout).
        for (boolean tb : new boolean[] {false, true}) {
            float[] wt = tb ? transpose(w, k, n) : w;
            Tensor A = Tensor.of(be, a, m, k).requiresGrad(true);
            Tensor W = (tb ? Tensor.of(be, wt, n, k) : Tensor.of(be, wt, k, n)).requiresGrad(true);
            float[] out;
            try (Tape tape = Tape.record()) {
                Tensor c = Ops.matmul(A, W, false, tb);
                out = c.toArray();
                tape.backward(c, Tensor.of(be, g, m, n));
            }
            float[] gA = A.grad().toArray(), gW = W.grad().toArray();
            if (tb) gW = transpose(gW, n, k);

            // The reference computes a random subset of rows and columns only (it is slow).
            Rng rng = new Rng(904);
            int[] rs = new int[6], cs = new int[6];
            for (int i = 0; i < rs.length; i++) {
                rs[i] = i == 0 ? m - 1 : rng.nextInt(m);
                cs[i] = i == 0 ? n - 1 : rng.nextInt(n);
            }
            Tensor wRef = Tensor.of(ref, w, k, n);
            float[] outRef = Ops.matmul(Tensor.of(ref, rows(a, rs, k), rs.length, k), wRef).toArray();
            float[] gARef = Ops.matmul(Tensor.of(ref, rows(g, rs, n), rs.length, n), wRef, false, true).toArray();
            float[] gWRef = Ops.matmul(Tensor.of(ref, a, m, k), Tensor.of(ref, cols(g, cs, m, n), m, cs.length), true, false).toArray();
            String t = tb ? "x·Wᵀ" : "x·W";
            compare(t + " output rows", rows(out, rs, n), outRef, tolerance(Kind.FUSED));
            compare(t + " input-gradient rows", rows(gA, rs, k), gARef, tolerance(Kind.FUSED));
            compare(t + " weight-gradient columns", cols(gW, cs, k, n), gWRef, tolerance(Kind.FUSED));
        }
    }

    private static float[] transpose(float[] x, int r, int c) {
        float[] t = new float[x.length];
        for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) t[j * r + i] = x[i * c + j];
        return t;
    }

    private static float[] rows(float[] x, int[] rs, int width) {
        float[] o = new float[rs.length * width];
        for (int i = 0; i < rs.length; i++) System.arraycopy(x, rs[i] * width, o, i * width, width);
        return o;
    }

    private static float[] cols(float[] x, int[] cs, int height, int width) {
        float[] o = new float[height * cs.length];
        for (int i = 0; i < height; i++) for (int j = 0; j < cs.length; j++) o[i * cs.length + j] = x[i * width + cs[j]];
        return o;
    }

    // ================================================================ dropout mask

    @Test
    void dropoutMaskMatchesTheReferenceAndTheCounterFormula() {
        int n = 100_003;
        float[] x = awayFromZero(71, 0.5f, 2f, n);
        for (float p : new float[] {0.1f, 0.5f, 0.9f}) {
            for (long seed : new long[] {1, 0xDEADBEEFL}) {
                float[] got = Nn.dropout(Tensor.of(be, x, n), p, new Rng(seed), true).toArray();
                float[] want = Nn.dropout(Tensor.of(ref, x, n), p, new Rng(seed), true).toArray();
                long drawn = new Rng(seed).nextLong(); // the kernel seed dropout draws from the generator
                int zeros = 0;
                for (int i = 0; i < n; i++) {
                    boolean keep = Rng.uniform(drawn, i) >= p;
                    if ((got[i] == 0) != (want[i] == 0) || (got[i] == 0) == keep) {
                        fail("dropout p=" + p + " seed " + seed + ": element " + i + " kept=" + (got[i] != 0)
                                + ", reference kept=" + (want[i] != 0) + ", uniform(seed, i) >= p says " + keep);
                    }
                    if (!keep) zeros++;
                }
                compare("dropout p=" + p + " values", got, want, tolerance(Kind.ELEMENTWISE));
                assertEquals(p, zeros / (double) n, 0.01, "dropout rate");
            }
        }
    }

    // ================================================================ optimizers

    /** A tiny model's parameters: two matrices (decayed), a bias and a gain (not decayed), one frozen. */
    private static List<Parameter> params(Backend b) {
        List<Parameter> ps = new ArrayList<>();
        ps.add(new Parameter("w1", Tensor.of(b, normal(501, 0.5f, 37 * 29), 37, 29)));
        ps.add(new Parameter("b1", Tensor.of(b, normal(502, 0.5f, 29), 29)));
        ps.add(new Parameter("frozen", Tensor.of(b, normal(503, 0.5f, 29 * 3), 29, 3)).freeze(true));
        ps.add(new Parameter("w2", Tensor.of(b, normal(504, 0.5f, 29 * 3), 29, 3)));
        ps.add(new Parameter("gain", Tensor.of(b, uniform(505, 0.5f, 1.5f, 3), 3)));
        return ps;
    }

    private interface OptimizerFactory {
        Optimizer create(ParameterSet set);
    }

    /** Runs a few steps with identical gradients on both backends and compares every parameter. */
    private void compareOptimizer(String name, Predicate<Parameter> decay, OptimizerFactory factory, double clip) {
        List<Parameter> mine = params(be), theirs = params(ref);
        ParameterSet sm = ParameterSet.of(mine, decay), st = ParameterSet.of(theirs, decay);
        assertEquals(st.count(), sm.count());
        assertEquals(st.decayedCount(), sm.decayedCount());
        Optimizer om = factory.create(sm), ot = factory.create(st);
        float[] frozenBefore = mine.get(2).toArray();
        for (int step = 0; step < 5; step++) {
            sm.zeroGrad();
            st.zeroGrad();
            for (int i = 0; i < mine.size(); i++) {
                if (mine.get(i).frozen()) continue;
                float[] g = normal(600 + 10L * step + i, 1f, mine.get(i).size());
                mine.get(i).grad().copyFrom(g);
                theirs.get(i).grad().copyFrom(g);
            }
            if (clip > 0) {
                double nm = sm.clipGradNorm(clip), nt = st.clipGradNorm(clip);
                assertEquals(nt, nm, 1e-5 * nt, name + " step " + step + ": gradient norm before clipping");
                assertEquals(Math.min(clip, nt), sm.gradNorm(), 1e-5 * nt, name + " step " + step + ": norm after clipping");
            }
            float lr = 0.01f * (step + 1);
            om.step(lr);
            ot.step(lr);
            for (int i = 0; i < mine.size(); i++) {
                if (mine.get(i).frozen()) continue;
                compare(name + " step " + step + " " + mine.get(i).describe(), mine.get(i).toArray(), theirs.get(i).toArray(),
                        tolerance(Kind.REDUCTION));
            }
        }
        assertEquals(5, om.steps());
        assertArrayEquals(frozenBefore, mine.get(2).toArray(), name + ": frozen parameter changed");
    }

    @Test
    void adamWDefaultDecayRule() {
        compareOptimizer("AdamW", ParameterSet.DECAY_MATRICES, s -> new AdamW(s, 0.9f, 0.999f, 1e-8f, 0.1f), 0);
    }

    @Test
    void adamWCustomDecayAndClipping() {
        compareOptimizer("AdamW gain decays", p -> !p.name().equals("b1"), s -> new AdamW(s, 0.8f, 0.99f, 1e-6f, 0.05f), 5.0);
    }

    @Test
    void sgdMomentum() {
        compareOptimizer("SGD momentum", ParameterSet.DECAY_MATRICES, s -> new Sgd(s, 0.9f, 0.01f, false), 0);
    }

    @Test
    void sgdNesterovWithClipping() {
        compareOptimizer("SGD nesterov", ParameterSet.DECAY_MATRICES, s -> new Sgd(s, 0.9f, 0.01f, true), 3.0);
    }

    @Test
    void clipGradNormLeavesSmallGradientsAlone() {
        List<Parameter> ps = params(be);
        ParameterSet set = ParameterSet.of(ps);
        float[] g = normal(700, 1e-3f, (int) set.count());
        float[] flat = new float[(int) set.count()];
        int off = 0;
        for (Parameter p : set.parameters()) {
            float[] part = Arrays.copyOfRange(g, off, off + p.size());
            p.grad().copyFrom(part);
            System.arraycopy(part, 0, flat, off, part.length);
            off += p.size();
        }
        double expect = 0;
        for (float v : flat) expect += (double) v * v;
        expect = Math.sqrt(expect);
        assertEquals(expect, set.clipGradNorm(1.0), 1e-6 * expect);
        float[] after = new float[flat.length];
        be.download(set.grads(), after, 0);
        assertArrayEquals(flat, after, "gradients below the limit must not change");
    }

    @Test
    void trainingStepMatchesTheReference() {
        // A real forward and backward into the packed gradients, then an AdamW step, on both.
        float[] x = randn(800, 16, 37);
        int[] y = new int[16];
        for (int i = 0; i < y.length; i++) y[i] = i % 3;
        float[][] result = new float[2][];
        Backend[] bs = {be, ref};
        for (int r = 0; r < 2; r++) {
            List<Parameter> ps = params(bs[r]);
            ParameterSet set = ParameterSet.of(ps);
            AdamW opt = new AdamW(set);
            for (int step = 0; step < 3; step++) {
                set.zeroGrad();
                try (Tape tape = Tape.record()) {
                    Tensor h = Ops.tanh(Ops.add(Ops.matmul(Tensor.of(bs[r], x, 16, 37), ps.get(0)), ps.get(1)));
                    Tensor logits = Ops.mul(Ops.matmul(h, Ops.add(ps.get(3), ps.get(2))), ps.get(4));
                    tape.backward(Nn.crossEntropy(logits, y));
                }
                opt.step(1e-2f);
            }
            float[] all = new float[(int) set.count()];
            bs[r].download(set.data(), all, 0);
            result[r] = all;
        }
        compare("parameters after 3 training steps", result[0], result[1], tolerance(Kind.FUSED));
    }

    // ================================================================ kernel semantics (the SPI itself)

    private float[] down(Buffer buf) {
        float[] d = new float[(int) buf.length()];
        buf.backend().download(buf, d, 0);
        return d;
    }

    @Test
    void memoryUploadDownloadSliceCopyFill() {
        float[] src = normal(1, 1f, 20);
        Buffer z = be.allocate(7);
        assertArrayEquals(new float[7], down(z), "allocate must zero-fill");
        Buffer b = be.upload(src, 5, 10);
        assertEquals(10, b.length());
        assertSame(be, b.backend());
        assertArrayEquals(Arrays.copyOfRange(src, 5, 15), down(b));
        float[] dst = new float[14];
        be.download(b, dst, 4);
        assertArrayEquals(Arrays.copyOfRange(src, 5, 15), Arrays.copyOfRange(dst, 4, 14));
        // Slices are views: writing through one changes the parent.
        Buffer view = b.slice(3, 4);
        assertEquals(4, view.length());
        be.fill(view, 2.5f);
        float[] expect = Arrays.copyOfRange(src, 5, 15);
        Arrays.fill(expect, 3, 7, 2.5f);
        assertArrayEquals(expect, down(b));
        Buffer other = be.allocate(4);
        be.copy(b.slice(6, 4), other);
        assertArrayEquals(Arrays.copyOfRange(expect, 6, 10), down(other));
        be.copy(be.upload(new float[] {9, 8}, 0, 2), b.slice(0, 2));
        assertEquals(9f, down(b)[0]);
        assertEquals(8f, down(b)[1]);
        assertEquals(expect[2], down(b)[2]);
        double[] dd = new double[3];
        be.downloadDoubles(be.uploadDoubles(new double[] {0.5, -1.25, 3}), dd);
        assertArrayEquals(new double[] {0.5, -1.25, 3}, dd);
    }

    @Test
    void gemmAlphaBetaStridesAndSharedOperands() {
        int batch = 3, m = 5, n = 4, k = 6;
        float[] a = normal(11, 1f, batch * m * k + 3), bm = normal(12, 1f, k * n), c0 = normal(13, 1f, batch * m * n + 2);
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                float[][] res = new float[2][];
                Backend[] bs = {be, ref};
                for (int r = 0; r < 2; r++) {
                    Buffer A = bs[r].upload(a, 0, a.length), B = bs[r].upload(bm, 0, bm.length), C = bs[r].upload(c0, 0, c0.length);
                    // Batched A with its own stride, one shared B (stride 0), C accumulated with beta.
                    bs[r].gemm(batch, ta, tb, m, n, k, 0.5f, A.slice(3, batch * m * k), m * k, B, 0, 0.75f, C.slice(2, batch * m * n), m * n);
                    res[r] = down(C);
                }
                compare("gemm alpha/beta " + ta + tb, res[0], res[1], tolerance(Kind.FUSED));
                assertArrayEquals(Arrays.copyOf(c0, 2), Arrays.copyOf(res[0], 2), "gemm wrote outside its output range");
            }
        }
        // beta = 0 overwrites C even when it holds NaN.
        Buffer C = be.upload(new float[] {Float.NaN, Float.NaN, Float.NaN, Float.NaN}, 0, 4);
        be.gemm(1, false, false, 2, 2, 1, 1f, be.upload(new float[] {1, 2}, 0, 2), 0, be.upload(new float[] {3, 4}, 0, 2), 0, 0f, C, 4);
        assertArrayEquals(new float[] {3, 4, 6, 8}, down(C));
    }

    @Test
    void binaryInPlaceAndBroadcastStrides() {
        float[] x = normal(21, 1f, 12), y = normal(22, 1f, 4);
        for (BinaryOp op : BinaryOp.values()) {
            float[][] res = new float[2][];
            Backend[] bs = {be, ref};
            for (int r = 0; r < 2; r++) {
                Buffer a = bs[r].upload(x, 0, 12), b = bs[r].upload(y, 0, 4);
                bs[r].binary(op, new int[] {3, 4}, a, new int[] {4, 1}, b, new int[] {0, 1}, a); // out aliases a
                res[r] = down(a);
            }
            compare("binary " + op + " in place", res[0], res[1], tolerance(Kind.ELEMENTWISE));
        }
    }

    @Test
    void unaryAndAffineInPlace() {
        float[] x = uniform(31, 0.1f, 3f, 257);
        for (UnaryOp op : UnaryOp.values()) {
            float[][] res = new float[2][];
            Backend[] bs = {be, ref};
            for (int r = 0; r < 2; r++) {
                Buffer a = bs[r].upload(x, 0, x.length);
                bs[r].unary(op, a, a);
                res[r] = down(a);
            }
            compare("unary " + op + " in place", res[0], res[1], tolerance(Kind.TRANSCENDENTAL));
        }
        Buffer a = be.upload(x, 0, x.length);
        be.affine(a, 2f, 1f, a);
        float[] got = down(a);
        for (int i = 0; i < x.length; i++) assertEquals(x[i] * 2f + 1f, got[i], tolerance(Kind.ELEMENTWISE) * (1 + Math.abs(got[i])));
    }

    @Test
    void stridedCopyAccumulatesAndScatterAddsRepeatedRows() {
        float[] src = normal(41, 1f, 6), init = normal(42, 1f, 6);
        Buffer dst = be.upload(init, 0, 6);
        // Transposed accumulate: dst[j, i] += src[i, j] for a 2×3 source.
        be.stridedCopy(new int[] {2, 3}, be.upload(src, 0, 6), new int[] {3, 1}, dst, new int[] {1, 2}, true);
        float[] got = down(dst);
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) assertEquals(init[j * 2 + i] + src[i * 3 + j], got[j * 2 + i], 1e-6);
        }
        float[] table = normal(43, 1f, 5 * 3), rowsSrc = normal(44, 1f, 4 * 3);
        int[] rowIdx = {4, 1, 4, 4};
        Buffer t = be.upload(table, 0, table.length);
        be.scatterAddRows(be.upload(rowsSrc, 0, rowsSrc.length), 3, rowIdx, t);
        float[] want = table.clone();
        for (int r = 0; r < rowIdx.length; r++) for (int j = 0; j < 3; j++) want[rowIdx[r] * 3 + j] += rowsSrc[r * 3 + j];
        compare("scatterAddRows adds into the table", down(t), want, tolerance(Kind.REDUCTION));
    }

    /** The test runs poison buffers for results (pom.xml), so an element a kernel leaves unwritten is a NaN and fails. */
    @Test
    void uninitializedBuffersArePoisonedInTests() {
        Assumptions.assumeTrue(Backend.POISON_UNINITIALIZED, "xbt.poisonUninitialized is off in this run");
        float[] got = down(be.allocateUninitialized(1000));
        for (float v : got) assertTrue(Float.isNaN(v), "an uninitialized buffer must start as NaN under xbt.poisonUninitialized");
        assertEquals(0f, down(be.allocate(10))[3], "allocate still zero-fills");
    }

    /** A patch embedding's image-to-patches copy (six axes, none mergeable) and a seven-axis reversal, against plain loops. */
    @Test
    void stridedCopyOfSixAndSevenAxes() {
        int batch = 2, ch = 3, grid = 3, p = 4, side = grid * p;
        float[] img = normal(45, 1f, batch * ch * side * side);
        Buffer patches = be.allocate(img.length);
        // patches[b, gy, gx, c, py, px] = img[b, c, gy·p + py, gx·p + px]
        int[] shape = {batch, grid, grid, ch, p, p};
        be.stridedCopy(shape, be.upload(img, 0, img.length), new int[] {ch * side * side, p * side, p, side * side, side, 1},
                patches, Shape.strides(shape), false);
        float[] want = new float[img.length];
        int at = 0;
        for (int b = 0; b < batch; b++) for (int gy = 0; gy < grid; gy++) for (int gx = 0; gx < grid; gx++)
            for (int c = 0; c < ch; c++) for (int py = 0; py < p; py++) for (int px = 0; px < p; px++)
                want[at++] = img[((b * ch + c) * side + gy * p + py) * side + gx * p + px];
        compare("stridedCopy image to patches", down(patches), want, 0);

        int[] dims = {2, 3, 2, 3, 2, 3, 2};
        int[] st = Shape.strides(dims);
        int n = Shape.size(dims);
        float[] x = normal(46, 1f, n);
        // out = x with all seven axes reversed: out[i0..i6] = x[i6..i0] (a permutation no axes of which merge).
        int[] outShape = new int[7], srcStrides = new int[7];
        for (int d = 0; d < 7; d++) {
            outShape[d] = dims[6 - d];
            srcStrides[d] = st[6 - d];
        }
        Buffer out = be.allocate(n);
        be.stridedCopy(outShape, be.upload(x, 0, n), srcStrides, out, Shape.strides(outShape), false);
        float[] expect = new float[n];
        int[] idx = new int[7];
        for (int o = 0; o < n; o++) {
            int rem = o, src = 0;
            for (int d = 6; d >= 0; d--) {
                idx[d] = rem % outShape[d];
                rem /= outShape[d];
                src += idx[d] * srcStrides[d];
            }
            expect[o] = x[src];
        }
        compare("stridedCopy seven reversed axes", down(out), expect, 0);
    }

    @Test
    void layerNormBackwardAccumulatesGainAndBiasGradients() {
        int rows = 5, n = 33;
        float[] x = normal(51, 1f, rows * n), gamma = uniform(52, 0.5f, 1.5f, n), beta = normal(53, 1f, n), g = normal(54, 1f, rows * n);
        float[] pre = normal(55, 1f, n);
        float[][] gg = new float[2][], gb = new float[2][], gx = new float[2][];
        Backend[] bs = {be, ref};
        for (int r = 0; r < 2; r++) {
            Backend b = bs[r];
            Buffer out = b.allocate(rows * n), mean = b.allocate(rows), rstd = b.allocate(rows);
            Buffer X = b.upload(x, 0, x.length), G = b.upload(gamma, 0, n);
            b.layerNorm(X, G, b.upload(beta, 0, n), rows, n, 1e-5f, out, mean, rstd);
            Buffer dg = b.upload(pre, 0, n), db = b.upload(pre, 0, n), dx = b.allocate(rows * n);
            b.layerNormBackward(X, G, mean, rstd, b.upload(g, 0, g.length), rows, n, dx, dg, db);
            gx[r] = down(dx);
            gg[r] = down(dg);
            gb[r] = down(db);
            // Optional outputs may be null.
            b.layerNormBackward(X, G, mean, rstd, b.upload(g, 0, g.length), rows, n, null, null, dg);
        }
        compare("layerNormBackward gradX", gx[0], gx[1], tolerance(Kind.FUSED));
        compare("layerNormBackward gradGamma (+=)", gg[0], gg[1], tolerance(Kind.FUSED));
        compare("layerNormBackward gradBeta (+=)", gb[0], gb[1], tolerance(Kind.FUSED));
        float[] colSums = pre.clone();
        for (int r = 0; r < rows; r++) for (int j = 0; j < n; j++) colSums[j] += g[r * n + j];
        compare("layerNormBackward gradBeta = previous + column sums", gb[0], colSums, tolerance(Kind.REDUCTION));
    }

    @Test
    void attentionKernelFullyMaskedRowAndNullGradients() {
        int bh = 2, t = 3, d = 2;
        float[] q = normal(61, 1f, bh * t * d), k = normal(62, 1f, bh * t * d), v = normal(63, 1f, bh * t * d), g = normal(64, 1f, bh * t * d);
        float[] mask = new float[t * t];
        Arrays.fill(mask, t, 2 * t, Float.NEGATIVE_INFINITY); // query 1 sees nothing
        Buffer out = be.allocate(bh * t * d), lse = be.allocate(bh * t);
        Buffer Q = be.upload(q, 0, q.length), K = be.upload(k, 0, k.length), V = be.upload(v, 0, v.length), M = be.upload(mask, 0, mask.length);
        float scale = (float) (1 / Math.sqrt(d));
        be.attention(bh, t, t, d, scale, Q, K, V, M, Integer.MAX_VALUE, false, out, lse);
        float[] o = down(out);
        for (int h = 0; h < bh; h++) for (int l = 0; l < d; l++) assertEquals(0f, o[(h * t + 1) * d + l], "fully masked row must be zero");
        Buffer gq = be.upload(normal(65, 1f, q.length), 0, q.length); // garbage: must be overwritten
        be.attentionBackward(bh, t, t, d, scale, Q, K, V, M, Integer.MAX_VALUE, false, out, lse, be.upload(g, 0, g.length), gq, null, null);
        float[] gqa = down(gq);
        for (int h = 0; h < bh; h++) for (int l = 0; l < d; l++) assertEquals(0f, gqa[(h * t + 1) * d + l], "masked query gets no gradient");
        for (float f : gqa) assertTrue(Float.isFinite(f));
    }

    @Test
    void crossEntropyKernelIgnoresNegativeTargets() {
        int rows = 3, n = 5;
        float[] logits = normal(71, 1f, rows * n);
        int[] targets = {4, -1, 0};
        Buffer loss = be.allocate(rows), lse = be.allocate(rows), gl = be.upload(normal(72, 1f, rows * n), 0, rows * n);
        Buffer L = be.upload(logits, 0, logits.length);
        be.crossEntropy(L, rows, n, targets, loss, lse);
        float[] l = down(loss);
        assertEquals(0f, l[1]);
        be.crossEntropyBackward(L, lse, targets, be.upload(new float[] {1, 1, 1}, 0, 3), rows, n, gl);
        float[] g = down(gl);
        for (int j = 0; j < n; j++) assertEquals(0f, g[n + j], "ignored row gets gradient 0");
        double rowSum = 0;
        for (int j = 0; j < n; j++) rowSum += g[j];
        assertEquals(0, rowSum, 1e-6, "softmax − onehot sums to zero");
    }

    @Test
    void addIntoAccumulatesInPlace() {
        float[] a = normal(85, 1f, 1031), b = normal(86, 1f, 1031);
        Tensor dst = Tensor.of(be, a, 1031);
        Ops.addInto(dst, Tensor.of(be, b, 1031));
        float[] want = new float[a.length];
        for (int i = 0; i < a.length; i++) want[i] = a[i] + b[i];
        compare("addInto", dst.toArray(), want, tolerance(Kind.ELEMENTWISE));
    }

    @Test
    void readBacks() {
        float[] x = normal(81, 1f, 100_001);
        double ss = 0;
        for (float f : x) ss += (double) f * f;
        assertEquals(ss, be.sumOfSquares(be.upload(x, 0, x.length)), 1e-9 * ss, "sumOfSquares accumulates in float64");
        assertEquals(0, be.countNaN(be.upload(x, 0, x.length)));
        x[5] = Float.NaN;
        x[99_999] = Float.NaN;
        x[7] = Float.POSITIVE_INFINITY;
        assertEquals(2, be.countNaN(be.upload(x, 0, x.length)));
    }

    @Test
    void reduceMaxBackwardPicksTheFirstMaximum() {
        float[] x = {1, 5, 5, 2, 7, 7, 7, 0};
        // outer 2 × n 4 × inner 1.
        Buffer X = be.upload(x, 0, 8), max = be.allocate(2), gi = be.upload(new float[8], 0, 8);
        be.reduce(ReduceOp.MAX, X, 2, 4, 1, max);
        assertArrayEquals(new float[] {5, 7}, down(max));
        be.reduceMaxBackward(X, max, be.upload(new float[] {10, 20}, 0, 2), 2, 4, 1, gi);
        assertArrayEquals(new float[] {0, 10, 0, 0, 20, 0, 0, 0}, down(gi));
    }

    @Test
    void optimizerKernelsFollowTheDocumentedFormulas() {
        int n = 1001;
        float[] p = normal(91, 1f, n), g = normal(92, 1f, n), m = normal(93, 0.1f, n), v = uniform(94, 0f, 0.1f, n), mom = normal(95, 0.1f, n);
        float lr = 0.01f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.1f, bias1 = 1 - b1 * b1, bias2 = 1 - b2 * b2;
        Buffer P = be.upload(p, 0, n), M = be.upload(m, 0, n), V = be.upload(v, 0, n);
        be.adamw(P, be.upload(g, 0, n), M, V, lr, b1, b2, eps, wd, bias1, bias2);
        float[] gp = down(P), gm = down(M), gv = down(V);
        for (int i = 0; i < n; i++) {
            double mi = b1 * (double) m[i] + (1 - b1) * (double) g[i];
            double vi = b2 * (double) v[i] + (1 - b2) * (double) g[i] * g[i];
            double pi = p[i] - lr * ((mi / bias1) / (Math.sqrt(vi / bias2) + eps) + wd * p[i]);
            assertEquals(mi, gm[i], 1e-6 * (1 + Math.abs(mi)), "adamw m[" + i + "]");
            assertEquals(vi, gv[i], 1e-6 * (1 + Math.abs(vi)), "adamw v[" + i + "]");
            assertEquals(pi, gp[i], 1e-5 * (1 + Math.abs(pi)), "adamw p[" + i + "]");
        }
        for (boolean nesterov : new boolean[] {false, true}) {
            Buffer P2 = be.upload(p, 0, n), B = be.upload(mom, 0, n);
            be.sgd(P2, be.upload(g, 0, n), B, lr, 0.9f, wd, nesterov);
            float[] sp = down(P2), sb = down(B);
            for (int i = 0; i < n; i++) {
                double dd = g[i] + (double) wd * p[i];
                double bi = 0.9f * (double) mom[i] + dd;
                double pi = p[i] - lr * (nesterov ? dd + 0.9f * bi : bi);
                assertEquals(bi, sb[i], 1e-6 * (1 + Math.abs(bi)), "sgd buf[" + i + "]");
                assertEquals(pi, sp[i], 1e-6 * (1 + Math.abs(pi)), "sgd p[" + i + "] nesterov " + nesterov);
            }
        }
    }
}

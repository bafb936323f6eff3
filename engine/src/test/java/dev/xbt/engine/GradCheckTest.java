package dev.xbt.engine;

import dev.xbt.engine.backend.UnaryOp;
import dev.xbt.engine.testing.GradCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static dev.xbt.engine.testing.GradCheck.awayFromZero;
import static dev.xbt.engine.testing.GradCheck.distinct;
import static dev.xbt.engine.testing.GradCheck.randn;
import static dev.xbt.engine.testing.GradCheck.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Float64 gradient checks of every op of {@link Ops} and {@link Nn} on the "scalar64" backend (see
 * {@link GradCheck}): analytic gradients from the tape against central differences, at awkward
 * shapes, every broadcasting pattern and every transpose combination.
 */
class GradCheckTest {

    private static int[] s(int... shape) {
        return shape;
    }

    // ================================================================ element-wise binary

    static Stream<Arguments> broadcastPairs() {
        int[][][] pairs = {
                {{3, 5}, {3, 5}},             // same shape
                {{3, 5}, {5}},                // rank difference, b broadcast over rows
                {{5}, {3, 5}},                // rank difference, a broadcast
                {{2, 1, 5}, {3, 1}},          // size-1 axes on both sides and a rank difference -> [2, 3, 5]
                {{4, 1}, {1, 3}},             // outer product pattern
                {{2, 3, 1, 5}, {3, 4, 1}},    // rank 4 vs 3, size-1 on both sides -> [2, 3, 4, 5]
                {{}, {3, 4}},                 // rank-0 scalar on the left
                {{3, 4}, {}},                 // rank-0 scalar on the right
                {{3, 4}, {1, 1}},             // all-ones shape
                {{1}, {7}},                   // size-1 vector against a vector
                {{2, 3, 4}, {2, 1, 4}},       // middle axis broadcast, same rank
        };
        List<Arguments> out = new ArrayList<>();
        for (String op : List.of("add", "sub", "mul", "div")) {
            for (int[][] p : pairs) out.add(Arguments.of(op, p[0], p[1]));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("broadcastPairs")
    void binaryOpsBroadcast(String op, int[] a, int[] b) {
        GradCheck.Fn f = switch (op) {
            case "add" -> in -> Ops.add(in[0], in[1]);
            case "sub" -> in -> Ops.sub(in[0], in[1]);
            case "mul" -> in -> Ops.mul(in[0], in[1]);
            case "div" -> in -> Ops.div(in[0], in[1]);
            default -> throw new IllegalArgumentException(op);
        };
        // The divisor stays away from zero so that 1/b and its derivatives are tame.
        double[] bv = op.equals("div") ? awayFromZero(12, 0.5, 2.0, b) : randn(12, b);
        GradCheck.of(op + Arrays.toString(a) + Arrays.toString(b), f)
                .input(randn(11, a), a)
                .input(bv, b)
                .run();
    }

    @Test
    void binarySameTensorBothSides() {
        // x*x and x/x: both operands are the same leaf, gradients of the two sides add up.
        GradCheck.of("x*x", in -> Ops.mul(in[0], in[0])).input(randn(1, 4, 3), 4, 3).run();
        GradCheck.of("x-x+x", in -> Ops.add(Ops.sub(in[0], in[0]), in[0])).input(randn(2, 5), 5).run();
        GradCheck.of("(x+1)/x", in -> Ops.div(Ops.addScalar(in[0], 1f), in[0]))
                .input(awayFromZero(3, 0.5, 2, 6), 6).run();
    }

    @Test
    void scaleAddScalarAffine() {
        int[] sh = {3, 7};
        GradCheck.of("scale", in -> Ops.scale(in[0], -1.75f)).input(randn(1, sh), sh).run();
        GradCheck.of("addScalar", in -> Ops.addScalar(in[0], 0.3f)).input(randn(2, sh), sh).run();
        GradCheck.of("affine", in -> Ops.affine(in[0], 2.5f, -0.5f)).input(randn(3, sh), sh).run();
        GradCheck.of("Tensor.mul(float)", in -> in[0].mul(0.125f)).input(randn(4, 5), 5).run();
        GradCheck.of("affine rank 0", in -> Ops.affine(in[0], 3f, 1f)).input(new double[] {0.4}).run();
    }

    // ================================================================ unary

    private static final Map<UnaryOp, UnaryOperator<Tensor>> UNARY = new EnumMap<>(UnaryOp.class);

    static {
        UNARY.put(UnaryOp.NEG, Ops::neg);
        UNARY.put(UnaryOp.EXP, Ops::exp);
        UNARY.put(UnaryOp.LOG, Ops::log);
        UNARY.put(UnaryOp.SQRT, Ops::sqrt);
        UNARY.put(UnaryOp.RSQRT, Ops::rsqrt);
        UNARY.put(UnaryOp.SQUARE, Ops::square);
        UNARY.put(UnaryOp.RECIPROCAL, Ops::reciprocal);
        UNARY.put(UnaryOp.ABS, Ops::abs);
        UNARY.put(UnaryOp.TANH, Ops::tanh);
        UNARY.put(UnaryOp.SIGMOID, Ops::sigmoid);
        UNARY.put(UnaryOp.RELU, Ops::relu);
        UNARY.put(UnaryOp.GELU, Ops::gelu);
        UNARY.put(UnaryOp.QUICK_GELU, Ops::quickGelu);
    }

    /** Inputs inside each function's smooth domain, away from kinks and singularities. */
    private static double[] unaryInput(UnaryOp op, long seed, int... shape) {
        return switch (op) {
            case LOG, SQRT, RSQRT, RECIPROCAL -> uniform(seed, 0.3, 3.0, shape);
            case ABS, RELU -> awayFromZero(seed, 0.05, 2.0, shape);
            // Wide enough to reach the tails of the activations (and erf's continued-fraction branch).
            case TANH, SIGMOID, GELU, QUICK_GELU -> uniform(seed, -4.0, 4.0, shape);
            default -> randn(seed, shape);
        };
    }

    @ParameterizedTest
    @EnumSource(UnaryOp.class)
    void unary(UnaryOp op) {
        UnaryOperator<Tensor> f = UNARY.get(op);
        assertTrue(f != null, "no public op for " + op + " in this test's table");
        int[] sh = {5, 7};
        GradCheck.of(op.name(), in -> f.apply(in[0])).input(unaryInput(op, op.ordinal() + 1, sh), sh).run();
        // The generic entry point too.
        GradCheck.of("unary " + op, in -> Ops.unary(op.name(), op, in[0])).input(unaryInput(op, 100 + op.ordinal(), 9), 9).run();
    }

    @Test
    void reluAndAbsHaveZeroAndSignGradients() {
        double[] x = {-2, -0.5, 0.25, 3};
        try (Tape tape = Tape.record()) {
            Tensor t = Tensor.of(GradCheck.backend(), x, 4).requiresGrad(true);
            tape.backward(Ops.sum(Ops.add(Ops.relu(t), Ops.scale(Ops.abs(t), 10f))));
            assertArrayEquals(new double[] {-10, -10, 11, 11}, t.grad().toDoubleArray(), 0);
        }
    }

    @Test
    void geluIsExactErfGelu() {
        // Tail and centre values of x·Φ(x), Φ from erf (torch.nn.GELU(approximate='none')).
        double[] x = {-3, -1, 0, 0.5, 2};
        double[] expect = {-0.00404969409489031, -0.15865525393145707, 0, 0.34573123063700656, 1.9544997361036416};
        try (Tape.Region r = Tape.inference()) {
            double[] y = Ops.gelu(GradCheck.constant(x, 5)).toDoubleArray();
            for (int i = 0; i < x.length; i++) assertEquals(expect[i], y[i], 1e-14, "gelu(" + x[i] + ")");
        }
    }

    @Test
    void erfKnownValues() {
        double[][] known = {
                {0.5, 0.5204998778130465},
                {1, 0.8427007929497149},
                {2, 0.9953222650189527},
                {3, 0.9999779095030014},
                {-1.5, -0.9661051464753108},
                {0, 0},
                {-3, -0.9999779095030014},
                {2.4999, 0.9995928300996666},    // Taylor-series branch, just below the switch
                {2.5, 0.999593047982555},        // continued-fraction branch from here on
                {2.5001, 0.9995932657565293},
                {7, 1},
        };
        for (int i = 0; i < known.length; i++) {
            // The five reference values hold to 1e-15; near the branch switch at 2.5 the Taylor
            // series loses a few ulps to cancellation (erf(2.4999) is off by 4e-15), so 1e-14 there.
            double tol = i < 5 ? 1e-15 : 1e-14;
            assertEquals(known[i][1], UnaryOp.erf(known[i][0]), tol, "erf(" + known[i][0] + ")");
        }
        // Odd, monotone and continuous across the branch switch at 2.5.
        assertEquals(UnaryOp.erf(2.5 - 1e-12), UnaryOp.erf(2.5), 1e-14);
        double prev = -1;
        for (double x = -6; x <= 6; x += 0.01) {
            double e = UnaryOp.erf(x);
            assertTrue(e >= prev, "erf not monotone at " + x);
            assertEquals(-e, UnaryOp.erf(-x), 0, "erf not odd at " + x);
            prev = e;
        }
    }

    // ================================================================ reductions

    @Test
    void sumAndMeanOverAll() {
        GradCheck.of("sum all", in -> Ops.sum(in[0])).input(randn(1, 3, 5, 2), 3, 5, 2).run();
        GradCheck.of("mean all", in -> Ops.mean(in[0])).input(randn(2, 7, 3), 7, 3).run();
        GradCheck.of("Tensor.sum rank 1", in -> in[0].sum()).input(randn(3, 11), 11).run();
        GradCheck.of("Tensor.mean rank 0", in -> in[0].mean()).input(new double[] {1.5}).run();
    }

    static Stream<Arguments> axisReductions() {
        List<Arguments> out = new ArrayList<>();
        int[][] axesSets = {{0}, {1}, {2}, {-1}, {0, 2}, {1, 2}, {0, 1, 2}, {-3, -1}};
        for (String op : List.of("sum", "mean")) {
            for (int[] axes : axesSets) {
                for (boolean keep : new boolean[] {true, false}) out.add(Arguments.of(op, axes, keep));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} axes {1} keepDim {2}")
    @MethodSource("axisReductions")
    void sumAndMeanOverAxes(String op, int[] axes, boolean keep) {
        int[] sh = {3, 4, 5};
        GradCheck.of(op + Arrays.toString(axes) + keep,
                        in -> op.equals("sum") ? Ops.sum(in[0], keep, axes) : Ops.mean(in[0], keep, axes))
                .input(randn(Arrays.hashCode(axes), sh), sh)
                .run();
    }

    @Test
    void reductionOfRank4MiddleAxes() {
        int[] sh = {2, 3, 4, 5};
        GradCheck.of("sum 4d [1,2]", in -> Ops.sum(in[0], false, 1, 2)).input(randn(5, sh), sh).run();
        GradCheck.of("mean 4d [0,3] keep", in -> Ops.mean(in[0], true, 0, 3)).input(randn(6, sh), sh).run();
    }

    @ParameterizedTest(name = "axis {0}")
    @ValueSource(ints = {0, 1, 2, -1})
    void maxOverAxis(int axis) {
        int[] sh = {3, 5, 4};
        // Distinct values 0.01 apart: no ties within eps, so the gradient is well defined.
        double[] x = distinct(axis + 50, 0.01, sh);
        GradCheck.of("max keep " + axis, in -> Ops.max(in[0], axis, true)).input(x, sh).run();
        GradCheck.of("max drop " + axis, in -> Ops.max(in[0], axis, false)).input(x, sh).run();
    }

    @Test
    void maxGradientGoesToFirstMaximum() {
        double[] x = {1, 3, 3, 0, 2, 2};
        try (Tape tape = Tape.record()) {
            Tensor t = Tensor.of(GradCheck.backend(), x, 2, 3).requiresGrad(true);
            tape.backward(Ops.sum(Ops.max(t, 1, false)));
            assertArrayEquals(new double[] {0, 1, 0, 0, 1, 0}, t.grad().toDoubleArray(), 0);
        }
    }

    // ================================================================ shape ops

    @Test
    void expand() {
        GradCheck.of("expand [3,1]->[2,3,4]", in -> Ops.expand(in[0], 2, 3, 4)).input(randn(1, 3, 1), 3, 1).run();
        GradCheck.of("expand [4]->[3,4]", in -> Ops.expand(in[0], 3, 4)).input(randn(2, 4), 4).run();
        GradCheck.of("expand [1,1]->[2,3]", in -> Ops.expand(in[0], 2, 3)).input(randn(3, 1, 1), 1, 1).run();
        GradCheck.of("expand [] ->[5]", in -> Ops.expand(in[0], 5)).input(new double[] {0.7}).run();
        GradCheck.of("expand [2,1,3]->[2,4,3]", in -> Ops.expand(in[0], 2, 4, 3)).input(randn(4, 2, 1, 3), 2, 1, 3).run();
    }

    @Test
    void reshape() {
        // Followed by a shape-sensitive op so that a wrong element order would show.
        double[] w = randn(9, 5, 3);
        GradCheck.of("reshape", in -> Ops.matmul(Ops.reshape(in[0], 2, 5), in[1])).input(randn(1, 10), 10).input(w, 5, 3).run();
        GradCheck.of("reshape -1", in -> Ops.reshape(in[0], -1, 3)).input(randn(2, 2, 3, 2), 2, 3, 2).run();
        GradCheck.of("reshape to rank 0", in -> Ops.reshape(in[0])).input(new double[] {0.3}, 1, 1).run();
        GradCheck.of("Tensor.reshape", in -> in[0].reshape(7)).input(randn(3, 7, 1), 7, 1).run();
    }

    @Test
    void permuteAndTranspose() {
        GradCheck.of("permute 3d", in -> Ops.permute(in[0], 2, 0, 1)).input(randn(1, 2, 3, 5), 2, 3, 5).run();
        GradCheck.of("permute 4d", in -> Ops.permute(in[0], 0, 2, 1, 3)).input(randn(2, 2, 3, 4, 5), 2, 3, 4, 5).run();
        GradCheck.of("permute 4d reverse", in -> Ops.permute(in[0], 3, 2, 1, 0)).input(randn(3, 2, 3, 4, 5), 2, 3, 4, 5).run();
        GradCheck.of("permute negative axes", in -> Ops.permute(in[0], -1, -2)).input(randn(4, 3, 5), 3, 5).run();
        GradCheck.of("transpose 2d", in -> Ops.transpose(in[0], 0, 1)).input(randn(5, 3, 7), 3, 7).run();
        GradCheck.of("transpose 3d (0,2)", in -> in[0].transpose(0, -1)).input(randn(6, 2, 3, 5), 2, 3, 5).run();
        GradCheck.of("transpose then matmul", in -> Ops.matmul(Ops.transpose(in[0], 0, 1), in[1]))
                .input(randn(7, 4, 3), 4, 3).input(randn(8, 4, 2), 4, 2).run();
    }

    @Test
    void slice() {
        int[] sh = {5, 4, 3};
        GradCheck.of("slice axis 0 (view)", in -> Ops.slice(in[0], 0, 1, 4)).input(randn(1, sh), sh).run();
        GradCheck.of("slice axis 1 (copy)", in -> Ops.slice(in[0], 1, 1, 3)).input(randn(2, sh), sh).run();
        GradCheck.of("slice last axis (copy)", in -> Ops.slice(in[0], -1, 2, 3)).input(randn(3, sh), sh).run();
        GradCheck.of("slice rank 1", in -> Ops.slice(in[0], 0, 3, 8)).input(randn(4, 9), 9).run();
        GradCheck.of("slice axis 1 of [1,...] (view)", in -> Ops.slice(in[0], 1, 2, 5)).input(randn(5, 1, 6, 2), 1, 6, 2).run();
        // Two overlapping slices of one tensor: the gradients of the overlap add up.
        GradCheck.of("overlapping slices", in -> Ops.mul(Ops.slice(in[0], 1, 0, 3), Ops.slice(in[0], 1, 1, 4)))
                .input(randn(6, 3, 4), 3, 4).run();
        GradCheck.of("empty slice plus rest", in -> Ops.add(Ops.sum(Ops.slice(in[0], 0, 2, 2)), Ops.sum(in[0])))
                .input(randn(7, 4), 4).run();
    }

    @Test
    void concat() {
        GradCheck.of("concat axis 0", in -> Ops.concat(0, in[0], in[1], in[2]))
                .input(randn(1, 2, 3), 2, 3).input(randn(2, 1, 3), 1, 3).input(randn(3, 4, 3), 4, 3).run();
        GradCheck.of("concat axis 1", in -> Ops.concat(1, in[0], in[1], in[2]))
                .input(randn(4, 2, 1, 3), 2, 1, 3).input(randn(5, 2, 4, 3), 2, 4, 3).input(randn(6, 2, 2, 3), 2, 2, 3).run();
        GradCheck.of("concat axis -1", in -> Ops.concat(-1, in[0], in[1]))
                .input(randn(7, 3, 2, 5), 3, 2, 5).input(randn(8, 3, 2, 1), 3, 2, 1).run();
        GradCheck.of("concat same tensor twice", in -> Ops.concat(1, in[0], in[1], in[0]))
                .input(randn(9, 3, 2), 3, 2).input(randn(10, 3, 1), 3, 1).run();
    }

    @Test
    void stack() {
        GradCheck.of("stack", in -> Ops.stack(in[0], in[1], in[2]))
                .input(randn(1, 3, 2), 3, 2).input(randn(2, 3, 2), 3, 2).input(randn(3, 3, 2), 3, 2).run();
        GradCheck.of("stack rank 0", in -> Ops.stack(in[0], in[1]))
                .input(new double[] {0.5}).input(new double[] {-1.5}).run();
    }

    // ================================================================ indexing

    @Test
    void gatherRowsWithRepeatedIndices() {
        int[] rows = {2, 0, 2, 2, 4, 1, 0};
        GradCheck.of("gatherRows 2d", in -> Ops.gatherRows(in[0], rows)).input(randn(1, 5, 3), 5, 3).run();
        GradCheck.of("gatherRows 3d", in -> Ops.gatherRows(in[0], rows)).input(randn(2, 6, 2, 3), 6, 2, 3).run();
        GradCheck.of("gatherRows 1d", in -> Ops.gatherRows(in[0], rows)).input(randn(3, 5), 5).run();
        // Row 3 is never gathered: its gradient must be exactly zero.
        try (Tape tape = Tape.record()) {
            Tensor t = Tensor.of(GradCheck.backend(), randn(4, 5, 2), 5, 2).requiresGrad(true);
            tape.backward(Ops.sum(Ops.gatherRows(t, rows)));
            assertArrayEquals(new double[] {2, 2, 1, 1, 3, 3, 0, 0, 1, 1}, t.grad().toDoubleArray(), 0);
        }
    }

    @Test
    void embedding() {
        int[] ids = {3, 1, 3, 0, 6, 3};
        GradCheck.of("embedding [2,3]", in -> Ops.embedding(in[0], ids, 2, 3)).input(randn(1, 7, 4), 7, 4).run();
        GradCheck.of("embedding [6]", in -> Ops.embedding(in[0], ids, 6)).input(randn(2, 7, 5), 7, 5).run();
    }

    @Test
    void selectPerRow() {
        GradCheck.of("selectPerRow 3d", in -> Ops.selectPerRow(in[0], new int[] {4, 0, 2}))
                .input(randn(1, 3, 5, 4), 3, 5, 4).run();
        GradCheck.of("selectPerRow 2d", in -> Ops.selectPerRow(in[0], new int[] {1, 1}))
                .input(randn(2, 2, 3), 2, 3).run();
        GradCheck.of("selectPerRow 4d", in -> Ops.selectPerRow(in[0], new int[] {2, 0}))
                .input(randn(3, 2, 3, 2, 3), 2, 3, 2, 3).run();
    }

    // ================================================================ matrix products

    static Stream<Arguments> transposeCombos() {
        return Stream.of(Arguments.of(false, false), Arguments.of(false, true), Arguments.of(true, false), Arguments.of(true, true));
    }

    /** The stored shape of an operand that is used as rows × cols, transposed or not. */
    private static int[] stored(int[] lead, int rows, int cols, boolean trans) {
        int[] s = Arrays.copyOf(lead, lead.length + 2);
        s[lead.length] = trans ? cols : rows;
        s[lead.length + 1] = trans ? rows : cols;
        return s;
    }

    @ParameterizedTest(name = "transA {0} transB {1}")
    @MethodSource("transposeCombos")
    void matmul2d(boolean ta, boolean tb) {
        int m = 3, k = 5, n = 4;
        int[] as = stored(s(), m, k, ta), bs = stored(s(), k, n, tb);
        GradCheck.of("matmul 2d " + ta + tb, in -> Ops.matmul(in[0], in[1], ta, tb))
                .input(randn(1, as), as).input(randn(2, bs), bs).run();
    }

    @ParameterizedTest(name = "transA {0} transB {1}")
    @MethodSource("transposeCombos")
    void matmulBatched(boolean ta, boolean tb) {
        int m = 3, k = 4, n = 5;
        int[] lead3 = {2}, lead4 = {2, 3};
        for (int[] lead : new int[][] {lead3, lead4}) {
            int[] as = stored(lead, m, k, ta), bs = stored(lead, k, n, tb);
            GradCheck.of("matmul batched " + Arrays.toString(lead) + ta + tb, in -> Ops.matmul(in[0], in[1], ta, tb))
                    .input(randn(3, as), as).input(randn(4, bs), bs).run();
        }
    }

    @ParameterizedTest(name = "transA {0} transB {1}")
    @MethodSource("transposeCombos")
    void matmulSharedRank2Weight(boolean ta, boolean tb) {
        int m = 3, k = 4, n = 5;
        // A batched input times one rank-2 weight: the linear layer (one big GEMM without transA,
        // the batched path with a stride-0 weight with transA).
        for (int[] lead : new int[][] {{2}, {2, 3}}) {
            int[] as = stored(lead, m, k, ta), bs = stored(s(), k, n, tb);
            GradCheck.of("matmul shared B " + Arrays.toString(lead) + ta + tb, in -> Ops.matmul(in[0], in[1], ta, tb))
                    .input(randn(5, as), as).input(randn(6, bs), bs).run();
        }
        // And the other way round: one rank-2 left operand shared by a batch of right ones.
        int[] as = stored(s(), m, k, ta), bs = stored(s(3), k, n, tb);
        GradCheck.of("matmul shared A " + ta + tb, in -> Ops.matmul(in[0], in[1], ta, tb))
                .input(randn(7, as), as).input(randn(8, bs), bs).run();
    }

    @Test
    void matmulDegenerateSizes() {
        GradCheck.of("matmul 1x1", in -> Ops.matmul(in[0], in[1])).input(randn(1, 1, 1), 1, 1).input(randn(2, 1, 1), 1, 1).run();
        GradCheck.of("matmul vector outer", in -> Ops.matmul(in[0], in[1])).input(randn(3, 4, 1), 4, 1).input(randn(4, 1, 3), 1, 3).run();
        GradCheck.of("matmul batch 1", in -> Ops.matmul(in[0], in[1], false, true))
                .input(randn(5, 1, 2, 3), 1, 2, 3).input(randn(6, 1, 4, 3), 1, 4, 3).run();
        GradCheck.of("matmul shared weight batch 1 transA", in -> Ops.matmul(in[0], in[1], true, false))
                .input(randn(7, 1, 3, 2), 1, 3, 2).input(randn(8, 3, 4), 3, 4).run();
        GradCheck.of("Tensor.matmul same operand", in -> in[0].matmul(in[0])).input(randn(9, 3, 3), 3, 3).run();
    }

    // ================================================================ layer norm, softmax

    @Test
    void layerNormSmall() {
        GradCheck.of("layerNorm [3,7]", in -> Nn.layerNorm(in[0], in[1], in[2], 1e-5f))
                .input(randn(1, 3, 7), 3, 7).input(uniform(2, 0.5, 1.5, 7), 7).input(randn(3, 7), 7).run();
        GradCheck.of("layerNorm [2,3,5]", in -> Nn.layerNorm(in[0], in[1], in[2], 1e-5f))
                .input(randn(4, 2, 3, 5), 2, 3, 5).input(uniform(5, -1.5, 1.5, 5), 5).input(randn(6, 5), 5).run();
        GradCheck.of("layerNorm rank 1", in -> Nn.layerNorm(in[0], in[1], in[2], 1e-5f))
                .input(randn(7, 9), 9).input(uniform(8, 0.5, 1.5, 9), 9).input(randn(9, 9), 9).run();
    }

    @ParameterizedTest(name = "T = {0}")
    @ValueSource(ints = {50, 77})
    void layerNormLongSequence(int t) {
        int w = 24;
        GradCheck.of("layerNorm T=" + t, in -> Nn.layerNorm(in[0], in[1], in[2], 1e-5f))
                .input(randn(t, 2, t, w), 2, t, w).input(uniform(t + 1, 0.5, 1.5, w), w).input(randn(t + 2, w), w)
                .maxPerInput(200).run();
    }

    @Test
    void softmaxAndLogSoftmaxSmall() {
        GradCheck.of("softmax [4,7]", in -> Nn.softmax(in[0])).input(randn(1, 4, 7), 4, 7).run();
        GradCheck.of("logSoftmax [4,7]", in -> Nn.logSoftmax(in[0])).input(randn(2, 4, 7), 4, 7).run();
        GradCheck.of("softmax [2,3,5]", in -> Nn.softmax(in[0])).input(randn(3, 2, 3, 5), 2, 3, 5).run();
        GradCheck.of("logSoftmax rank 1", in -> Nn.logSoftmax(in[0])).input(randn(4, 6), 6).run();
        // Large logits: the max subtraction must keep it finite and exact.
        double[] big = randn(5, 3, 5);
        for (int i = 0; i < big.length; i++) big[i] = big[i] * 3 + 80;
        GradCheck.of("softmax large logits", in -> Nn.softmax(in[0])).input(big, 3, 5).run();
        GradCheck.of("logSoftmax large logits", in -> Nn.logSoftmax(in[0])).input(big, 3, 5).run();
    }

    @ParameterizedTest(name = "T = {0}")
    @ValueSource(ints = {50, 77})
    void softmaxLongSequence(int t) {
        GradCheck.of("softmax T=" + t, in -> Nn.softmax(in[0])).input(randn(t, 3, t), 3, t).maxPerInput(200).run();
        GradCheck.of("logSoftmax T=" + t, in -> Nn.logSoftmax(in[0])).input(randn(t + 1, 3, t), 3, t).maxPerInput(200).run();
    }

    // ================================================================ attention

    private static double[] additiveMask(long seed, int... shape) {
        // Soft biases in [-2, 0] plus some keys hidden completely; never a whole row hidden.
        double[] m = uniform(seed, -2, 0, shape);
        int tk = shape[shape.length - 1];
        Rng rng = new Rng(seed + 1);
        for (int i = 0; i < m.length; i++) {
            if (i % tk != 0 && rng.nextDouble() < 0.2) m[i] = Double.NEGATIVE_INFINITY;
        }
        return m;
    }

    private static GradCheck attentionCheck(String name, int[] qs, int tk, Tensor mask, boolean causal) {
        int[] ks = qs.clone();
        ks[ks.length - 2] = tk;
        return GradCheck.of(name, in -> Nn.attention(in[0], in[1], in[2], mask, causal))
                .input(randn(1, qs), qs).input(randn(2, ks), ks).input(randn(3, ks), ks);
    }

    @Test
    void attentionNoMask() {
        attentionCheck("attention", s(2, 2, 5, 3), 5, null, false).run();
        attentionCheck("attention cross Tq != Tk", s(2, 3, 4, 3), 6, null, false).run();
        attentionCheck("attention rank 3", s(3, 4, 5), 4, null, false).run();
        attentionCheck("attention rank 2", s(4, 3), 5, null, false).run();
    }

    @Test
    void attentionMasks() {
        int b = 2, h = 3, tq = 4, tk = 5, d = 3;
        int[] qs = {b, h, tq, d};
        attentionCheck("mask [Tq,Tk]", qs, tk, GradCheck.constant(additiveMask(10, tq, tk), tq, tk), false).run();
        attentionCheck("mask [B,1,Tq,Tk]", qs, tk, GradCheck.constant(additiveMask(11, b, 1, tq, tk), b, 1, tq, tk), false).run();
        attentionCheck("mask [B,H,Tq,Tk]", qs, tk, GradCheck.constant(additiveMask(12, b, h, tq, tk), b, h, tq, tk), false).run();
        attentionCheck("mask [B,Tq,Tk] rank 3", s(b, tq, d), tk, GradCheck.constant(additiveMask(13, b, tq, tk), b, tq, tk), false).run();
    }

    @Test
    void attentionCausal() {
        attentionCheck("causal", s(2, 2, 6, 3), 6, null, true).run();
        attentionCheck("causal plus [Tq,Tk] mask", s(1, 2, 5, 4), 5, GradCheck.constant(additiveMask(20, 5, 5), 5, 5), true).run();
    }

    @ParameterizedTest(name = "T = {0}")
    @ValueSource(ints = {50, 77})
    void attentionLongSequence(int t) {
        int[] qs = {1, 2, t, 4};
        attentionCheck("attention T=" + t, qs, t, null, false).maxPerInput(200).run();
        attentionCheck("attention causal T=" + t, qs, t, null, true).maxPerInput(200).run();
        Tensor padding = GradCheck.constant(paddingMask(t), 1, 1, t, t);
        attentionCheck("attention padding mask T=" + t, qs, t, padding, false).maxPerInput(200).run();
    }

    /** Keys at positions ≥ 3t/4 hidden from every query, as a padding mask does. */
    private static double[] paddingMask(int t) {
        double[] m = new double[t * t];
        for (int i = 0; i < t; i++) for (int j = 3 * t / 4; j < t; j++) m[i * t + j] = Double.NEGATIVE_INFINITY;
        return m;
    }

    // ================================================================ losses and normalisations

    @Test
    void crossEntropy() {
        GradCheck.of("crossEntropy", in -> Nn.crossEntropy(in[0], new int[] {2, 0, 4, 1}))
                .input(randn(1, 4, 5), 4, 5).run();
        // Row 1 is ignored (-1): its logits get exactly zero gradient, and the mean is over 3 rows.
        int[] targets = {2, -1, 4, 0};
        double[] logits = randn(2, 4, 5);
        GradCheck.of("crossEntropy ignore -1", in -> Nn.crossEntropy(in[0], targets)).input(logits, 4, 5).run();
        try (Tape tape = Tape.record()) {
            Tensor t = Tensor.of(GradCheck.backend(), logits, 4, 5).requiresGrad(true);
            Tensor loss = Nn.crossEntropy(t, targets);
            double expect = 0;
            for (int r : new int[] {0, 2, 3}) {
                double lse = 0;
                for (int j = 0; j < 5; j++) lse += Math.exp(logits[r * 5 + j]);
                expect += Math.log(lse) - logits[r * 5 + targets[r]];
            }
            assertEquals(expect / 3, loss.toDoubleArray()[0], 1e-7);
            tape.backward(loss);
            double[] g = t.grad().toDoubleArray();
            for (int j = 0; j < 5; j++) assertEquals(0, g[5 + j], 0, "ignored row got a gradient");
        }
        GradCheck.of("crossEntropy odd [7,13]", in -> Nn.crossEntropy(in[0], new int[] {12, 0, 5, 5, -1, 3, 11}))
                .input(randn(3, 7, 13), 7, 13).run();
    }

    @Test
    void l2NormalizeAndCosine() {
        GradCheck.of("l2Normalize [3,5]", in -> Nn.l2Normalize(in[0])).input(randn(1, 3, 5), 3, 5).run();
        GradCheck.of("l2Normalize eps", in -> Nn.l2Normalize(in[0], 0.1f)).input(randn(2, 2, 3, 4), 2, 3, 4).run();
        GradCheck.of("cosineSimilarity", in -> Nn.cosineSimilarity(in[0], in[1]))
                .input(randn(3, 4, 6), 4, 6).input(randn(4, 4, 6), 4, 6).run();
        GradCheck.of("cosineSimilarity broadcast", in -> Nn.cosineSimilarity(in[0], in[1]))
                .input(randn(5, 3, 1, 5), 3, 1, 5).input(randn(6, 4, 5), 4, 5).run();
    }

    @Test
    void mse() {
        GradCheck.of("mse", in -> Nn.mse(in[0], in[1])).input(randn(1, 3, 7), 3, 7).input(randn(2, 3, 7), 3, 7).run();
    }

    @Test
    void dropoutIsLinearWithAFixedSeed() {
        int[] sh = {6, 9};
        float p = 0.3f;
        // The numeric gradient re-runs the forward with a fresh generator of the same seed, so it
        // sees the same mask: the check proves the backward is the forward's (linear) mask.
        GradCheck.of("dropout", in -> Nn.dropout(in[0], p, new Rng(77), true)).input(randn(1, sh), sh).run();
        try (Tape.Region r = Tape.inference()) {
            double[] x = randn(2, sh), y = randn(3, sh), xy = new double[x.length];
            for (int i = 0; i < x.length; i++) xy[i] = 2 * x[i] - y[i];
            double[] fx = Nn.dropout(GradCheck.constant(x, sh), p, new Rng(5), true).toDoubleArray();
            double[] fy = Nn.dropout(GradCheck.constant(y, sh), p, new Rng(5), true).toDoubleArray();
            double[] fxy = Nn.dropout(GradCheck.constant(xy, sh), p, new Rng(5), true).toDoubleArray();
            int zeros = 0;
            for (int i = 0; i < x.length; i++) {
                assertEquals(2 * fx[i] - fy[i], fxy[i], 1e-12, "dropout not linear at " + i);
                assertTrue(fx[i] == 0 || Math.abs(fx[i] - x[i] / (1 - p)) < 1e-6, "kept element not scaled by 1/(1-p)");
                if (fx[i] == 0) zeros++;
            }
            assertTrue(zeros > 0 && zeros < x.length, "dropout with p=0.3 zeroed " + zeros + " of " + x.length);
        }
        // Not training, or p = 0: the identity, gradient 1.
        GradCheck.of("dropout eval", in -> Ops.scale(Nn.dropout(in[0], p, new Rng(1), false), 1f)).input(randn(4, 5), 5).run();
    }

    // ================================================================ the checker itself

    @Test
    void checkerCatchesAWrongGradientRule() {
        // y = 2x recorded with the rule dy/dx = 2.001: the check must fail.
        GradCheck wrong = GradCheck.of("wrong rule", in -> {
            Tensor x = in[0];
            Tensor y;
            try (Tape.Region r = Tape.inference()) {
                y = Ops.scale(x, 2f);
            }
            return Tape.recordOp("doubled", y, new Tensor[] {x}, (g, needs) -> new Tensor[] {Ops.scale(g, 2.001f)});
        }).input(randn(1, 3, 4), 3, 4);
        AssertionError e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class, wrong::run);
        assertTrue(e.getMessage().contains("wrong rule") && e.getMessage().contains("analytic"), e.getMessage());
        // An input the output does not depend on is flagged instead of passing vacuously.
        AssertionError vacuous = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
                () -> GradCheck.of("unused", in -> Ops.scale(in[0], 1f)).input(randn(2, 3), 3).input(randn(3, 2), 2).run());
        assertTrue(vacuous.getMessage().contains("zero at every checked element"), vacuous.getMessage());
        GradCheck.Result ok = GradCheck.of("ok", in -> Ops.scale(in[0], 2f)).input(randn(4, 3, 4), 3, 4).run();
        assertEquals(12, ok.checked());
    }

    // ================================================================ composites

    @Test
    void smallTransformerBlock() {
        // Diamond-shaped graph: x feeds the residual, the norm and (through it) q, k and v.
        int b = 2, t = 5, w = 6, h = 2;
        GradCheck.of("block", in -> {
            Tensor x = in[0];
            Tensor n = Nn.layerNorm(x, in[1], in[2], 1e-5f);
            Tensor qkv = Ops.matmul(n, in[3]);                            // [b, t, 3w]
            Tensor q = Ops.permute(Ops.reshape(Ops.slice(qkv, -1, 0, w), b, t, h, w / h), 0, 2, 1, 3);
            Tensor k = Ops.permute(Ops.reshape(Ops.slice(qkv, -1, w, 2 * w), b, t, h, w / h), 0, 2, 1, 3);
            Tensor v = Ops.permute(Ops.reshape(Ops.slice(qkv, -1, 2 * w, 3 * w), b, t, h, w / h), 0, 2, 1, 3);
            Tensor a = Ops.reshape(Ops.permute(Nn.attention(q, k, v, null, true), 0, 2, 1, 3), b, t, w);
            Tensor r = Ops.add(x, a);
            Tensor mlp = Ops.matmul(Ops.gelu(Ops.add(Ops.matmul(r, in[4]), in[5])), in[4], false, true);
            return Ops.add(r, mlp);
        })
                .input(randn(1, b, t, w), b, t, w)
                .input(uniform(2, 0.5, 1.5, w), w)
                .input(randn(3, w), w)
                .input(uniform(4, -0.5, 0.5, w, 3 * w), w, 3 * w)
                .input(uniform(5, -0.5, 0.5, w, 8), w, 8)
                .input(randn(6, 8), 8)
                .run();
    }
}

package dev.xbt.engine.testing;

import dev.xbt.engine.Ops;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Shape;
import dev.xbt.engine.Tape;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Backends;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Float64 gradient check of one function of tensors, on the "scalar64" backend.
 *
 * <p>The inputs become leaves that require gradients. The scalar checked is
 * {@code loss = sum(f(inputs) * R)} for a fixed random R of the output's shape, so that every
 * output element contributes. Analytic gradients come from the {@link Tape}; numeric ones from
 * central differences in float64: (loss(x + eps) − loss(x − eps)) / 2eps, with the loss evaluated
 * on the host in float64 and nothing recorded. An element passes when
 * {@code |analytic − numeric| ≤ atol + rtol·|numeric|}. Large inputs are checked on a seeded random
 * subset of their elements.
 *
 * <pre>{@code
 * GradCheck.of("mul", in -> Ops.mul(in[0], in[1]))
 *         .input(GradCheck.randn(1, 3, 4), 3, 4)
 *         .input(GradCheck.randn(2, 4), 4)
 *         .run();
 * }</pre>
 *
 * <p>The function must be deterministic (anything random, such as dropout, must draw from a
 * generator created inside the function with a fixed seed) and must build every tensor it needs
 * besides its inputs on {@link #backend()}.
 */
public final class GradCheck {
    public static final double EPS = 1e-5;
    public static final double RTOL = 1e-5;
    public static final double ATOL = 1e-6;
    /** Elements checked per input by default; larger inputs are sampled. */
    public static final int MAX_PER_INPUT = 200;

    /** A function of the input tensors (the leaves, in the order they were added). */
    @FunctionalInterface
    public interface Fn {
        Tensor apply(Tensor[] in);
    }

    private record Input(double[] data, int[] shape, boolean differentiable) {}

    private final String name;
    private final Fn fn;
    private final List<Input> inputs = new ArrayList<>();
    private double eps = EPS, rtol = RTOL, atol = ATOL;
    private int maxPerInput = MAX_PER_INPUT;
    private long seed;
    private boolean allowZeroGradient;

    private GradCheck(String name, Fn fn) {
        this.name = name;
        this.fn = fn;
        this.seed = name.hashCode();
    }

    public static GradCheck of(String name, Fn fn) {
        return new GradCheck(name, fn);
    }

    /** The float64 reference backend every check runs on. */
    public static Backend backend() {
        return Backends.get("scalar64");
    }

    /** A float64 tensor on {@link #backend()} that takes no gradient (masks, targets, constants). */
    public static Tensor constant(double[] data, int... shape) {
        return Tensor.of(backend(), data, shape);
    }

    // ---- inputs ----

    /** Adds a differentiable input. */
    public GradCheck input(double[] data, int... shape) {
        if (data.length != Shape.size(shape)) {
            throw new IllegalArgumentException(data.length + " values for shape " + Arrays.toString(shape));
        }
        inputs.add(new Input(data.clone(), shape.clone(), true));
        return this;
    }

    /** Adds an input that is passed to the function but not differentiated (no requiresGrad). */
    public GradCheck constantInput(double[] data, int... shape) {
        inputs.add(new Input(data.clone(), shape.clone(), false));
        return this;
    }

    // ---- options ----

    public GradCheck tolerance(double rtol, double atol) {
        this.rtol = rtol;
        this.atol = atol;
        return this;
    }

    public GradCheck eps(double eps) {
        this.eps = eps;
        return this;
    }

    /** Elements checked per input (a seeded random subset when the input is larger). */
    public GradCheck maxPerInput(int n) {
        this.maxPerInput = n;
        return this;
    }

    public GradCheck seed(long seed) {
        this.seed = seed;
        return this;
    }

    /**
     * Allows an input whose numeric gradient is zero everywhere it is checked. By default such a
     * check fails: it would pass without testing anything.
     */
    public GradCheck allowZeroGradient() {
        this.allowZeroGradient = true;
        return this;
    }

    // ---- the check ----

    /** What a passing check measured. */
    public record Result(int checked, double worstRatio, double maxAbsGrad) {}

    /** Runs the check; throws AssertionError listing the mismatching elements. */
    public Result run() {
        if (inputs.isEmpty()) throw new IllegalStateException(name + ": no inputs");
        Backend be = backend();
        Rng rng = new Rng(seed);

        // Analytic gradients through the tape, loss = sum(f(x) * R).
        Tensor[] leaves = new Tensor[inputs.size()];
        for (int i = 0; i < leaves.length; i++) {
            Input in = inputs.get(i);
            leaves[i] = Tensor.of(be, in.data, in.shape).requiresGrad(in.differentiable);
        }
        double[] r;
        int[] outShape;
        try (Tape tape = Tape.record()) {
            Tensor out = fn.apply(leaves);
            if (out.backend() != be) throw new AssertionError(name + ": output lives on " + out.backend().name());
            outShape = out.shape();
            r = new double[out.size()];
            for (int j = 0; j < r.length; j++) r[j] = rng.nextGaussian();
            Tensor loss = Ops.sum(Ops.mul(out, Tensor.of(be, r, outShape)));
            tape.backward(loss);
        }
        double[][] analytic = new double[leaves.length][];
        for (int i = 0; i < leaves.length; i++) {
            if (!inputs.get(i).differentiable) continue;
            Tensor g = leaves[i].grad();
            analytic[i] = g == null ? new double[leaves[i].size()] : g.toDoubleArray();
            if (g != null && !Arrays.equals(g.shape(), inputs.get(i).shape)) {
                throw new AssertionError(name + ": gradient of input " + i + " has shape " + Arrays.toString(g.shape())
                        + ", input has " + Arrays.toString(inputs.get(i).shape));
            }
        }

        // Numeric gradients by central differences, nothing recorded.
        List<String> failures = new ArrayList<>();
        int checked = 0;
        double worst = 0, maxAbs = 0;
        try (Tape.Region ignored = Tape.inference()) {
            Tensor[] consts = new Tensor[inputs.size()];
            for (int i = 0; i < consts.length; i++) consts[i] = Tensor.of(be, inputs.get(i).data, inputs.get(i).shape);
            for (int i = 0; i < inputs.size(); i++) {
                Input in = inputs.get(i);
                if (!in.differentiable) continue;
                double inputMaxAbs = 0;
                for (int e : pick(in.data.length, maxPerInput, rng)) {
                    double[] d = in.data.clone();
                    double x0 = d[e];
                    d[e] = x0 + eps;
                    double up = loss(consts, i, d, in.shape, r, outShape);
                    d[e] = x0 - eps;
                    double down = loss(consts, i, d, in.shape, r, outShape);
                    double numeric = (up - down) / (2 * eps);
                    double a = analytic[i][e];
                    double tol = atol + rtol * Math.abs(numeric);
                    double diff = Math.abs(a - numeric);
                    checked++;
                    worst = Math.max(worst, diff / tol);
                    inputMaxAbs = Math.max(inputMaxAbs, Math.abs(numeric));
                    if (!(diff <= tol)) {
                        failures.add("input " + i + " " + Arrays.toString(in.shape) + " element " + e
                                + " " + Arrays.toString(unravel(e, in.shape)) + ": analytic " + a + ", numeric " + numeric
                                + ", |diff| " + diff + " > tol " + tol);
                    }
                }
                maxAbs = Math.max(maxAbs, inputMaxAbs);
                if (!allowZeroGradient && inputMaxAbs == 0) {
                    failures.add("input " + i + " " + Arrays.toString(in.shape)
                            + ": numeric gradient is zero at every checked element (the check would test nothing)");
                }
            }
        }
        if (!failures.isEmpty()) {
            StringBuilder sb = new StringBuilder("gradient check '" + name + "' failed at " + failures.size() + " of "
                    + checked + " elements:");
            for (int f = 0; f < Math.min(10, failures.size()); f++) sb.append("\n  ").append(failures.get(f));
            if (failures.size() > 10) sb.append("\n  ...");
            throw new AssertionError(sb.toString());
        }
        return new Result(checked, worst, maxAbs);
    }

    private double loss(Tensor[] consts, int which, double[] data, int[] shape, double[] r, int[] outShape) {
        Tensor[] args = consts.clone();
        args[which] = Tensor.of(backend(), data, shape);
        Tensor out = fn.apply(args);
        if (!Arrays.equals(out.shape(), outShape)) throw new AssertionError(name + ": output shape changed");
        double[] o = out.toDoubleArray();
        double s = 0;
        for (int j = 0; j < o.length; j++) s += o[j] * r[j];
        return s;
    }

    /** All of [0, n) when n ≤ max, else max distinct indices drawn from rng, sorted. */
    static int[] pick(int n, int max, Rng rng) {
        int[] all = new int[n];
        for (int i = 0; i < n; i++) all[i] = i;
        if (n <= max) return all;
        rng.shuffle(all);
        int[] some = Arrays.copyOf(all, max);
        Arrays.sort(some);
        return some;
    }

    static int[] unravel(int flat, int[] shape) {
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return idx;
    }

    // ---- input generators (seeded, float64) ----

    /** Standard normal values. */
    public static double[] randn(long seed, int... shape) {
        Rng rng = new Rng(seed);
        double[] d = new double[Shape.size(shape)];
        for (int i = 0; i < d.length; i++) d[i] = rng.nextGaussian();
        return d;
    }

    /** Uniform values in [lo, hi). */
    public static double[] uniform(long seed, double lo, double hi, int... shape) {
        Rng rng = new Rng(seed);
        double[] d = new double[Shape.size(shape)];
        for (int i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * rng.nextDouble();
        return d;
    }

    /** Random sign, magnitude uniform in [lo, hi): keeps values away from a kink at 0. */
    public static double[] awayFromZero(long seed, double lo, double hi, int... shape) {
        Rng rng = new Rng(seed);
        double[] d = new double[Shape.size(shape)];
        for (int i = 0; i < d.length; i++) {
            double m = lo + (hi - lo) * rng.nextDouble();
            d[i] = rng.nextDouble() < 0.5 ? -m : m;
        }
        return d;
    }

    /**
     * A random permutation of {0, gap, 2·gap, ...} shifted to be centred on zero: all values
     * distinct and at least gap apart, so that max has no ties within eps.
     */
    public static double[] distinct(long seed, double gap, int... shape) {
        int n = Shape.size(shape);
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        new Rng(seed).shuffle(perm);
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = (perm[i] - n / 2.0) * gap;
        return d;
    }
}

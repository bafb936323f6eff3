package dev.xbt.engine.backend;

/**
 * Element-wise unary functions and their derivatives, in float64 for the scalar reference; the
 * fast backends implement the same formulas in their own kernels.
 */
public enum UnaryOp {
    NEG, EXP, LOG, SQRT, RSQRT, SQUARE, RECIPROCAL, ABS, TANH, SIGMOID, RELU,
    /** x·Φ(x) with the exact normal CDF (erf), as torch.nn.GELU(approximate='none'). */
    GELU,
    /** x·σ(1.702·x), as OpenAI's CLIP. */
    QUICK_GELU;

    public static final double QUICK_GELU_ALPHA = 1.702;
    private static final double INV_SQRT2 = 0.7071067811865476;
    private static final double INV_SQRT_2PI = 0.3989422804014327;

    public double apply(double x) {
        return switch (this) {
            case NEG -> -x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1.0 / Math.sqrt(x);
            case SQUARE -> x * x;
            case RECIPROCAL -> 1.0 / x;
            case ABS -> Math.abs(x);
            case TANH -> Math.tanh(x);
            case SIGMOID -> sigmoid(x);
            case RELU -> x > 0 ? x : 0.0;
            case GELU -> 0.5 * x * (1.0 + erf(x * INV_SQRT2));
            case QUICK_GELU -> x * sigmoid(QUICK_GELU_ALPHA * x);
        };
    }

    /** d f(x) / dx. */
    public double derivative(double x) {
        return switch (this) {
            case NEG -> -1.0;
            case EXP -> Math.exp(x);
            case LOG -> 1.0 / x;
            case SQRT -> 0.5 / Math.sqrt(x);
            case RSQRT -> -0.5 / (x * Math.sqrt(x));
            case SQUARE -> 2.0 * x;
            case RECIPROCAL -> -1.0 / (x * x);
            case ABS -> Math.signum(x);
            case TANH -> { double t = Math.tanh(x); yield 1.0 - t * t; }
            case SIGMOID -> { double s = sigmoid(x); yield s * (1.0 - s); }
            case RELU -> x > 0 ? 1.0 : 0.0;
            case GELU -> 0.5 * (1.0 + erf(x * INV_SQRT2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
            case QUICK_GELU -> {
                double s = sigmoid(QUICK_GELU_ALPHA * x);
                yield s + x * QUICK_GELU_ALPHA * s * (1.0 - s);
            }
        };
    }

    public static double sigmoid(double x) {
        return x >= 0 ? 1.0 / (1.0 + Math.exp(-x)) : Math.exp(x) / (1.0 + Math.exp(x));
    }

    /**
     * The error function to about 1e-15, float64: Taylor series near zero, a continued fraction of
     * erfc further out. Float32 kernels use their own cheaper approximations checked against this.
     */
    public static double erf(double x) {
        double ax = Math.abs(x);
        double r;
        if (ax < 2.5) {
            // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
            double term = ax, sum = ax, x2 = ax * ax;
            for (int n = 1; n < 80; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
            }
            r = 2.0 / Math.sqrt(Math.PI) * sum;
        } else if (ax > 6.0) {
            r = 1.0;
        } else {
            // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + 2/(x + ...))))), Lentz's method
            double tiny = 1e-300, f = ax, c = ax, d = 0.0;
            for (int i = 1; i < 300; i++) {
                double a = i * 0.5;
                d = ax + a * d;
                d = d == 0 ? tiny : d;
                c = ax + a / c;
                c = c == 0 ? tiny : c;
                d = 1.0 / d;
                double delta = c * d;
                f *= delta;
                if (Math.abs(delta - 1.0) < 1e-16) break;
            }
            r = 1.0 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }
}

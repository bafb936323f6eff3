package dev.xbt.xbt;

import dev.xbt.eval.EncodedSet;
import dev.xbt.eval.Retrieval;

/**
 * A blend of the old model's own query embedding u with another method's mapping of the new one, v, along the
 * great circle between them (spherical linear interpolation):
 * <pre>
 *   slerp(u, v; α) = sin((1−α)θ)/sin θ · u + sin(αθ)/sin θ · v,   θ = arccos(u·v)
 * </pre>
 * α = 0 is the old model alone, α = 1 the mapped new embedding alone. Such a method still runs the old model on
 * every query ({@link #needsOld()}). {@link #fit} picks α on a validation split.
 */
public final class SlerpMap implements EmbeddingMap {
    /** The α values {@link #fit} tries by default: 0, 0.1, ..., 1. */
    public static final double[] DEFAULT_GRID = {0, .1, .2, .3, .4, .5, .6, .7, .8, .9, 1};

    private final EmbeddingMap inner;
    private final double alpha;

    public SlerpMap(EmbeddingMap inner, double alpha) {
        if (!(alpha >= 0 && alpha <= 1)) throw new IllegalArgumentException("slerp: alpha must be in [0, 1], got " + alpha);
        this.inner = inner;
        this.alpha = alpha;
    }

    /**
     * The α of {@code grid} whose blend retrieves best (highest rsum, new queries against the old gallery) on the
     * validation sets; the first such α when several tie.
     */
    public static SlerpMap fit(EmbeddingMap inner, EncodedSet valNew, EncodedSet valOld, double[] grid) {
        if (grid.length == 0) throw new IllegalArgumentException("slerp: no alpha to try");
        SlerpMap best = null;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (double a : grid) {
            SlerpMap m = new SlerpMap(inner, a);
            double score = Retrieval.evaluate(m.apply(valNew, valOld), valOld).rsum();
            if (score > bestScore) {
                bestScore = score;
                best = m;
            }
        }
        return best;
    }

    public double alpha() {
        return alpha;
    }

    public EmbeddingMap inner() {
        return inner;
    }

    @Override
    public String name() {
        return inner.name() + "+slerp";
    }

    @Override
    public int newDim() {
        return inner.newDim();
    }

    @Override
    public int oldDim() {
        return inner.oldDim();
    }

    @Override
    public boolean needsOld() {
        return true;
    }

    @Override
    public float[] map(float[] newEmb, float[] oldEmb, int n) {
        int d = oldDim();
        EmbeddingMap.checkRows(name() + " (old embeddings)", oldEmb, n, d);
        float[] v = inner.map(newEmb, inner.needsOld() ? oldEmb : null, n);
        float[] u = EmbeddingMap.normalizeRows(oldEmb.clone(), n, d);
        float[] out = new float[n * d];
        double[] ui = new double[d], vi = new double[d], r = new double[d];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < d; k++) {
                ui[k] = u[i * d + k];
                vi[k] = v[i * d + k];
            }
            slerp(ui, vi, alpha, r);
            for (int k = 0; k < d; k++) out[i * d + k] = (float) r[k];
        }
        return EmbeddingMap.normalizeRows(out, n, d);
    }

    /** slerp(u, v; α) of two unit vectors into {@code out}; linear interpolation where they (nearly) coincide. */
    static void slerp(double[] u, double[] v, double alpha, double[] out) {
        double dot = 0;
        for (int k = 0; k < u.length; k++) dot += u[k] * v[k];
        dot = Math.max(-1, Math.min(1, dot));
        double theta = Math.acos(dot);
        double a, b;
        if (theta < 1e-6) {
            a = 1 - alpha;
            b = alpha;
        } else {
            double s = Math.sin(theta);
            a = Math.sin((1 - alpha) * theta) / s;
            b = Math.sin(alpha * theta) / s;
        }
        for (int k = 0; k < u.length; k++) out[k] = a * u[k] + b * v[k];
    }
}

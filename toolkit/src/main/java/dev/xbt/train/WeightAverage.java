package dev.xbt.train;

import dev.xbt.engine.ParameterSet;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.BinaryOp;
import dev.xbt.engine.backend.Buffer;

/**
 * An exponential moving average of a {@link ParameterSet}'s weights over the optimizer's steps (Polyak averaging):
 * the averaged weights usually generalise better than the last ones, at no cost in training. After t updates with
 * decay d the average is the bias-corrected sum
 * <pre>  avg_t = Σ_{k=1..t} (1 − d)·d^(t−k)·w_k / (1 − d^t)</pre>
 * of the weights w_k after step k: the weights before the first step take no part (a plain EMA started from them
 * would keep d^t of the initial weights, 37% after 1/(1 − d) steps), and avg_1 = w_1. It is kept directly, as
 * avg_t = w_t + (1 − c_t)·(avg_{t−1} − w_t) with c_t = (1 − d)/(1 − d^t), on the parameters' backend in their flat
 * layout, so an update is three element-wise kernel calls and no copy to the host.
 */
public final class WeightAverage {
    /** Elements per kernel call (the element-wise kernels take an int shape). */
    private static final long CHUNK = 1L << 30;

    private final ParameterSet params;
    private final double decay;
    private final Buffer average;
    private long updates;

    /** An average of {@code params} with {@code decay} in [0, 1) (0: the average is the latest weights). */
    public WeightAverage(ParameterSet params, double decay) {
        if (!(decay >= 0 && decay < 1)) throw new IllegalArgumentException("weight average: decay must be in [0, 1), got " + decay);
        this.params = params;
        this.decay = decay;
        this.average = params.backend().allocate(params.count());
    }

    public double decay() {
        return decay;
    }

    /** Updates taken so far (the optimizer steps averaged over). */
    public long updates() {
        return updates;
    }

    /** Folds the parameters' current weights in; call after each optimizer step. */
    public void update() {
        updates++;
        Backend be = params.backend();
        if (updates == 1) {
            be.copy(params.data(), average);
            return;
        }
        float keep = (float) (1 - (1 - decay) / (1 - Math.pow(decay, updates)));
        for (long off = 0; off < params.count(); off += CHUNK) {
            long n = Math.min(CHUNK, params.count() - off);
            Buffer a = average.slice(off, n), w = params.data().slice(off, n);
            int[] shape = {(int) n}, unit = {1};
            be.binary(BinaryOp.SUB, shape, a, unit, w, unit, a);
            be.affine(a, keep, 0f, a);
            be.binary(BinaryOp.ADD, shape, a, unit, w, unit, a);
        }
    }

    /** Overwrites the parameters with the average (with no update yet, they are left as they are). */
    public void copyToParameters() {
        if (updates > 0) params.backend().copy(average, params.data());
    }

    /** The average, flat in the {@link ParameterSet}'s layout (for checkpoints). */
    public float[] toArray() {
        float[] out = new float[Math.toIntExact(params.count())];
        params.backend().download(average, out, 0);
        return out;
    }

    /** Restores the average and its update count from a checkpoint. */
    public void restore(float[] values, long updates) {
        if (values.length != params.count()) {
            throw new IllegalArgumentException("weight average: " + values.length + " values for " + params.count() + " parameters");
        }
        if (updates < 0) throw new IllegalArgumentException("weight average: negative update count " + updates);
        try (Buffer tmp = params.backend().upload(values, 0, values.length)) {
            params.backend().copy(tmp, average);
        }
        this.updates = updates;
    }
}

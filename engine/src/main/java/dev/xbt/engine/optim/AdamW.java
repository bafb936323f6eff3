package dev.xbt.engine.optim;

import dev.xbt.engine.ParameterSet;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Buffer;

/**
 * AdamW (Loshchilov & Hutter) over a {@link ParameterSet}: decoupled weight decay on the decay range
 * only, bias-corrected moments, two kernel calls per step.
 */
public final class AdamW implements Optimizer {
    private final ParameterSet params;
    private final float beta1, beta2, eps, weightDecay;
    private final Buffer m, v;
    private long step;

    public AdamW(ParameterSet params, float beta1, float beta2, float eps, float weightDecay) {
        if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("AdamW: betas must be in [0, 1): " + beta1 + ", " + beta2);
        }
        if (!(eps > 0) || !(weightDecay >= 0)) throw new IllegalArgumentException("AdamW: eps must be > 0 and weight decay >= 0");
        this.params = params;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.m = params.backend().allocate(params.count());
        this.v = params.backend().allocate(params.count());
    }

    /** PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
    public AdamW(ParameterSet params) {
        this(params, 0.9f, 0.999f, 1e-8f, 0.01f);
    }

    @Override
    public void step(float lr) {
        params.checkTrainable();
        step++;
        float bias1 = (float) (1 - Math.pow(beta1, step)), bias2 = (float) (1 - Math.pow(beta2, step));
        Backend be = params.backend();
        long nd = params.decayedCount(), n = params.count();
        if (nd > 0) {
            be.adamw(params.data().slice(0, nd), params.grads().slice(0, nd), m.slice(0, nd), v.slice(0, nd),
                    lr, beta1, beta2, eps, weightDecay, bias1, bias2);
        }
        if (n > nd) {
            be.adamw(params.data().slice(nd, n - nd), params.grads().slice(nd, n - nd), m.slice(nd, n - nd),
                    v.slice(nd, n - nd), lr, beta1, beta2, eps, 0f, bias1, bias2);
        }
    }

    @Override
    public long steps() {
        return step;
    }

    /** First moments, flat (for checkpoints). */
    public Buffer firstMoments() {
        return m;
    }

    /** Second moments, flat (for checkpoints). */
    public Buffer secondMoments() {
        return v;
    }

    /** Restores the step counter from a checkpoint (the moments are restored through their buffers). */
    public void setSteps(long steps) {
        this.step = steps;
    }
}

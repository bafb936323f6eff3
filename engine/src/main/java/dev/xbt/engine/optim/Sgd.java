package dev.xbt.engine.optim;

import dev.xbt.engine.ParameterSet;
import dev.xbt.engine.backend.Buffer;

/** SGD with momentum (PyTorch's formulation, no dampening), coupled L2 weight decay on the decay range. */
public final class Sgd implements Optimizer {
    private final ParameterSet params;
    private final float momentum, weightDecay;
    private final boolean nesterov;
    private final Buffer buf;
    private long step;

    public Sgd(ParameterSet params, float momentum, float weightDecay, boolean nesterov) {
        if (!(momentum >= 0) || !(weightDecay >= 0)) throw new IllegalArgumentException("Sgd: momentum and weight decay must be >= 0");
        this.params = params;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
        this.buf = params.backend().allocate(params.count());
    }

    @Override
    public void step(float lr) {
        params.checkTrainable();
        step++;
        long nd = params.decayedCount(), n = params.count();
        var be = params.backend();
        if (nd > 0) be.sgd(params.data().slice(0, nd), params.grads().slice(0, nd), buf.slice(0, nd), lr, momentum, weightDecay, nesterov);
        if (n > nd) be.sgd(params.data().slice(nd, n - nd), params.grads().slice(nd, n - nd), buf.slice(nd, n - nd), lr, momentum, 0f, nesterov);
    }

    @Override
    public long steps() {
        return step;
    }
}

package dev.xbt.engine;

import dev.xbt.engine.backend.Buffer;

/**
 * A named, learnable leaf. A frozen parameter takes part in the forward pass like a constant: no
 * gradient is ever computed for it, so ops skip the work (a frozen weight costs no weight-gradient
 * GEMM), and asking for its gradient is an error.
 */
public final class Parameter extends Tensor {
    private final String name;
    private boolean frozen;
    /** Whether grad is a view of a {@link ParameterSet}'s flat gradient buffer. */
    private boolean gradBound;

    public Parameter(String name, Tensor init) {
        super(init.backend, init.buffer, init.shape());
        this.name = name;
        super.requiresGrad(true);
    }

    public String name() {
        return name;
    }

    public boolean frozen() {
        return frozen;
    }

    /** Freezes or unfreezes; returns this. */
    public Parameter freeze(boolean value) {
        this.frozen = value;
        super.requiresGrad(!value);
        if (value) {
            // A packed parameter keeps its view of the flat gradient buffer (zeroed), so that
            // unfreezing it sends its gradients where the optimizer reads them again.
            if (gradBound) backend.fill(grad.buffer, 0f);
            else grad = null;
        }
        return this;
    }

    @Override
    public Tensor requiresGrad(boolean value) {
        return freeze(!value);
    }

    @Override
    public Tensor grad() {
        if (frozen) throw new EngineException("gradient asked of frozen parameter " + describe()
                + ": frozen parameters get no gradient; unfreeze it before the backward pass");
        return grad;
    }

    @Override
    public String describe() {
        return name + super.describe();
    }

    /** Points the gradient at a view of a flat gradient buffer (see {@link ParameterSet}). */
    void bindGrad(Buffer gradView) {
        grad = Tensor.wrap(gradView, shape());
        gradBound = true;
    }

    @Override
    public void zeroGrad() {
        if (grad != null) backend.fill(grad.buffer, 0f);
    }

    void rebindData(Buffer view) {
        rebind(view);
    }
}

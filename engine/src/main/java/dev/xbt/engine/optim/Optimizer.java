package dev.xbt.engine.optim;

/** One update of a parameter set from its accumulated gradients. */
public interface Optimizer {
    /** Applies one update with learning rate lr. */
    void step(float lr);

    /** Updates applied so far. */
    long steps();
}

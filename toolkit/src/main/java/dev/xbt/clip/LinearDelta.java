package dev.xbt.clip;

import dev.xbt.engine.Tensor;

/**
 * A learned term added to the output of one of a block's linear maps (see {@link BlockLinear}):
 * y = W·x + b + delta(x). LoRA is one: delta(x) = (alpha/r)·B·A·dropout(x).
 */
@FunctionalInterface
public interface LinearDelta {
    /** x [..., in] → [..., out], the same leading axes. */
    Tensor apply(Tensor x);
}

package dev.xbt.engine.nn;

import dev.xbt.engine.Nn;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.Tensor;

/** Layer normalisation over the last axis, gain "weight" and bias "bias" as PyTorch names them. */
public final class LayerNorm extends Module {
    private final Parameter weight, bias;
    private final float eps;

    public LayerNorm(String prefix, int width) {
        this(prefix, width, 1e-5f);
    }

    public LayerNorm(String prefix, int width, float eps) {
        super(prefix);
        this.eps = eps;
        this.weight = param("weight", Tensor.full(1f, width));
        this.bias = param("bias", Tensor.zeros(width));
    }

    public Tensor forward(Tensor x) {
        return Nn.layerNorm(x, weight, bias, eps);
    }
}

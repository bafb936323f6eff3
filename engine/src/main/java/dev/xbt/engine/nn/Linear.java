package dev.xbt.engine.nn;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.Ops;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;

/** y = x·Wᵀ + b with W stored [out, in] as PyTorch's nn.Linear, so checkpoints load unchanged. */
public class Linear extends Module {
    protected final Parameter weight;
    protected final Parameter bias;
    private final int in, out;

    /** With the given initial weight [out, in] and bias [out] (null: no bias). */
    public Linear(String prefix, Tensor weight, Tensor bias) {
        super(prefix);
        if (weight.rank() != 2 || bias != null && (bias.rank() != 1 || bias.dim(0) != weight.dim(0))) {
            throw EngineException.of("Linear " + prefix, "weight must be [out, in] and bias [out]", weight, bias);
        }
        this.out = weight.dim(0);
        this.in = weight.dim(1);
        this.weight = param("weight", weight);
        this.bias = bias == null ? null : param("bias", bias);
    }

    /** PyTorch's default initialisation: uniform(±1/√in) for weight and bias. */
    public static Linear uniformInit(String prefix, int in, int out, boolean bias, Rng rng) {
        float bound = (float) (1.0 / Math.sqrt(in));
        Tensor w = Tensor.uniform(rng, -bound, bound, out, in);
        return new Linear(prefix, w, bias ? Tensor.uniform(rng, -bound, bound, out) : null);
    }

    /** Normal(0, std²) weight and zero bias, as transformer initialisations use. */
    public static Linear normalInit(String prefix, int in, int out, float std, boolean bias, Rng rng) {
        return new Linear(prefix, Tensor.randn(rng, std, out, in), bias ? Tensor.zeros(out) : null);
    }

    public Tensor forward(Tensor x) {
        Tensor y = Ops.matmul(x, weight, false, true);
        return bias == null ? y : Ops.add(y, bias);
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    public int inFeatures() {
        return in;
    }

    public int outFeatures() {
        return out;
    }
}

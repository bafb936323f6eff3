package dev.xbt.adapters;

import dev.xbt.clip.LinearDelta;
import dev.xbt.engine.Nn;
import dev.xbt.engine.Ops;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.nn.Module;

import java.util.function.BooleanSupplier;

/**
 * The low-rank term of one adapted linear map: delta(x) = scale·B·A·dropout(x) with A [r, in],
 * B [out, r] and scale = alpha/r. Parameters are named as PEFT names them, under the adapted
 * module's path: {@code <path>.lora_A.weight}, {@code <path>.lora_B.weight}. A starts
 * uniform(±1/√in) (PEFT's Kaiming-uniform with a = √5), B at zero, so a fresh adapter changes
 * nothing.
 */
public final class LoraLinear extends Module implements LinearDelta {
    private final Parameter a, b;
    private final double scale;
    private final float dropout;
    private final Rng dropoutRng;
    private final BooleanSupplier training;

    LoraLinear(String modulePath, int in, int out, int rank, double scale, float dropout, Backend backend, Rng init,
               Rng dropoutRng, BooleanSupplier training) {
        super(modulePath);
        float bound = (float) (1 / Math.sqrt(in));
        float[] av = new float[rank * in];
        for (int i = 0; i < av.length; i++) av[i] = -bound + 2 * bound * init.nextFloat();
        this.a = param("lora_A.weight", Tensor.of(backend, av, rank, in));
        this.b = param("lora_B.weight", Tensor.zeros(backend, out, rank));
        this.scale = (float) scale; // the float32 factor the forward pass multiplies by, also used when merging
        this.dropout = dropout;
        this.dropoutRng = dropoutRng;
        this.training = training;
    }

    @Override
    public Tensor apply(Tensor x) {
        return delta(x, a, b, scale, dropout, dropoutRng, training.getAsBoolean());
    }

    /**
     * scale·dropout(x)·Aᵀ·Bᵀ for x [..., in]: the LoRA path on its own (the scale is applied to the
     * narrow [..., r] intermediate).
     */
    public static Tensor delta(Tensor x, Tensor a, Tensor b, double scale, float dropout, Rng rng, boolean training) {
        Tensor h = Nn.dropout(x, dropout, rng, training);
        return Ops.matmul(Ops.scale(Ops.matmul(h, a, false, true), (float) scale), b, false, true);
    }

    public Parameter a() {
        return a;
    }

    public Parameter b() {
        return b;
    }

    public double scale() {
        return scale;
    }

    /** scale·B·A [out, in], row-major, summed in float64: what merging adds to the base weight. */
    public double[] weightDelta() {
        int r = a.dim(0), in = a.dim(1), out = b.dim(0);
        double[] av = a.toDoubleArray(), bv = b.toDoubleArray(), d = new double[out * in];
        for (int i = 0; i < out; i++) {
            for (int k = 0; k < r; k++) {
                double bik = scale * bv[i * r + k];
                if (bik == 0) continue;
                for (int j = 0; j < in; j++) d[i * in + j] += bik * av[k * in + j];
            }
        }
        return d;
    }
}

package dev.xbt.clip;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.Nn;
import dev.xbt.engine.Ops;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.nn.LayerNorm;
import dev.xbt.engine.nn.Linear;
import dev.xbt.engine.nn.Module;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;

/**
 * CLIP's pre-LN residual block: x + attn(ln_1(x)), then + mlp(ln_2(·)). Attention uses one fused
 * in-projection [3W, W] as OpenCLIP stores it ({@code attn.in_proj_weight}); the MLP is
 * {@code mlp.c_fc} → activation → {@code mlp.c_proj}.
 *
 * <p>Adapters add learned terms to the block's linear maps with {@link #setDelta}; a block without
 * any runs exactly the computation it runs without adapter support.
 */
public final class ResidualAttentionBlock extends Module {
    private final int width, heads;
    private final ClipConfig.Activation activation;
    final LayerNorm ln1, ln2;
    final Parameter inProjWeight, inProjBias;
    final Linear outProj, cFc, cProj;
    private final Map<BlockLinear, LinearDelta> deltas = new EnumMap<>(BlockLinear.class);

    public ResidualAttentionBlock(String prefix, int width, int heads, int mlpRatio, ClipConfig.Activation activation,
                                  int layers, Rng rng) {
        super(prefix);
        this.width = width;
        this.heads = heads;
        this.activation = activation;
        // OpenCLIP's initialisation: attention std W^-1/2, residual projections scaled by (2·layers)^-1/2.
        float attnStd = (float) Math.pow(width, -0.5), projStd = attnStd * (float) Math.pow(2.0 * layers, -0.5);
        float fcStd = (float) Math.pow(2.0 * width, -0.5);
        ln1 = child(new LayerNorm(qualify("ln_1"), width));
        inProjWeight = param("attn.in_proj_weight", Tensor.randn(rng, attnStd, 3 * width, width));
        inProjBias = param("attn.in_proj_bias", Tensor.zeros(3 * width));
        outProj = child(Linear.normalInit(qualify("attn.out_proj"), width, width, projStd, true, rng));
        ln2 = child(new LayerNorm(qualify("ln_2"), width));
        cFc = child(Linear.normalInit(qualify("mlp.c_fc"), width, mlpRatio * width, fcStd, true, rng));
        cProj = child(Linear.normalInit(qualify("mlp.c_proj"), mlpRatio * width, width, projStd, true, rng));
    }

    /** x [B, T, W] → [B, T, W]; causal hides later tokens (the text tower). */
    public Tensor forward(Tensor x, boolean causal) {
        x = Ops.add(x, attention(ln1.forward(x), causal));
        return Ops.add(x, mlp(ln2.forward(x)));
    }

    private Tensor attention(Tensor x, boolean causal) {
        int b = x.dim(0), t = x.dim(1), dh = width / heads;
        Tensor qkv = Ops.add(Ops.matmul(x, inProjWeight, false, true), inProjBias);     // [B, T, 3W]
        if (deltas.containsKey(BlockLinear.Q_PROJ) || deltas.containsKey(BlockLinear.K_PROJ)
                || deltas.containsKey(BlockLinear.V_PROJ)) {
            qkv = Ops.add(qkv, Ops.concat(2, inProjDelta(BlockLinear.Q_PROJ, x), inProjDelta(BlockLinear.K_PROJ, x),
                    inProjDelta(BlockLinear.V_PROJ, x)));
        }
        qkv = Ops.permute(Ops.reshape(qkv, b, t, 3, heads, dh), 2, 0, 3, 1, 4);          // [3, B, H, T, Dh]
        Tensor q = Ops.reshape(Ops.slice(qkv, 0, 0, 1), b, heads, t, dh);
        Tensor k = Ops.reshape(Ops.slice(qkv, 0, 1, 2), b, heads, t, dh);
        Tensor v = Ops.reshape(Ops.slice(qkv, 0, 2, 3), b, heads, t, dh);
        Tensor o = Nn.attention(q, k, v, null, causal);                                   // [B, H, T, Dh]
        o = Ops.reshape(Ops.permute(o, 0, 2, 1, 3), b, t, width);
        return withDelta(BlockLinear.OUT_PROJ, outProj.forward(o), o);
    }

    private Tensor mlp(Tensor x) {
        Tensor h = withDelta(BlockLinear.C_FC, cFc.forward(x), x);
        h = activation == ClipConfig.Activation.QUICK_GELU ? Ops.quickGelu(h) : Ops.gelu(h);
        return withDelta(BlockLinear.C_PROJ, cProj.forward(h), h);
    }

    /** The delta of one third of the in-projection, or zeros where that third has none. */
    private Tensor inProjDelta(BlockLinear which, Tensor x) {
        LinearDelta d = deltas.get(which);
        return d != null ? checked(which, d.apply(x), x) : Tensor.zeros(x.backend(), x.dim(0), x.dim(1), width);
    }

    private Tensor withDelta(BlockLinear which, Tensor y, Tensor x) {
        LinearDelta d = deltas.get(which);
        return d == null ? y : Ops.add(y, checked(which, d.apply(x), x));
    }

    private Tensor checked(BlockLinear which, Tensor delta, Tensor x) {
        int[] want = x.shape();
        want[want.length - 1] = outFeatures(which);
        if (!Arrays.equals(delta.shape(), want)) {
            throw EngineException.of(qualify(which.path()), "delta must have shape " + Arrays.toString(want), delta);
        }
        return delta;
    }

    // ---- adapter support ----

    /** Adds {@code delta} to the output of {@code which} (null removes it). */
    public void setDelta(BlockLinear which, LinearDelta delta) {
        if (delta == null) deltas.remove(which);
        else deltas.put(which, delta);
    }

    /** Whether any delta is set. */
    public boolean hasDeltas() {
        return !deltas.isEmpty();
    }

    /** The full module name of {@code which} in this block ("visual.transformer.resblocks.3.attn.q_proj"). */
    public String modulePath(BlockLinear which) {
        return qualify(which.path());
    }

    public int inFeatures(BlockLinear which) {
        return switch (which) {
            case Q_PROJ, K_PROJ, V_PROJ -> width;
            case OUT_PROJ -> outProj.inFeatures();
            case C_FC -> cFc.inFeatures();
            case C_PROJ -> cProj.inFeatures();
        };
    }

    public int outFeatures(BlockLinear which) {
        return switch (which) {
            case Q_PROJ, K_PROJ, V_PROJ -> width;
            case OUT_PROJ -> outProj.outFeatures();
            case C_FC -> cFc.outFeatures();
            case C_PROJ -> cProj.outFeatures();
        };
    }

    /** The parameter holding {@code which}'s weight (for q, k, v: the whole fused in-projection). */
    public Parameter weightOf(BlockLinear which) {
        return switch (which) {
            case Q_PROJ, K_PROJ, V_PROJ -> inProjWeight;
            case OUT_PROJ -> outProj.weight();
            case C_FC -> cFc.weight();
            case C_PROJ -> cProj.weight();
        };
    }

    /**
     * Adds {@code delta} [out, in] (row-major, float64) to {@code which}'s weight, rounding each sum
     * to float32 once: how LoRA is folded into the base weights. For q, k, v only their rows of the
     * in-projection change.
     */
    public void addToWeight(BlockLinear which, double[] delta) {
        int out = outFeatures(which), in = inFeatures(which);
        if (delta.length != (long) out * in) {
            throw new IllegalArgumentException(modulePath(which) + ": weight delta has " + delta.length
                    + " values, the weight " + out + "×" + in);
        }
        Parameter w = weightOf(which);
        float[] values = w.toArray();
        int rowOffset = Math.max(0, which.inProjBlock()) * width;
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < in; j++) {
                int at = (rowOffset + i) * in + j;
                values[at] = (float) (values[at] + delta[i * in + j]);
            }
        }
        w.copyFrom(values);
    }
}

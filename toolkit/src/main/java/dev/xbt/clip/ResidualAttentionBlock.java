package dev.xbt.clip;

import dev.xbt.engine.Nn;
import dev.xbt.engine.Ops;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.nn.LayerNorm;
import dev.xbt.engine.nn.Linear;
import dev.xbt.engine.nn.Module;

/**
 * CLIP's pre-LN residual block: x + attn(ln_1(x)), then + mlp(ln_2(·)). Attention uses one fused
 * in-projection [3W, W] as OpenCLIP stores it ({@code attn.in_proj_weight}); the MLP is
 * {@code mlp.c_fc} → activation → {@code mlp.c_proj}.
 */
public final class ResidualAttentionBlock extends Module {
    private final int width, heads;
    private final ClipConfig.Activation activation;
    final LayerNorm ln1, ln2;
    final Parameter inProjWeight, inProjBias;
    final Linear outProj, cFc, cProj;

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
        qkv = Ops.permute(Ops.reshape(qkv, b, t, 3, heads, dh), 2, 0, 3, 1, 4);          // [3, B, H, T, Dh]
        Tensor q = Ops.reshape(Ops.slice(qkv, 0, 0, 1), b, heads, t, dh);
        Tensor k = Ops.reshape(Ops.slice(qkv, 0, 1, 2), b, heads, t, dh);
        Tensor v = Ops.reshape(Ops.slice(qkv, 0, 2, 3), b, heads, t, dh);
        Tensor o = Nn.attention(q, k, v, null, causal);                                   // [B, H, T, Dh]
        o = Ops.reshape(Ops.permute(o, 0, 2, 1, 3), b, t, width);
        return outProj.forward(o);
    }

    private Tensor mlp(Tensor x) {
        Tensor h = cFc.forward(x);
        h = activation == ClipConfig.Activation.QUICK_GELU ? Ops.quickGelu(h) : Ops.gelu(h);
        return cProj.forward(h);
    }
}

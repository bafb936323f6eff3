package dev.xbt.clip;

import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.nn.Module;

import java.util.ArrayList;
import java.util.List;

/** A stack of residual blocks named {@code <prefix>.resblocks.N}. */
public final class Transformer extends Module {
    private final List<ResidualAttentionBlock> blocks = new ArrayList<>();

    public Transformer(String prefix, int width, int layers, int heads, int mlpRatio, ClipConfig.Activation act, Rng rng) {
        super(prefix);
        for (int i = 0; i < layers; i++) {
            blocks.add(child(new ResidualAttentionBlock(qualify("resblocks." + i), width, heads, mlpRatio, act, layers, rng)));
        }
    }

    public Tensor forward(Tensor x, boolean causal) {
        for (ResidualAttentionBlock b : blocks) x = b.forward(x, causal);
        return x;
    }

    public List<ResidualAttentionBlock> blocks() {
        return List.copyOf(blocks);
    }
}

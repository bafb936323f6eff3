package dev.xbt.clip;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.Ops;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.nn.LayerNorm;
import dev.xbt.engine.nn.Module;

import java.util.Arrays;
import java.util.List;

/**
 * CLIP's image tower, with OpenCLIP's parameter names under {@code visual.}: the patch embedding
 * {@code conv1} (a stride-p convolution without bias, computed as patch extraction + one matmul),
 * {@code class_embedding}, {@code positional_embedding}, {@code ln_pre}, the transformer,
 * {@code ln_post} on the class token, and the projection {@code proj} [width, embed].
 *
 * <p>Visual prompt tokens (VPT, {@link #setPrompts}) are inserted right after the class token, once
 * the positional embedding has been added (prompts have no position), so they pass through
 * {@code ln_pre} with the other tokens; deep prompts then replace those positions with fresh tokens
 * at the input of every later block. The class token stays at position 0 and is still what is pooled.
 */
public final class VisionTransformer extends Module {
    private final ClipConfig.Vision cfg;
    final Parameter conv1, classEmbedding, positionalEmbedding, proj;
    final LayerNorm lnPre, lnPost;
    final Transformer transformer;
    private List<Tensor> prompts = List.of();

    public VisionTransformer(String prefix, ClipConfig.Vision cfg, int embedDim, ClipConfig.Activation act, Rng rng) {
        super(prefix);
        this.cfg = cfg;
        int w = cfg.width(), p = cfg.patchSize();
        float scale = (float) Math.pow(w, -0.5);
        conv1 = param("conv1.weight", Tensor.randn(rng, (float) Math.pow(3.0 * p * p, -0.5), w, 3, p, p));
        classEmbedding = param("class_embedding", Tensor.randn(rng, scale, w));
        positionalEmbedding = param("positional_embedding", Tensor.randn(rng, scale, cfg.tokens(), w));
        lnPre = child(new LayerNorm(qualify("ln_pre"), w));
        transformer = child(new Transformer(qualify("transformer"), w, cfg.layers(), cfg.heads(), cfg.mlpRatio(), act, rng));
        lnPost = child(new LayerNorm(qualify("ln_post"), w));
        proj = param("proj", Tensor.randn(rng, scale, w, embedDim));
    }

    /** images [B, 3, S, S] (normalised) → embeddings [B, embed], not yet L2-normalised. */
    public Tensor forward(Tensor images) {
        int[] s = images.shape();
        int size = cfg.imageSize(), p = cfg.patchSize(), g = cfg.gridSize(), w = cfg.width();
        if (s.length != 4 || s[1] != 3 || s[2] != size || s[3] != size) {
            throw EngineException.of("VisionTransformer", "expects images [B, 3, " + size + ", " + size + "]", images);
        }
        int b = s[0];
        // Patches as rows: [B, 3, g, p, g, p] → [B, g, g, 3, p, p] → [B·g·g, 3·p·p], then one matmul with conv1.
        Tensor patches = Ops.permute(Ops.reshape(images, b, 3, g, p, g, p), 0, 2, 4, 1, 3, 5);
        patches = Ops.reshape(patches, b * g * g, 3 * p * p);
        Tensor x = Ops.matmul(patches, Ops.reshape(conv1, w, 3 * p * p), false, true);
        x = Ops.reshape(x, b, g * g, w);
        Tensor cls = Ops.expand(Ops.reshape(classEmbedding, 1, 1, w), b, 1, w);
        x = Ops.add(Ops.concat(1, cls, x), positionalEmbedding);
        if (prompts.isEmpty()) {
            x = lnPre.forward(x);
            x = transformer.forward(x, false);
        } else {
            x = lnPre.forward(withPrompts(x, prompts.getFirst(), false));
            List<ResidualAttentionBlock> blocks = transformer.blocks();
            for (int i = 0; i < blocks.size(); i++) {
                if (i > 0 && prompts.size() > 1) x = withPrompts(x, prompts.get(i), true);
                x = blocks.get(i).forward(x, false);
            }
        }
        Tensor pooled = lnPost.forward(Ops.reshape(Ops.slice(x, 1, 0, 1), b, w));
        return Ops.matmul(pooled, proj);
    }

    /** x [B, T, W] with the prompts [N, W] inserted after the class token, or replacing positions 1..N. */
    private static Tensor withPrompts(Tensor x, Tensor prompt, boolean replace) {
        int b = x.dim(0), t = x.dim(1), w = x.dim(2), n = prompt.dim(0);
        Tensor p = Ops.expand(Ops.reshape(prompt, 1, n, w), b, n, w);
        return Ops.concat(1, Ops.slice(x, 1, 0, 1), p, Ops.slice(x, 1, replace ? 1 + n : 1, t));
    }

    /**
     * Sets the visual prompt tokens: none (an empty list), shallow (one [N, W] tensor, inserted at the
     * input) or deep (one per layer: the first inserted at the input, the i-th replacing the prompt
     * positions at the input of block i).
     */
    public void setPrompts(List<? extends Tensor> prompts) {
        if (!prompts.isEmpty()) {
            if (prompts.size() != 1 && prompts.size() != cfg.layers()) {
                throw new IllegalArgumentException("visual prompts: " + prompts.size() + " tensors; need 1 (shallow) or "
                        + cfg.layers() + " (deep, one per layer)");
            }
            int n = prompts.getFirst().dim(0);
            for (Tensor p : prompts) {
                if (p.rank() != 2 || p.dim(0) != n || p.dim(1) != cfg.width() || n < 1) {
                    throw new IllegalArgumentException("visual prompts must all be [N, " + cfg.width() + "] with N ≥ 1, got "
                            + Arrays.toString(p.shape()));
                }
            }
        }
        this.prompts = List.copyOf(prompts);
    }

    /** Prompt tokens per image (0 without prompts). */
    public int promptTokens() {
        return prompts.isEmpty() ? 0 : prompts.getFirst().dim(0);
    }

    public Transformer transformer() {
        return transformer;
    }

    public ClipConfig.Vision config() {
        return cfg;
    }
}

package dev.xbt.clip;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.Ops;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.nn.LayerNorm;
import dev.xbt.engine.nn.Module;

/**
 * CLIP's image tower, with OpenCLIP's parameter names under {@code visual.}: the patch embedding
 * {@code conv1} (a stride-p convolution without bias, computed as patch extraction + one matmul),
 * {@code class_embedding}, {@code positional_embedding}, {@code ln_pre}, the transformer,
 * {@code ln_post} on the class token, and the projection {@code proj} [width, embed].
 */
public final class VisionTransformer extends Module {
    private final ClipConfig.Vision cfg;
    final Parameter conv1, classEmbedding, positionalEmbedding, proj;
    final LayerNorm lnPre, lnPost;
    final Transformer transformer;

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
        x = lnPre.forward(x);
        x = transformer.forward(x, false);
        Tensor pooled = lnPost.forward(Ops.reshape(Ops.slice(x, 1, 0, 1), b, w));
        return Ops.matmul(pooled, proj);
    }

    public ClipConfig.Vision config() {
        return cfg;
    }
}

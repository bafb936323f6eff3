package dev.xbt.clip;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.Ops;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.nn.LayerNorm;
import dev.xbt.engine.nn.Module;

/**
 * CLIP's text tower with OpenCLIP's top-level names: {@code token_embedding}, {@code
 * positional_embedding}, {@code transformer} (causal), {@code ln_final}, {@code text_projection}
 * [width, embed]. Pools at the end-of-text token of each row, found as the highest id in the row:
 * 0 is a real BPE token ("!"), so nothing is ever masked by id.
 */
public final class TextTransformer extends Module {
    private final ClipConfig.Text cfg;
    final Parameter tokenEmbedding, positionalEmbedding, textProjection;
    final Transformer transformer;
    final LayerNorm lnFinal;

    public TextTransformer(String prefix, ClipConfig.Text cfg, int embedDim, ClipConfig.Activation act, Rng rng) {
        super(prefix);
        this.cfg = cfg;
        int w = cfg.width();
        tokenEmbedding = param("token_embedding.weight", Tensor.randn(rng, 0.02f, cfg.vocabSize(), w));
        positionalEmbedding = param("positional_embedding", Tensor.randn(rng, 0.01f, cfg.contextLength(), w));
        transformer = child(new Transformer(qualify("transformer"), w, cfg.layers(), cfg.heads(), cfg.mlpRatio(), act, rng));
        lnFinal = child(new LayerNorm(qualify("ln_final"), w));
        textProjection = param("text_projection", Tensor.randn(rng, (float) Math.pow(w, -0.5), w, embedDim));
    }

    /** tokens [B][T] (T = context length, padded) → embeddings [B, embed], not yet L2-normalised. */
    public Tensor forward(int[][] tokens) {
        int b = tokens.length, t = cfg.contextLength(), w = cfg.width();
        if (b == 0) throw new EngineException("TextTransformer: no texts");
        int[] ids = new int[b * t];
        int[] eot = new int[b];
        for (int i = 0; i < b; i++) {
            if (tokens[i].length != t) {
                throw new EngineException("TextTransformer: row " + i + " has " + tokens[i].length
                        + " tokens; the model's context length is " + t);
            }
            int best = 0;
            for (int j = 0; j < t; j++) {
                int id = tokens[i][j];
                if (id < 0 || id >= cfg.vocabSize()) {
                    throw new EngineException("TextTransformer: token id " + id + " at row " + i + ", position " + j
                            + " is outside the vocabulary of " + cfg.vocabSize());
                }
                if (id > tokens[i][best]) best = j;
                ids[i * t + j] = id;
            }
            eot[i] = best;
        }
        Tensor x = Ops.add(Ops.embedding(tokenEmbedding, ids, b, t), positionalEmbedding);
        x = transformer.forward(x, true);
        x = lnFinal.forward(x);
        return Ops.matmul(Ops.selectPerRow(x, eot), textProjection);
    }

    public ClipConfig.Text config() {
        return cfg;
    }
}

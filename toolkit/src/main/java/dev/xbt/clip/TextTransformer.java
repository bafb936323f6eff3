package dev.xbt.clip;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.Ops;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.nn.LayerNorm;
import dev.xbt.engine.nn.Module;

import java.util.Arrays;

/**
 * CLIP's text tower with OpenCLIP's top-level names: {@code token_embedding}, {@code
 * positional_embedding}, {@code transformer} (causal), {@code ln_final}, {@code text_projection}
 * [width, embed]. Pools at the end-of-text token of each row, found as the highest id in the row:
 * 0 is a real BPE token ("!"), so nothing is ever masked by id.
 *
 * <p>Learnable context tokens (CoOp, {@link #setContext}): M vectors placed right after the start
 * token. The context length T and the positional table stay as they are, so the caption gives up M
 * positions: a row is cut to T − M tokens first (keeping its end token, as the tokenizer truncates:
 * the same as tokenizing with context T − M), then the context goes in at positions 1..M and the
 * rest moves up by M; pooling follows the end token to its new position.
 */
public final class TextTransformer extends Module {
    private final ClipConfig.Text cfg;
    final Parameter tokenEmbedding, positionalEmbedding, textProjection;
    final Transformer transformer;
    final LayerNorm lnFinal;
    private Tensor context;

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
        Tensor x;
        if (context == null) {
            x = Ops.add(Ops.embedding(tokenEmbedding, ids, b, t), positionalEmbedding);
        } else {
            x = Ops.add(withContext(ids, eot, b), positionalEmbedding);
        }
        x = transformer.forward(x, true);
        x = lnFinal.forward(x);
        return Ops.matmul(Ops.selectPerRow(x, eot), textProjection);
    }

    /**
     * Token embeddings [B, T, W] with the context after the start token; the rows are cut to T − M
     * tokens (end token kept) and {@code eot} is moved to where the end tokens land.
     */
    private Tensor withContext(int[] ids, int[] eot, int b) {
        int t = cfg.contextLength(), w = cfg.width(), m = context.dim(0), kept = t - m;
        int[] cut = new int[b * kept];
        for (int i = 0; i < b; i++) {
            System.arraycopy(ids, i * t, cut, i * kept, kept);
            if (eot[i] >= kept) {
                cut[i * kept + kept - 1] = ids[i * t + eot[i]];
                eot[i] = kept - 1;
            }
            eot[i] += m;
        }
        Tensor e = Ops.embedding(tokenEmbedding, cut, b, kept);
        Tensor ctx = Ops.expand(Ops.reshape(context, 1, m, w), b, m, w);
        return Ops.concat(1, Ops.slice(e, 1, 0, 1), ctx, Ops.slice(e, 1, 1, kept));
    }

    /**
     * Sets learnable context tokens [M, W] (null removes them); 1 ≤ M ≤ T − 2 so that the start
     * and end tokens keep their places.
     */
    public void setContext(Tensor context) {
        if (context != null && (context.rank() != 2 || context.dim(1) != cfg.width() || context.dim(0) < 1
                || context.dim(0) > cfg.contextLength() - 2)) {
            throw new IllegalArgumentException("text context tokens must be [M, " + cfg.width() + "] with 1 ≤ M ≤ "
                    + (cfg.contextLength() - 2) + " (context length " + cfg.contextLength() + " − 2), got "
                    + Arrays.toString(context.shape()));
        }
        this.context = context;
    }

    /** Context tokens per text (0 without them). */
    public int contextTokens() {
        return context == null ? 0 : context.dim(0);
    }

    public Transformer transformer() {
        return transformer;
    }

    public ClipConfig.Text config() {
        return cfg;
    }
}

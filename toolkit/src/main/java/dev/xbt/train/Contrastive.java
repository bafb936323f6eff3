package dev.xbt.train;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.Nn;
import dev.xbt.engine.Ops;
import dev.xbt.engine.Tensor;

/**
 * The symmetric InfoNCE loss of CLIP: row i of {@code a} and row i of {@code b} are a matching pair,
 * every other row of the batch is a negative. Both inputs are L2-normalised here, the logits are
 * {@code exp(logScale)·âb̂ᵀ}, and the loss is the mean of the a→b and b→a cross-entropies against
 * the diagonal. Used by CLIP training and by every later model that aligns two embedding spaces.
 */
public final class Contrastive {
    private Contrastive() {}

    /**
     * Symmetric InfoNCE with a learnable temperature: {@code logScale} is a one-element tensor
     * holding ln(scale) (CLIP's {@code logit_scale}); a and b are [B, d].
     */
    public static Tensor symmetricInfoNce(Tensor a, Tensor b, Tensor logScale) {
        if (logScale.size() != 1) throw EngineException.of("symmetricInfoNce", "logScale must have one element", logScale);
        Tensor sim = cosineMatrix(a, b);
        return symmetric(Ops.mul(sim, Ops.exp(Ops.reshape(logScale, 1, 1))));
    }

    /** Symmetric InfoNCE with a fixed temperature: logits = âb̂ᵀ / temperature. */
    public static Tensor symmetricInfoNce(Tensor a, Tensor b, float temperature) {
        if (!(temperature > 0f) || Float.isInfinite(temperature)) {
            throw new EngineException("symmetricInfoNce: temperature must be a positive finite number, got " + temperature);
        }
        return symmetric(Ops.scale(cosineMatrix(a, b), 1f / temperature));
    }

    /** [B, B] cosine similarities of the rows of a and b. */
    private static Tensor cosineMatrix(Tensor a, Tensor b) {
        if (a.rank() != 2 || b.rank() != 2 || a.dim(0) != b.dim(0) || a.dim(1) != b.dim(1) || a.dim(0) == 0) {
            throw EngineException.of("symmetricInfoNce", "needs two non-empty [B, d] embeddings of the same shape", a, b);
        }
        return Ops.matmul(Nn.l2Normalize(a), Nn.l2Normalize(b), false, true);
    }

    private static Tensor symmetric(Tensor logits) {
        Tensor aToB = crossEntropyToDiagonal(logits);
        Tensor bToA = crossEntropyToDiagonal(Ops.transpose(logits, 0, 1));
        return Ops.scale(Ops.add(aToB, bToA), 0.5f);
    }

    /** The mean cross-entropy of [B, B] {@code logits} whose row i has its match in column i. */
    public static Tensor crossEntropyToDiagonal(Tensor logits) {
        int n = logits.dim(0);
        int[] diagonal = new int[n];
        for (int i = 0; i < n; i++) diagonal[i] = i;
        return Nn.crossEntropy(logits, diagonal);
    }
}

package dev.xbt.xbt;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.Nn;
import dev.xbt.engine.Ops;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import dev.xbt.train.Contrastive;

import java.util.Arrays;

/**
 * The loss pieces of XBT's two training stages (the loops that use them live with the trainers).
 *
 * <p><b>Stage 1</b> teaches ψ to map new text embeddings onto the old model's: for a batch of captions embedded by
 * both models, z_new [B, newDim] and z_old [B, oldDim],
 * <pre>
 *   loss = alignWeight · align(ψ(noisy(z_new)), z_old) + nceWeight · InfoNCE(ψ(z_new), z_old; temperature)
 * </pre>
 * where noisy(z) = normalize(z + ε), ε ~ N(0, noiseVariance·I): the noise widens what ψ sees around each text
 * embedding so that it also serves image embeddings, which sit elsewhere in the new space (the modality gap).
 * align is 1 − cosine (mean over the batch) or the mean squared error; InfoNCE is the symmetric one of
 * {@link Contrastive}, the batch's other old embeddings being the negatives.
 *
 * <p><b>Stage 2</b> tunes the new model so that, through ψ, its images and texts match each other in the old space
 * while its texts stay where stage 1 put them:
 * <pre>
 *   loss = InfoNCE(ψ(new image emb), ψ(new text emb); temperature) + consistencyWeight · align(ψ(new text emb), stage-1 value)
 * </pre>
 * The stage-1 value (ψ of the text embedding from the stage-1 model) is a target: no gradient flows into it.
 */
public final class XbtLoss {
    private XbtLoss() {}

    /** How far apart two batches of embeddings are. */
    public enum Alignment {
        /** Mean over rows of 1 − cos(a_i, b_i). */
        COSINE,
        /** Mean over all elements of (a − b)². */
        MSE
    }

    /** Stage-1 settings; {@link #defaults()} as described in the class comment. */
    public record Stage1(float noiseVariance, Alignment alignment, float alignWeight, float nceWeight, float temperature) {
        public static final float DEFAULT_NOISE_VARIANCE = 0.016f;

        public Stage1 {
            if (!(noiseVariance >= 0) || Float.isInfinite(noiseVariance)) {
                throw new IllegalArgumentException("stage 1: noise variance must be finite and >= 0, got " + noiseVariance);
            }
            if (alignment == null) throw new IllegalArgumentException("stage 1: alignment must be given");
            if (!(alignWeight >= 0) || !(nceWeight >= 0)) throw new IllegalArgumentException("stage 1: weights must be >= 0");
            if (!(temperature > 0) || Float.isInfinite(temperature)) {
                throw new IllegalArgumentException("stage 1: temperature must be positive, got " + temperature);
            }
        }

        /** Noise variance 0.016, cosine alignment of weight 1, InfoNCE of weight 1 at temperature 0.05. */
        public static Stage1 defaults() {
            return new Stage1(DEFAULT_NOISE_VARIANCE, Alignment.COSINE, 1f, 1f, 0.05f);
        }
    }

    /** Stage-2 settings. */
    public record Stage2(float temperature, float consistencyWeight, Alignment consistency) {
        public Stage2 {
            if (!(temperature > 0) || Float.isInfinite(temperature)) {
                throw new IllegalArgumentException("stage 2: temperature must be positive, got " + temperature);
            }
            if (!(consistencyWeight >= 0)) throw new IllegalArgumentException("stage 2: consistency weight must be >= 0");
            if (consistency == null) throw new IllegalArgumentException("stage 2: consistency alignment must be given");
        }

        /** Temperature 0.05, cosine consistency of weight 1. */
        public static Stage2 defaults() {
            return new Stage2(0.05f, 1f, Alignment.COSINE);
        }
    }

    /** A loss and its two terms (unweighted), for logging. */
    public record Parts(Tensor total, Tensor first, Tensor second) {}

    /** align(a, b) as defined by {@code kind}; a and b of the same shape [B, d]. */
    public static Tensor align(Tensor a, Tensor b, Alignment kind) {
        if (!Arrays.equals(a.shape(), b.shape()) || a.rank() != 2) {
            throw EngineException.of("align", "needs two [B, d] tensors of the same shape", a, b);
        }
        return switch (kind) {
            case COSINE -> Ops.addScalar(Ops.neg(Ops.mean(Nn.cosineSimilarity(a, b))), 1f);
            case MSE -> Nn.mse(a, b);
        };
    }

    /**
     * normalize(z + ε) with ε ~ N(0, variance) drawn on the host from {@code rng} (one draw per element, row-major), so
     * the same rng state gives the same noise on every backend. Records no gradient into the noise; z's gradient flows.
     */
    public static Tensor noisy(Tensor z, float variance, Rng rng) {
        double std = Math.sqrt(variance);
        double[] eps = new double[z.size()];
        for (int i = 0; i < eps.length; i++) eps[i] = std * rng.nextGaussian();
        return Nn.l2Normalize(Ops.add(z, Tensor.of(z.backend(), eps, z.shape())));
    }

    /**
     * Stage 1 from ψ's outputs: {@code mappedNoisy} = ψ(noisy(z_new)), {@code mappedClean} = ψ(z_new), against z_old.
     * {@code first} is the alignment term, {@code second} the InfoNCE term.
     */
    public static Parts stage1(Tensor mappedNoisy, Tensor mappedClean, Tensor zOld, Stage1 s) {
        Tensor a = align(mappedNoisy, zOld, s.alignment());
        Tensor nce = Contrastive.symmetricInfoNce(mappedClean, zOld, s.temperature());
        Tensor total = Ops.add(Ops.scale(a, s.alignWeight()), Ops.scale(nce, s.nceWeight()));
        return new Parts(total, a, nce);
    }

    /** Stage 1 for ψ on a batch: draws the noise from {@code rng} (see {@link #noisy}), then {@link #stage1(Tensor, Tensor, Tensor, Stage1)}. */
    public static Parts stage1(Projection psi, Tensor zNew, Tensor zOld, Stage1 s, Rng rng) {
        Tensor mappedNoisy = psi.forward(noisy(zNew, s.noiseVariance(), rng));
        return stage1(mappedNoisy, psi.forward(zNew), zOld, s);
    }

    /**
     * Stage 2's contrastive term with every training caption as a negative of the image→text direction (the task of
     * the image→text cell: an image must find its captions among all of the gallery's, not a batch's):
     * <pre>
     *   ½ · CE(ψ(image)·bankᵀ/τ + mask, positives) + ½ · CE(ψ(text)·ψ(image)ᵀ/τ, diagonal)
     * </pre>
     * {@code bank} [N, oldDim] holds the stage-1 ψ of every training caption (a constant: no gradient), {@code
     * positives[i]} is the bank row of image i's caption in the batch, and {@code sameImage[i]} the other bank rows
     * that are captions of image i too: they get a logit of −10⁹ (neither positive nor negative; finite, so no ∞ − ∞). The text→image
     * direction stays within the batch. With the batch's captions as the bank and no other captions this is the
     * symmetric InfoNCE of {@link Contrastive}.
     */
    public static Tensor imageToAllCaptions(Tensor mappedImages, Tensor mappedTexts, Tensor bank, int[] positives,
                                            int[][] sameImage, float temperature) {
        int b = mappedImages.dim(0), n = bank.dim(0);
        if (positives.length != b || sameImage.length != b) {
            throw EngineException.of("imageToAllCaptions", positives.length + " positives, " + sameImage.length
                    + " same-image lists for a batch of " + b, mappedImages);
        }
        Tensor img = Nn.l2Normalize(mappedImages);
        Tensor toBank = Ops.scale(Ops.matmul(img, Nn.l2Normalize(bank.detach()), false, true), 1f / temperature);
        float[] mask = new float[b * n];
        for (int i = 0; i < b; i++) {
            for (int r : sameImage[i]) if (r != positives[i]) mask[i * n + r] = -1e9f;
        }
        Tensor i2t = Nn.crossEntropy(Ops.add(toBank, Tensor.of(img.backend(), mask, b, n)), positives);
        Tensor t2i = Contrastive.crossEntropyToDiagonal(
                Ops.scale(Ops.matmul(Nn.l2Normalize(mappedTexts), img, false, true), 1f / temperature));
        return Ops.scale(Ops.add(i2t, t2i), 0.5f);
    }

    /**
     * Stage 2 from ψ's outputs: {@code mappedImages} = ψ(new image emb), {@code mappedTexts} = ψ(new text emb),
     * {@code stage1Texts} = ψ(stage-1 text emb) (detached here: a target). {@code first} is the InfoNCE term,
     * {@code second} the consistency term.
     */
    public static Parts stage2(Tensor mappedImages, Tensor mappedTexts, Tensor stage1Texts, Stage2 s) {
        return withConsistency(Contrastive.symmetricInfoNce(mappedImages, mappedTexts, s.temperature()), mappedTexts, stage1Texts, s);
    }

    /**
     * A stage-2 contrastive term {@code nce} plus the consistency term: consistencyWeight · align(ψ(new text),
     * stage-1 value), the stage-1 value detached (a target). {@code first} is nce, {@code second} the consistency term.
     */
    public static Parts withConsistency(Tensor nce, Tensor mappedTexts, Tensor stage1Texts, Stage2 s) {
        Tensor keep = align(mappedTexts, stage1Texts.detach(), s.consistency());
        return new Parts(Ops.add(nce, Ops.scale(keep, s.consistencyWeight())), nce, keep);
    }
}

package dev.xbt.clip;

import dev.xbt.engine.Nn;
import dev.xbt.engine.Ops;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.nn.Module;
import dev.xbt.weights.ModelContract;

import java.util.Optional;

/**
 * CLIP: an image tower ({@code visual.*}), a text tower (top-level names, as OpenCLIP) and the
 * learnable temperature {@code logit_scale} (initialised to ln(1/0.07); training clamps it to
 * [0, ln 100] after each step, {@link #MAX_LOGIT_SCALE}, as OpenCLIP does).
 * Either tower can be used alone: a gallery is built with one, queries with the other.
 */
public final class ClipModel extends Module {
    public static final float MAX_LOGIT_SCALE = (float) Math.log(100);
    private final ClipConfig config;
    private final VisionTransformer visual;
    private final TextTransformer text;
    private final Parameter logitScale;
    private ModelContract contract;

    public ClipModel(ClipConfig config, Rng rng) {
        super("");
        this.config = config;
        this.visual = child(new VisionTransformer("visual", config.vision(), config.embedDim(), config.activation(), rng));
        this.text = child(new TextTransformer("", config.text(), config.embedDim(), config.activation(), rng));
        this.logitScale = param("logit_scale", Tensor.of(new float[] {(float) Math.log(1 / 0.07)}));
    }

    public ClipConfig config() {
        return config;
    }

    public VisionTransformer visual() {
        return visual;
    }

    public TextTransformer text() {
        return text;
    }

    public Parameter logitScale() {
        return logitScale;
    }

    /**
     * The compatibility contract of these weights: set when loaded from a checkpoint that records one
     * (or by whoever made the model); components built for a model (adapters, projections) check it.
     */
    public Optional<ModelContract> contract() {
        return Optional.ofNullable(contract);
    }

    public void setContract(ModelContract contract) {
        this.contract = contract;
    }

    /** Image embeddings [B, embed] (unnormalised). */
    public Tensor encodeImage(Tensor images) {
        return visual.forward(images);
    }

    /** Text embeddings [B, embed] (unnormalised). */
    public Tensor encodeText(int[][] tokens) {
        return text.forward(tokens);
    }

    /** Image→text logits [Bi, Bt] = exp(logit_scale)·normalised image · normalised textᵀ. */
    public Tensor logits(Tensor imageEmbeddings, Tensor textEmbeddings) {
        Tensor sim = Ops.matmul(Nn.l2Normalize(imageEmbeddings), Nn.l2Normalize(textEmbeddings), false, true);
        return Ops.mul(sim, Ops.exp(logitScale));
    }
}

package dev.xbt.xbt;

import dev.xbt.adapters.AdapterConfig;
import dev.xbt.data.DataSourceException;
import dev.xbt.data.DataSources;
import dev.xbt.data.Splits;
import dev.xbt.data.TextSource;
import dev.xbt.train.TrainConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The settings of the XBT pipeline in one {@link TrainConfig} schema: the models and data, stage 1 (ψ on text),
 * stage 2 (adapters on image–text pairs, the old model never called), the BCT baseline (adapters with the old
 * model's embeddings as targets) and the evaluation. Every command of the pipeline reads the same file
 * (configs/xbt/*.yaml), so one file describes an experiment.
 */
public final class XbtConfig {
    private XbtConfig() {}

    public static TrainConfig.Schema schema() {
        return new TrainConfig.Schema()
                .add("old", "models/shapes-old/model.safetensors", "the old model (its embeddings of the gallery stay)")
                .add("new", "models/shapes-new/model.safetensors", "the new model (queries go through it and ψ)")
                .add("data.dir", "data/shapes-6k", "the data set folder (manifest.jsonl)")
                .add("data.split", Splits.TRAIN, "split trained on (stage 1 uses its captions, stage 2 its pairs)")
                .add("data.val_split", Splits.VAL, "split used to choose the SLERP weight")
                .add("eval.split", Splits.TEST, "split of the compatibility report")
                .add("eval.data", "", "data set of the compatibility report, e.g. a held-out set made with "
                        + "'xbt data prepare ... --split test' (empty: data.dir)")
                .add("eval.folds", 1, "galleries the report's images are cut into, each query ranked within its own "
                        + "(COCO's 5-fold 1K test: a large held-out set at the difficulty of a small gallery); 1: one gallery")
                .add("projection.depth", 2, "linear layers on ψ's MLP path (1: a single linear map)")
                .add("projection.hidden", 0, "ψ's hidden width (0: 4 x the old model's dimension)")
                .add("projection.activation", "gelu", "activation after each hidden layer: gelu, relu or tanh")
                .add("projection.norm", "layer_norm", "normalisation of each hidden layer, before its activation: layer_norm or none")
                .add("projection.residual", true, "add a bias-free linear path new -> old, starting as the raw map "
                        + "(ψ then starts as zero-padding/truncation and learns the correction)")
                .add("projection.init", "raw", "where ψ's residual path starts before stage 1: raw (zero-padding/truncation), "
                        + "procrustes or ridge (those maps fitted on stage 1's text pairs, ridge with baselines.ridge); "
                        + "needs projection.residual")
                .add("stage1.seed", 0L, "seed of ψ's initial weights, the noise and the batch order")
                .add("stage1.steps", 600L, "optimizer steps of ψ's pretraining")
                .add("stage1.extra_text", "", "extra text sources ψ also trains on, after the training captions, comma-"
                        + "separated (xbt data sources lists them, e.g. wordnet); empty: the captions only")
                .add("stage1.extra_text_limit", 0, "at most this many texts from each extra source, spread evenly over "
                        + "it (0: all of them)")
                .add("stage1.batch_size", 256, "texts a step")
                .add("stage1.lr", 2e-3, "peak learning rate")
                .add("stage1.warmup_steps", 30L, "steps of linear warmup")
                .add("stage1.noise_var", 0.016, "variance of the Gaussian noise added to z_new (then re-normalised)")
                .add("stage1.loss", "cosine", "match term: cosine (1 - cos) or mse")
                .add("stage1.match_weight", 1.0, "weight of the match term")
                .add("stage1.infonce_weight", 0.1, "weight of the InfoNCE term between ψ(z_new) and the batch's z_old")
                .add("stage1.temperature", 0.05, "InfoNCE temperature")
                .add("stage1.ema_decay", 0.0, "decay of an exponential moving average of ψ's weights over the steps, "
                        + "which is what is saved (0: none, the last step's weights; e.g. 0.99 averages about the last 100 steps)")
                .add("stage2.seed", 0L, "seed of the adapters' initial weights and the batch order")
                .add("stage2.steps", 120L, "optimizer steps of adapter tuning")
                .add("stage2.batch_size", 64, "image-caption pairs a step")
                .add("stage2.lr", 1e-3, "peak learning rate")
                .add("stage2.warmup_steps", 10L, "steps of linear warmup")
                .add("stage2.temperature", 0.05, "InfoNCE temperature inside the old space")
                .add("stage2.consistency_weight", 1.0, "weight of 1 - cos(ψ(new text), stage-1 ψ(frozen new text))")
                .add("stage2.negatives", "batch", "negatives of stage 2's image->text term: batch (the batch's other "
                        + "captions) or captions (every training caption's stage-1 ψ, an image's other captions left out)")
                .add("stage2.contrast_stage1_text", false, "contrast the images with their captions' stage-1 ψ (constants) "
                        + "instead of the current ψ(new text): a trained ψ or text tower then moves the text side only "
                        + "through the consistency term")
                .add("stage2.train_projection", false, "also train ψ (at the adapters' learning rate)")
                .add("stage2.ema_decay", 0.0, "decay of an exponential moving average of the adapters' (and a trained ψ's) "
                        + "weights over the steps, which is what is saved (0: none; not used by BCT)")
                .add("adapters.lora.rank", 4, "LoRA rank (0: no LoRA)")
                .add("adapters.lora.alpha", 8.0, "LoRA alpha (scale alpha/rank)")
                .add("adapters.lora.dropout", 0.0, "LoRA dropout")
                .add("adapters.lora.visual_targets", "q_proj,v_proj,c_fc,c_proj", "LoRA targets in the image tower (all, none or names)")
                .add("adapters.lora.visual_layers", "all", "image-tower layers adapted: all or FROM:TO")
                .add("adapters.lora.text_targets", "none", "LoRA targets in the text tower (all, none or names)")
                .add("adapters.lora.text_layers", "all", "text-tower layers adapted: all or FROM:TO")
                .add("adapters.prompts.visual_tokens", 0, "visual prompt tokens (0: none)")
                .add("adapters.prompts.visual_deep", false, "deep visual prompts (every layer)")
                .add("adapters.prompts.text_context", 0, "learnable text context tokens (0: none)")
                .add("bct.steps", 120L, "optimizer steps of the BCT baseline (same adapters, old model's embeddings as targets)")
                .add("bct.lr", 1e-3, "peak learning rate of BCT")
                .add("train.grad_clip", 1.0, "maximum global gradient L2 norm (0: no clipping)")
                .add("train.log_every", 10L, "steps between metrics lines")
                .add("train.checkpoint_every", 100L, "steps between checkpoints")
                .add("baselines.ridge", 1e-2, "ridge penalty of the linear map")
                .add("baselines.slerp_alphas", "0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1", "SLERP weights tried on data.val_split");
    }

    /** The adapter settings of a config; errors name the field. */
    public static AdapterConfig adapters(TrainConfig c) {
        AdapterConfig.Builder b = AdapterConfig.builder();
        int rank = c.getInt("adapters.lora.rank");
        try {
            if (rank > 0) {
                b.lora(rank, c.getDouble("adapters.lora.alpha"), c.getDouble("adapters.lora.dropout"))
                        .targets(AdapterConfig.Tower.VISUAL, c.getString("adapters.lora.visual_targets"))
                        .layers(AdapterConfig.Tower.VISUAL, c.getString("adapters.lora.visual_layers"))
                        .targets(AdapterConfig.Tower.TEXT, c.getString("adapters.lora.text_targets"))
                        .layers(AdapterConfig.Tower.TEXT, c.getString("adapters.lora.text_layers"));
            }
            b.visualPrompts(c.getInt("adapters.prompts.visual_tokens"), c.getBoolean("adapters.prompts.visual_deep"))
                    .textContext(c.getInt("adapters.prompts.text_context"));
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("config adapters: " + e.getMessage());
        }
    }

    /**
     * The shape of ψ (and of BCT's head) from the {@code projection.*} fields, between a new space of {@code newDim}
     * and an old one of {@code oldDim}; errors name the field.
     */
    public static ProjectionConfig projection(TrainConfig c, int newDim, int oldDim) {
        int hidden = c.getInt("projection.hidden");
        return new ProjectionConfig(newDim, oldDim, c.getInt("projection.depth"), hidden > 0 ? hidden : 4 * oldDim,
                choice(c, "projection.activation", ProjectionConfig.Activation.class),
                choice(c, "projection.norm", ProjectionConfig.Norm.class), c.getBoolean("projection.residual"));
    }

    /** The negatives of stage 2's image→text term ({@code stage2.negatives}). */
    public enum Negatives { BATCH, CAPTIONS }

    /** The {@code stage2.negatives} of a config; errors name the field. */
    public static Negatives stage2Negatives(TrainConfig c) {
        return choice(c, "stage2.negatives", Negatives.class);
    }

    /** Where ψ's residual path starts before stage 1 ({@code projection.init}). */
    public enum ProjectionInit { RAW, PROCRUSTES, RIDGE }

    /** The {@code projection.init} of a config; errors name the field. */
    public static ProjectionInit projectionInit(TrainConfig c) {
        return choice(c, "projection.init", ProjectionInit.class);
    }

    private static <E extends Enum<E>> E choice(TrainConfig c, String field, Class<E> type) {
        String v = c.getString(field);
        for (E e : type.getEnumConstants()) if (e.name().equalsIgnoreCase(v)) return e;
        throw new IllegalArgumentException("config field '" + field + "' must be one of "
                + java.util.Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT)).toList()
                + ", got '" + v + "'");
    }

    /** Range checks before anything is loaded; errors name the field. */
    public static void validate(TrainConfig c) {
        for (String f : new String[] {"data.split", "data.val_split", "eval.split"}) {
            if (!Splits.ALL.contains(c.getString(f))) {
                throw new IllegalArgumentException("config field '" + f + "' must be one of " + Splits.ALL + ", got '"
                        + c.getString(f) + "'");
            }
        }
        c.intAtLeast("eval.folds", 1);
        c.intAtLeast("projection.depth", 1);
        c.intAtLeast("projection.hidden", 0);
        projection(c, 1, 1);
        ProjectionInit init = projectionInit(c);
        if (init != ProjectionInit.RAW && !c.getBoolean("projection.residual")) {
            throw new IllegalArgumentException("config field 'projection.init' is " + c.getString("projection.init")
                    + ", which starts ψ's residual path, but projection.residual is false");
        }
        for (String s : new String[] {"stage1", "stage2"}) {
            c.longAtLeast(s + ".steps", 1);
            c.intAtLeast(s + ".batch_size", 2);
            c.doubleIn(s + ".lr", 0, true, 10);
            c.longAtLeast(s + ".warmup_steps", 0);
            c.doubleIn(s + ".temperature", 0, true, 100);
            double ema = c.getDouble(s + ".ema_decay");
            if (!(ema >= 0 && ema < 1)) {
                throw new IllegalArgumentException("config field '" + s + ".ema_decay' must be in [0, 1), got " + ema);
            }
        }
        c.doubleIn("stage1.noise_var", 0, false, 10);
        extraText(c);
        c.intAtLeast("stage1.extra_text_limit", 0);
        String loss = c.getString("stage1.loss").toLowerCase(Locale.ROOT);
        if (!loss.equals("cosine") && !loss.equals("mse")) {
            throw new IllegalArgumentException("config field 'stage1.loss' must be cosine or mse, got '" + c.getString("stage1.loss") + "'");
        }
        c.doubleIn("stage1.match_weight", 0, false, 1e6);
        c.doubleIn("stage1.infonce_weight", 0, false, 1e6);
        c.doubleIn("stage2.consistency_weight", 0, false, 1e6);
        stage2Negatives(c);
        c.longAtLeast("bct.steps", 1);
        c.doubleIn("bct.lr", 0, true, 10);
        c.doubleIn("train.grad_clip", 0, false, 1e9);
        c.longAtLeast("train.log_every", 1);
        c.longAtLeast("train.checkpoint_every", 1);
        c.doubleIn("baselines.ridge", 0, false, 1e9);
        slerpAlphas(c);
        adapters(c);
    }

    /** The data set of the compatibility report: {@code eval.data}, or {@code data.dir} when that is empty. */
    public static String evalData(TrainConfig c) {
        String v = c.getString("eval.data");
        return v.isBlank() ? c.getString("data.dir") : v;
    }

    /** The text sources of {@code stage1.extra_text}, in order (none when it is empty); errors name the field. */
    public static List<TextSource> extraText(TrainConfig c) {
        String v = c.getString("stage1.extra_text");
        List<TextSource> sources = new ArrayList<>();
        for (String name : v.split(",")) {
            if (name.isBlank()) continue;
            try {
                sources.add(DataSources.textSource(name.strip().toLowerCase(Locale.ROOT)));
            } catch (DataSourceException e) {
                throw new IllegalArgumentException("config field 'stage1.extra_text': " + e.getMessage());
            }
        }
        return sources;
    }

    static double[] slerpAlphas(TrainConfig c) {
        String s = c.getString("baselines.slerp_alphas");
        try {
            double[] a = java.util.Arrays.stream(s.split(",")).map(String::strip).mapToDouble(Double::parseDouble).toArray();
            for (double x : a) if (!(x >= 0 && x <= 1)) throw new NumberFormatException();
            return a;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("config field 'baselines.slerp_alphas' must be numbers in [0, 1] separated by "
                    + "commas, got '" + s + "'");
        }
    }
}

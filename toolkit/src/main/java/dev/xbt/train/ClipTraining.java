package dev.xbt.train;

import dev.xbt.clip.ClipCheckpoint;
import dev.xbt.clip.ClipConfig;
import dev.xbt.clip.ClipModel;
import dev.xbt.data.Augmentation;
import dev.xbt.data.BatchLoader;
import dev.xbt.data.Manifest;
import dev.xbt.data.Progress;
import dev.xbt.data.Splits;
import dev.xbt.eval.DatasetEncoder;
import dev.xbt.eval.Direction;
import dev.xbt.eval.Ranks;
import dev.xbt.eval.Retrieval;
import dev.xbt.engine.ParameterSet;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.optim.AdamW;
import dev.xbt.engine.optim.WarmupCosine;
import dev.xbt.image.ClipPreprocess;
import dev.xbt.text.BpeMerge;
import dev.xbt.text.BpeTrainer;
import dev.xbt.text.ClipTokenizer;
import dev.xbt.text.MergesFile;
import dev.xbt.weights.ModelContract;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code xbt train-clip}: a CLIP model trained from scratch on an image–caption data set with the symmetric InfoNCE
 * loss ({@link Contrastive}), its temperature learned and clamped at 100 ({@link ClipModel#MAX_LOGIT_SCALE}) after
 * each step, AdamW with warmup and cosine decay and global gradient clipping, through the shared {@link Trainer}.
 *
 * <p><b>Tokenizer.</b> CLIP's byte-level BPE. Unless {@code tokenizer.merges} names a merges file, the merges are
 * learned ({@link BpeTrainer}) from the captions of the training images, up to {@code model.text.vocab_size} ids;
 * either way they are stored in the model file, which therefore needs no vocabulary beside it.
 *
 * <p><b>Determinism.</b> The initial weights come from {@code Rng(train.seed)}; the data order and caption choice
 * from a second generator derived from the seed ({@link BatchLoader#epoch} draws an epoch's randomness up front).
 * A checkpoint holds that generator's state at the start of the current epoch and the batches taken since, so a
 * resumed run sees the same batches in the same order.
 *
 * <p>The run directory gets {@value #MODEL_FILE}: the trained model with its config, contract and merges.
 */
public final class ClipTraining {
    public static final String MODEL_FILE = "model.safetensors";
    /** Mixed into the seed for the data generator, so data order and initial weights are independent streams. */
    private static final long DATA_STREAM = 0x64617461L;
    /** Images or captions a forward pass of the evaluation. */
    private static final int EVAL_CHUNK = 128;

    private ClipTraining() {}

    /** Every field of a train-clip config, with its default and meaning. */
    public static TrainConfig.Schema schema() {
        return new TrainConfig.Schema()
                .add("model.id", "clip", "model id recorded in the model's contract")
                .add("model.embed_dim", 64, "shared embedding dimension")
                .add("model.activation", "gelu", "MLP activation: gelu or quick_gelu")
                .add("model.vision.image_size", 32, "input image size in pixels (square)")
                .add("model.vision.patch_size", 8, "patch size in pixels; divides image_size")
                .add("model.vision.width", 128, "vision transformer width")
                .add("model.vision.layers", 4, "vision transformer blocks")
                .add("model.vision.heads", 4, "vision attention heads; divide width")
                .add("model.vision.mlp_ratio", 4, "vision MLP width / transformer width")
                .add("model.text.context_length", 32, "text tokens per caption, start and end included")
                .add("model.text.vocab_size", 1024, "token embedding rows; the learned BPE stops there")
                .add("model.text.width", 128, "text transformer width")
                .add("model.text.layers", 4, "text transformer blocks")
                .add("model.text.heads", 4, "text attention heads; divide width")
                .add("model.text.mlp_ratio", 4, "text MLP width / transformer width")
                .add("tokenizer.merges", "", "a CLIP merges file to use; empty: learn BPE from the training captions")
                .add("data.dir", "", "the data set folder (manifest.jsonl), e.g. made by 'xbt data prepare shapes'")
                .add("data.split", Splits.TRAIN, "the split trained on")
                .add("data.fraction", 1.0, "part of the split's images trained on (a random subset drawn with data.subset_seed)")
                .add("data.subset_seed", 0L, "seed of the subset drawn when data.fraction < 1")
                .add("data.augment_min_scale", 1.0, "random resized crop: smallest area fraction (1: off)")
                .add("data.augment_flip", false, "flip half the pictures left-right (breaks captions that say left/right)")
                .add("train.seed", 0L, "seed of the initial weights and of the data order")
                .add("train.steps", 1000L, "optimizer steps")
                .add("train.batch_size", 128, "image-caption pairs a step (each image with one of its captions)")
                .add("train.lr", 1e-3, "peak learning rate")
                .add("train.min_lr", 1e-5, "learning rate at the end of the cosine")
                .add("train.warmup_steps", 100L, "steps of linear warmup")
                .add("train.weight_decay", 0.1, "AdamW decoupled weight decay (matrices only)")
                .add("train.beta1", 0.9, "AdamW beta1")
                .add("train.beta2", 0.98, "AdamW beta2")
                .add("train.eps", 1e-6, "AdamW epsilon")
                .add("train.grad_clip", 1.0, "maximum global gradient L2 norm (0: no clipping)")
                .add("train.checkpoint_every", 100L, "steps between checkpoints")
                .add("train.log_every", 10L, "steps between metrics lines")
                .add("train.check_every_op", false, "check every op for NaN (slower; names the op that made it)")
                .add("eval.every", 0L, "steps between evaluations (0: only at the end)")
                .add("eval.data", "", "data set evaluated (empty: data.dir)")
                .add("eval.split", Splits.VAL, "split evaluated: recall@1/5 of image->text and text->image");
    }

    /** The model shape of a config; errors name the field. */
    public static ClipConfig modelConfig(TrainConfig c) {
        ClipConfig.Activation act;
        String a = c.getString("model.activation");
        try {
            act = ClipConfig.Activation.valueOf(a.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("config field 'model.activation' must be gelu or quick_gelu, got '" + a + "'");
        }
        try {
            return new ClipConfig(c.getInt("model.embed_dim"),
                    new ClipConfig.Vision(c.getInt("model.vision.image_size"), c.getInt("model.vision.patch_size"),
                            c.getInt("model.vision.width"), c.getInt("model.vision.layers"), c.getInt("model.vision.heads"),
                            c.getInt("model.vision.mlp_ratio")),
                    new ClipConfig.Text(c.getInt("model.text.context_length"), c.getInt("model.text.vocab_size"),
                            c.getInt("model.text.width"), c.getInt("model.text.layers"), c.getInt("model.text.heads"),
                            c.getInt("model.text.mlp_ratio")),
                    act);
        } catch (IllegalArgumentException e) {
            // ClipConfig names the tower ("vision: width 100 must ..."): prefixed, that is the field's group.
            throw new IllegalArgumentException("config: model." + e.getMessage());
        }
    }

    /** The files a run writes besides the run directory's own. */
    public static Set<String> outputs() {
        return Set.of(MODEL_FILE);
    }

    /** Checks every field's range before anything is loaded; errors name the field. */
    public static void validate(TrainConfig c) {
        modelConfig(c);
        c.intAtLeast("model.text.vocab_size", BpeTrainer.FIXED_IDS + 1);
        if (c.getString("data.dir").isBlank()) throw new IllegalArgumentException("config field 'data.dir' is empty: give --data DIR");
        checkSplit(c, "data.split");
        checkSplit(c, "eval.split");
        c.doubleIn("data.fraction", 0, true, 1);
        c.doubleIn("data.augment_min_scale", 0, true, 1);
        c.longAtLeast("train.steps", 1);
        c.intAtLeast("train.batch_size", 2);
        c.doubleIn("train.lr", 0, true, 10);
        c.doubleIn("train.min_lr", 0, false, c.getDouble("train.lr"));
        long warmup = c.longAtLeast("train.warmup_steps", 0);
        if (warmup > c.getLong("train.steps")) {
            throw new IllegalArgumentException("config field 'train.warmup_steps' (" + warmup + ") exceeds train.steps ("
                    + c.getLong("train.steps") + ")");
        }
        c.doubleIn("train.weight_decay", 0, false, 10);
        c.doubleIn("train.beta1", 0, false, 0.999999);
        c.doubleIn("train.beta2", 0, false, 0.999999);
        c.doubleIn("train.eps", 0, true, 1);
        c.doubleIn("train.grad_clip", 0, false, 1e9);
        c.longAtLeast("train.checkpoint_every", 1);
        c.longAtLeast("train.log_every", 1);
        c.longAtLeast("eval.every", 0);
    }

    private static void checkSplit(TrainConfig c, String field) {
        String s = c.getString(field);
        if (!Splits.ALL.contains(s)) {
            throw new IllegalArgumentException("config field '" + field + "' must be one of " + Splits.ALL + ", got '" + s + "'");
        }
    }

    /**
     * Trains (or resumes) the run of config {@code c} in {@code run}; writes {@value #MODEL_FILE} at the end.
     * {@code dataProgress} reports building the image cache.
     */
    public static Trainer.Result train(TrainConfig c, RunDirectory run, TrainProgress progress, Progress dataProgress) {
        validate(c);
        ClipConfig mc = modelConfig(c);
        int batch = c.getInt("train.batch_size");
        long seed = c.getLong("train.seed");
        Manifest manifest = Manifest.read(Path.of(c.getString("data.dir")));
        ClipPreprocess pre = new ClipPreprocess(mc.vision().imageSize());
        String split = c.getString("data.split");
        try (BatchLoader loader = BatchLoader.open(manifest, split, pre, manifest.dir().resolve(Manifest.CACHE_DIR), dataProgress)) {
            loader.keepFraction(c.getDouble("data.fraction"), c.getLong("data.subset_seed"));
            if (loader.size() < batch) {
                throw new IllegalArgumentException("config field 'train.batch_size' (" + batch + ") exceeds the " + loader.size()
                        + " usable images of split '" + split + "' of " + manifest.dir());
            }
            loader.augmentation(new Augmentation(c.getDouble("data.augment_min_scale"), c.getBoolean("data.augment_flip")));

            List<BpeMerge> merges = merges(c, loader, mc.text().vocabSize());
            ClipTokenizer tokenizer = ClipTokenizer.fromMerges(merges);
            if (tokenizer.vocabSize() > mc.text().vocabSize()) {
                throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize() + " ids but config field "
                        + "'model.text.vocab_size' is " + mc.text().vocabSize());
            }
            ClipModel model = new ClipModel(mc, new Rng(seed));
            ParameterSet params = ParameterSet.of(model.parameters());
            AdamW opt = new AdamW(params, (float) c.getDouble("train.beta1"), (float) c.getDouble("train.beta2"),
                    (float) c.getDouble("train.eps"), (float) c.getDouble("train.weight_decay"));
            long steps = c.getLong("train.steps");
            WarmupCosine schedule = new WarmupCosine((float) c.getDouble("train.lr"), c.getLong("train.warmup_steps"), steps,
                    (float) c.getDouble("train.min_lr"));
            DataStream data = new DataStream(loader, new Rng(Rng.mix(seed ^ DATA_STREAM)), batch);
            int ctx = mc.text().contextLength();
            progress.log(String.format(Locale.ROOT, "train-clip: %,d parameters, %d training images (%s of %s), tokenizer of %d ids, "
                            + "%d steps of %d", model.parameterCount(), loader.size(), split, manifest.dir(), tokenizer.vocabSize(),
                    steps, batch));

            Trainer.Step step = at -> {
                BatchLoader.Batch b = data.next();
                Tensor img = model.encodeImage(b.images());
                Tensor txt = model.encodeText(tokenizer.tokenize(b.captions(), ctx));
                return Contrastive.symmetricInfoNce(img, txt, model.logitScale());
            };
            Recall recall = new Recall(c, manifest, pre, model, tokenizer, dataProgress);
            Trainer.Result result;
            try (recall) {
                result = new Trainer(run, params, opt, schedule, step)
                        .samplesPerStep(batch)
                        .gradClip(c.getDouble("train.grad_clip"))
                        .checkpointEvery(c.getLong("train.checkpoint_every"))
                        .logEvery(c.getLong("train.log_every"))
                        .evaluation(recall::evaluate, c.getLong("eval.every"))
                        .state(data)
                        .afterUpdate(() -> clampLogitScale(model))
                        .config(c.toTree())
                        .checkEveryOp(c.getBoolean("train.check_every_op"))
                        .progress(progress)
                        .run();
            } finally {
                data.close();
            }
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put(TrainingCheckpoint.STEP_KEY, Long.toString(result.step()));
            meta.put(TrainingCheckpoint.CONFIG_KEY, c.toTree().toString());
            ModelContract contract = new ModelContract(c.getString("model.id"), mc.embedDim(), "l2",
                    "clip-bicubic-" + mc.vision().imageSize(), tokenizerId(merges));
            ClipCheckpoint.save(model, run.file(MODEL_FILE), contract, merges, meta);
            return result;
        }
    }

    /** Keeps the temperature in [0, ln 100], as OpenCLIP clamps it after each step. */
    static void clampLogitScale(ClipModel model) {
        float s = model.logitScale().item();
        float clamped = Math.max(0f, Math.min(ClipModel.MAX_LOGIT_SCALE, s));
        if (clamped != s) model.logitScale().copyFrom(new float[] {clamped});
    }

    private static List<BpeMerge> merges(TrainConfig c, BatchLoader loader, int vocabSize) {
        String file = c.getString("tokenizer.merges");
        if (!file.isBlank()) {
            List<BpeMerge> all = MergesFile.read(Path.of(file), Integer.MAX_VALUE);
            return all.subList(0, Math.min(all.size(), vocabSize - BpeTrainer.FIXED_IDS));
        }
        BpeTrainer bpe = new BpeTrainer();
        for (int i = 0; i < loader.size(); i++) bpe.addAll(loader.captions(i));
        return bpe.train(vocabSize);
    }

    /** "clip-bpe-N-HASH": N merges, the first 12 hex digits of the merges' SHA-256. */
    static String tokenizerId(List<BpeMerge> merges) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            for (BpeMerge m : merges) d.update((m.left() + " " + m.right() + "\n").getBytes(StandardCharsets.UTF_8));
            return "clip-bpe-" + merges.size() + "-" + HexFormat.of().formatHex(d.digest()).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Retrieval recall of {@code model} on the images of {@code loader} and all their captions: image→text R@k (an
     * image is a hit when one of its own captions ranks within k among all captions) and text→image R@k (a caption
     * is a hit when its image ranks within k), as {@link Retrieval} counts them (ties against the query). Also the
     * temperature ({@code logit_scale}).
     */
    static Map<String, Double> recall(ClipModel model, ClipTokenizer tokenizer, BatchLoader loader) {
        Ranks ranks = Retrieval.evaluate(new DatasetEncoder(model, tokenizer, null).cache(false).batch(EVAL_CHUNK).encode(loader));
        Map<String, Double> r = new LinkedHashMap<>();
        for (Direction d : Direction.values()) {
            for (int k : new int[] {1, 5}) r.put(Ranks.key(d, k), ranks.recall(d, k));
        }
        r.put("logit_scale", (double) model.logitScale().item());
        return r;
    }

    /**
     * The training batches, epoch after epoch (shuffled, last partial batch dropped), with the state a checkpoint needs: the generator's state at the start
     * of the current epoch and the batches taken in it.
     */
    public static final class DataStream implements Trainer.State, AutoCloseable {
        private final BatchLoader loader;
        private final Rng rng;
        private final int batch;
        private BatchLoader.Batches batches;
        private long epoch;
        private long epochStartState;
        private int taken;

        public DataStream(BatchLoader loader, Rng rng, int batch) {
            this.loader = loader;
            this.rng = rng;
            this.batch = batch;
        }

        public BatchLoader.Batch next() {
            if (batches == null || !batches.hasNext()) {
                if (batches != null) batches.close();
                epochStartState = rng.state();
                batches = loader.epoch(rng, batch, true, true);
                epoch++;
                taken = 0;
            }
            taken++;
            return batches.next();
        }

        @Override
        public Map<String, String> save() {
            Map<String, String> s = new LinkedHashMap<>();
            s.put("data.epoch", Long.toString(epoch));
            s.put("data.epoch_start_rng", Long.toString(epochStartState));
            s.put("data.batches_taken", Integer.toString(taken));
            s.put("data.rng", Long.toString(rng.state()));
            return s;
        }

        @Override
        public void restore(Map<String, String> s) {
            try {
                epoch = Long.parseLong(s.get("data.epoch"));
                if (epoch == 0) return;
                epochStartState = Long.parseLong(s.get("data.epoch_start_rng"));
                taken = Integer.parseInt(s.get("data.batches_taken"));
                long after = Long.parseLong(s.get("data.rng"));
                rng.setState(epochStartState);
                if (batches != null) batches.close();
                batches = loader.epoch(rng, batch, true, true);
                if (rng.state() != after || taken > batches.count()) {
                    throw new IllegalArgumentException("the checkpoint's data order does not match this data set (was "
                            + "data.dir changed?)");
                }
                for (int i = 0; i < taken; i++) batches.next();
            } catch (NumberFormatException | NullPointerException e) {
                throw new IllegalArgumentException("the checkpoint's data state is incomplete: " + s);
            }
        }

        @Override
        public void close() {
            if (batches != null) batches.close();
        }
    }

    /**
     * Retrieval recall of the model on the evaluation split: each image against all captions of the split
     * (image→text: a hit when one of its own captions ranks within k) and each caption against all images
     * (text→image). A quick check during training; {@code dev.xbt.eval} is the full evaluation.
     */
    private static final class Recall implements AutoCloseable {
        private final TrainConfig c;
        private final Manifest trainManifest;
        private final ClipPreprocess pre;
        private final ClipModel model;
        private final ClipTokenizer tokenizer;
        private final Progress dataProgress;
        private BatchLoader loader;

        Recall(TrainConfig c, Manifest trainManifest, ClipPreprocess pre, ClipModel model, ClipTokenizer tokenizer,
               Progress dataProgress) {
            this.c = c;
            this.trainManifest = trainManifest;
            this.pre = pre;
            this.model = model;
            this.tokenizer = tokenizer;
            this.dataProgress = dataProgress;
        }

        Map<String, Double> evaluate(long step) {
            if (loader == null) {
                String dir = c.getString("eval.data");
                Manifest m = dir.isBlank() ? trainManifest : Manifest.read(Path.of(dir));
                loader = BatchLoader.open(m, c.getString("eval.split"), pre, m.dir().resolve(Manifest.CACHE_DIR), dataProgress);
                if (loader.size() == 0) throw new IllegalArgumentException("split '" + c.getString("eval.split") + "' of "
                        + m.dir() + " has no images to evaluate on");
            }
            return recall(model, tokenizer, loader);
        }

        @Override
        public void close() {
            if (loader != null) loader.close();
        }
    }
}

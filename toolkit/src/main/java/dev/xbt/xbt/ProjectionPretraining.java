package dev.xbt.xbt;

import dev.xbt.data.Manifest;
import dev.xbt.eval.DatasetEncoder;
import dev.xbt.data.TextCorpus;
import dev.xbt.data.TextSource;
import dev.xbt.engine.Nn;
import dev.xbt.engine.Ops;
import dev.xbt.engine.ParameterSet;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.optim.AdamW;
import dev.xbt.engine.optim.WarmupCosine;
import dev.xbt.train.Contrastive;
import dev.xbt.train.RunDirectory;
import dev.xbt.train.TrainConfig;
import dev.xbt.train.TrainProgress;
import dev.xbt.train.Trainer;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Stage 1 of XBT, text only: for each caption of the training split (and each text of {@code stage1.extra_text}:
 * the paper pretrains ψ on a large text corpus), z_old and z_new from the frozen text encoders
 * (cached on disk by {@link DatasetEncoder}, so the old model runs over the corpus once), and ψ trained with
 * {@link XbtLoss#stage1}: ψ(z_new + ε), ε Gaussian of variance {@code stage1.noise_var} and re-normalised, matches
 * z_old (cosine or MSE), plus an InfoNCE term between ψ(z_new) and the batch's z_old. The noise widens what ψ accepts around the text embeddings so that it also serves the new
 * model's image embeddings, which lie near, not on, its text embeddings. With {@code stage1.ema_decay} the saved ψ
 * is the moving average of its weights over the steps ({@link dev.xbt.train.WeightAverage}).
 */
public final class ProjectionPretraining {
    public static final String PROJECTION_FILE = "projection.safetensors";

    private ProjectionPretraining() {}

    public static Set<String> outputs() {
        return Set.of(PROJECTION_FILE);
    }

    /**
     * The training split's captions (stage 2 finds its captions' rows here) and, after them, the texts of
     * {@code stage1.extra_text}: ψ is trained on text alone, so any text widens what it has seen. The captions come
     * first and the corpus only drops repeats, so a caption's row is the same with or without the extra text.
     */
    static List<String> corpus(TrainConfig c) {
        Manifest m = Manifest.read(Path.of(c.getString("data.dir")));
        TextCorpus.Builder b = TextCorpus.builder().addAll(captions(c, m));
        int limit = c.getInt("stage1.extra_text_limit");
        for (TextSource s : XbtConfig.extraText(c)) b.add(s, limit > 0 ? limit : -1);
        return b.build().texts();
    }

    /** The captions of the training split, at least {@code stage1.batch_size} of them. */
    static List<String> captions(TrainConfig c) {
        return captions(c, Manifest.read(Path.of(c.getString("data.dir"))));
    }

    private static List<String> captions(TrainConfig c, Manifest m) {
        List<String> texts = TextCorpus.of(m, c.getString("data.split")).texts();
        if (texts.size() < c.getInt("stage1.batch_size")) {
            throw new IllegalArgumentException("split '" + c.getString("data.split") + "' of " + m.dir() + " has " + texts.size()
                    + " captions, fewer than stage1.batch_size (" + c.getInt("stage1.batch_size") + ")");
        }
        return texts;
    }

    /** The text embeddings [texts, dim] of {@code model}, cached in the data set's embedding cache. */
    static float[] embedTexts(TrainConfig c, DatasetEncoder model, List<String> texts) {
        return model.encodeTexts(Manifest.read(Path.of(c.getString("data.dir"))), texts);
    }

    /** Trains ψ in {@code run}; writes {@value #PROJECTION_FILE} with both models' contracts. */
    public static Trainer.Result train(TrainConfig c, DatasetEncoder old, DatasetEncoder neu, RunDirectory run,
                                       TrainProgress progress) {
        XbtConfig.validate(c);
        List<String> texts = corpus(c);
        int captions = captions(c).size();
        progress.log(String.format(Locale.ROOT, "stage 1: embedding %d captions%s with the old and the new text encoders (cached)",
                captions, texts.size() > captions ? String.format(Locale.ROOT, " and %d extra texts (%s)",
                        texts.size() - captions, c.getString("stage1.extra_text")) : ""));
        float[] zOld = embedTexts(c, old, texts);
        float[] zNew = embedTexts(c, neu, texts);
        int dOld = old.dim(), dNew = neu.dim(), n = texts.size();
        long seed = c.getLong("stage1.seed");
        Projection psi = new Projection(XbtConfig.projection(c, dNew, dOld), new Rng(seed));
        XbtConfig.ProjectionInit init = XbtConfig.projectionInit(c);
        switch (init) {
            case RAW -> { }
            case PROCRUSTES -> psi.startResidualAt(LinearMap.procrustes(zNew, zOld, n, dNew, dOld));
            case RIDGE -> psi.startResidualAt(LinearMap.ridge(zNew, zOld, n, dNew, dOld, c.getDouble("baselines.ridge")));
        }
        ParameterSet params = ParameterSet.of(psi.parameters());
        AdamW opt = new AdamW(params, 0.9f, 0.999f, 1e-8f, 0f);
        long steps = c.getLong("stage1.steps");
        WarmupCosine schedule = new WarmupCosine((float) c.getDouble("stage1.lr"),
                Math.min(steps, c.getLong("stage1.warmup_steps")), steps, (float) c.getDouble("stage1.lr") / 100);
        int batch = c.getInt("stage1.batch_size");
        XbtLoss.Stage1 loss = new XbtLoss.Stage1((float) c.getDouble("stage1.noise_var"), alignment(c, "stage1.loss"),
                (float) c.getDouble("stage1.match_weight"), (float) c.getDouble("stage1.infonce_weight"),
                (float) c.getDouble("stage1.temperature"));
        Rng data = new Rng(Rng.mix(seed ^ 0x737461676531L));
        Trainer.State state = new Trainer.State() {
            @Override
            public Map<String, String> save() {
                return Map.of("stage1.rng", Long.toString(data.state()));
            }

            @Override
            public void restore(Map<String, String> s) {
                data.setState(Long.parseLong(s.get("stage1.rng")));
            }
        };
        Trainer.Step step = at -> {
            float[] x = new float[batch * dNew], y = new float[batch * dOld];
            for (int b = 0; b < batch; b++) {
                int row = data.nextInt(n);
                System.arraycopy(zNew, row * dNew, x, b * dNew, dNew);
                System.arraycopy(zOld, row * dOld, y, b * dOld, dOld);
            }
            return XbtLoss.stage1(psi, Tensor.of(x, batch, dNew), Tensor.of(y, batch, dOld), loss, data).total();
        };
        double ema = c.getDouble("stage1.ema_decay");
        progress.log(String.format(Locale.ROOT, "stage 1: ψ %s (%,d parameters)%s, %d steps of %d texts%s",
                psi.config().describe(), psi.parameterCount(), init == XbtConfig.ProjectionInit.RAW ? ""
                        : ", residual path starting at the " + init.name().toLowerCase(Locale.ROOT) + " map", steps, batch,
                ema > 0 ? ", weights averaged (EMA decay " + ema + ")" : ""));
        Trainer.Result r = new Trainer(run, params, opt, schedule, step)
                .samplesPerStep(batch)
                .gradClip(c.getDouble("train.grad_clip"))
                .checkpointEvery(c.getLong("train.checkpoint_every"))
                .logEvery(c.getLong("train.log_every"))
                .state(state)
                .weightAverage(ema)
                .config(c.toTree())
                .progress(progress)
                .run();
        psi.save(run.file(PROJECTION_FILE), old.contract(), neu.contract());
        return r;
    }

    /** The alignment named by a config field ({@code cosine} or {@code mse}, checked by {@link XbtConfig#validate}). */
    static XbtLoss.Alignment alignment(TrainConfig c, String field) {
        return c.getString(field).equalsIgnoreCase("mse") ? XbtLoss.Alignment.MSE : XbtLoss.Alignment.COSINE;
    }
}

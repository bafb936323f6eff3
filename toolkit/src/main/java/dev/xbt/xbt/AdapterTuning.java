package dev.xbt.xbt;

import dev.xbt.adapters.AdapterConfig;
import dev.xbt.adapters.Adapters;
import dev.xbt.data.BatchLoader;
import dev.xbt.data.Manifest;
import dev.xbt.data.Progress;
import dev.xbt.engine.Nn;
import dev.xbt.engine.Ops;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.ParameterSet;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.optim.AdamW;
import dev.xbt.engine.optim.WarmupCosine;
import dev.xbt.eval.DatasetEncoder;
import dev.xbt.image.ClipPreprocess;
import dev.xbt.train.ClipTraining;
import dev.xbt.train.Contrastive;
import dev.xbt.train.RunDirectory;
import dev.xbt.train.TrainConfig;
import dev.xbt.train.TrainProgress;
import dev.xbt.train.Trainer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Adapters on the frozen new model, trained on image–caption pairs, with a projection into the old space; the run
 * directory gets {@value #ADAPTER_DIR}/ (PEFT layout) and {@value ProjectionPretraining#PROJECTION_FILE}.
 *
 * <ul>
 *   <li>{@link Objective#XBT} — stage 2 of XBT: symmetric InfoNCE between ψ(new image) and ψ(new text) inside the old
 *       space, plus {@code stage2.consistency_weight}·(1 − cos) between ψ(new text) and the stage-1 ψ applied to the
 *       frozen new text encoder (computed once from the stage-1 cache): the stand-in for the old text space. The old
 *       model is never called.</li>
 *   <li>{@link Objective#BCT} — the BCT-style baseline: the same adapters and a fresh projection head trained against
 *       the <em>old model's</em> embeddings of the training pairs (head(new image) against old caption embeddings,
 *       head(new text) against old image embeddings), so the old model must be run over the training data: the cost
 *       XBT avoids.</li>
 * </ul>
 * When the adapters leave the text tower alone, new text embeddings come from the stage-1 cache instead of the encoder.
 */
public final class AdapterTuning {
    public static final String ADAPTER_DIR = "adapters";

    public enum Objective { XBT, BCT }

    private AdapterTuning() {}

    public static Set<String> outputs() {
        return Set.of(ADAPTER_DIR, ProjectionPretraining.PROJECTION_FILE);
    }

    /**
     * Trains in {@code run}. For XBT, {@code stage1} is the stage-1 ψ (checked against both models); for BCT it is
     * ignored and {@code old} is run over the training pairs.
     */
    public static Trainer.Result train(TrainConfig c, Objective objective, DatasetEncoder old, DatasetEncoder neu, Path stage1,
                                       RunDirectory run, TrainProgress progress, Progress dataProgress) {
        XbtConfig.validate(c);
        boolean bct = objective == Objective.BCT;
        String prefix = bct ? "bct" : "stage2";
        long seed = c.getLong("stage2.seed");
        int batch = c.getInt("stage2.batch_size");
        long steps = c.getLong(prefix + ".steps");
        double lr = c.getDouble(prefix + ".lr");
        float temperature = (float) c.getDouble("stage2.temperature");
        int dOld = old.dim(), dNew = neu.dim();

        Projection psi;
        Projection psiStage1 = null;
        if (bct) {
            psi = new Projection(XbtConfig.projection(c, dNew, dOld), new Rng(Rng.mix(seed ^ 0x626374L)));
        } else {
            psiStage1 = Projection.load(stage1, old.contract(), neu.contract());
            psiStage1.freeze(true);
            psi = psiStage1.copy();
            psi.freeze(!c.getBoolean("stage2.train_projection"));
        }

        DatasetEncoder model = neu.reload();
        AdapterConfig ac = XbtConfig.adapters(c);
        Adapters adapters = Adapters.attach(model.model(), ac, new Rng(seed));
        adapters.train(true);
        boolean textAdapted = ac.prompts().textContextTokens() > 0
                || ac.hasLora() && !ac.lora().targets(AdapterConfig.Tower.TEXT).targets().isEmpty();

        Manifest manifest = Manifest.read(Path.of(c.getString("data.dir")));
        ClipPreprocess pre = new ClipPreprocess(neu.model().config().vision().imageSize());
        try (BatchLoader loader = BatchLoader.open(manifest, c.getString("data.split"), pre,
                manifest.dir().resolve(Manifest.CACHE_DIR), dataProgress)) {
            if (loader.size() < batch) {
                throw new IllegalArgumentException("config field 'stage2.batch_size' (" + batch + ") exceeds the "
                        + loader.size() + " images of split '" + c.getString("data.split") + "' of " + manifest.dir());
            }
            // The training captions, the first rows of the stage-1 corpus (so their new text embeddings are
            // cached); the extra text of stage 1 has no images and is not needed here.
            List<String> texts = ProjectionPretraining.captions(c);
            Map<String, Integer> row = new HashMap<>();
            for (int i = 0; i < texts.size(); i++) row.put(texts.get(i), i);
            float[] zNew = neu.encodeTexts(manifest, texts);
            float[] target; // XBT: stage-1 ψ(frozen new text); BCT: old text embeddings
            float[] oldImages = null;
            if (bct) {
                progress.log("bct: embedding the training pairs with the old model (the cost XBT avoids)");
                target = old.encodeTexts(manifest, texts);
                oldImages = old.encodeImages(manifest, c.getString("data.split"));
            } else {
                target = new ProjectionMap(psiStage1).map(zNew, null, texts.size());
            }
            List<Parameter> trainable = new ArrayList<>(adapters.trainableParameters());
            for (Parameter p : psi.parameters()) if (!p.frozen()) trainable.add(p);
            ParameterSet params = ParameterSet.of(trainable);
            AdamW opt = new AdamW(params, 0.9f, 0.999f, 1e-8f, 0f);
            WarmupCosine schedule = new WarmupCosine((float) lr, Math.min(steps, c.getLong("stage2.warmup_steps")), steps,
                    (float) lr / 100);
            ClipTraining.DataStream data = new ClipTraining.DataStream(loader, new Rng(Rng.mix(seed ^ 0x64617461L)), batch);
            float consistency = (float) c.getDouble("stage2.consistency_weight");
            XbtLoss.Stage2 stage2 = new XbtLoss.Stage2(temperature, consistency, XbtLoss.Alignment.COSINE);
            float[] oldImg = oldImages;
            boolean allCaptions = !bct && XbtConfig.stage2Negatives(c) == XbtConfig.Negatives.CAPTIONS;
            boolean contrastStage1 = !bct && c.getBoolean("stage2.contrast_stage1_text");
            Tensor bank = allCaptions ? Tensor.of(target, texts.size(), dOld) : null;
            Trainer.Step step = at -> {
                BatchLoader.Batch b = data.next();
                int[] rows = new int[b.size()];
                for (int i = 0; i < rows.length; i++) {
                    Integer r = row.get(b.captions().get(i));
                    if (r == null) throw new IllegalStateException("caption not in the stage-1 corpus: " + b.captions().get(i));
                    rows[i] = r;
                }
                Tensor img = psi.forward(Nn.l2Normalize(model.model().encodeImage(b.images())));
                Tensor txtNew = textAdapted ? Nn.l2Normalize(model.model().encodeText(model.tokens(b.captions())))
                        : Tensor.of(gather(zNew, rows, dNew), rows.length, dNew);
                Tensor txt = psi.forward(txtNew);
                Tensor tgt = Tensor.of(gather(target, rows, dOld), rows.length, dOld);
                if (bct) {
                    Tensor oi = Tensor.of(gather(oldImg, b.indices(), dOld), rows.length, dOld);
                    return Ops.add(Contrastive.symmetricInfoNce(img, tgt, temperature),
                            Contrastive.symmetricInfoNce(txt, oi, temperature));
                }
                // stage2.contrast_stage1_text: the images are contrasted with their captions' stage-1 ψ (constants),
                // so the text side moves only under the consistency term.
                Tensor contrastTxt = contrastStage1 ? tgt : txt;
                Tensor nce;
                if (allCaptions) {
                    int[][] same = new int[rows.length][];
                    for (int i = 0; i < rows.length; i++) {
                        same[i] = loader.captions(b.indices()[i]).stream().map(row::get)
                                .filter(java.util.Objects::nonNull).mapToInt(Integer::intValue).toArray();
                    }
                    nce = XbtLoss.imageToAllCaptions(img, contrastTxt, bank, rows, same, temperature);
                } else {
                    nce = Contrastive.symmetricInfoNce(img, contrastTxt, temperature);
                }
                // With the text side frozen (no text adapters, ψ frozen) the consistency term is a constant: left out.
                boolean textMoves = textAdapted || !psi.parameters().get(0).frozen();
                return consistency > 0 && textMoves ? XbtLoss.withConsistency(nce, txt, tgt, stage2).total() : nce;
            };
            double ema = bct ? 0 : c.getDouble("stage2.ema_decay");
            progress.log(String.format(Locale.ROOT, "%s: %s; %,d trainable parameters; %d steps of %d pairs%s", bct ? "bct" : "stage 2",
                    ac.summary(), params.parameters().stream().mapToLong(Parameter::size).sum(), steps, batch,
                    ema > 0 ? "; weights averaged (EMA decay " + ema + ")" : ""));
            Trainer.Result r;
            try {
                r = new Trainer(run, params, opt, schedule, step)
                        .samplesPerStep(batch)
                        .gradClip(c.getDouble("train.grad_clip"))
                        .checkpointEvery(c.getLong("train.checkpoint_every"))
                        .logEvery(c.getLong("train.log_every"))
                        .state(data)
                        .weightAverage(ema)
                        .config(c.toTree().put("objective", objective.name().toLowerCase(Locale.ROOT)))
                        .progress(progress)
                        .run();
            } finally {
                data.close();
            }
            adapters.train(false);
            adapters.save(run.file(ADAPTER_DIR));
            psi.save(run.file(ProjectionPretraining.PROJECTION_FILE), old.contract(), neu.contract());
            return r;
        }
    }

    static float[] gather(float[] rowsOf, int[] rows, int d) {
        float[] out = new float[rows.length * d];
        for (int i = 0; i < rows.length; i++) System.arraycopy(rowsOf, rows[i] * d, out, i * d, d);
        return out;
    }
}

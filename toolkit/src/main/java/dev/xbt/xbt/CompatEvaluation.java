package dev.xbt.xbt;

import dev.xbt.adapters.Adapters;
import dev.xbt.data.Manifest;
import dev.xbt.data.Progress;
import dev.xbt.eval.Compatibility;
import dev.xbt.eval.CompatibilityReport;
import dev.xbt.eval.DatasetEncoder;
import dev.xbt.eval.EncodedSet;
import dev.xbt.train.TrainConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The {@link CompatibilityReport} of the XBT pipeline on {@code eval.split} of {@code eval.data} (default
 * {@code data.dir}), ranked within {@code eval.folds} galleries: the old and the new model on their own
 * galleries, then each method's new-model queries against the old model's gallery embeddings (which stay as they are).
 *
 * <p>Methods: {@code raw} ({@link RawMap}), {@code linear} (ridge) and {@code procrustes} ({@link LinearMap}, fitted on
 * the text pairs of stage 1's corpus: the training captions plus any {@code stage1.extra_text}, the same text ψ
 * sees), {@code procrustes+slerp} and {@code xbt+slerp} ({@link SlerpMap}: the old
 * model's query embedding blended with the mapped new one, α chosen by rsum on {@code data.val_split}), {@code xbt}
 * and {@code bct} (a run folder with adapters/ and projection.safetensors, from train-xbt: the new model with the
 * run's adapters, through the run's projection).
 */
public final class CompatEvaluation {
    public static final List<String> METHODS = List.of("raw", "linear", "procrustes", "procrustes+slerp", "bct", "xbt", "xbt+slerp");

    /** A train-xbt run: its projection, and the new model with its adapters on a split, encoded once. */
    private record Run(Projection psi, Map<String, EncodedSet> splits) {}

    private final TrainConfig c;
    private final DatasetEncoder old, neu;
    private final Manifest manifest, evalManifest;
    private final Consumer<String> log;
    private final Map<String, EncodedSet> oldSets = new HashMap<>(), newSets = new HashMap<>();

    public CompatEvaluation(TrainConfig c, DatasetEncoder old, DatasetEncoder neu, Progress dataProgress, Consumer<String> log) {
        this.c = c;
        this.old = old.progress(dataProgress);
        this.neu = neu.progress(dataProgress);
        this.manifest = Manifest.read(Path.of(c.getString("data.dir")));
        String evalDir = XbtConfig.evalData(c);
        this.evalManifest = evalDir.equals(c.getString("data.dir")) ? manifest : Manifest.read(Path.of(evalDir));
        this.log = log;
    }

    /**
     * The report on {@code eval.split} for {@code methods}; {@code runs} maps "xbt" and "bct" to their run folders
     * (needed only when those methods, or xbt+slerp, are asked for).
     */
    public CompatibilityReport evaluate(List<String> methods, Map<String, Path> runs) {
        for (String m : methods) {
            if (!METHODS.contains(m)) throw new IllegalArgumentException("unknown method '" + m + "'; known: " + String.join(", ", METHODS));
        }
        String test = c.getString("eval.split"), val = c.getString("data.val_split");
        int folds = c.getInt("eval.folds");
        EncodedSet oldTest = encode(old, oldSets, evalManifest, test), newTest = encode(neu, newSets, evalManifest, test);
        if (folds > oldTest.imageCount()) {
            throw new IllegalArgumentException("config field 'eval.folds' is " + folds + ", more than the " + oldTest.imageCount()
                    + " images of split " + test + " of " + evalManifest.dir());
        }
        LinearMap procrustes = null, linear = null;
        if (methods.stream().anyMatch(m -> m.startsWith("procrustes") || m.equals("linear"))) {
            List<String> texts = ProjectionPretraining.corpus(c);
            log.accept("fitting the linear maps on " + texts.size() + " text pairs (stage 1's corpus: the captions of split "
                    + c.getString("data.split") + (c.getString("stage1.extra_text").isBlank() ? "" : " and "
                    + c.getString("stage1.extra_text")) + ")");
            float[] zOld = old.encodeTexts(manifest, texts), zNew = neu.encodeTexts(manifest, texts);
            procrustes = LinearMap.procrustes(zNew, zOld, texts.size(), neu.dim(), old.dim());
            linear = LinearMap.ridge(zNew, zOld, texts.size(), neu.dim(), old.dim(), c.getDouble("baselines.ridge"));
        }
        Map<String, Run> trained = new HashMap<>();
        Map<String, Double> alphas = new LinkedHashMap<>();
        List<Compatibility.Method> list = new ArrayList<>();
        for (String m : methods) {
            log.accept("evaluating " + m);
            list.add(switch (m) {
                case "raw" -> new Compatibility.Method(new RawMap(neu.dim(), old.dim()), newTest);
                case "linear" -> new Compatibility.Method(linear, newTest);
                case "procrustes" -> new Compatibility.Method(procrustes, newTest);
                case "procrustes+slerp" ->
                        new Compatibility.Method(slerp(procrustes, encode(neu, newSets, manifest, val), val, alphas), newTest);
                case "xbt", "bct" -> {
                    Run r = trained.computeIfAbsent(m, k -> load(runs, k));
                    yield new Compatibility.Method(new ProjectionMap(m, r.psi()), adapted(r, runs.get(m), evalManifest, test));
                }
                case "xbt+slerp" -> {
                    Run r = trained.computeIfAbsent("xbt", k -> load(runs, k));
                    SlerpMap s = slerp(new ProjectionMap(r.psi()), adapted(r, runs.get("xbt"), manifest, val), val, alphas);
                    yield new Compatibility.Method(s, adapted(r, runs.get("xbt"), evalManifest, test));
                }
                default -> throw new IllegalStateException(m);
            });
        }
        String name = evalManifest.dir().getFileName() + " (" + test + (folds > 1 ? ", " + folds + " folds" : "") + ")";
        CompatibilityReport report = Compatibility.evaluate(name, oldTest, newTest, list, folds);
        report.put("eval", Map.of("data", evalManifest.dir().toString(), "split", test, "folds", folds));
        if (!alphas.isEmpty()) report.put("slerp_alpha", alphas);
        return report;
    }

    /** {@code inner} blended with the old model's query embedding, α chosen by rsum on the validation split. */
    private SlerpMap slerp(EmbeddingMap inner, EncodedSet valNew, String val, Map<String, Double> chosen) {
        SlerpMap s = SlerpMap.fit(inner, valNew, encode(old, oldSets, manifest, val), XbtConfig.slerpAlphas(c));
        chosen.put(s.name(), s.alpha());
        log.accept(String.format(Locale.ROOT, "%s: alpha %.2f (chosen on split %s)", s.name(), s.alpha(), val));
        return s;
    }

    /** {@code split} of {@code m} embedded by {@code model}, once. */
    private EncodedSet encode(DatasetEncoder model, Map<String, EncodedSet> sets, Manifest m, String split) {
        return sets.computeIfAbsent(m.dir() + "\0" + split, k -> {
            log.accept("embedding split " + split + (m == manifest ? "" : " of " + m.dir()) + " with " + model.contract().describe());
            return model.encode(m, split).set();
        });
    }

    /** A run's projection, checked against the two models; its adapters are loaded when a split is encoded. */
    private Run load(Map<String, Path> runs, String method) {
        Path dir = runs.get(method);
        if (dir == null) throw new IllegalArgumentException("method '" + method + "' needs its run folder (--" + method + " DIR)");
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("the " + method + " run folder " + dir + " does not exist");
        Projection psi = Projection.load(dir.resolve(ProjectionPretraining.PROJECTION_FILE), old.contract(), neu.contract());
        return new Run(psi, new HashMap<>());
    }

    /**
     * The new model with the run's adapters on {@code split} (not cached on disk: each run has its own weights). The
     * adapters are refused, naming both contracts, when made for another model.
     */
    private EncodedSet adapted(Run r, Path dir, Manifest m, String split) {
        return r.splits().computeIfAbsent(m.dir() + "\0" + split, k -> {
            DatasetEncoder model = neu.reload().cache(false);
            Adapters.load(model.model(), dir.resolve(AdapterTuning.ADAPTER_DIR));
            log.accept("embedding split " + split + (m == manifest ? "" : " of " + m.dir()) + " with the adapters of " + dir);
            return model.encode(m, split).set();
        });
    }
}

package dev.xbt.xbt;

import dev.xbt.eval.CompatReport;
import dev.xbt.eval.EncodedSet;
import dev.xbt.eval.Ranks;
import dev.xbt.eval.Retrieval;

import dev.xbt.adapters.Adapters;
import dev.xbt.data.BatchLoader;
import dev.xbt.data.Manifest;
import dev.xbt.data.Progress;
import dev.xbt.image.ClipPreprocess;
import dev.xbt.train.TrainConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Builds the {@link CompatReport} of a data set split: the old and the new model on their own galleries, then each
 * method's new-model queries against the old model's gallery embeddings (which stay as they are).
 *
 * <p>Methods: {@code raw} (pad/truncate), {@code linear} (ridge), {@code procrustes} (fitted on the training
 * captions' text pairs), {@code procrustes+slerp} and {@code xbt+slerp} (SLERP between the old model's query
 * embedding and the mapped new one, the weight chosen by rsum on {@code data.val_split}), {@code xbt} and
 * {@code bct} (a run folder with adapters/ and projection.safetensors, from train-xbt).
 */
public final class CompatEvaluation {
    public static final List<String> METHODS = List.of("raw", "linear", "procrustes", "procrustes+slerp", "bct", "xbt", "xbt+slerp");

    /** Embeddings of one split: old and new model, images [n, d] and captions [m, d]; owner[q] is caption q's image. */
    private record Split(String name, List<String> captions, int[] owner, int images, float[] oldImg, float[] oldTxt,
                         float[] newImg, float[] newTxt) {}

    /** Query embeddings in the old space. */
    private record Queries(float[] img, float[] txt) {}

    private final TrainConfig c;
    private final Embedder old, neu;
    private final Manifest manifest;
    private final Progress dataProgress;
    private final Consumer<String> log;
    private final Path cache;

    public CompatEvaluation(TrainConfig c, Embedder old, Embedder neu, Progress dataProgress, Consumer<String> log) {
        this.c = c;
        this.old = old;
        this.neu = neu;
        this.manifest = Manifest.read(Path.of(c.getString("data.dir")));
        this.dataProgress = dataProgress;
        this.log = log;
        this.cache = ProjectionPretraining.cacheDir(c);
    }

    /**
     * The report on {@code eval.split} for {@code methods}; {@code runs} maps "xbt" and "bct" to their run folders
     * (needed only when those methods, or xbt+slerp, are asked for).
     */
    public CompatReport evaluate(List<String> methods, Map<String, Path> runs) {
        for (String m : methods) {
            if (!METHODS.contains(m)) throw new IllegalArgumentException("unknown method '" + m + "'; known: " + String.join(", ", METHODS));
        }
        Split test = split(c.getString("eval.split"));
        Split val = methods.stream().anyMatch(m -> m.endsWith("+slerp")) ? split(c.getString("data.val_split")) : null;
        CompatReport report = new CompatReport(manifest.dir().getFileName() + " (" + test.name() + ")", test.images(),
                test.captions().size());
        report.add(row(CompatReport.OLD_OLD, "old", "old", new Queries(test.oldImg(), test.oldTxt()), test));
        Ranks full = Retrieval.evaluate(new EncodedSet(test.newImg(), test.newTxt(), test.owner(), neu.dim()));
        report.add(new CompatReport.Row(CompatReport.NEW_NEW, "new", "new", full.imageToText(), full.textToImage()));
        int dOld = old.dim(), dNew = neu.dim();
        double[] procrustes = null, linear = null;
        if (methods.stream().anyMatch(m -> m.startsWith("procrustes") || m.equals("linear"))) {
            List<String> texts = ProjectionPretraining.corpus(c);
            log.accept("fitting the linear maps on " + texts.size() + " caption pairs of split " + c.getString("data.split"));
            float[] zOld = old.textsCached(texts, cache), zNew = neu.textsCached(texts, cache);
            procrustes = Baselines.procrustes(zNew, zOld, texts.size(), dNew, dOld);
            linear = Baselines.ridge(zNew, zOld, texts.size(), dNew, dOld, c.getDouble("baselines.ridge"));
        }
        Map<String, Double> alphas = new LinkedHashMap<>();
        for (String m : methods) {
            log.accept("evaluating " + m);
            switch (m) {
                case "raw" -> report.add(row(m, test, s -> new Queries(Baselines.raw(s.newImg(), s.images(), dNew, dOld),
                        Baselines.raw(s.newTxt(), s.captions().size(), dNew, dOld))));
                case "linear", "procrustes" -> {
                    double[] w = m.equals("linear") ? linear : procrustes;
                    report.add(row(m, test, s -> linearQueries(s, w)));
                }
                case "procrustes+slerp" -> {
                    double[] w = procrustes;
                    report.add(slerpRow(m, test, val, s -> linearQueries(s, w), alphas));
                }
                case "xbt", "bct" -> {
                    Path dir = run(runs, m);
                    report.add(row(m, test, s -> adapted(dir, s)));
                }
                case "xbt+slerp" -> {
                    Path dir = run(runs, "xbt");
                    report.add(slerpRow(m, test, val, s -> adapted(dir, s), alphas));
                }
                default -> throw new IllegalStateException(m);
            }
        }
        if (!alphas.isEmpty()) report.put("slerp_alpha", alphas);
        return report;
    }

    private static Path run(Map<String, Path> runs, String method) {
        Path dir = runs.get(method);
        if (dir == null) throw new IllegalArgumentException("method '" + method + "' needs its run folder (--" + method + " DIR)");
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("the " + method + " run folder " + dir + " does not exist");
        return dir;
    }

    private CompatReport.Row row(String method, Split test, java.util.function.Function<Split, Queries> map) {
        return row(method, "new", "old", map.apply(test), test);
    }

    /** A row of queries {@code x} in the old space against the old model's gallery of split {@code s}. */
    private CompatReport.Row row(String method, String q, String g, Queries x, Split s) {
        int d = old.dim();
        Ranks r = Retrieval.evaluate(new EncodedSet(x.img(), x.txt(), s.owner(), d), new EncodedSet(s.oldImg(), s.oldTxt(), s.owner(), d));
        return new CompatReport.Row(method, q, g, r.imageToText(), r.textToImage());
    }

    /** SLERP from the old query (α = 0) to the mapped new query (α = 1), α chosen by rsum on the validation split. */
    private CompatReport.Row slerpRow(String method, Split test, Split val, java.util.function.Function<Split, Queries> map,
                                      Map<String, Double> chosen) {
        Queries v = map.apply(val);
        double best = Double.NEGATIVE_INFINITY, alpha = 1;
        for (double a : XbtConfig.slerpAlphas(c)) {
            CompatReport.Row r = row(method, "new", "old", slerp(val, v, a), val);
            if (r.rsum() > best) {
                best = r.rsum();
                alpha = a;
            }
        }
        chosen.put(method, alpha);
        log.accept(String.format(Locale.ROOT, "%s: alpha %.2f (validation rsum %.1f)", method, alpha, best));
        return row(method, "new+old", "old", slerp(test, map.apply(test), alpha), test);
    }

    private Queries slerp(Split s, Queries mapped, double alpha) {
        int d = old.dim();
        return new Queries(Baselines.slerp(s.oldImg(), mapped.img(), s.images(), d, alpha),
                Baselines.slerp(s.oldTxt(), mapped.txt(), s.captions().size(), d, alpha));
    }

    private Queries linearQueries(Split s, double[] w) {
        return new Queries(Baselines.apply(s.newImg(), s.images(), neu.dim(), w, old.dim()),
                Baselines.apply(s.newTxt(), s.captions().size(), neu.dim(), w, old.dim()));
    }

    /** The new model with a run's adapters, through the run's projection; both checked against the models. */
    private Queries adapted(Path dir, Split s) {
        Path psiFile = dir.resolve(ProjectionPretraining.PROJECTION_FILE);
        Psi.Loaded psi = Psi.load(psiFile);
        Psi.checkChain(psi, psiFile, old.contract(), old.dim(), neu.contract(), neu.dim());
        Embedder model = neu.reload();
        Adapters.load(model.model(), dir.resolve(AdapterTuning.ADAPTER_DIR));
        try (BatchLoader loader = loader(s.name(), neu)) {
            float[] img = model.images(loader), txt = model.texts(s.captions());
            Psi p = psi.projection();
            return new Queries(p.apply(img, s.images()), p.apply(txt, s.captions().size()));
        }
    }

    private BatchLoader loader(String split, Embedder e) {
        return BatchLoader.open(manifest, split, new ClipPreprocess(e.model().config().vision().imageSize()),
                manifest.dir().resolve(Manifest.CACHE_DIR), dataProgress);
    }

    private Split split(String name) {
        List<String> captions = new ArrayList<>();
        List<Integer> owner = new ArrayList<>();
        float[] oldImg, newImg;
        int n;
        try (BatchLoader lo = loader(name, old); BatchLoader ln = loader(name, neu)) {
            n = lo.size();
            if (n == 0) throw new IllegalArgumentException("split '" + name + "' of " + manifest.dir() + " has no images");
            for (int i = 0; i < n; i++) {
                for (String cap : lo.captions(i)) {
                    captions.add(cap);
                    owner.add(i);
                }
            }
            log.accept("embedding split " + name + ": " + n + " images, " + captions.size() + " captions");
            oldImg = old.imagesCached(lo, cache);
            newImg = neu.imagesCached(ln, cache);
        }
        int[] own = owner.stream().mapToInt(Integer::intValue).toArray();
        return new Split(name, captions, own, n, oldImg, old.textsCached(captions, cache), newImg, neu.textsCached(captions, cache));
    }
}

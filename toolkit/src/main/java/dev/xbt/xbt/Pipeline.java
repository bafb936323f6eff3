package dev.xbt.xbt;

import dev.xbt.eval.CompatibilityReport;
import dev.xbt.eval.DatasetEncoder;

import dev.xbt.data.Progress;
import dev.xbt.train.RunDirectory;
import dev.xbt.train.TrainConfig;
import dev.xbt.train.TrainProgress;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.stream.Stream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The whole XBT protocol on a data set with a given old and new model: stage 1 in OUT/stage1, stage 2 in OUT/xbt,
 * the BCT baseline in OUT/bct, then the compatibility report of every method, written to OUT/report.json with the
 * wall time of each part.
 */
public final class Pipeline {
    public static final String REPORT = "report.json";
    private static final Set<String> OUTPUTS = Set.of("stage1", "xbt", "bct", REPORT);

    private Pipeline() {}

    public static CompatibilityReport run(TrainConfig c, Path out, TrainProgress progress, Progress dataProgress,
                                   Consumer<String> log) {
        XbtConfig.validate(c);
        DatasetEncoder old = DatasetEncoder.load(Path.of(c.getString("old"))), neu = DatasetEncoder.load(Path.of(c.getString("new")));
        if (old.contract().equals(neu.contract()) && old.dim() == neu.dim()) {
            log.accept("note: the old and the new model have the same contract " + old.contract().describe());
        }
        clear(out);
        Map<String, Double> seconds = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        RunDirectory s1 = RunDirectory.open(out.resolve("stage1"), false, false, ProjectionPretraining.outputs());
        ProjectionPretraining.train(c, old, neu, s1, progress);
        seconds.put("stage1", since(t0));
        long t1 = System.nanoTime();
        RunDirectory x = RunDirectory.open(out.resolve("xbt"), false, false, AdapterTuning.outputs());
        AdapterTuning.train(c, AdapterTuning.Objective.XBT, old, neu, s1.file(ProjectionPretraining.PROJECTION_FILE), x,
                progress, dataProgress);
        seconds.put("stage2", since(t1));
        long t2 = System.nanoTime();
        RunDirectory b = RunDirectory.open(out.resolve("bct"), false, false, AdapterTuning.outputs());
        AdapterTuning.train(c, AdapterTuning.Objective.BCT, old, neu, null, b, progress, dataProgress);
        seconds.put("bct", since(t2));
        long t3 = System.nanoTime();
        CompatibilityReport report = new CompatEvaluation(c, old, neu, dataProgress, log)
                .evaluate(CompatEvaluation.METHODS, Map.of("xbt", x.dir(), "bct", b.dir()));
        seconds.put("eval", since(t3));
        seconds.put("total", since(t0));
        report.put("seconds", seconds);
        report.put("models", Map.of("old", old.contract().describe(), "new", neu.contract().describe()));
        report.write(out.resolve(REPORT));
        log.accept(String.format(Locale.ROOT, "times: %s", seconds));
        return report;
    }

    /**
     * Removes an earlier pipeline's outputs from {@code out} (its three run folders and the report), so the pipeline
     * can be run again in the same place; anything else in {@code out} is refused rather than touched.
     */
    static void clear(Path out) {
        if (!Files.exists(out)) return;
        if (!Files.isDirectory(out)) throw new IllegalArgumentException("output folder " + out + " is a file");
        try (Stream<Path> list = Files.list(out)) {
            List<Path> present = list.toList();
            for (Path p : present) {
                if (!OUTPUTS.contains(p.getFileName().toString())) {
                    throw new IllegalArgumentException("output folder " + out + " holds " + p.getFileName()
                            + ", which the pipeline does not write; give an empty or new folder");
                }
            }
            for (Path p : present) deleteTree(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear " + out + ": " + e.getMessage(), e);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> s = Files.list(p)) {
                for (Path q : s.toList()) deleteTree(q);
            }
        }
        Files.delete(p);
    }

    private static double since(long t) {
        return Math.round((System.nanoTime() - t) / 1e8) / 10.0;
    }
}

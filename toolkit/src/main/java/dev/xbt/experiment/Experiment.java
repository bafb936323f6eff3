package dev.xbt.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.xbt.data.Manifest;
import dev.xbt.data.Progress;
import dev.xbt.eval.CompatibilityReport;
import dev.xbt.train.ClipTraining;
import dev.xbt.train.RunDirectory;
import dev.xbt.train.TrainConfig;
import dev.xbt.train.TrainProgress;
import dev.xbt.xbt.Pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The whole protocol from nothing: prepare the data set (when absent), train the old model in OUT/old and the new one
 * in OUT/new, run the XBT pipeline (stage 1, stage 2, BCT, baselines) in OUT/pipeline, then write OUT/report.json
 * (the pipeline's report with the wall time of every part) and OUT/report.txt (its table).
 *
 * <p>Re-running in the same OUT continues rather than starts over: a model whose file exists is kept, a model killed
 * during training resumes from its last checkpoint, and a finished experiment only reprints its table. OUT/config.yaml
 * records the experiment's config; another config in the same OUT is refused, so kept parts always belong to it.
 */
public final class Experiment {
    public static final String CONFIG = "config.yaml";
    public static final String REPORT = "report.json";
    public static final String TABLE = "report.txt";
    /** Wall seconds of each finished part, kept across re-runs. */
    public static final String TIMES = "times.json";
    public static final String PIPELINE = "pipeline";

    /** Makes data set {@code source} in {@code dir} (the CLI's 'xbt data prepare'). */
    @FunctionalInterface
    public interface DataPreparer {
        void prepare(String source, Path dir);
    }

    /** The table and the wall seconds of each part (summed over re-runs); {@code resumed}: nothing was left to do. */
    public record Result(String table, Map<String, Double> seconds, boolean alreadyComplete) {}

    private Experiment() {}

    public static Result run(TrainConfig c, Path out, DataPreparer preparer, TrainProgress progress, Progress dataProgress,
                             Consumer<String> log) {
        ExperimentConfig.validate(c);
        claim(out, c);
        Map<String, Double> seconds = readTimes(out.resolve(TIMES));
        if (Files.isRegularFile(out.resolve(REPORT)) && Files.isRegularFile(out.resolve(TABLE))) {
            log.accept("experiment: " + out + " is complete; its report is " + out.resolve(REPORT));
            return new Result(read(out.resolve(TABLE)), seconds, true);
        }

        Path data = Path.of(c.getString("data.dir"));
        if (!Files.isRegularFile(data.resolve(Manifest.FILE_NAME))) {
            String source = c.getString("data.source").strip();
            if (source.isEmpty()) {
                throw new IllegalArgumentException("data set folder " + data + " has no " + Manifest.FILE_NAME
                        + " and config field 'data.source' is empty: prepare it first or name a source");
            }
            log.accept("experiment: preparing data set '" + source + "' in " + data);
            long t = System.nanoTime();
            preparer.prepare(source, data);
            if (!Files.isRegularFile(data.resolve(Manifest.FILE_NAME))) {
                throw new IllegalStateException("preparing '" + source + "' wrote no " + data.resolve(Manifest.FILE_NAME));
            }
            record(out, seconds, "data", since(t));
        }

        for (String which : new String[] {ExperimentConfig.OLD, ExperimentConfig.NEW}) {
            TrainConfig mc = ExperimentConfig.model(c, which);
            Path dir = out.resolve(which);
            Path model = dir.resolve(ClipTraining.MODEL_FILE);
            checkRunConfig(dir, mc, which);
            if (Files.isRegularFile(model)) {
                log.accept("experiment: the " + which + " model exists (" + model + "); not training it again");
                continue;
            }
            boolean resume = Files.isRegularFile(dir.resolve(RunDirectory.CONFIG));
            log.accept("experiment: " + (resume ? "resuming" : "training") + " the " + which + " model in " + dir);
            long t = System.nanoTime();
            RunDirectory run = RunDirectory.open(dir, resume, false, ClipTraining.outputs());
            ClipTraining.train(mc, run, progress, dataProgress);
            record(out, seconds, which, seconds.getOrDefault(which, 0.0) + since(t));
        }

        log.accept("experiment: the XBT pipeline in " + out.resolve(PIPELINE));
        long t = System.nanoTime();
        TrainConfig pc = ExperimentConfig.pipeline(c, out.resolve(ExperimentConfig.OLD).resolve(ClipTraining.MODEL_FILE).toString(),
                out.resolve(ExperimentConfig.NEW).resolve(ClipTraining.MODEL_FILE).toString());
        CompatibilityReport report = Pipeline.run(pc, out.resolve(PIPELINE), progress, dataProgress, log);
        record(out, seconds, PIPELINE, since(t));
        double total = 0;
        for (Map.Entry<String, Double> e : seconds.entrySet()) if (!e.getKey().equals("total")) total += e.getValue();
        seconds.put("total", round(total));
        report.put("experiment_seconds", seconds);
        String table = report.table() + (report.methods().contains("xbt") ? report.weakestCell("xbt") + "\n" : "") + times(seconds);
        RunDirectory.writeAtomically(out.resolve(TABLE), table);
        report.write(out.resolve(REPORT));
        return new Result(table, seconds, false);
    }

    /** The time lines under the table: each part in seconds and minutes. */
    static String times(Map<String, Double> seconds) {
        StringBuilder sb = new StringBuilder("wall time:");
        for (Map.Entry<String, Double> e : seconds.entrySet()) {
            sb.append(String.format(Locale.ROOT, " %s %s,", e.getKey(), TrainProgress.duration(e.getValue())));
        }
        sb.setLength(sb.length() - 1);
        return sb.append(System.lineSeparator()).toString();
    }

    /** Creates OUT with the config, or checks that the config of an earlier run there is this one. */
    private static void claim(Path out, TrainConfig c) {
        Path file = out.resolve(CONFIG);
        if (Files.isRegularFile(file)) {
            TrainConfig before = c.schema().defaults().withYaml(file);
            // data.source only says how data.dir was made: a re-run with --data DIR (no source) is the same experiment.
            List<String> diff = before.differences(c).stream().filter(d -> !d.startsWith("data.source:")).toList();
            if (!diff.isEmpty()) {
                throw new IllegalArgumentException(out + " holds an experiment of another config (" + String.join("; ", diff)
                        + "); give another --out or remove it");
            }
            return;
        }
        if (Files.exists(out) && !Files.isDirectory(out)) throw new IllegalArgumentException("output folder " + out + " is a file");
        try {
            Files.createDirectories(out);
            try (var s = Files.list(out)) {
                List<String> names = s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
                for (String n : names) {
                    if (!n.equals(ExperimentConfig.OLD) && !n.equals(ExperimentConfig.NEW)) {
                        throw new IllegalArgumentException("output folder " + out + " holds " + n
                                + ", which an experiment does not write; give an empty or new folder");
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + out + ": " + e.getMessage(), e);
        }
        RunDirectory.writeAtomically(file, c.toYaml());
    }

    /** A model folder trained with another config than the experiment's is refused rather than kept or resumed. */
    private static void checkRunConfig(Path dir, TrainConfig mc, String which) {
        Path file = dir.resolve(RunDirectory.CONFIG);
        if (!Files.isRegularFile(file)) return;
        TrainConfig before = mc.schema().defaults().withYaml(file);
        List<String> diff = before.differences(mc);
        if (!diff.isEmpty()) {
            throw new IllegalArgumentException("the " + which + " model in " + dir + " was trained with another config ("
                    + String.join("; ", diff) + "); remove " + dir + " or give another --out");
        }
    }

    private static void record(Path out, Map<String, Double> seconds, String part, double s) {
        seconds.put(part, round(s));
        ObjectNode o = new ObjectMapper().createObjectNode();
        seconds.forEach(o::put);
        try {
            RunDirectory.writeAtomically(out.resolve(TIMES),
                    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(o) + "\n");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Double> readTimes(Path file) {
        Map<String, Double> m = new LinkedHashMap<>();
        if (!Files.isRegularFile(file)) return m;
        try {
            JsonNode n = new ObjectMapper().readTree(file.toFile());
            n.properties().forEach(e -> m.put(e.getKey(), e.getValue().asDouble()));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
        }
        return m;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static double since(long t) {
        return (System.nanoTime() - t) / 1e9;
    }

    private static double round(double s) {
        return Math.round(s * 10) / 10.0;
    }
}

package dev.xbt.cli;

import dev.xbt.experiment.Experiment;
import dev.xbt.experiment.ExperimentConfig;
import dev.xbt.train.TrainConfig;
import dev.xbt.train.TrainProgress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;

/** {@code xbt experiment}: the whole protocol on a real data set, from the data to the compatibility report. */
@Command(name = "experiment", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the whole protocol from nothing: prepare the data set when absent (data.source into data.dir), "
                + "train the old model (old.*: a smaller train-clip config, e.g. on part of the training split) in "
                + "OUT/old, the new one (new.*: a larger config on all of it) in OUT/new, then the XBT pipeline (xbt.*: "
                + "stage 1, stage 2, BCT and the baselines) in OUT/pipeline, and the compatibility report: a table on "
                + "stdout, OUT/report.json and OUT/report.txt with the wall time of every part.",
                "",
                "Run it again with the same config and --out after a kill: finished models are kept, a model in training "
                        + "resumes from its last checkpoint, a finished experiment only prints its table. Committed "
                        + "configs: configs/experiments/openclipart.yaml and configs/experiments/tuxpaint.yaml.",
                ""})
final class ExperimentCommand implements Runnable {
    @Mixin
    ConfigOptions config;

    @Option(names = "--data", paramLabel = "DIR",
            description = "Use the data set in DIR (a manifest folder) instead of the config's (sets data.dir; nothing is prepared).")
    Path data;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Output folder (default: runs/experiment-NAME, NAME the config file's name without .yaml).")
    Path out;


    @Override
    public void run() {
        TrainConfig c = config.apply(ExperimentConfig.schema().defaults());
        if (data != null) c = c.with("data.dir", data.toString()).with("data.source", "");
        if (config.showIfAsked(c)) return;
        if (config.file == null) throw new IllegalArgumentException("missing --config FILE: the experiment's config (e.g. configs/experiments/openclipart.yaml)");
        ExperimentConfig.validate(c);
        Path dir = out != null ? out : Path.of("runs", "experiment-" + config.file.getFileName().toString().replaceFirst("\\.ya?ml$", ""));
        long t0 = System.nanoTime();
        Experiment.Result r = Experiment.run(c, dir, ExperimentCommand::prepare,
                TrainProgress.console(c.getLong("xbt.train.log_every")), DataCommand.progress(), System.err::println);
        System.out.print(r.table());
        System.out.printf(Locale.ROOT, "report: %s (%.0f s this run)%n", dir.resolve(Experiment.REPORT), (System.nanoTime() - t0) / 1e9);
    }

    private static void prepare(String source, Path dir) {
        int rc = Main.run("data", "prepare", source, "--out", dir.toString());
        if (rc != 0) throw new IllegalStateException("preparing data set '" + source + "' in " + dir + " failed (see above)");
    }
}

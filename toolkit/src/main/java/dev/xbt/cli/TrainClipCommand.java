package dev.xbt.cli;

import dev.xbt.data.Progress;
import dev.xbt.train.ClipTraining;
import dev.xbt.train.RunDirectory;
import dev.xbt.train.TrainConfig;
import dev.xbt.train.TrainProgress;
import dev.xbt.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** {@code xbt train-clip}: train a CLIP model from scratch on a data set, in a run directory. */
@Command(name = "train-clip", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a CLIP model from scratch with the symmetric contrastive loss (learnable temperature, "
                + "clamped at 100), AdamW, warmup then cosine decay and gradient clipping.",
                "",
                "Settings come from the built-in defaults, then --config FILE (YAML), then --set FIELD=VALUE and the "
                        + "flags below; --show-config prints every field with its meaning. The run directory gets "
                        + "config.yaml (the resolved config), metrics.jsonl (one JSON object a line, the config first), "
                        + "checkpoint.safetensors (weights, optimizer, schedule, random and data-order state; written "
                        + "atomically) and, at the end, model.safetensors (for 'xbt encode' and the other commands).",
                "",
                "A killed run continues with --resume and ends with the same weights, bit for bit, as a run that was "
                        + "never stopped (on the CPU, whatever the thread count). A NaN or infinite loss stops training "
                        + "with the last good checkpoint kept.",
                ""})
final class TrainClipCommand implements Runnable {
    @Mixin
    RunOptions run;

    @Mixin
    ConfigOptions config;

    @Option(names = "--data", paramLabel = "DIR", description = "The data set folder (sets data.dir).")
    Path data;

    @Option(names = "--steps", paramLabel = "N", description = "Optimizer steps (sets train.steps).")
    Long steps;

    @Option(names = "--batch-size", paramLabel = "N", description = "Pairs a step (sets train.batch_size).")
    Integer batchSize;

    @Option(names = "--lr", paramLabel = "X", description = "Peak learning rate (sets train.lr).")
    Double lr;

    @Option(names = "--seed", paramLabel = "S", description = "Seed of weights and data order (sets train.seed).")
    Long seed;

    @Override
    public void run() {
        TrainConfig.Schema schema = ClipTraining.schema();
        if (config.showIfAsked(resolve(schema.defaults()))) return;
        RunDirectory dir = run.open(ClipTraining.outputs());
        TrainConfig cfg;
        if (dir.resuming()) {
            cfg = schema.defaults().withYaml(dir.config());
            if (anyConfigGiven()) {
                // Settings given with --resume must agree with the run's: they are applied to its config and compared.
                List<String> diff = cfg.differences(resolve(cfg));
                if (!diff.isEmpty()) {
                    throw new IllegalArgumentException("--resume: the given settings differ from the run's config in "
                            + dir.config() + ": " + String.join("; ", diff) + " (resume without them, or start a new run)");
                }
            }
        } else {
            cfg = resolve(schema.defaults());
            ClipTraining.validate(cfg);
        }
        TrainProgress progress = TrainProgress.console(cfg.getLong("train.log_every"));
        Progress dataProgress = DataCommand.progress();
        Trainer.Result r = ClipTraining.train(cfg, dir, progress, dataProgress);
        if (r.stepsThisRun() == 0) {
            System.out.println("train-clip: the run in " + dir.dir() + " was already complete at step " + r.step()
                    + "; model written to " + dir.file(ClipTraining.MODEL_FILE));
        } else {
            System.out.printf(Locale.ROOT, "train-clip: %d steps (%d this run) in %.1f s, %.1f samples/s, last loss %.4f -> %s%n",
                    r.step(), r.stepsThisRun(), r.stepSeconds(), r.samplesPerSecond(), r.lastLoss(),
                    dir.file(ClipTraining.MODEL_FILE));
        }
    }

    private boolean anyConfigGiven() {
        return config.given() || data != null || steps != null || batchSize != null || lr != null
                || seed != null;
    }

    /** {@code base}, then --config, then --set, then the dedicated flags. */
    private TrainConfig resolve(TrainConfig base) {
        TrainConfig c = config.apply(base);
        if (data != null) c = c.with("data.dir", data.toString());
        if (steps != null) c = c.with("train.steps", steps);
        if (batchSize != null) c = c.with("train.batch_size", batchSize);
        if (lr != null) c = c.with("train.lr", lr);
        if (seed != null) c = c.with("train.seed", seed);
        return c;
    }
}

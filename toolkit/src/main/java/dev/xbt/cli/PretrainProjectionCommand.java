package dev.xbt.cli;

import dev.xbt.eval.DatasetEncoder;
import dev.xbt.train.RunDirectory;
import dev.xbt.train.TrainConfig;
import dev.xbt.train.Trainer;
import dev.xbt.xbt.ProjectionPretraining;
import dev.xbt.xbt.XbtConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.nio.file.Path;
import java.util.Locale;

/** {@code xbt pretrain-projection}: stage 1 of XBT, ψ trained on text alone. */
@Command(name = "pretrain-projection", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Stage 1 of XBT: train the projection ψ (new embedding space -> old) on the captions of the training "
                + "split alone. Both text encoders are frozen and run once over the captions (cached under "
                + "DATA/.cache/embeddings/); ψ learns to map the new text embedding plus Gaussian noise onto the old one.",
                "",
                "The run directory gets config.yaml, metrics.jsonl, checkpoint.safetensors and projection.safetensors "
                        + "(ψ with both models' contracts, for 'xbt train-xbt'). A NaN stops training with the last good "
                        + "checkpoint kept; --resume continues a killed run.",
                ""})
final class PretrainProjectionCommand implements Runnable {
    @Mixin
    RunOptions run;

    @Mixin
    XbtSettings settings;

    @Override
    public void run() {
        if (settings.showConfigIfAsked()) return;
        TrainConfig c = settings.resolve();
        XbtConfig.validate(c);
        DatasetEncoder old = DatasetEncoder.load(Path.of(c.getString("old"))), neu = DatasetEncoder.load(Path.of(c.getString("new")));
        RunDirectory dir = run.open(ProjectionPretraining.outputs());
        Trainer.Result r = ProjectionPretraining.train(c, old, neu, dir, XbtSettings.progress(c));
        System.out.printf(Locale.ROOT, "pretrain-projection: %d steps in %.1f s, last loss %.4f -> %s%n", r.step(), r.stepSeconds(),
                r.lastLoss(), dir.file(ProjectionPretraining.PROJECTION_FILE));
    }
}

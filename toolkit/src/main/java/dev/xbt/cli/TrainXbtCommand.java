package dev.xbt.cli;

import dev.xbt.eval.DatasetEncoder;
import dev.xbt.train.RunDirectory;
import dev.xbt.train.TrainConfig;
import dev.xbt.train.Trainer;
import dev.xbt.xbt.AdapterTuning;
import dev.xbt.xbt.XbtConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;

/** {@code xbt train-xbt}: stage 2 of XBT (or, with --bct, the BCT baseline). */
@Command(name = "train-xbt", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Stage 2 of XBT: tune adapters (LoRA and/or prompt tokens, see adapters.* in --show-config) on the "
                + "frozen new model with image-caption pairs, so that ψ(new image) and ψ(new text) align inside the old "
                + "space while ψ(new text) stays near its stage-1 value. The old model is never called.",
                "",
                "With --bct: the BCT-style baseline instead: the same adapters and a fresh projection head trained "
                        + "against the old model's embeddings of the training pairs (the old model is run over them).",
                "",
                "The run directory gets adapters/ (PEFT layout: adapter_config.json + adapter_model.safetensors) and "
                        + "projection.safetensors, for 'xbt eval-compat --xbt DIR' (or --bct DIR).",
                ""})
final class TrainXbtCommand implements Runnable {
    @Mixin
    RunOptions run;

    @Option(names = "--projection", paramLabel = "FILE",
            description = "The stage-1 ψ (projection.safetensors from 'xbt pretrain-projection'); required without --bct.")
    Path projection;

    @Option(names = "--bct", description = "Train the BCT baseline (old model in the loop) instead of XBT's stage 2.")
    boolean bct;

    @Mixin
    XbtSettings settings;

    @Override
    public void run() {
        if (settings.showConfigIfAsked()) return;
        if (!bct && projection == null) throw new IllegalArgumentException("missing --projection FILE: the stage-1 ψ");
        TrainConfig c = settings.resolve();
        XbtConfig.validate(c);
        DatasetEncoder old = DatasetEncoder.load(Path.of(c.getString("old"))), neu = DatasetEncoder.load(Path.of(c.getString("new")));
        RunDirectory dir = run.open(AdapterTuning.outputs());
        Trainer.Result r = AdapterTuning.train(c, bct ? AdapterTuning.Objective.BCT : AdapterTuning.Objective.XBT, old, neu,
                projection, dir, XbtSettings.progress(c), DataCommand.progress());
        System.out.printf(Locale.ROOT, "train-xbt%s: %d steps in %.1f s, last loss %.4f -> %s%n", bct ? " --bct" : "", r.step(),
                r.stepSeconds(), r.lastLoss(), dir.dir());
    }
}

package dev.xbt.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code xbt demo}: the whole method on the embedded default data. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run XBT end to end on the embedded shapes data with the committed old/new models: "
                + "projection pretraining, adapter tuning, baselines, and the compatibility report.")
final class DemoCommand implements Runnable {
    @Option(names = "--out", defaultValue = "runs/demo", description = "Output folder for report.json (default: ${DEFAULT-VALUE}).")
    Path out;

    @Override
    public void run() {
        System.out.println("""
                xbt demo: not yet available. This build has the neural engine (tensors, autograd, CPU backends,
                optimizers). The demo will train the XBT projection on text, tune the new model's adapters,
                run the baselines and write %s/report.json once the CLIP, training and XBT parts land.
                Try 'xbt backends' to see the engine's backends.""".formatted(out));
    }
}

package dev.xbt.cli;

import dev.xbt.data.Manifest;
import dev.xbt.train.TrainConfig;
import dev.xbt.eval.CompatibilityReport;
import dev.xbt.xbt.Pipeline;
import dev.xbt.xbt.XbtConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code xbt demo}: the whole method on the embedded default data. */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run XBT end to end on the embedded shapes data with the committed old (64-d) and new (128-d) models: "
                + "stage 1 (ψ on text), stage 2 (LoRA on the new image tower, the old model never called), the baselines "
                + "(raw, linear, Procrustes, Procrustes+SLERP, BCT with the old model in the loop, XBT+SLERP), then the "
                + "compatibility report: a table on stdout and OUT/report.json.",
                "",
                "The data sets are made first when absent: the training corpus (xbt data prepare shapes --count 6000 --seed 0) "
                        + "and the held-out set of the report (xbt data prepare shapes --count 3000 --seed 1 --split test; "
                        + "ranked in 5 galleries of 600 pictures, eval.folds). Settings come "
                        + "from configs/xbt/shapes.yaml unless --config names another file; relative paths in it are taken from the xbt installation folder.",
                ""})
final class DemoCommand implements Runnable {
    /** The training corpus of the committed models (data.dir of configs/xbt/shapes.yaml). */
    static final String[] CORPUS = {"--count", "6000", "--seed", "0"};
    /**
     * The held-out set the report is on (eval.data of configs/xbt/shapes.yaml): pictures of another seed than the
     * training corpus's, which neither model nor the method has seen, every one in split test.
     */
    static final String[] HELD_OUT = {"--count", "3000", "--seed", "1", "--split", "test"};

    @Option(names = "--out", defaultValue = "runs/demo", paramLabel = "DIR",
            description = "Output folder: stage1/, xbt/, bct/ and report.json (default: ${DEFAULT-VALUE}); an earlier demo's "
                    + "outputs there are replaced.")
    Path out;

    @Mixin
    ConfigOptions config;

    @Override
    public void run() {
        long t0 = System.nanoTime();
        Path home = Path.of(System.getenv().getOrDefault("XBT_HOME", ".")).toAbsolutePath().normalize();
        // Without --config, the embedded default's settings (configs/xbt/shapes.yaml of the installation).
        TrainConfig c = XbtConfig.schema().defaults();
        Path embedded = home.resolve("configs/xbt/shapes.yaml");
        if (config.file == null && Files.isRegularFile(embedded)) c = c.withYaml(embedded);
        c = config.apply(c);
        for (String f : new String[] {"old", "new", "data.dir", "eval.data"}) {
            if (c.getString(f).isBlank()) continue;
            Path p = Path.of(c.getString(f));
            if (!p.isAbsolute() && !Files.exists(p)) c = c.with(f, home.resolve(p).toString());
        }
        if (config.showIfAsked(c)) return;
        XbtConfig.validate(c);
        prepareWhenAbsent(Path.of(c.getString("data.dir")), "the shapes data set", CORPUS);
        prepareWhenAbsent(Path.of(XbtConfig.evalData(c)), "the held-out shapes set", HELD_OUT);
        CompatibilityReport report = Pipeline.run(c, out, XbtSettings.progress(c), DataCommand.progress(), System.err::println);
        System.out.print(report.table());
        if (report.methods().contains("xbt")) System.out.println(report.weakestCell("xbt"));
        System.out.printf(Locale.ROOT, "report: %s (%.0f s)%n", out.resolve(Pipeline.REPORT), (System.nanoTime() - t0) / 1e9);
    }

    /** {@code xbt data prepare shapes OPTIONS --out DIR} unless DIR already holds a data set. */
    private static void prepareWhenAbsent(Path dir, String what, String[] options) {
        if (Files.isRegularFile(dir.resolve(Manifest.FILE_NAME))) return;
        System.err.println("demo: preparing " + what + " in " + dir + " (" + String.join(" ", options) + ")");
        List<String> args = new ArrayList<>(List.of("data", "prepare", "shapes"));
        args.addAll(List.of(options));
        args.addAll(List.of("--out", dir.toString()));
        if (Main.run(args.toArray(String[]::new)) != 0) throw new IllegalStateException("preparing " + what + " in " + dir + " failed");
    }
}

package dev.xbt.cli;

import dev.xbt.eval.DatasetEncoder;
import dev.xbt.train.TrainConfig;
import dev.xbt.xbt.CompatEvaluation;
import dev.xbt.eval.CompatibilityReport;
import dev.xbt.xbt.Pipeline;
import dev.xbt.xbt.XbtConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code xbt eval-compat}: the compatibility report of a data set. */
@Command(name = "eval-compat", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Compatibility report: old->old, new->new and, per method, new queries against the old model's "
                + "gallery, image->text and text->image Recall@1/5/10 and rsum; per cell whether the method beats old->old "
                + "and the gap closed, (new->old - old->old) / (new->new - old->old). Prints a table and writes "
                + "OUT/report.json.",
                "",
                "Methods: raw, linear, procrustes, procrustes+slerp (fitted on the training captions), xbt and xbt+slerp "
                        + "(--xbt DIR from 'xbt train-xbt'), bct (--bct DIR from 'xbt train-xbt --bct').",
                "",
                "Exit codes: 0 done, 2 bad input, 3 the --gate method is incompatible in some cell.",
                ""})
final class EvalCompatCommand implements Callable<Integer> {
    @Mixin
    XbtSettings settings;

    @Option(names = "--split", paramLabel = "SPLIT", description = "The split evaluated (sets eval.split; default test).")
    String split;

    @Option(names = "--methods", paramLabel = "LIST", split = ",",
            description = "Methods to evaluate, comma-separated (default: those whose inputs are given).")
    List<String> methods;

    @Option(names = "--xbt", paramLabel = "DIR", description = "The train-xbt run folder (adapters/ and projection.safetensors).")
    Path xbt;

    @Option(names = "--bct", paramLabel = "DIR", description = "The train-xbt --bct run folder.")
    Path bct;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Folder for report.json.")
    Path out;

    @Option(names = "--gate", paramLabel = "METHOD", description = "Exit with code 3 when this method is incompatible in any cell.")
    String gate;

    @Override
    public Integer call() throws Exception {
        if (settings.showConfigIfAsked()) return 0;
        TrainConfig c = settings.resolve();
        if (split != null) c = c.with("eval.split", split);
        XbtConfig.validate(c);
        List<String> ms = methods;
        if (ms == null) {
            ms = CompatEvaluation.METHODS.stream().filter(m -> !(m.startsWith("xbt") && xbt == null) && !(m.equals("bct") && bct == null))
                    .toList();
        }
        if (gate != null && !ms.contains(gate)) {
            throw new IllegalArgumentException("--gate " + gate + " is not among the evaluated methods " + ms);
        }
        Map<String, Path> runs = new LinkedHashMap<>();
        if (xbt != null) runs.put("xbt", xbt);
        if (bct != null) runs.put("bct", bct);
        DatasetEncoder old = DatasetEncoder.load(Path.of(c.getString("old"))), neu = DatasetEncoder.load(Path.of(c.getString("new")));
        CompatibilityReport report = new CompatEvaluation(c, old, neu, DataCommand.progress(), System.err::println).evaluate(ms, runs);
        Files.createDirectories(out);
        report.write(out.resolve(Pipeline.REPORT));
        System.out.print(report.table());
        System.out.println("report: " + out.resolve(Pipeline.REPORT));
        if (gate == null) return 0;
        System.out.println(report.weakestCell(gate));
        System.err.println("xbt: " + report.gateMessage(gate));
        return report.gate(gate);
    }
}

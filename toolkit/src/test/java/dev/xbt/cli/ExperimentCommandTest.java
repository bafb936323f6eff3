package dev.xbt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.xbt.experiment.Experiment;
import dev.xbt.experiment.ExperimentConfig;
import dev.xbt.train.TrainConfig;
import dev.xbt.train.TrainProgress;
import dev.xbt.data.Progress;
import dev.xbt.xbt.CompatEvaluation;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 'xbt experiment' on configs/experiments/tiny.yaml (two tiny CLIPs on 160 shapes pictures): the data prepared when
 * absent, the whole run, a re-run that only reprints, a resume after the new model and the report were lost, and
 * the refusals.
 */
class ExperimentCommandTest {
    static final Path TINY = Path.of("..", "configs", "experiments", "tiny.yaml");
    @TempDir
    static Path dir;
    static Path data, out;
    static List<String> prepared = new ArrayList<>();
    static Experiment.Result first;

    /** The library run with a preparer that makes a small shapes set (the CLI's would make 6000 pictures). */
    @BeforeAll
    static void runTheTinyExperiment() {
        data = dir.resolve("shapes");
        out = dir.resolve("exp");
        TrainConfig c = ExperimentConfig.schema().defaults().withYaml(TINY).with("data.dir", data.toString());
        first = Experiment.run(c, out, (source, folder) -> {
            prepared.add(source);
            CommandLineTest.Run r = CommandLineTest.run("data", "prepare", source, "--count", "160", "--out", folder.toString());
            assertEquals(0, r.code(), r.err());
        }, TrainProgress.none(), Progress.NONE, s -> {});
    }

    private static CommandLineTest.Run experiment(String... more) {
        List<String> args = new ArrayList<>(List.of("experiment", "--config", TINY.toString(), "--data", data.toString(),
                "--out", out.toString()));
        args.addAll(List.of(more));
        return CommandLineTest.run(args.toArray(String[]::new));
    }

    @Test
    void theWholeProtocolWritesBothModelsThePipelineAndTheReportWithTimes() throws Exception {
        assertEquals(List.of("shapes"), prepared);
        for (String f : new String[] {"old/model.safetensors", "new/model.safetensors", "pipeline/stage1", "pipeline/xbt",
                "pipeline/bct", "pipeline/report.json", "report.json", "report.txt", "config.yaml", "times.json"}) {
            assertTrue(Files.exists(out.resolve(f)), f);
        }
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals(2 + CompatEvaluation.METHODS.size(), report.get("rows").size());
        for (String part : new String[] {"data", "old", "new", "pipeline", "total"}) {
            assertTrue(report.at("/experiment_seconds/" + part).asDouble() > 0, part + ": " + report.get("experiment_seconds"));
        }
        // The old model trained on half of the training split: its metrics say how many images it saw.
        String oldLog = Files.readString(out.resolve("old/metrics.jsonl"));
        assertTrue(oldLog.contains("\"fraction\":0.5"), oldLog);
        assertTrue(first.table().contains("xbt") && first.table().contains("wall time: data"), first.table());
        assertTrue(first.table().contains("\nxbt: weakest cell ") && first.table().contains("90 % bootstrap interval"), first.table());
        JsonNode interval = report.at("/compatibility/xbt/gap_closed_90/t2i_R@10");
        assertTrue(interval.isNull() || interval.size() == 2 && interval.get(0).asDouble() <= interval.get(1).asDouble(), interval.toString());
        assertFalse(first.alreadyComplete());
    }

    @Test
    void aFinishedExperimentIsNotRunAgainAndALostPartIsRedoneFromWhatIsLeft() throws Exception {
        CommandLineTest.Run again = experiment();
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("is complete"), again.err());
        assertTrue(again.out().startsWith(first.table()), again.out());

        // A kill during the new model's training after its step-4 checkpoint: the report and the model are missing.
        Path oldModel = out.resolve("old/model.safetensors");
        FileTime oldTime = Files.getLastModifiedTime(oldModel);
        Files.delete(out.resolve("report.json"));
        Files.delete(out.resolve("report.txt"));
        Files.delete(out.resolve("new/model.safetensors"));
        CommandLineTest.Run resumed = experiment();
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.err().contains("the old model exists"), resumed.err());
        assertTrue(resumed.err().contains("resuming the new model"), resumed.err());
        assertTrue(resumed.err().contains("resuming " + out.resolve("new").toAbsolutePath().normalize() + " at step 12"),
                resumed.err());
        assertEquals(oldTime, Files.getLastModifiedTime(oldModel));
        assertTrue(Files.isRegularFile(out.resolve("new/model.safetensors")));
        assertTrue(Files.isRegularFile(out.resolve("report.json")));
        assertTrue(resumed.out().contains("wall time:"), resumed.out());
    }

    @Test
    void badInputIsRefusedInOneLine() {
        CommandLineTest.Run other = experiment("--set", "new.train.steps=13");
        assertEquals(2, other.code());
        assertTrue(other.err().contains("holds an experiment of another config (new.train.steps: 12 → 13)"), other.err());

        CommandLineTest.Run noData = CommandLineTest.run("experiment", "--config", TINY.toString(), "--data",
                dir.resolve("nothing").toString(), "--out", dir.resolve("exp2").toString());
        assertEquals(2, noData.code());
        assertTrue(noData.err().contains("has no manifest.jsonl and config field 'data.source' is empty"), noData.err());

        CommandLineTest.Run noConfig = CommandLineTest.run("experiment", "--out", dir.resolve("exp3").toString());
        assertEquals(2, noConfig.code());
        assertTrue(noConfig.err().contains("missing --config FILE"), noConfig.err());

        CommandLineTest.Run bad = experiment("--set", "xbt.stage2.lr=0");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("'xbt.stage2.lr'"), bad.err());
        for (CommandLineTest.Run r : List.of(other, noData, noConfig, bad)) {
            assertFalse(r.err().contains("at dev.xbt"), "no stack trace: " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
    }

    @Test
    void showConfigListsEveryPartWithItsHelp() {
        CommandLineTest.Run r = CommandLineTest.run("experiment", "--config", TINY.toString(), "--show-config");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("fraction: 0.5"), r.out());
        assertTrue(r.out().contains("old model: part of the split's images trained on"), r.out());
        assertTrue(r.out().contains("pipeline: optimizer steps of ψ's pretraining"), r.out());
    }
}

package dev.xbt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.xbt.xbt.CompatEvaluation;
import dev.xbt.xbt.Projection;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The XBT commands end to end on two tiny models (16-d old, 24-d new, from configs/tiny.yaml) and 160 shapes pictures:
 * pretrain-projection, train-xbt, train-xbt --bct, eval-compat with its gate, demo, and the refusals.
 */
class XbtCommandsTest {
    static final Path TINY_XBT = Path.of("..", "configs", "xbt", "tiny.yaml");
    @TempDir
    static Path dir;
    static Path data, oldModel, newModel, stage1;

    @BeforeAll
    static void makeModelsAndStage1() {
        data = dir.resolve("shapes");
        CommandLineTest.Run r = CommandLineTest.run("data", "prepare", "shapes", "--count", "160", "--out", data.toString());
        assertEquals(0, r.code(), r.err());
        oldModel = trainClip("old", "--set", "model.id=tiny-old");
        newModel = trainClip("new", "--set", "model.id=tiny-new", "--set", "model.embed_dim=24", "--seed", "1");
        CommandLineTest.Run s1 = xbt("pretrain-projection", "--run", dir.resolve("stage1").toString());
        assertEquals(0, s1.code(), s1.err());
        stage1 = dir.resolve("stage1").resolve("projection.safetensors");
        assertTrue(Files.isRegularFile(stage1));
        assertTrue(s1.out().contains("pretrain-projection: 8 steps"), s1.out());
    }

    private static Path trainClip(String name, String... more) {
        List<String> args = new ArrayList<>(List.of("train-clip", "--config", TrainClipCommandTest.TINY.toString(), "--data",
                data.toString(), "--run", dir.resolve(name).toString(), "--set", "eval.every=1000"));
        args.addAll(List.of(more));
        CommandLineTest.Run r = CommandLineTest.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        return dir.resolve(name).resolve("model.safetensors");
    }

    /** An XBT command with the tiny config, the two models and the data. */
    static CommandLineTest.Run xbt(String command, String... more) {
        List<String> args = new ArrayList<>(List.of(command, "--config", TINY_XBT.toString(), "--old", oldModel.toString(),
                "--new", newModel.toString(), "--data", data.toString()));
        args.addAll(List.of(more));
        return CommandLineTest.run(args.toArray(String[]::new));
    }

    @Test
    void stage2AndBctThenTheReportWithItsGate() throws Exception {
        Path x = dir.resolve("xbt"), b = dir.resolve("bct");
        CommandLineTest.Run s2 = xbt("train-xbt", "--projection", stage1.toString(), "--run", x.toString());
        assertEquals(0, s2.code(), s2.err());
        assertTrue(Files.isRegularFile(x.resolve("adapters/adapter_config.json")));
        assertTrue(Files.isRegularFile(x.resolve("adapters/adapter_model.safetensors")));
        assertTrue(Files.isRegularFile(x.resolve("projection.safetensors")));
        CommandLineTest.Run bct = xbt("train-xbt", "--bct", "--run", b.toString());
        assertEquals(0, bct.code(), bct.err());
        assertTrue(bct.err().contains("the cost XBT avoids"), bct.err());

        Path out = dir.resolve("report");
        CommandLineTest.Run ev = xbt("eval-compat", "--xbt", x.toString(), "--bct", b.toString(), "--out", out.toString(),
                "--gate", "raw");
        // Padding a 24-d space into a 16-d one cannot beat the old model: the gate fails with code 3.
        assertEquals(3, ev.code(), ev.out() + ev.err());
        assertTrue(ev.err().contains("gate raw: incompatible in"), ev.err());
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals(2 + CompatEvaluation.METHODS.size(), report.get("rows").size());
        for (String m : CompatEvaluation.METHODS) {
            assertTrue(ev.out().contains(m), ev.out());
            assertTrue(report.at("/compatibility/" + m + "/cells").has("t2i_R@10"), m);
            assertTrue(report.at("/compatibility/" + m + "/gap_closed").has("i2t_R@1"), m);
        }
        assertFalse(report.at("/compatibility/raw/all").asBoolean());
        assertTrue(report.at("/dataset/images").asInt() > 0);
        double r1 = report.at("/rows/0/i2t/R@1").asDouble();
        assertTrue(r1 >= 0 && r1 <= 100);

        // Without a gate the same report exits 0.
        CommandLineTest.Run ok = xbt("eval-compat", "--methods", "raw,procrustes", "--out", dir.resolve("r2").toString());
        assertEquals(0, ok.code(), ok.err());
    }

    @Test
    void theReportOnAHeldOutSetInFolds() throws Exception {
        Path heldOut = dir.resolve("held-out");
        CommandLineTest.Run p = CommandLineTest.run("data", "prepare", "shapes", "--count", "40", "--seed", "1", "--split", "test",
                "--out", heldOut.toString());
        assertEquals(0, p.code(), p.err());
        Path out = dir.resolve("report-held-out");
        CommandLineTest.Run ev = xbt("eval-compat", "--methods", "raw,procrustes", "--out", out.toString(),
                "--set", "eval.data=" + heldOut, "--set", "eval.folds=4");
        assertEquals(0, ev.code(), ev.err());
        assertTrue(ev.out().startsWith("held-out (test, 4 folds): 40 images, "
                + dev.xbt.data.TextCorpus.of(dev.xbt.data.Manifest.read(heldOut), "test").texts().size() + " captions"), ev.out());
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals(40, report.at("/dataset/images").asInt());
        assertEquals(4, report.at("/eval/folds").asInt());
        assertEquals(heldOut.toAbsolutePath().normalize().toString(),
                Path.of(report.at("/eval/data").asText()).toAbsolutePath().normalize().toString());
        // Ranked within 10 pictures instead of 40, the old model's own R@10 can only rise.
        CommandLineTest.Run one = xbt("eval-compat", "--methods", "raw", "--out", dir.resolve("report-one").toString(),
                "--set", "eval.data=" + heldOut);
        assertEquals(0, one.code(), one.err());
        JsonNode whole = new ObjectMapper().readTree(dir.resolve("report-one").resolve("report.json").toFile());
        assertEquals(100.0, report.at("/rows/0/t2i/R@10").asDouble(), 1e-9, "10 pictures a fold: every caption's picture is in its top 10");
        assertTrue(whole.at("/rows/0/t2i/R@10").asDouble() < 100.0, "the whole 40-picture gallery is harder");

        CommandLineTest.Run tooMany = xbt("eval-compat", "--methods", "raw", "--out", dir.resolve("report-bad").toString(),
                "--set", "eval.data=" + heldOut, "--set", "eval.folds=41");
        assertEquals(2, tooMany.code());
        assertTrue(tooMany.err().contains("'eval.folds' is 41, more than the 40 images"), tooMany.err());
    }

    @Test
    void aProcrustesStartAndStage2OverEveryCaptionWithAFixedTextSide() {
        // projection.init=procrustes with a learning rate too small to move it: the saved ψ's residual path is the
        // Procrustes map of 24-d onto 16-d, whose [16, 24] weight has orthonormal rows (the raw start has them too,
        // but as the identity's first 16 rows: that it is not the identity is checked as well).
        Path s1 = dir.resolve("stage1-procrustes");
        CommandLineTest.Run r = xbt("pretrain-projection", "--run", s1.toString(), "--set", "projection.init=procrustes",
                "--set", "stage1.lr=1e-12");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("starting at the procrustes map") || r.out().contains("starting at the procrustes map"),
                r.out() + r.err());
        Projection psi = Projection.load(s1.resolve("projection.safetensors")).projection();
        float[] w = psi.namedParameters().get("residual.weight").toArray();
        double offIdentity = 0;
        for (int i = 0; i < 16; i++) {
            for (int j = 0; j < 16; j++) {
                double dot = 0;
                for (int k = 0; k < 24; k++) dot += (double) w[i * 24 + k] * w[j * 24 + k];
                assertEquals(i == j ? 1 : 0, dot, 1e-4, "row " + i + " . row " + j);
            }
            for (int k = 0; k < 24; k++) offIdentity += Math.abs(w[i * 24 + k] - (i == k ? 1 : 0));
        }
        assertTrue(offIdentity > 1, "the residual path is still the raw map");

        // Stage 2 with every training caption as the images' negatives, ψ trained, the images contrasted with the
        // stage-1 ψ of their captions: runs, and ψ moves (through the image path and the consistency term).
        Path x = dir.resolve("xbt-captions");
        CommandLineTest.Run s2 = xbt("train-xbt", "--projection", s1.resolve("projection.safetensors").toString(), "--run",
                x.toString(), "--set", "stage2.negatives=captions", "--set", "stage2.contrast_stage1_text=true", "--set",
                "stage2.train_projection=true", "--set", "stage2.lr=1e-2");
        assertEquals(0, s2.code(), s2.err());
        float[] after = Projection.load(x.resolve("projection.safetensors")).projection().namedParameters().get("residual.weight").toArray();
        assertFalse(java.util.Arrays.equals(w, after), "stage 2 left ψ unchanged");

        CommandLineTest.Run bad = xbt("train-xbt", "--projection", stage1.toString(), "--run", dir.resolve("bad-neg").toString(),
                "--set", "stage2.negatives=everything");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("stage2.negatives"), bad.err());
    }

    @Test
    void projectionsAndAdaptersThatDoNotChainAreRefusedNamingBothContracts() {
        // ψ made for (old, new) given the models the other way round.
        CommandLineTest.Run r = CommandLineTest.run("train-xbt", "--config", TINY_XBT.toString(), "--old", newModel.toString(),
                "--new", oldModel.toString(), "--data", data.toString(), "--projection", stage1.toString(), "--run",
                dir.resolve("swapped").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("tiny-old") && r.err().contains("tiny-new") && r.err().contains("this projection maps"),
                r.err());
        assertFalse(r.err().contains("at dev.xbt"), "no stack trace: " + r.err());

        CommandLineTest.Run missing = xbt("train-xbt", "--run", dir.resolve("nopsi").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("missing --projection"), missing.err());

        CommandLineTest.Run bad = xbt("pretrain-projection", "--run", dir.resolve("bad").toString(), "--set", "stage1.loss=l1");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("stage1.loss"), bad.err());

        CommandLineTest.Run unknown = xbt("eval-compat", "--methods", "magic", "--out", dir.resolve("r3").toString());
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("unknown method 'magic'"), unknown.err());
    }

    @Test
    void runsMadeForAnotherNewModelAreRefused() throws Exception {
        Path x = dir.resolve("xbt-other");
        assertEquals(0, xbt("train-xbt", "--projection", stage1.toString(), "--run", x.toString()).code());
        // A new model with another contract: the run's ψ (and adapters) were made for tiny-new.
        Path other = trainClip("other", "--set", "model.id=tiny-other", "--set", "model.embed_dim=24");
        CommandLineTest.Run r = CommandLineTest.run("eval-compat", "--config", TINY_XBT.toString(), "--old", oldModel.toString(),
                "--new", other.toString(), "--data", data.toString(), "--methods", "xbt", "--xbt", x.toString(), "--out",
                dir.resolve("r4").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("tiny-new") && r.err().contains("tiny-other"), r.err());
    }

    @Test
    void demoRunsTheWholePipelineOnATinySetting() throws Exception {
        Path out = dir.resolve("demo");
        CommandLineTest.Run r = CommandLineTest.run("demo", "--config", TINY_XBT.toString(), "--out", out.toString(),
                "--set", "old=" + oldModel, "--set", "new=" + newModel, "--set", "data.dir=" + data);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("old/old") && r.out().contains("xbt+slerp") && r.out().contains("report: "), r.out());
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertTrue(report.at("/seconds/total").asDouble() > 0);
        assertTrue(report.has("slerp_alpha"));
        for (String sub : List.of("stage1/projection.safetensors", "xbt/adapters/adapter_model.safetensors",
                "bct/projection.safetensors")) {
            assertTrue(Files.isRegularFile(out.resolve(sub)), sub);
        }
        // Run again in the same folder: the earlier outputs are replaced; a foreign file is refused.
        Files.writeString(out.resolve("notes.txt"), "mine");
        CommandLineTest.Run again = CommandLineTest.run("demo", "--config", TINY_XBT.toString(), "--out", out.toString(),
                "--set", "old=" + oldModel, "--set", "new=" + newModel, "--set", "data.dir=" + data);
        assertEquals(2, again.code());
        assertTrue(again.err().contains("notes.txt"), again.err());
    }
}

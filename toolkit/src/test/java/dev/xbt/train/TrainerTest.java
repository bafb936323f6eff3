package dev.xbt.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.xbt.engine.Ops;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.ParameterSet;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.nn.Linear;
import dev.xbt.engine.optim.AdamW;
import dev.xbt.engine.optim.WarmupCosine;
import dev.xbt.weights.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The loop on a small regression: resume, NaN and infinity stops, metrics. */
class TrainerTest {
    @TempDir
    Path dir;

    /** A linear regression whose data come from a generator the checkpoint must carry. */
    private static final class Regression implements Trainer.State {
        final Linear layer = Linear.normalInit("lin", 4, 2, 0.5f, true, new Rng(1));
        final Rng data = new Rng(99);
        final ParameterSet params = ParameterSet.of(layer.parameters());
        final AdamW opt = new AdamW(params);
        /** Steps (1-based) whose loss is replaced by this value. */
        long poisonStep = -1;
        float poison;

        Tensor loss(long step) {
            Tensor x = Tensor.randn(data, 1f, 8, 4);
            Tensor y = Tensor.randn(data, 1f, 8, 2);
            Tensor l = Ops.mean(Ops.square(Ops.sub(layer.forward(x), y)));
            if (step + 1 == poisonStep) l = Ops.add(l, Tensor.scalar(poison));
            return l;
        }

        Trainer trainer(RunDirectory run, long steps) {
            return new Trainer(run, params, opt, new WarmupCosine(0.05f, 2, steps, 0.001f), this::loss)
                    .state(this).gradClip(1.0).checkpointEvery(3).logEvery(1).samplesPerStep(8);
        }

        @Override
        public Map<String, String> save() {
            return Map.of("data", Long.toString(data.state()));
        }

        @Override
        public void restore(Map<String, String> s) {
            data.setState(Long.parseLong(s.get("data")));
        }

        float[] weights() {
            List<Float> all = new ArrayList<>();
            for (Parameter p : params.parameters()) for (float v : p.toArray()) all.add(v);
            float[] out = new float[all.size()];
            for (int i = 0; i < out.length; i++) out[i] = all.get(i);
            return out;
        }
    }

    private RunDirectory fresh(String name) {
        return RunDirectory.open(dir.resolve(name), false, false, Set.of());
    }

    @Test
    void resumedRunEndsWithTheSameBits() throws Exception {
        Regression a = new Regression();
        a.trainer(fresh("a"), 10).run();

        // Run b stops (crashes) in step 8, after its checkpoint at step 6; a new process resumes it.
        Regression b = new Regression();
        b.poisonStep = 8;
        b.poison = Float.POSITIVE_INFINITY;
        assertThrows(TrainingStopped.class, () -> b.trainer(fresh("b"), 10).run());
        Regression b2 = new Regression();
        Trainer.Result r = b2.trainer(RunDirectory.open(dir.resolve("b"), true, false, Set.of()), 10).run();
        assertEquals(10, r.step());
        assertEquals(4, r.stepsThisRun());
        assertArrayEquals(a.weights(), b2.weights());

        // The metrics read as one run: steps 1..10 once each, with the same losses as run a.
        List<JsonNode> la = lines(dir.resolve("a"), "step"), lb = lines(dir.resolve("b"), "step");
        assertEquals(10, lb.size());
        for (int i = 0; i < 10; i++) {
            assertEquals(i + 1, lb.get(i).get("step").asInt());
            assertEquals(la.get(i).get("loss").asDouble(), lb.get(i).get("loss").asDouble());
        }
        assertEquals(1, lines(dir.resolve("b"), "resume").size());
        assertEquals(0, lines(dir.resolve("b"), "stopped").size(), "the stopped line of step 8 is gone with step 8");
    }

    @Test
    void averagedRunEndsWithTheAverageOfItsStepsAndResumesToTheSameBits() throws Exception {
        double decay = 0.8;
        Regression a = new Regression();
        List<float[]> snapshots = new ArrayList<>();
        RunDirectory runA = fresh("ema-a");
        a.trainer(runA, 10).weightAverage(decay).afterUpdate(() -> snapshots.add(a.weights())).run();
        assertEquals(10, snapshots.size());
        double[] expected = WeightAverageTest.closedForm(snapshots, decay);
        float[] got = a.weights();
        for (int i = 0; i < got.length; i++) assertEquals(expected[i], got[i], 1e-6, "element " + i);
        assertFalse(java.util.Arrays.equals(snapshots.getLast(), got), "the average differs from the last weights");
        try (SafetensorsFile f = SafetensorsFile.open(runA.checkpoint())) {
            assertEquals("10", f.metadata().get(TrainingCheckpoint.AVERAGE_UPDATES_KEY));
            assertArrayEquals(snapshots.getLast(), concat(f, a.params.parameters()), "the checkpoint keeps the last weights");
            assertArrayEquals(got, f.read("average"), "and the average beside them");
        }

        // Crash in step 8 after the checkpoint of step 6, resume: same average, bit for bit.
        Regression b = new Regression();
        b.poisonStep = 8;
        b.poison = Float.NaN;
        assertThrows(TrainingStopped.class, () -> b.trainer(fresh("ema-b"), 10).weightAverage(decay).run());
        Regression b2 = new Regression();
        b2.trainer(RunDirectory.open(dir.resolve("ema-b"), true, false, Set.of()), 10).weightAverage(decay).run();
        assertArrayEquals(got, b2.weights());

        // A run without averaging cannot resume into one with it.
        Regression c = new Regression();
        c.poisonStep = 5;
        c.poison = Float.NaN;
        assertThrows(TrainingStopped.class, () -> c.trainer(fresh("plain"), 10).run());
        Regression c2 = new Regression();
        var e = assertThrows(IllegalArgumentException.class, () -> c2.trainer(RunDirectory.open(dir.resolve("plain"), true, false,
                Set.of()), 10).weightAverage(decay).run());
        assertTrue(e.getMessage().contains("no weight average"), e.getMessage());
    }

    @Test
    void nanLossStopsAndKeepsTheLastGoodCheckpoint() throws Exception {
        Regression r = new Regression();
        r.poisonStep = 5;
        r.poison = Float.NaN;
        RunDirectory run = fresh("nan");
        List<float[]> afterStep = new ArrayList<>();
        Trainer t = r.trainer(run, 10).afterUpdate(() -> afterStep.add(r.weights()));
        TrainingStopped e = assertThrows(TrainingStopped.class, t::run);
        assertEquals(5, e.step());
        assertTrue(e.getMessage().contains("training stopped at step 5") && e.getMessage().contains("NaN")
                && e.getMessage().contains("checkpoint is kept in " + run.checkpoint()), e.getMessage());
        assertEquals(4, afterStep.size(), "no update after the NaN");
        try (SafetensorsFile f = SafetensorsFile.open(run.checkpoint())) {
            assertEquals("3", f.metadata().get(TrainingCheckpoint.STEP_KEY));
            float[] saved = concat(f, r.params.parameters());
            assertArrayEquals(afterStep.get(2), saved, "the checkpoint holds the weights after step 3");
        }
        List<JsonNode> stopped = lines(run.dir(), "stopped");
        assertEquals(1, stopped.size());
        assertEquals(5, stopped.getFirst().get("step").asInt());
    }

    @Test
    void nanFromAnOpIsCaughtWithEveryOpChecked() {
        Regression r = new Regression();
        r.poisonStep = 2;
        r.poison = Float.NaN;
        TrainingStopped e = assertThrows(TrainingStopped.class, () -> r.trainer(fresh("ops"), 4).checkEveryOp(true).run());
        assertTrue(e.getMessage().contains("a NaN appeared (add("), e.getMessage());
        assertFalse(Files.exists(dir.resolve("ops").resolve(RunDirectory.CHECKPOINT)));
        assertTrue(e.getMessage().contains("no checkpoint had been written yet"), e.getMessage());
    }

    @Test
    void runDirectoryRefusesAnExistingRun() throws Exception {
        Regression r = new Regression();
        r.trainer(fresh("x"), 3).run();
        var e = assertThrows(IllegalArgumentException.class, () -> fresh("x"));
        assertTrue(e.getMessage().contains("--resume") && e.getMessage().contains("--force"), e.getMessage());
        Files.writeString(dir.resolve("x").resolve("notes.txt"), "mine");
        e = assertThrows(IllegalArgumentException.class, () -> RunDirectory.open(dir.resolve("x"), false, true, Set.of()));
        assertTrue(e.getMessage().contains("notes.txt"), e.getMessage());
        Files.delete(dir.resolve("x").resolve("notes.txt"));
        RunDirectory.open(dir.resolve("x"), false, true, Set.of());
        assertFalse(Files.exists(dir.resolve("x").resolve(RunDirectory.CHECKPOINT)));
        e = assertThrows(IllegalArgumentException.class, () -> RunDirectory.open(dir.resolve("none"), true, false, Set.of()));
        assertTrue(e.getMessage().contains("nothing to resume"), e.getMessage());
    }

    private static float[] concat(SafetensorsFile f, List<Parameter> params) {
        List<Float> all = new ArrayList<>();
        for (Parameter p : params) for (float v : f.read("param/" + p.name())) all.add(v);
        float[] out = new float[all.size()];
        for (int i = 0; i < out.length; i++) out[i] = all.get(i);
        return out;
    }

    static List<JsonNode> lines(Path runDir, String event) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(runDir.resolve(RunDirectory.METRICS))) {
            JsonNode n = MetricsLog.JSON.readTree(line);
            if (n.get("event").asText().equals(event)) out.add(n);
        }
        return out;
    }
}

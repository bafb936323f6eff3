package dev.xbt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.xbt.clip.ClipCheckpoint;
import dev.xbt.clip.ClipConfig;
import dev.xbt.train.RunDirectory;
import dev.xbt.train.TrainingCheckpoint;
import dev.xbt.weights.SafetensorsFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code xbt train-clip} end to end on a tiny model and ~100 shapes pictures. */
class TrainClipCommandTest {
    /** The committed tiny config (tests run in the toolkit folder). */
    static final Path TINY = Path.of("..", "configs", "tiny.yaml");
    @TempDir
    static Path dir;
    static Path data;

    @BeforeAll
    static void makeData() {
        data = dir.resolve("shapes");
        CommandLineTest.Run r = CommandLineTest.run("data", "prepare", "shapes", "--count", "120", "--out", data.toString());
        assertEquals(0, r.code(), r.err());
    }

    static CommandLineTest.Run train(Path run, String... more) {
        List<String> args = new ArrayList<>(List.of("train-clip", "--config", TINY.toString(), "--data", data.toString(),
                "--run", run.toString()));
        args.addAll(List.of(more));
        return CommandLineTest.run(args.toArray(String[]::new));
    }

    @Test
    void trainsEndToEndAndTheModelEncodes() throws Exception {
        Path run = dir.resolve("e2e");
        CommandLineTest.Run r = train(run);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("train-clip: 12 steps (12 this run)") && r.out().contains("samples/s"), r.out());
        assertTrue(r.err().contains("eval at step 12: i2t_r1"), r.err());
        assertTrue(r.err().contains("step 12/12 loss ") && r.err().contains(" samples/s ETA 0s"), r.err());
        for (String f : List.of(RunDirectory.CONFIG, RunDirectory.METRICS, RunDirectory.CHECKPOINT, "model.safetensors")) {
            assertTrue(Files.isRegularFile(run.resolve(f)), f);
        }
        List<String> lines = Files.readAllLines(run.resolve(RunDirectory.METRICS));
        ObjectMapper json = new ObjectMapper();
        JsonNode first = json.readTree(lines.getFirst());
        assertEquals("config", first.get("event").asText());
        assertEquals(16, first.at("/config/model/embed_dim").asInt());
        assertEquals(data.toString(), first.at("/config/data/dir").asText());
        long steps = lines.stream().filter(l -> l.contains("\"event\":\"step\"")).count();
        assertEquals(12, steps);
        List<Double> losses = losses(json, run);
        assertTrue(losses.getLast() < losses.getFirst() - 0.5, "the loss falls: " + losses);

        var loaded = ClipCheckpoint.load(run.resolve("model.safetensors"), ClipConfig.Activation.GELU);
        assertEquals(16, loaded.model().config().embedDim());
        assertEquals("tiny-test", loaded.contract().orElseThrow().modelId());
        assertTrue(loaded.tokenizer().isPresent());
        CommandLineTest.Run enc = CommandLineTest.run("encode", "--model", run.resolve("model.safetensors").toString(),
                "--text", "a red circle");
        assertEquals(0, enc.code(), enc.err());
        assertEquals(16, json.readTree(enc.out().strip()).get("embedding").size());

        // A finished run resumed has nothing left to do.
        CommandLineTest.Run again = CommandLineTest.run("train-clip", "--run", run.toString(), "--resume");
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("already complete at step 12"), again.out());
    }

    @Test
    void existingRunIsRefusedUnlessResumeOrForce() {
        Path run = dir.resolve("refuse");
        assertEquals(0, train(run, "--steps", "2").code());
        CommandLineTest.Run r = train(run, "--steps", "2");
        assertEquals(Main.EXIT_ERROR, r.code());
        assertTrue(r.err().startsWith("xbt: run directory") && r.err().contains("--resume") && r.err().contains("--force"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertEquals(0, train(run, "--steps", "2", "--force").code());
        r = train(run, "--resume", "--set", "train.lr=0.5");
        assertEquals(Main.EXIT_ERROR, r.code());
        assertTrue(r.err().contains("differ from the run's config") && r.err().contains("train.lr"), r.err());
        r = CommandLineTest.run("train-clip", "--run", dir.resolve("nothing").toString(), "--resume");
        assertEquals(Main.EXIT_ERROR, r.code());
        assertTrue(r.err().contains("nothing to resume"), r.err());
    }

    @Test
    void badConfigFieldsAndFlagsAreNamed() throws Exception {
        String[][] cases = {
                {"--set", "model.vision.widht=64", "unknown field 'model.vision.widht'"},
                {"--set", "train.steps=ten", "'train.steps' needs an integer, got 'ten'"},
                {"--set", "train.batch_size=1", "'train.batch_size' must be at least 2"},
                {"--set", "model.vision.heads=3", "config: model.vision: width 32 must be a positive multiple of heads 3"},
                {"--set", "model.activation=relu", "'model.activation' must be gelu or quick_gelu"},
                {"--set", "data.split=dev", "'data.split' must be one of"},
                {"--set", "train.warmup_steps=50", "'train.warmup_steps' (50) exceeds train.steps (12)"},
                {"--set", "train.batch_size=5000", "'train.batch_size' (5000) exceeds the"},
                {"--lr", "-1", "'train.lr' must be in (0.0, 10.0]"},
        };
        int i = 0;
        for (String[] c : cases) {
            Path run = dir.resolve("bad" + i++);
            CommandLineTest.Run r = train(run, c[0], c[1]);
            assertEquals(Main.EXIT_ERROR, r.code(), c[1]);
            assertTrue(r.err().contains(c[2]), c[1] + " -> " + r.err());
            // One error line, last (building the image cache may have logged before it).
            assertEquals(1, r.err().lines().filter(l -> l.startsWith("xbt:")).count(), r.err());
            assertTrue(r.err().strip().lines().toList().getLast().startsWith("xbt: "), r.err());
        }
        Path yaml = dir.resolve("typo.yaml");
        Files.writeString(yaml, "train:\n  stpes: 3\n");
        CommandLineTest.Run r = CommandLineTest.run("train-clip", "--config", yaml.toString(), "--data", data.toString(),
                "--run", dir.resolve("typo").toString());
        assertEquals(Main.EXIT_ERROR, r.code());
        assertTrue(r.err().contains("unknown field 'train.stpes'") && r.err().contains(yaml.toString()), r.err());
        CommandLineTest.Run show = CommandLineTest.run("train-clip", "--config", TINY.toString(), "--show-config");
        assertEquals(0, show.code(), show.err());
        assertTrue(show.out().contains("embed_dim: 16") && show.out().contains("train.grad_clip"), show.out());
        r = CommandLineTest.run("train-clip", "--config", TINY.toString());
        assertEquals(Main.EXIT_ERROR, r.code());
        assertTrue(r.err().contains("missing --run DIR"), r.err());
    }

    /**
     * A run killed (SIGKILL, in its own JVM) part way and resumed ends with the same weights, bit for bit, as the
     * same run never interrupted. The killed JVM computes on one thread, the test's on the default count, so this
     * also checks that training does not depend on the thread count.
     */
    @Test
    void killedRunResumesToIdenticalWeights() throws Exception {
        String steps = "40";
        Path whole = dir.resolve("whole");
        assertEquals(0, train(whole, "--steps", steps).code());

        Path killed = dir.resolve("killed");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-Dxbt.threads=1", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "train-clip", "--config", TINY.toString(), "--data", data.toString(), "--run",
                killed.toString(), "--steps", steps)
                .redirectErrorStream(true).redirectOutput(dir.resolve("killed.log").toFile()).start();
        Path metrics = killed.resolve(RunDirectory.METRICS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        int seen = 0;
        while (System.nanoTime() < deadline && p.isAlive()) {
            seen = Files.exists(metrics) ? (int) Files.readAllLines(metrics).stream().filter(l -> l.contains("\"event\":\"step\"")).count() : 0;
            if (seen >= 10) break;
            Thread.sleep(5);
        }
        assertTrue(p.isAlive(), "the run ended before it could be killed: " + Files.readString(dir.resolve("killed.log")));
        p.destroyForcibly().waitFor();
        assertTrue(seen >= 10 && seen < 40, "killed after " + seen + " steps");
        assertFalse(Files.exists(killed.resolve("model.safetensors")));

        CommandLineTest.Run r = CommandLineTest.run("train-clip", "--run", killed.toString(), "--resume");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("resuming"), r.err());
        assertBitIdentical(whole.resolve("model.safetensors"), killed.resolve("model.safetensors"));
        assertBitIdentical(whole.resolve(RunDirectory.CHECKPOINT), killed.resolve(RunDirectory.CHECKPOINT));
        ObjectMapper json = new ObjectMapper();
        List<Double> a = losses(json, whole), b = losses(json, killed);
        assertEquals(a, b);
    }

    private static List<Double> losses(ObjectMapper json, Path run) throws Exception {
        List<Double> out = new ArrayList<>();
        for (String l : Files.readAllLines(run.resolve(RunDirectory.METRICS))) {
            JsonNode n = json.readTree(l);
            if (n.get("event").asText().equals("step")) out.add(n.get("loss").asDouble());
        }
        return out;
    }

    private static void assertBitIdentical(Path a, Path b) {
        try (SafetensorsFile fa = SafetensorsFile.open(a); SafetensorsFile fb = SafetensorsFile.open(b)) {
            assertEquals(fa.names(), fb.names());
            for (String n : fa.names()) assertArrayEquals(fa.read(n), fb.read(n), n);
            assertEquals(fa.metadata().get(TrainingCheckpoint.STEP_KEY), fb.metadata().get(TrainingCheckpoint.STEP_KEY));
        }
    }
}

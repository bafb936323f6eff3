package dev.xbt.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.xbt.cli.Main;
import dev.xbt.clip.ClipCheckpoint;
import dev.xbt.clip.ClipConfig;
import dev.xbt.data.BatchLoader;
import dev.xbt.data.Manifest;
import dev.xbt.data.Splits;
import dev.xbt.engine.Tape;
import dev.xbt.image.ClipPreprocess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The committed old/new pair (models/shapes-old, models/shapes-new): each matches its committed config, carries its
 * tokenizer, and on the test split of the full shapes corpus scores what its training log says, the new model
 * clearly above the old one.
 */
class CommittedModelsTest {
    static final Path MODELS = Path.of("..", "models");
    static final Path CONFIGS = Path.of("..", "configs");

    @TempDir
    static Path dir;

    @Test
    void newModelIsClearlyBetterThanTheOldAndIncompatible() throws Exception {
        PrintStream out = System.out;
        System.setOut(new PrintStream(new ByteArrayOutputStream()));
        try {
            assertEquals(0, Main.run("data", "prepare", "shapes", "--count", "6000", "--out", dir.resolve("shapes").toString()));
        } finally {
            System.setOut(out);
        }
        Manifest corpus = Manifest.read(dir.resolve("shapes"));
        Map<String, Double> old = check("shapes-old", 64, corpus);
        Map<String, Double> upgraded = check("shapes-new", 128, corpus);
        assertTrue(upgraded.get("i2t_r1") > old.get("i2t_r1") + 0.05, "image->text R@1 old " + old + ", new " + upgraded);
        assertTrue(upgraded.get("t2i_r1") > old.get("t2i_r1") + 0.05, "text->image R@1 old " + old + ", new " + upgraded);
    }

    private static Map<String, Double> check(String name, int dim, Manifest corpus) throws Exception {
        Path folder = MODELS.resolve(name);
        var loaded = ClipCheckpoint.load(folder.resolve("model.safetensors"), ClipConfig.Activation.QUICK_GELU);
        assertEquals(name, loaded.contract().orElseThrow().modelId());
        assertEquals(dim, loaded.contract().orElseThrow().embedDim());
        assertTrue(loaded.tokenizer().isPresent(), name + " carries its tokenizer");

        // The model file is the one the committed config describes.
        TrainConfig cfg = TrainConfig.load(ClipTraining.schema(), CONFIGS.resolve(name + ".yaml"), List.of());
        assertEquals(ClipTraining.modelConfig(cfg), loaded.model().config());
        TrainConfig resolved = TrainConfig.load(ClipTraining.schema(), folder.resolve("config.yaml"), List.of());
        assertEquals(List.of(), cfg.differences(resolved), name + ": config.yaml is the resolved committed config");

        Map<String, Double> r;
        try (BatchLoader test = BatchLoader.open(corpus, Splits.TEST, new ClipPreprocess(loaded.model().config().vision().imageSize()));
             Tape.Region ignored = Tape.inference()) {
            r = ClipTraining.recall(loaded.model(), loaded.tokenizer().get(), test);
        }
        JsonNode logged = null;
        for (String line : Files.readAllLines(folder.resolve("metrics.jsonl"))) {
            JsonNode n = MetricsLog.JSON.readTree(line);
            if (n.get("event").asText().equals("eval")) logged = n;
        }
        assertNotEquals(null, logged, name + ": metrics.jsonl has an eval line");
        for (String k : List.of("i2t_r1", "i2t_r5", "t2i_r1", "t2i_r5")) {
            // Exact on a CPU of the training machine's vector width; a point or so elsewhere.
            assertEquals(logged.get(k).asDouble(), r.get(k), 0.01, name + " " + k);
        }
        return r;
    }
}

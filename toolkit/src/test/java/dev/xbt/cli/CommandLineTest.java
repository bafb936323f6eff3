package dev.xbt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.xbt.clip.ClipCheckpoint;
import dev.xbt.clip.ClipConfig;
import dev.xbt.clip.ClipModel;
import dev.xbt.engine.Nn;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tape;
import dev.xbt.text.BpeMerge;
import dev.xbt.text.BpeTrainer;
import dev.xbt.text.ClipTokenizer;
import dev.xbt.weights.ModelContract;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line end to end: a small model written to disk, then inspected and used to encode. */
class CommandLineTest {
    @TempDir
    static Path dir;
    static Path modelFile;
    static ClipModel model;
    static ClipTokenizer tokenizer;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = Main.commandLine().setErr(new java.io.PrintWriter(System.err, true)).execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @BeforeAll
    static void writeModel() {
        List<String> corpus = List.of("a red circle above a blue square", "two green triangles on a white background",
                "a small yellow star left of a big red circle", "a blue square below a green triangle");
        List<BpeMerge> merges = new BpeTrainer().addAll(corpus).train(BpeTrainer.vocabSize(40));
        tokenizer = ClipTokenizer.fromMerges(merges);
        ClipConfig c = new ClipConfig(24, new ClipConfig.Vision(32, 16, 32, 1, 2, 2),
                new ClipConfig.Text(16, tokenizer.vocabSize(), 32, 1, 2, 2), ClipConfig.Activation.GELU);
        model = new ClipModel(c, new Rng(7));
        modelFile = dir.resolve("tiny.safetensors");
        ClipCheckpoint.save(model, modelFile, new ModelContract("test/tiny", 24, "l2", "clip-bicubic-32", "bpe-test"),
                merges, Map.of());
    }

    @Test
    void inspectShowsTensorsMetadataAndContract() {
        Run r = run("inspect", modelFile.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("visual.conv1.weight") && r.out().contains("F32"), r.out());
        assertTrue(r.out().contains("contract: test/tiny (dim 24, l2"), r.out());
    }

    @Test
    void encodeTextMatchesTheModelAndIsUnitLength() throws Exception {
        Run r = run("encode", "--model", modelFile.toString(), "--text", "a red circle", "a blue square");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(2, lines.length);
        float[] expected;
        try (var ignored = Tape.inference()) {
            expected = Nn.l2Normalize(model.encodeText(tokenizer.tokenize(List.of("a red circle", "a blue square"), 16))).toArray();
        }
        ObjectMapper json = new ObjectMapper();
        for (int i = 0; i < 2; i++) {
            JsonNode o = json.readTree(lines[i]);
            JsonNode e = o.get("embedding");
            assertEquals(24, e.size());
            double norm = 0;
            for (int j = 0; j < 24; j++) {
                norm += e.get(j).asDouble() * e.get(j).asDouble();
                assertEquals(expected[i * 24 + j], e.get(j).floatValue(), 1e-6);
            }
            assertEquals(1.0, norm, 1e-5);
        }
    }

    @Test
    void encodeImages() throws Exception {
        Path img = Path.of("src/test/resources/images/rgba_97x61.png");
        Run r = run("encode", "--model", modelFile.toString(), "--image", img.toString(), img.toString());
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(2, lines.length);
        assertEquals(lines[0].replace(img.toString(), ""), lines[1].replace(img.toString(), ""));
    }

    @Test
    void errorsAreOneLineWithExitCode2() throws Exception {
        Path bogus = Files.writeString(dir.resolve("bogus.safetensors"), "version https://git-lfs.github.com/spec/v1\n");
        for (String[] args : new String[][] {
                {"encode", "--model", bogus.toString(), "--text", "x"},
                {"encode", "--model", dir.resolve("missing.safetensors").toString(), "--text", "x"},
                {"encode", "--model", modelFile.toString(), "--image", dir.resolve("no.png").toString()},
                {"inspect", Path.of("pom.xml").toString()},
                {"encode", "--model", modelFile.toString()},
                {"tokenize", "--vocab", dir.resolve("none.gz").toString(), "x"}}) {
            Run r = run(args);
            assertEquals(2, r.code(), String.join(" ", args) + " -> " + r.err());
            String err = r.err().strip();
            assertFalse(err.isEmpty());
            assertTrue(err.startsWith("xbt: "), err);
            assertFalse(err.contains("\tat "), "no stack trace: " + err);
        }
    }
}

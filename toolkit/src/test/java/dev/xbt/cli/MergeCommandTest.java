package dev.xbt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.xbt.adapters.AdapterConfig;
import dev.xbt.adapters.AdapterConfig.Tower;
import dev.xbt.adapters.Adapters;
import dev.xbt.adapters.LoraLinear;
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
import dev.xbt.weights.SafetensorsFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code xbt merge} and {@code xbt encode --adapter} end to end on a small model. */
class MergeCommandTest {
    @TempDir
    static Path dir;
    static Path baseFile, loraDir, promptDir;
    static ClipTokenizer tokenizer;
    static final ModelContract CONTRACT = new ModelContract("test/tiny", 24, "l2", "clip-bicubic-32", "bpe-test");
    static final List<String> TEXTS = List.of("a red circle", "two green triangles above a blue square");
    static float[] adaptedText;

    @BeforeAll
    static void writeBaseAndAdapters() {
        List<BpeMerge> merges = new BpeTrainer().addAll(List.of("a red circle above a blue square",
                "two green triangles on a white background")).train(BpeTrainer.vocabSize(40));
        tokenizer = ClipTokenizer.fromMerges(merges);
        ClipConfig c = new ClipConfig(24, new ClipConfig.Vision(32, 16, 32, 2, 2, 2),
                new ClipConfig.Text(16, tokenizer.vocabSize(), 32, 2, 2, 2), ClipConfig.Activation.GELU);
        baseFile = dir.resolve("base.safetensors");
        ClipCheckpoint.save(new ClipModel(c, new Rng(7)), baseFile, CONTRACT, merges, Map.of());

        ClipModel m = ClipCheckpoint.load(baseFile, ClipConfig.Activation.GELU).model();
        Adapters ad = Adapters.attach(m, AdapterConfig.builder().lora(4, 8, 0.1).targets(Tower.VISUAL, "q_proj", "c_fc")
                .targets(Tower.TEXT, "v_proj", "out_proj", "c_proj").build(), new Rng(1));
        Rng rng = new Rng(2);
        for (LoraLinear l : ad.loraLayers()) {
            float[] v = new float[l.b().size()];
            for (int i = 0; i < v.length; i++) v[i] = (float) (rng.nextGaussian() * 0.3);
            l.b().copyFrom(v);
        }
        loraDir = dir.resolve("lora");
        ad.save(loraDir);
        try (var ignored = Tape.inference()) {
            adaptedText = Nn.l2Normalize(m.encodeText(tokenizer.tokenize(TEXTS, 16))).toArray();
        }

        ClipModel p = ClipCheckpoint.load(baseFile, ClipConfig.Activation.GELU).model();
        promptDir = dir.resolve("prompts");
        Adapters.attach(p, AdapterConfig.builder().lora(2, 2, 0).targets(Tower.TEXT, "c_fc").visualPrompts(4, true)
                .textContext(2).build(), new Rng(3)).save(promptDir);
    }

    static float[] encodedTexts(String out) throws Exception {
        ObjectMapper json = new ObjectMapper();
        String[] lines = out.strip().split("\n");
        assertEquals(TEXTS.size(), lines.length, out);
        float[] all = new float[TEXTS.size() * 24];
        for (int i = 0; i < lines.length; i++) {
            JsonNode e = json.readTree(lines[i]).get("embedding");
            for (int j = 0; j < 24; j++) all[i * 24 + j] = (float) e.get(j).asDouble();
        }
        return all;
    }

    static void assertClose(float[] want, float[] got, double tol) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], tol, "element " + i);
    }

    @Test
    void mergeWritesACheckpointThatEncodesLikeTheAdaptedModel() throws Exception {
        Path out = dir.resolve("merged.safetensors");
        CommandLineTest.Run r = CommandLineTest.run("merge", "--model", baseFile.toString(), "--adapter", loraDir.toString(),
                "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("merged 10 LoRA modules (r 4, alpha 8.0)"), r.out());

        ClipCheckpoint.Loaded merged = ClipCheckpoint.load(out, ClipConfig.Activation.QUICK_GELU);
        ModelContract c = merged.contract().orElseThrow();
        assertTrue(c.modelId().startsWith("test/tiny+lora-"), c.modelId());
        assertEquals(CONTRACT.preprocessing(), c.preprocessing());
        assertTrue(merged.tokenizer().isPresent(), "the base's tokenizer went missing");
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            JsonNode info = new ObjectMapper().readTree(f.metadata().get(MergeCommand.MERGED_KEY));
            assertEquals("test/tiny", info.get("base_model").asText());
            assertEquals(10, info.get("modules").asInt());
        }
        float[] mergedText;
        try (var ignored = Tape.inference()) {
            mergedText = Nn.l2Normalize(merged.model().encodeText(tokenizer.tokenize(TEXTS, 16))).toArray();
        }
        assertClose(adaptedText, mergedText, 1e-5);

        // The unmerged adapter through encode gives the same embeddings; the merged file then refuses the adapter,
        // which was made for the base, not for the merged model.
        CommandLineTest.Run enc = CommandLineTest.run("encode", "--model", baseFile.toString(), "--adapter", loraDir.toString(),
                "--text", TEXTS.get(0), TEXTS.get(1));
        assertEquals(0, enc.code(), enc.err());
        assertClose(adaptedText, encodedTexts(enc.out()), 1e-6);
        CommandLineTest.Run again = CommandLineTest.run("encode", "--model", out.toString(), "--adapter", loraDir.toString(),
                "--text", "x");
        assertEquals(Main.EXIT_ERROR, again.code());
        assertTrue(again.err().contains("test/tiny (dim 24") && again.err().contains(c.modelId()), again.err());

        Path named = dir.resolve("named.safetensors");
        assertEquals(0, CommandLineTest.run("merge", "--model", baseFile.toString(), "--adapter", loraDir.toString(),
                "--out", named.toString(), "--model-id", "acme/v2").code());
        assertEquals("acme/v2", ClipCheckpoint.load(named, ClipConfig.Activation.GELU).contract().orElseThrow().modelId());
    }

    @Test
    void promptTokensCannotBeMergedAndTheMessageSaysSo() {
        Path out = dir.resolve("never.safetensors");
        CommandLineTest.Run r = CommandLineTest.run("merge", "--model", baseFile.toString(), "--adapter", promptDir.toString(),
                "--out", out.toString());
        assertEquals(Main.EXIT_ERROR, r.code());
        assertTrue(r.err().contains("prompt tokens (4 visual, deep; 2 text context)") && r.err().contains("cannot be folded"), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line, no stack trace: " + r.err());
        assertFalse(Files.exists(out));

        // Unmerged, the prompts work through encode.
        CommandLineTest.Run enc = CommandLineTest.run("encode", "--model", baseFile.toString(), "--adapter", promptDir.toString(),
                "--text", "a red circle");
        assertEquals(0, enc.code(), enc.err());
    }

    @Test
    void anAdapterForAnotherBaseIsRefusedNamingBothContracts() {
        ClipModel other = ClipCheckpoint.load(baseFile, ClipConfig.Activation.GELU).model();
        Path otherFile = dir.resolve("other.safetensors");
        ModelContract otherContract = new ModelContract("test/other", 24, "l2", "clip-bicubic-32", "bpe-test");
        ClipCheckpoint.save(other, otherFile, otherContract, null, Map.of());
        Path out = dir.resolve("refused.safetensors");
        CommandLineTest.Run r = CommandLineTest.run("merge", "--model", otherFile.toString(), "--adapter", loraDir.toString(),
                "--out", out.toString());
        assertEquals(Main.EXIT_ERROR, r.code());
        assertTrue(r.err().contains(CONTRACT.describe()) && r.err().contains(otherContract.describe()), r.err());
        assertFalse(Files.exists(out));

        r = CommandLineTest.run("merge", "--model", baseFile.toString(), "--adapter", loraDir.toString(), "--out", baseFile.toString());
        assertEquals(Main.EXIT_ERROR, r.code());
        assertTrue(r.err().contains("--out is the base checkpoint"), r.err());

        r = CommandLineTest.run("merge", "--model", baseFile.toString(), "--adapter", dir.resolve("missing").toString(),
                "--out", out.toString());
        assertEquals(Main.EXIT_ERROR, r.code());
        assertTrue(r.err().contains("does not exist"), r.err());
    }

    @Test
    void helpDescribesTheCommand() {
        CommandLineTest.Run r = CommandLineTest.run("merge", "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("--adapter=DIR") && r.out().contains("cannot be folded"), r.out());
    }
}

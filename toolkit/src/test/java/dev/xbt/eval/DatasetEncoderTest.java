package dev.xbt.eval;

import dev.xbt.clip.ClipCheckpoint;
import dev.xbt.clip.ClipConfig;
import dev.xbt.clip.ClipModel;
import dev.xbt.data.Manifest;
import dev.xbt.data.ManifestWriter;
import dev.xbt.data.Splits;
import dev.xbt.image.RgbImage;
import dev.xbt.data.Progress;
import dev.xbt.engine.Nn;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tape;
import dev.xbt.text.BpeMerge;
import dev.xbt.text.BpeTrainer;
import dev.xbt.text.ClipTokenizer;
import dev.xbt.weights.ModelContract;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Text embeddings of a tiny model: what one forward pass per text gives, cached by contract and weights. */
class DatasetEncoderTest {
    static final List<String> TEXTS = List.of("a red circle", "two blue squares", "a small green triangle", "a red square",
            "three circles", "a large blue triangle", "green", "a circle above a square", "two red triangles");

    /** Counts the texts actually run through the model. */
    static final class Counting implements Progress {
        long encoded;

        @Override
        public void update(String task, long done, long total) {
            if (task.equals("encode texts") && done == total) encoded += total;
        }

        @Override
        public void log(String line) {}
    }

    static ClipModel model(ClipTokenizer tok, long seed) {
        return new ClipModel(new ClipConfig(16, new ClipConfig.Vision(32, 16, 32, 1, 2, 2),
                new ClipConfig.Text(24, tok.vocabSize(), 16, 1, 2, 2), ClipConfig.Activation.GELU), new Rng(seed));
    }

    static long cacheFiles(Path data) throws Exception {
        Path d = data.resolve(Manifest.CACHE_DIR).resolve(DatasetEncoder.CACHE_SUBDIR);
        if (!Files.isDirectory(d)) return 0;
        try (Stream<Path> s = Files.list(d)) {
            return s.filter(p -> p.toString().endsWith(".safetensors")).count();
        }
    }

    @Test
    void textsAreEmbeddedOneByOneAndCachedByContractAndWeights(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("data");
        try (ManifestWriter w = ManifestWriter.create(data, "test", false)) {
            w.addImage("one", new RgbImage(8, 6, new byte[8 * 6 * 3]), List.of("a picture"), Splits.TEST);
            w.finish();
        }
        Manifest manifest = Manifest.read(data);
        List<BpeMerge> merges = new BpeTrainer().addAll(TEXTS).train(BpeTrainer.vocabSize(40));
        ClipTokenizer tok = ClipTokenizer.fromMerges(merges);
        ClipModel m = model(tok, 3);
        ModelContract contract = new ModelContract("test/tiny-text", 16, "l2", "", "bpe-test");

        Counting first = new Counting();
        float[] e = new DatasetEncoder(m, tok, contract).batch(4).progress(first).encodeTexts(manifest, TEXTS);
        assertEquals(TEXTS.size(), first.encoded);
        assertEquals(1, cacheFiles(data));
        // Independently: each text alone through the text tower, L2-normalised.
        try (Tape.Region ignored = Tape.inference()) {
            for (int i = 0; i < TEXTS.size(); i++) {
                float[] one = Nn.l2Normalize(m.encodeText(tok.tokenize(List.of(TEXTS.get(i)), m.config().text().contextLength()))).toArray();
                float[] row = java.util.Arrays.copyOfRange(e, i * 16, (i + 1) * 16);
                assertArrayEquals(one, row, 1e-5f, TEXTS.get(i));
            }
        }

        // The same model again: served from the cache, nothing run.
        Counting again = new Counting();
        assertArrayEquals(e, new DatasetEncoder(m, tok, contract).progress(again).encodeTexts(manifest, TEXTS), 0f);
        assertEquals(0, again.encoded);
        // Other texts, or other weights under the same contract: new cache files, new numbers.
        Counting other = new Counting();
        new DatasetEncoder(m, tok, contract).progress(other).encodeTexts(manifest, TEXTS.subList(0, 3));
        assertEquals(3, other.encoded);
        float[] f = new DatasetEncoder(model(tok, 4), tok, contract).encodeTexts(manifest, TEXTS);
        assertFalse(java.util.Arrays.equals(e, f));
        assertEquals(3, cacheFiles(data));
        // Without the cache nothing is read or written.
        new DatasetEncoder(model(tok, 5), tok, contract).cache(false).encodeTexts(manifest, TEXTS);
        assertEquals(3, cacheFiles(data));

        // A damaged cache file is recomputed.
        try (Stream<Path> s = Files.list(data.resolve(Manifest.CACHE_DIR).resolve(DatasetEncoder.CACHE_SUBDIR))) {
            for (Path p : s.toList()) Files.writeString(p, "garbage");
        }
        Counting repaired = new Counting();
        assertArrayEquals(e, new DatasetEncoder(m, tok, contract).progress(repaired).encodeTexts(manifest, TEXTS), 0f);
        assertEquals(TEXTS.size(), repaired.encoded);
    }

    @Test
    void aModelFileIsLoadedWithItsContractOrOneNamedAfterIt(@TempDir Path dir) {
        List<BpeMerge> merges = new BpeTrainer().addAll(TEXTS).train(BpeTrainer.vocabSize(40));
        ClipTokenizer tok = ClipTokenizer.fromMerges(merges);
        ClipModel m = model(tok, 3);
        Path with = dir.resolve("with.safetensors"), without = dir.resolve("without.safetensors");
        ModelContract contract = new ModelContract("test/tiny-text", 16, "l2", "", "bpe-test");
        ClipCheckpoint.save(m, with, contract, merges, Map.of());
        ClipCheckpoint.save(m, without, null, merges, Map.of());
        DatasetEncoder a = DatasetEncoder.load(with);
        assertEquals(contract, a.contract());
        assertEquals(16, a.dim());
        assertTrue(a.model().parameters().stream().allMatch(p -> p.frozen()), "loaded frozen");
        assertEquals("without.safetensors", DatasetEncoder.load(without).contract().modelId());
        // reload: a separate model with the same weights.
        DatasetEncoder b = a.reload();
        assertFalse(a.model() == b.model());
        assertArrayEquals(a.model().parameters().get(0).toArray(), b.model().parameters().get(0).toArray(), 0f);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DatasetEncoder.load(dir.resolve("none")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }
}

package dev.xbt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.xbt.clip.ClipCheckpoint;
import dev.xbt.clip.ClipConfig;
import dev.xbt.clip.ClipModel;
import dev.xbt.data.BatchLoader;
import dev.xbt.data.Manifest;
import dev.xbt.engine.Nn;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tape;
import dev.xbt.image.ClipPreprocess;
import dev.xbt.text.BpeMerge;
import dev.xbt.text.BpeTrainer;
import dev.xbt.text.ClipTokenizer;
import dev.xbt.weights.ModelContract;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.xbt.cli.CommandLineTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code xbt eval-retrieval} on a small random model and a small shapes data set: the recalls it reports equal ranks
 * computed here in float64 from the model's own embeddings; a second run reads the embedding cache; bad input is one
 * line with exit code 2.
 */
class EvalRetrievalCommandTest {
    @TempDir
    static Path dir;
    static Path data;
    static Path modelFile;
    static ClipModel model;
    static ClipTokenizer tokenizer;

    @BeforeAll
    static void prepare() {
        data = dir.resolve("shapes");
        CommandLineTest.Run r = run("data", "prepare", "shapes", "--count", "40", "--out", data.toString());
        assertEquals(0, r.code(), r.err());
        List<String> corpus = new ArrayList<>();
        for (var e : Manifest.read(data).entries()) corpus.addAll(e.captions());
        List<BpeMerge> merges = new BpeTrainer().addAll(corpus).train(BpeTrainer.vocabSize(60));
        tokenizer = ClipTokenizer.fromMerges(merges);
        ClipConfig c = new ClipConfig(16, new ClipConfig.Vision(32, 16, 32, 1, 2, 2),
                new ClipConfig.Text(24, tokenizer.vocabSize(), 32, 1, 2, 2), ClipConfig.Activation.GELU);
        model = new ClipModel(c, new Rng(11));
        modelFile = dir.resolve("tiny.safetensors");
        ClipCheckpoint.save(model, modelFile, new ModelContract("test/tiny-eval", 16, "l2", "clip-bicubic-32", "bpe-test"),
                merges, Map.of());
    }

    @Test
    void recallMatchesRanksComputedHereAndTheCacheIsReused() throws Exception {
        Path out = dir.resolve("r1.json");
        CommandLineTest.Run r = run("eval-retrieval", "--model", modelFile.toString(), "--data", data.toString(),
                "--split", "train", "--out", out.toString(), "--batch", "7");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("image->text") && r.out().contains("rsum"), r.out());
        JsonNode j = new ObjectMapper().readTree(out.toFile());
        assertFalse(j.get("embeddings_from_cache").asBoolean());

        // Independent ranks: float64 dot products of the model's normalised embeddings, ties against the query.
        Manifest m = Manifest.read(data);
        double[][] img, txt;
        List<Integer> owner = new ArrayList<>();
        try (BatchLoader loader = BatchLoader.open(m, "train", new ClipPreprocess(32));
             Tape.Region ignored = Tape.inference()) {
            int n = loader.size();
            int[] all = new int[n];
            for (int i = 0; i < n; i++) all[i] = i;
            img = rows(Nn.l2Normalize(model.encodeImage(loader.images(all))).toArray(), n, 16);
            List<String> caps = new ArrayList<>();
            for (int i = 0; i < n; i++) for (String s : loader.captions(i)) {
                caps.add(s);
                owner.add(i);
            }
            txt = rows(Nn.l2Normalize(model.encodeText(tokenizer.tokenize(caps, 24))).toArray(), caps.size(), 16);
        }
        assertEquals(img.length, j.get("images").asInt());
        assertEquals(txt.length, j.get("captions").asInt());
        for (int k : new int[] {1, 5, 10}) {
            int i2t = 0, t2i = 0;
            for (int i = 0; i < img.length; i++) {
                double best = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < txt.length; c++) if (owner.get(c) == i) best = Math.max(best, dot(img[i], txt[c]));
                int rank = 0;
                for (int c = 0; c < txt.length; c++) if (owner.get(c) != i && dot(img[i], txt[c]) >= best) rank++;
                if (rank < k) i2t++;
            }
            for (int c = 0; c < txt.length; c++) {
                double own = dot(txt[c], img[owner.get(c)]);
                int rank = 0;
                for (int i = 0; i < img.length; i++) if (i != owner.get(c) && dot(txt[c], img[i]) >= own) rank++;
                if (rank < k) t2i++;
            }
            assertEquals(i2t / (double) img.length, j.get("recall").get("i2t_r" + k).asDouble(), 1e-12, "i2t R@" + k);
            assertEquals(t2i / (double) txt.length, j.get("recall").get("t2i_r" + k).asDouble(), 1e-12, "t2i R@" + k);
        }

        // Again: the embeddings come from the cache, the numbers are the same.
        Path out2 = dir.resolve("r2.json");
        r = run("eval-retrieval", "--model", modelFile.toString(), "--data", data.toString(), "--split", "train", "--out", out2.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("from the cache"), r.out());
        JsonNode j2 = new ObjectMapper().readTree(out2.toFile());
        assertTrue(j2.get("embeddings_from_cache").asBoolean());
        assertEquals(j.get("recall"), j2.get("recall"));

        // Another model with the same contract is not served from that cache (the weights are part of the key).
        Path other = dir.resolve("other.safetensors");
        ClipCheckpoint.save(new ClipModel(model.config(), new Rng(12)), other,
                new ModelContract("test/tiny-eval", 16, "l2", "clip-bicubic-32", "bpe-test"), merges(), Map.of());
        r = run("eval-retrieval", "--model", other.toString(), "--data", data.toString(), "--split", "train", "--out", dir.toString());
        assertEquals(0, r.code(), r.err());
        assertFalse(r.out().contains("from the cache"), r.out());
        assertTrue(Files.isRegularFile(dir.resolve("retrieval.json")), "a folder --out gets retrieval.json");
    }

    private static List<BpeMerge> merges() {
        List<String> corpus = new ArrayList<>();
        for (var e : Manifest.read(data).entries()) corpus.addAll(e.captions());
        return new BpeTrainer().addAll(corpus).train(BpeTrainer.vocabSize(60));
    }

    @Test
    void badInputIsOneLineWithExitCode2() {
        for (String[] args : new String[][] {
                {"eval-retrieval", "--model", modelFile.toString(), "--data", dir.resolve("none").toString(), "--out", dir.toString()},
                {"eval-retrieval", "--model", dir.resolve("none.safetensors").toString(), "--data", data.toString(), "--out", dir.toString()},
                {"eval-retrieval", "--model", modelFile.toString(), "--data", data.toString(), "--split", "dev", "--out", dir.toString()},
                {"eval-retrieval", "--model", modelFile.toString(), "--data", data.toString(), "--out", dir.resolve("no/x.json").toString()},
                {"eval-retrieval", "--model", modelFile.toString()}}) {
            CommandLineTest.Run r = run(args);
            assertEquals(2, r.code(), String.join(" ", args) + " -> " + r.err());
            String err = r.err().strip();
            assertTrue(err.startsWith("xbt: "), err);
            assertFalse(err.contains("\tat "), "no stack trace: " + err);
        }
    }

    private static double[][] rows(float[] flat, int n, int d) {
        double[][] r = new double[n][d];
        for (int i = 0; i < n; i++) for (int k = 0; k < d; k++) r[i][k] = flat[i * d + k];
        return r;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int k = 0; k < a.length; k++) s += a[k] * b[k];
        return s;
    }
}

package dev.xbt.xbt;

import dev.xbt.clip.ClipCheckpoint;
import dev.xbt.clip.ClipConfig;
import dev.xbt.clip.ClipModel;
import dev.xbt.data.BatchLoader;
import dev.xbt.engine.Nn;
import dev.xbt.engine.Tape;
import dev.xbt.engine.Tensor;
import dev.xbt.text.ClipTokenizer;
import dev.xbt.weights.ModelContract;
import dev.xbt.weights.SafetensorsFile;
import dev.xbt.weights.SafetensorsWriter;
import dev.xbt.weights.TensorData;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * A CLIP model file loaded for embedding, with L2-normalised text and image embeddings computed in chunks without
 * recording, and optionally cached on disk: a cache file is named by the SHA-256 of the model file and of the
 * inputs, so a model is run once over a corpus however many stages use it, and a changed model or corpus misses.
 */
public final class Embedder {
    private static final int CHUNK = 128;

    private final Path file;
    private final ClipModel model;
    private final ClipTokenizer tokenizer;
    private final ModelContract contract;
    private final String sha;

    private Embedder(Path file, ClipModel model, ClipTokenizer tokenizer, ModelContract contract, String sha) {
        this.file = file;
        this.model = model;
        this.tokenizer = tokenizer;
        this.contract = contract;
        this.sha = sha;
    }

    /** Loads a model file (it must hold its tokenizer), frozen. */
    public static Embedder load(Path file) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("model file " + file + " does not exist");
        ClipCheckpoint.Loaded l = ClipCheckpoint.load(file, ClipConfig.Activation.GELU);
        ClipTokenizer tok = l.tokenizer().orElseThrow(() -> new IllegalArgumentException(
                "model file " + file + " holds no tokenizer merges (train it with 'xbt train-clip')"));
        l.model().freeze(true);
        ModelContract c = l.contract().orElse(new ModelContract(file.getFileName().toString(), l.model().config().embedDim(),
                "l2", "", ""));
        return new Embedder(file, l.model(), tok, c, sha256(file));
    }

    /** A fresh copy of the model from its file (for attaching adapters without touching this one). */
    public Embedder reload() {
        ClipCheckpoint.Loaded l = ClipCheckpoint.load(file, ClipConfig.Activation.GELU);
        l.model().freeze(true);
        return new Embedder(file, l.model(), tokenizer, contract, sha);
    }

    public Path file() {
        return file;
    }

    public ClipModel model() {
        return model;
    }

    public ClipTokenizer tokenizer() {
        return tokenizer;
    }

    public ModelContract contract() {
        return contract;
    }

    public int dim() {
        return model.config().embedDim();
    }

    /** Token ids of texts at the model's context length. */
    public int[][] tokens(List<String> texts) {
        return tokenizer.tokenize(texts, model.config().text().contextLength());
    }

    /** L2-normalised text embeddings, row-major [texts, dim]. */
    public float[] texts(List<String> texts) {
        int d = dim();
        float[] out = new float[texts.size() * d];
        try (Tape.Region ignored = Tape.inference()) {
            for (int from = 0; from < texts.size(); from += CHUNK) {
                int to = Math.min(texts.size(), from + CHUNK);
                float[] e = Nn.l2Normalize(model.encodeText(tokens(texts.subList(from, to)))).toArray();
                System.arraycopy(e, 0, out, from * d, e.length);
            }
        }
        return out;
    }

    /** L2-normalised embeddings of every image of {@code loader}, row-major [images, dim]. */
    public float[] images(BatchLoader loader) {
        int n = loader.size(), d = dim();
        float[] out = new float[n * d];
        try (Tape.Region ignored = Tape.inference()) {
            for (int from = 0; from < n; from += CHUNK) {
                int to = Math.min(n, from + CHUNK);
                int[] idx = new int[to - from];
                for (int k = 0; k < idx.length; k++) idx[k] = from + k;
                Tensor t = model.encodeImage(loader.images(idx));
                float[] e = Nn.l2Normalize(t).toArray();
                System.arraycopy(e, 0, out, from * d, e.length);
            }
        }
        return out;
    }

    /** {@link #texts}, cached in {@code cacheDir} (null: no cache). */
    public float[] textsCached(List<String> texts, Path cacheDir) {
        StringBuilder key = new StringBuilder();
        for (String t : texts) key.append(t).append('\n');
        return cached(cacheDir, "texts", sha256(key.toString()), texts.size(), () -> texts(texts));
    }

    /** {@link #images}, cached in {@code cacheDir} (null: no cache); the key is the images' manifest entries. */
    public float[] imagesCached(BatchLoader loader, Path cacheDir) {
        StringBuilder key = new StringBuilder(loader.split()).append('\n');
        for (int i = 0; i < loader.size(); i++) key.append(loader.entry(i).image()).append('\n');
        return cached(cacheDir, "images", sha256(key.toString()), loader.size(), () -> images(loader));
    }

    private float[] cached(Path cacheDir, String kind, String inputSha, int rows, java.util.function.Supplier<float[]> compute) {
        if (cacheDir == null) return compute.get();
        Path f = cacheDir.resolve("emb-" + kind + "-" + sha.substring(0, 16) + "-" + inputSha.substring(0, 16) + ".safetensors");
        if (Files.isRegularFile(f)) {
            try (SafetensorsFile s = SafetensorsFile.open(f)) {
                float[] e = s.read("embeddings");
                if (e.length == rows * dim()) return e;
            } catch (RuntimeException e) {
                // an unreadable cache file is recomputed and replaced below
            }
        }
        float[] e = compute.get();
        try {
            Files.createDirectories(cacheDir);
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot create the embedding cache " + cacheDir + ": " + ex.getMessage(), ex);
        }
        SafetensorsWriter.write(f, Map.of("embeddings", TensorData.of(e, rows, dim())),
                Map.of("xbt.model_sha256", sha, "xbt.kind", kind));
        return e;
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int r; (r = in.read(buf)) > 0; ) d.update(buf, 0, r);
            return HexFormat.of().formatHex(d.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

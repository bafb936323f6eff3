package dev.xbt.eval;

import dev.xbt.clip.ClipCheckpoint;
import dev.xbt.clip.ClipConfig;
import dev.xbt.clip.ClipModel;
import dev.xbt.data.BatchLoader;
import dev.xbt.data.Manifest;
import dev.xbt.data.Progress;
import dev.xbt.data.Splits;
import dev.xbt.engine.Nn;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.Tape;
import dev.xbt.image.ClipPreprocess;
import dev.xbt.text.ClipTokenizer;
import dev.xbt.weights.ModelContract;
import dev.xbt.weights.SafetensorsException;
import dev.xbt.weights.SafetensorsFile;
import dev.xbt.weights.SafetensorsWriter;
import dev.xbt.weights.TensorData;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Encodes data with a CLIP model: the usable images of one split of a data set (through the data set's
 * {@link BatchLoader} and its image cache, no augmentation) and any list of texts (e.g. the split's captions, or a
 * text corpus), L2-normalised, in inference mode, in batches.
 *
 * <p>Results are cached on disk, in {@code DATA/.cache/embeddings/}, keyed by what they depend on: the model's
 * contract and weights, and for images the split's preprocessed pixels and normalisation, for texts their token
 * ids. A model is then run once over a corpus however many commands or pipeline stages use it; anything that
 * changes the result changes the key, and a cache file that cannot be read is recomputed.
 */
public final class DatasetEncoder {
    /** The cache folder inside a data set's {@link Manifest#CACHE_DIR}. */
    public static final String CACHE_SUBDIR = "embeddings";
    private static final String KEY = "xbt.embeddings.key";
    private static final String TENSOR = "embeddings";

    private final ClipModel model;
    private final ClipTokenizer tokenizer;
    private final ModelContract contract;
    private final Path file;
    private int batch = 64;
    private boolean useCache = true;
    private Progress progress = Progress.NONE;

    /** {@code contract}: the model's, when it has one (part of the cache key and the file name); may be null. */
    public DatasetEncoder(ClipModel model, ClipTokenizer tokenizer, ModelContract contract) {
        this(model, tokenizer, contract, null);
    }

    private DatasetEncoder(ClipModel model, ClipTokenizer tokenizer, ModelContract contract, Path file) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.contract = contract;
        this.file = file;
    }

    /**
     * A model file that carries its tokenizer, loaded frozen for encoding. A model without a recorded contract gets
     * one named after the file, so that what is made for it (a projection, adapters) can still name it.
     */
    public static DatasetEncoder load(Path modelFile) {
        if (!Files.isRegularFile(modelFile)) throw new IllegalArgumentException("model file " + modelFile + " does not exist");
        ClipCheckpoint.Loaded l = ClipCheckpoint.load(modelFile, ClipConfig.Activation.GELU);
        ClipTokenizer tok = l.tokenizer().orElseThrow(() -> new IllegalArgumentException(
                "model file " + modelFile + " holds no tokenizer merges (train it with 'xbt train-clip')"));
        l.model().freeze(true);
        ModelContract c = l.contract().orElse(new ModelContract(modelFile.getFileName().toString(),
                l.model().config().embedDim(), "l2", "", ""));
        return new DatasetEncoder(l.model(), tok, c, modelFile);
    }

    /** A fresh copy of the model from its file, e.g. to attach adapters without touching this one's model. */
    public DatasetEncoder reload() {
        if (file == null) throw new IllegalStateException("this encoder's model was not loaded from a file");
        ClipCheckpoint.Loaded l = ClipCheckpoint.load(file, ClipConfig.Activation.GELU);
        l.model().freeze(true);
        return new DatasetEncoder(l.model(), tokenizer, contract, file).batch(batch).cache(useCache).progress(progress);
    }

    /** Images or texts per forward pass (default 64). */
    public DatasetEncoder batch(int batch) {
        if (batch < 1) throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        this.batch = batch;
        return this;
    }

    /** Whether to read and write the embedding cache (default true). */
    public DatasetEncoder cache(boolean useCache) {
        this.useCache = useCache;
        return this;
    }

    public DatasetEncoder progress(Progress progress) {
        this.progress = progress;
        return this;
    }

    public ClipModel model() {
        return model;
    }

    public ClipTokenizer tokenizer() {
        return tokenizer;
    }

    /** The model's contract; null only for an encoder built on a model without one. */
    public ModelContract contract() {
        return contract;
    }

    /** The embedding width. */
    public int dim() {
        return model.config().embedDim();
    }

    /** Token ids of texts at the model's context length. */
    public int[][] tokens(List<String> texts) {
        return tokenizer.tokenize(texts, model.config().text().contextLength());
    }

    /** What {@link #encode(Manifest, String)} produced and whether it came from the cache. */
    public record Result(EncodedSet set, boolean fromCache, int skippedImages) {}

    /** Encodes {@code split} of {@code manifest}: its images and all their captions (see the class comment). */
    public Result encode(Manifest manifest, String split) {
        try (BatchLoader loader = open(manifest, split)) {
            Captions caps = captions(loader);
            boolean[] hit = new boolean[2];
            float[] img = cached(manifest, split + "-images", () -> imageKey(loader), loader.size(), hit, 0, () -> images(loader));
            float[] txt = texts(manifest, caps.texts(), hit, 1);
            return new Result(new EncodedSet(img, txt, caps.owner(), dim()), hit[0] && hit[1], loader.skipped());
        }
    }

    /** The embeddings [images, dim] of the usable images of {@code split}, in the loader's order (cached). */
    public float[] encodeImages(Manifest manifest, String split) {
        try (BatchLoader loader = open(manifest, split)) {
            return cached(manifest, split + "-images", () -> imageKey(loader), loader.size(), new boolean[1], 0, () -> images(loader));
        }
    }

    /** The embeddings [texts, dim] of {@code texts}, in order, cached in {@code manifest}'s cache folder. */
    public float[] encodeTexts(Manifest manifest, List<String> texts) {
        return texts(manifest, texts, new boolean[1], 0);
    }

    /** The images and captions of an open loader, never cached (e.g. a quick evaluation during training). */
    public EncodedSet encode(BatchLoader loader) {
        Captions caps = captions(loader);
        return new EncodedSet(images(loader), texts(tokens(caps.texts())), caps.owner(), dim());
    }

    private BatchLoader open(Manifest manifest, String split) {
        Splits.check(split);
        ClipPreprocess pre = new ClipPreprocess(model.config().vision().imageSize());
        BatchLoader loader = BatchLoader.open(manifest, split, pre, manifest.dir().resolve(Manifest.CACHE_DIR), progress);
        if (loader.size() == 0) {
            loader.close();
            throw new IllegalArgumentException("split '" + split + "' of " + manifest.dir() + " has no usable images"
                    + (loader.skipped() > 0 ? " (" + loader.skipped() + " unreadable)" : ""));
        }
        return loader;
    }

    /** Every caption of the loader's images, image by image, and the image each belongs to. */
    private record Captions(List<String> texts, int[] owner) {}

    private static Captions captions(BatchLoader loader) {
        List<String> texts = new ArrayList<>();
        List<Integer> owner = new ArrayList<>();
        for (int i = 0; i < loader.size(); i++) {
            for (String c : loader.captions(i)) {
                texts.add(c);
                owner.add(i);
            }
        }
        return new Captions(texts, owner.stream().mapToInt(Integer::intValue).toArray());
    }

    private float[] texts(Manifest manifest, List<String> texts, boolean[] hit, int slot) {
        int[][] tokens = tokens(texts);
        return cached(manifest, "texts", () -> textKey(tokens), tokens.length, hit, slot, () -> texts(tokens));
    }

    private float[] images(BatchLoader loader) {
        int n = loader.size(), d = dim();
        float[] out = new float[Math.multiplyExact(n, d)];
        try (Tape.Region ignored = Tape.inference()) {
            for (int from = 0; from < n; from += batch) {
                int to = Math.min(n, from + batch);
                int[] idx = new int[to - from];
                for (int k = 0; k < idx.length; k++) idx[k] = from + k;
                float[] e = Nn.l2Normalize(model.encodeImage(loader.images(idx))).toArray();
                System.arraycopy(e, 0, out, from * d, e.length);
                progress.update("encode images", to, n);
            }
        }
        return out;
    }

    private float[] texts(int[][] tokens) {
        int m = tokens.length, d = dim();
        float[] out = new float[Math.multiplyExact(m, d)];
        try (Tape.Region ignored = Tape.inference()) {
            for (int from = 0; from < m; from += batch) {
                int to = Math.min(m, from + batch);
                float[] e = Nn.l2Normalize(model.encodeText(Arrays.copyOfRange(tokens, from, to))).toArray();
                System.arraycopy(e, 0, out, from * d, e.length);
                progress.update("encode texts", to, m);
            }
        }
        return out;
    }

    /**
     * {@code compute}'s rows, read from the cache file of {@code kind} and {@code key} when there is a valid one,
     * else computed and written there; {@code hit[slot]} says which.
     */
    private float[] cached(Manifest manifest, String kind, Supplier<String> key, int rows, boolean[] hit, int slot,
                           Supplier<float[]> compute) {
        if (!useCache) return compute.get();
        String k = key.get();
        Path f = manifest.dir().resolve(Manifest.CACHE_DIR).resolve(CACHE_SUBDIR)
                .resolve(fileStem() + "-" + kind + "-" + k.substring(0, 16) + ".safetensors");
        float[] e = read(f, k, rows, dim());
        hit[slot] = e != null;
        if (e != null) return e;
        e = compute.get();
        write(f, k, e, rows, dim());
        return e;
    }

    private String fileStem() {
        String id = contract == null ? "model" : contract.modelId();
        return id.replaceAll("[^A-Za-z0-9._-]+", "_");
    }

    /** SHA-256 of the model (contract and weights) and the split's preprocessed pixels. */
    private String imageKey(BatchLoader loader) {
        MessageDigest sha = modelDigest("images");
        ClipPreprocess pre = loader.preprocess();
        sha.update(("size " + pre.size() + " mean " + Arrays.toString(pre.mean()) + " std " + Arrays.toString(pre.std()))
                .getBytes(StandardCharsets.UTF_8));
        byte[] crop = new byte[3 * pre.size() * pre.size()];
        for (int i = 0; i < loader.size(); i++) {
            loader.cache().crop(loader.entryIndex(i), crop, 0);
            sha.update(crop);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** SHA-256 of the model (contract and weights) and the texts' token ids. */
    private String textKey(int[][] tokens) {
        MessageDigest sha = modelDigest("texts");
        ByteBuffer ints = ByteBuffer.allocate(4 * (tokens.length == 0 ? 1 : tokens[0].length + 1)).order(ByteOrder.LITTLE_ENDIAN);
        for (int[] t : tokens) {
            ints.clear();
            ints.putInt(t.length);
            for (int id : t) ints.putInt(id);
            sha.update(ints.array(), 0, ints.position());
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private MessageDigest modelDigest(String kind) {
        MessageDigest sha = sha256();
        sha.update(("xbt " + kind + " embeddings v2\n" + (contract == null ? "" : contract.toJson()) + "\n").getBytes(StandardCharsets.UTF_8));
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            sha.update((e.getKey() + Arrays.toString(e.getValue().shape())).getBytes(StandardCharsets.UTF_8));
            update(sha, e.getValue().toArray());
        }
        return sha;
    }

    private static void update(MessageDigest sha, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(4 * 4096).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < values.length; ) {
            b.clear();
            int end = Math.min(values.length, i + 4096);
            for (; i < end; i++) b.putInt(Float.floatToRawIntBits(values[i]));
            sha.update(b.array(), 0, b.position());
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The cached rows, or null when there is no file, it was made for another key, or it cannot be read. */
    private static float[] read(Path file, String key, int rows, int dim) {
        if (!Files.isRegularFile(file)) return null;
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            if (!key.equals(f.metadata().get(KEY))) return null;
            if (!Arrays.equals(f.shape(TENSOR), new int[] {rows, dim})) return null;
            return f.read(TENSOR);
        } catch (SafetensorsException | IllegalArgumentException e) {
            return null; // a damaged or foreign file: recompute and replace it
        }
    }

    private static void write(Path file, String key, float[] rows, int n, int dim) {
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + file.getParent() + ": " + e.getMessage(), e);
        }
        SafetensorsWriter.write(file, Map.of(TENSOR, new TensorData(rows, new int[] {n, dim})), Map.of(KEY, key));
    }
}

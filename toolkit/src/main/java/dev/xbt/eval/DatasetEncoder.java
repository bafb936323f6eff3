package dev.xbt.eval;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Encodes one split of a data set with a CLIP model: every usable image (through the data set's {@link BatchLoader}
 * and its image cache, no augmentation) and every caption of those images, L2-normalised, in inference mode, in
 * batches. The result is cached on disk, in {@code DATA/.cache/embeddings/}, keyed by what it depends on: the
 * model's contract and weights, the split's preprocessed pixels and normalisation, the captions' token ids and which
 * image each belongs to. Repeated evaluations of the same model on the same data then skip the forward passes;
 * anything that changes the result changes the key. A cache file that cannot be read is recomputed.
 */
public final class DatasetEncoder {
    /** The cache folder inside a data set's {@link Manifest#CACHE_DIR}. */
    public static final String CACHE_SUBDIR = "embeddings";
    private static final String KEY = "xbt.embeddings.key";

    private final ClipModel model;
    private final ClipTokenizer tokenizer;
    private final ModelContract contract;
    private int batch = 64;
    private boolean useCache = true;
    private Progress progress = Progress.NONE;

    /** {@code contract}: the model's, when it has one (part of the cache key and the file name); may be null. */
    public DatasetEncoder(ClipModel model, ClipTokenizer tokenizer, ModelContract contract) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.contract = contract;
    }

    /** Images or captions per forward pass (default 64). */
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

    /** What {@link #encode} produced and whether it came from the cache. */
    public record Result(EncodedSet set, boolean fromCache, Path cacheFile, int skippedImages) {}

    /** Encodes {@code split} of {@code manifest} (see the class comment). */
    public Result encode(Manifest manifest, String split) {
        Splits.check(split);
        ClipPreprocess pre = new ClipPreprocess(model.config().vision().imageSize());
        try (BatchLoader loader = BatchLoader.open(manifest, split, pre, manifest.dir().resolve(Manifest.CACHE_DIR), progress)) {
            int n = loader.size();
            if (n == 0) {
                throw new IllegalArgumentException("split '" + split + "' of " + manifest.dir() + " has no usable images"
                        + (loader.skipped() > 0 ? " (" + loader.skipped() + " unreadable)" : ""));
            }
            List<String> captions = new ArrayList<>();
            List<Integer> owner = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                for (String c : loader.captions(i)) {
                    captions.add(c);
                    owner.add(i);
                }
            }
            int[] captionImage = owner.stream().mapToInt(Integer::intValue).toArray();
            int[][] tokens = tokenizer.tokenize(captions, model.config().text().contextLength());
            Path file = null;
            String key = null;
            if (useCache) {
                key = key(loader, tokens, captionImage);
                file = manifest.dir().resolve(Manifest.CACHE_DIR).resolve(CACHE_SUBDIR)
                        .resolve(fileStem() + "-" + split + "-" + key.substring(0, 16) + ".safetensors");
                EncodedSet cached = read(file, key, captionImage);
                if (cached != null) return new Result(cached, true, file, loader.skipped());
            }
            EncodedSet set = compute(loader, tokens, captionImage);
            if (useCache) write(file, key, set);
            return new Result(set, false, file, loader.skipped());
        }
    }

    private String fileStem() {
        String id = contract == null ? "model" : contract.modelId();
        return id.replaceAll("[^A-Za-z0-9._-]+", "_");
    }

    private EncodedSet compute(BatchLoader loader, int[][] tokens, int[] captionImage) {
        int n = loader.size(), m = tokens.length, d = model.config().embedDim();
        float[] img = new float[Math.multiplyExact(n, d)];
        float[] txt = new float[Math.multiplyExact(m, d)];
        try (Tape.Region ignored = Tape.inference()) {
            for (int from = 0; from < n; from += batch) {
                int to = Math.min(n, from + batch);
                int[] idx = new int[to - from];
                for (int k = 0; k < idx.length; k++) idx[k] = from + k;
                float[] e = Nn.l2Normalize(model.encodeImage(loader.images(idx))).toArray();
                System.arraycopy(e, 0, img, from * d, e.length);
                progress.update("encode images", to, n);
            }
            for (int from = 0; from < m; from += batch) {
                int to = Math.min(m, from + batch);
                float[] e = Nn.l2Normalize(model.encodeText(Arrays.copyOfRange(tokens, from, to))).toArray();
                System.arraycopy(e, 0, txt, from * d, e.length);
                progress.update("encode captions", to, m);
            }
        }
        return new EncodedSet(img, txt, captionImage, d);
    }

    /** SHA-256 of everything the embeddings depend on. */
    private String key(BatchLoader loader, int[][] tokens, int[] captionImage) {
        MessageDigest sha = sha256();
        sha.update(("xbt embeddings v1\n" + (contract == null ? "" : contract.toJson()) + "\n").getBytes(StandardCharsets.UTF_8));
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            sha.update((e.getKey() + Arrays.toString(e.getValue().shape())).getBytes(StandardCharsets.UTF_8));
            update(sha, e.getValue().toArray());
        }
        ClipPreprocess pre = loader.preprocess();
        sha.update(("size " + pre.size() + " mean " + Arrays.toString(pre.mean()) + " std " + Arrays.toString(pre.std()))
                .getBytes(StandardCharsets.UTF_8));
        byte[] crop = new byte[3 * pre.size() * pre.size()];
        for (int i = 0; i < loader.size(); i++) {
            loader.cache().crop(loader.entryIndex(i), crop, 0);
            sha.update(crop);
        }
        ByteBuffer ints = ByteBuffer.allocate(4 * (tokens.length == 0 ? 1 : tokens[0].length + 1)).order(ByteOrder.LITTLE_ENDIAN);
        for (int c = 0; c < tokens.length; c++) {
            ints.clear();
            ints.putInt(captionImage[c]);
            for (int t : tokens[c]) ints.putInt(t);
            sha.update(ints.array(), 0, ints.position());
        }
        return HexFormat.of().formatHex(sha.digest());
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

    /** The cached set, or null when there is none, it was made for another key, or it cannot be read. */
    private static EncodedSet read(Path file, String key, int[] captionImage) {
        if (!Files.isRegularFile(file)) return null;
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            if (!key.equals(f.metadata().get(KEY))) return null;
            int[] is = f.shape("images"), cs = f.shape("captions");
            if (is.length != 2 || cs.length != 2 || is[1] != cs[1] || cs[0] != captionImage.length) return null;
            return new EncodedSet(f.read("images"), f.read("captions"), captionImage, is[1]);
        } catch (SafetensorsException | IllegalArgumentException e) {
            return null; // a damaged or foreign file: recompute and replace it
        }
    }

    private static void write(Path file, String key, EncodedSet set) {
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + file.getParent() + ": " + e.getMessage(), e);
        }
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        tensors.put("images", new TensorData(set.images(), new int[] {set.imageCount(), set.dim()}));
        tensors.put("captions", new TensorData(set.captions(), new int[] {set.captionCount(), set.dim()}));
        SafetensorsWriter.write(file, tensors, Map.of(KEY, key));
    }
}

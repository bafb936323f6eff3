package dev.xbt.data;

import dev.xbt.engine.cpu.Parallel;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import dev.xbt.image.ClipPreprocess;
import dev.xbt.image.RgbImage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Streams one split of a data set as preprocessed {@code [B, 3, S, S]} batches for training and evaluation.
 * Crops come from the {@link ImageCache} (built on first use); a background thread assembles the next batches in
 * order (crop, optional {@link Augmentation}, normalisation with the {@link ClipPreprocess}'s mean and std, split
 * over worker threads), holding at most {@link #prefetch} batches ahead in a bounded queue. Images the cache could
 * not read are left out of the split ({@link #skipped()}).
 *
 * <pre>{@code
 * try (BatchLoader train = BatchLoader.open(Manifest.read(dir), Splits.TRAIN, new ClipPreprocess(64))) {
 *     for (int epoch = 0; epoch < epochs; epoch++) {
 *         try (BatchLoader.Batches batches = train.epoch(rng, 128, true, true)) {
 *             for (BatchLoader.Batch b : batches) step(b.images(), tokenizer.tokenize(b.captions(), ctx));
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p><b>Reproducibility.</b> {@link #epoch} makes all of its random draws from {@code rng} before it returns, in this
 * order: the shuffle (Fisher–Yates, when {@code shuffle}), one caption index per position ({@code nextInt} of the
 * image's caption count), one long seeding the augmentation (picture at position {@code p} uses
 * {@code new Rng(Rng.mix(seed + p))}). The same rng state, data and settings give the same batches, bit for bit,
 * whatever the thread count, and leave {@code rng} in the same state.
 *
 * <p>With no augmentation, an image's tensor is bit-identical to {@code pre.apply(image)} ({@link ClipPreprocess}).
 */
public final class BatchLoader implements AutoCloseable {
    /** One batch: pixels {@code [B, 3, S, S]}, the images' indices in this loader, one caption for each. */
    public record Batch(Tensor images, int[] indices, List<String> captions) {
        public int size() {
            return indices.length;
        }
    }

    private final ImageCache cache;
    private final boolean ownsCache;
    private final ClipPreprocess pre;
    private final String split;
    private int[] entries;
    private final List<ImportReport.Skip> skips;
    private final float[][] lut;
    private Augmentation augmentation = Augmentation.NONE;
    private int prefetch = 2;
    private int threads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    private ExecutorService pool;

    /** A loader of {@code split} (null: every entry) of {@code cache}'s data set; {@code pre.size()} must be the cache's. */
    public BatchLoader(ImageCache cache, String split, ClipPreprocess pre) {
        this(cache, false, split, pre);
    }

    private BatchLoader(ImageCache cache, boolean ownsCache, String split, ClipPreprocess pre) {
        this.cache = Objects.requireNonNull(cache, "cache");
        this.pre = Objects.requireNonNull(pre, "pre");
        if (pre.size() != cache.size()) {
            throw new IllegalArgumentException("BatchLoader: preprocessing of " + pre.size() + " px with a cache of "
                    + cache.size() + " px crops");
        }
        this.ownsCache = ownsCache;
        this.split = split;
        Manifest m = cache.manifest();
        int[] all = m.indices(split);
        this.entries = Arrays.stream(all).filter(cache::usable).toArray();
        List<ImportReport.Skip> sk = new ArrayList<>();
        for (int i : all) {
            if (!cache.usable(i)) {
                String id = m.entry(i).id();
                sk.add(cache.skips().stream().filter(s -> s.item().equals(id)).findFirst()
                        .orElse(new ImportReport.Skip(id, "unreadable")));
            }
        }
        this.skips = List.copyOf(sk);
        float[] mean = pre.mean();
        float[] std = pre.std();
        this.lut = new float[3][256];
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) lut[c][v] = (v / 255f - mean[c]) / std[c]; // ClipPreprocess's float32 steps
        }
    }

    /** {@code split} of {@code manifest} (null: all entries), with its cache in {@code DIR/.cache/} built when needed. */
    public static BatchLoader open(Manifest manifest, String split, ClipPreprocess pre) {
        return open(manifest, split, pre, manifest.dir().resolve(Manifest.CACHE_DIR), Progress.NONE);
    }

    /** As {@link #open(Manifest, String, ClipPreprocess)}, the cache in {@code cacheDir}, its build on {@code progress}. */
    public static BatchLoader open(Manifest manifest, String split, ClipPreprocess pre, Path cacheDir, Progress progress) {
        if (split != null) Splits.check(split);
        ImageCache cache = ImageCache.open(manifest, pre, cacheDir, progress);
        try {
            return new BatchLoader(cache, true, split, pre);
        } catch (RuntimeException e) {
            try {
                cache.close();
            } catch (IOException ignored) {
                // reported through e
            }
            throw e;
        }
    }

    // ---- settings -----------------------------------------------------------------------------------

    /** Sets the augmentation of later epochs (default {@link Augmentation#NONE}). */
    public synchronized BatchLoader augmentation(Augmentation augmentation) {
        this.augmentation = Objects.requireNonNull(augmentation, "augmentation");
        return this;
    }

    public synchronized Augmentation augmentation() {
        return augmentation;
    }

    /** Sets how many batches later epochs prepare ahead (default 2, at least 1). */
    public synchronized BatchLoader prefetch(int batches) {
        if (batches < 1) throw new IllegalArgumentException("prefetch must be at least 1, got " + batches);
        this.prefetch = batches;
        return this;
    }

    public synchronized int prefetch() {
        return prefetch;
    }

    /** Sets the worker threads that fill a batch (default: the cores, at most 4). */
    public synchronized BatchLoader threads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        if (pool != null) {
            pool.shutdown();
            pool = null;
        }
        this.threads = threads;
        return this;
    }

    // ---- the split ----------------------------------------------------------------------------------

    /**
     * Keeps a random {@code fraction} of the split's usable images (at least one), drawn with {@code seed}, in
     * manifest order; later epochs and {@link #size()} see only those. For training a model on part of the data.
     */
    public synchronized BatchLoader keepFraction(double fraction, long seed) {
        if (!(fraction > 0 && fraction <= 1)) throw new IllegalArgumentException("fraction must be in (0, 1], got " + fraction);
        int keep = Math.max(1, (int) Math.round(entries.length * fraction));
        if (keep == entries.length) return this;
        int[] order = new int[entries.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        new Rng(seed).shuffle(order);
        int[] kept = Arrays.copyOf(order, keep);
        Arrays.sort(kept);
        int[] e = new int[keep];
        for (int i = 0; i < keep; i++) e[i] = entries[kept[i]];
        entries = e;
        return this;
    }

    /** The split this loader reads, or null for all entries. */
    public String split() {
        return split;
    }

    public ImageCache cache() {
        return cache;
    }

    public ClipPreprocess preprocess() {
        return pre;
    }

    /** Usable images in the split: indices {@code 0 .. size() - 1}. */
    public int size() {
        return entries.length;
    }

    /** Images of the split left out because they could not be read. */
    public int skipped() {
        return skips.size();
    }

    /** Those images, with the reasons. */
    public List<ImportReport.Skip> skips() {
        return skips;
    }

    /** Image {@code i}'s position in the manifest. */
    public int entryIndex(int i) {
        return entries[i];
    }

    public ManifestEntry entry(int i) {
        return cache.manifest().entry(entries[i]);
    }

    /** All captions of image {@code i} (for evaluation). */
    public List<String> captions(int i) {
        return entry(i).captions();
    }

    /** All captions of every image, in index order (for evaluation). */
    public List<List<String>> allCaptions() {
        List<List<String>> out = new ArrayList<>(entries.length);
        for (int i = 0; i < entries.length; i++) out.add(captions(i));
        return out;
    }

    /** Images {@code indices} as {@code [N, 3, S, S]}, without augmentation, on the calling thread's backend. */
    public Tensor images(int... indices) {
        return Tensor.of(pixels(indices), indices.length, 3, pre.size(), pre.size());
    }

    /** Images {@code indices} as normalised {@code [N, 3, S, S]} floats, without augmentation. */
    public float[] pixels(int... indices) {
        for (int i : indices) Objects.checkIndex(i, entries.length);
        return fill(indices, 0, indices.length, Augmentation.NONE, 0);
    }

    // ---- epochs -------------------------------------------------------------------------------------

    /**
     * One pass over the split in batches of {@code batchSize}: shuffled with {@code rng} or in index order; the
     * last, smaller batch dropped when {@code dropLast}. Every random draw is made from {@code rng} before this
     * returns (see the class comment). Close the result when leaving early.
     */
    public Batches epoch(Rng rng, int batchSize, boolean shuffle, boolean dropLast) {
        Objects.requireNonNull(rng, "rng");
        if (batchSize < 1) throw new IllegalArgumentException("batchSize must be at least 1, got " + batchSize);
        int n = entries.length;
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        if (shuffle) rng.shuffle(order);
        String[] captions = new String[n];
        for (int p = 0; p < n; p++) {
            List<String> caps = captions(order[p]);
            captions[p] = caps.get(rng.nextInt(caps.size()));
        }
        long augSeed = rng.nextLong();
        int count = dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
        Augmentation aug;
        int ahead;
        synchronized (this) {
            aug = augmentation;
            ahead = prefetch;
        }
        return new Batches(order, captions, augSeed, aug, batchSize, count, ahead);
    }

    private synchronized ExecutorService pool() {
        if (pool == null && threads > 1) {
            pool = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, "xbt-batch");
                t.setDaemon(true);
                return t;
            });
        }
        return pool;
    }

    /** Normalised pixels of {@code order[from .. to)}; position {@code p} augmented with {@code Rng.mix(augSeed + p)}. */
    private float[] fill(int[] order, int from, int to, Augmentation aug, long augSeed) {
        int s = pre.size();
        int len = 3 * s * s;
        int b = to - from;
        float[] out = new float[Math.multiplyExact(b, len)];
        int parts = Math.min(threads, b);
        ExecutorService p = parts > 1 && (long) b * len >= 1 << 16 ? pool() : null;
        if (p == null) {
            fillRange(order, from, 0, b, aug, augSeed, out);
            return out;
        }
        List<Future<?>> fs = new ArrayList<>(parts);
        for (int k = 0; k < parts; k++) {
            int k0 = (int) ((long) b * k / parts);
            int k1 = (int) ((long) b * (k + 1) / parts);
            fs.add(p.submit(() -> fillRange(order, from, k0, k1, aug, augSeed, out)));
        }
        for (Future<?> f : fs) Parallel.await(f);
        return out;
    }

    private void fillRange(int[] order, int from, int k0, int k1, Augmentation aug, long augSeed, float[] out) {
        int s = pre.size();
        int plane = s * s;
        byte[] crop = new byte[3 * plane];
        for (int k = k0; k < k1; k++) {
            cache.crop(entries[order[from + k]], crop, 0);
            byte[] px = crop;
            if (!aug.isNone()) {
                px = aug.apply(new RgbImage(s, s, crop), new Rng(Rng.mix(augSeed + from + k))).data();
            }
            int o = k * 3 * plane;
            for (int c = 0; c < 3; c++) {
                float[] l = lut[c];
                int oc = o + c * plane;
                for (int i = 0, q = c; i < plane; i++, q += 3) out[oc + i] = l[px[q] & 0xFF];
            }
        }
    }

    /** Releases the worker threads, and the cache when {@link #open} made it. */
    @Override
    public void close() {
        synchronized (this) {
            if (pool != null) pool.shutdown(); // no interrupts: they would close the cache's file channel
            pool = null;
        }
        if (ownsCache) {
            try {
                cache.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /**
     * The batches of one epoch, in order, prepared ahead on a background thread. Iterate it once (it is its own
     * {@link Iterator}); {@link #close()} stops the preparation when leaving early.
     */
    public final class Batches implements Iterator<Batch>, Iterable<Batch>, AutoCloseable {
        private static final Object END = new Object();
        private final int[] order;
        private final String[] captions;
        private final int batchSize;
        private final int count;
        private final BlockingQueue<Object> queue;
        private final Thread producer;
        private volatile boolean closed;
        private int taken;

        private Batches(int[] order, String[] captions, long augSeed, Augmentation aug, int batchSize, int count, int ahead) {
            this.order = order;
            this.captions = captions;
            this.batchSize = batchSize;
            this.count = count;
            this.queue = new ArrayBlockingQueue<>(ahead + 1);
            this.producer = new Thread(() -> {
                try {
                    for (int b = 0; b < count && !closed; b++) {
                        int from = b * batchSize;
                        int to = Math.min(order.length, from + batchSize);
                        if (!offer(fill(order, from, to, aug, augSeed))) return;
                    }
                    offer(END);
                } catch (Throwable t) {
                    offer(t);
                }
            }, "xbt-batches");
            producer.setDaemon(true);
            if (count > 0) producer.start();
        }

        private boolean offer(Object o) {
            try {
                while (!closed) {
                    if (queue.offer(o, 100, TimeUnit.MILLISECONDS)) return true;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return false;
        }

        /** Batches in this epoch. */
        public int count() {
            return count;
        }

        @Override
        public Iterator<Batch> iterator() {
            return this;
        }

        @Override
        public boolean hasNext() {
            return taken < count && !closed;
        }

        @Override
        public Batch next() {
            if (!hasNext()) throw new NoSuchElementException(closed ? "the epoch's batches were closed" : "no more batches");
            Object o;
            try {
                o = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for a batch", e);
            }
            if (o instanceof RuntimeException re) throw re;
            if (o instanceof Error err) throw err;
            if (o instanceof Throwable t) throw new IllegalStateException(t);
            if (o == END) throw new IllegalStateException("the batches ended early");
            int from = taken * batchSize;
            int to = Math.min(order.length, from + batchSize);
            taken++;
            int s = pre.size();
            Tensor images = Tensor.of((float[]) o, to - from, 3, s, s);
            return new Batch(images, Arrays.copyOfRange(order, from, to), List.of(Arrays.copyOfRange(captions, from, to)));
        }

        /** Stops preparing batches; the iteration ends. */
        @Override
        public void close() {
            closed = true; // not an interrupt: that would close the cache's file channel under a read
            queue.clear();
        }
    }
}

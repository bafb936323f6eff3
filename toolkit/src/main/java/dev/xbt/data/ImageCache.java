package dev.xbt.data;

import dev.xbt.engine.cpu.Parallel;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.xbt.image.ClipPreprocess;
import dev.xbt.image.ImageLoader;
import dev.xbt.image.RgbImage;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Every image of a data set decoded, resized and centre-cropped once, kept on disk as {@code S×S×3} bytes:
 * {@code DIR/.cache/images-S.xbtc} for crop size {@code S}. Training reads crops from it and normalises them on the
 * fly ({@link BatchLoader}), so an epoch decodes no image, and the file is 4× smaller than float32 tensors.
 *
 * <p><b>Building.</b> {@link #open} uses the file when its header matches the data set and the preprocessing, and
 * (re)builds it otherwise: images are decoded ({@link ImageLoader}: alpha onto white) and turned into crops
 * ({@link ClipPreprocess#resizeAndCrop}: PIL-exact bicubic resize of the shortest side to {@code S}, centre crop)
 * on worker threads, each into its own slot, so the file's bytes do not depend on the threads. An image that
 * cannot be read or decoded is skipped: its slot is marked unusable and the reason kept ({@link #skips()});
 * building never stops for one. The file is written under a temporary name and renamed when complete.
 *
 * <p><b>Staleness.</b> The header records the preprocessing ({@link #recipe}, with {@code S}) and a fingerprint
 * of the data set (each entry's image path, file size and modification time, in manifest order). When either
 * differs, or the file is damaged, it is rebuilt.
 *
 * <p><b>Layout.</b> {@code "XBTIMGC1"}, a little-endian int32 {@code H}, {@code H} bytes of JSON header
 * ({@code version, recipe, size, count, fingerprint, dataOffset}); at {@code dataOffset} (a multiple of 4096) the
 * crops, {@code count} slots of {@code S*S*3} bytes (HWC, zeros for skipped images), then {@code count} status
 * bytes (1 usable, 0 skipped), then an int32 length and the JSON list of skipped images with reasons.
 *
 * <p>Reads ({@link #crop}) are thread-safe. Close the cache to release the file.
 */
public final class ImageCache implements Closeable {
    /** The format's version, part of the recipe: bump it when the stored bytes change. */
    public static final int VERSION = 1;
    private static final byte[] MAGIC = "XBTIMGC1".getBytes(StandardCharsets.US_ASCII);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Manifest manifest;
    private final int size;
    private final Path file;
    private final Arena arena;
    private final MemorySegment data;
    private final long dataOffset;
    private final byte[] status;
    private final List<ImportReport.Skip> skips;
    private final boolean built;
    private boolean closed;
    private final String buildReason;

    private ImageCache(Manifest manifest, int size, Path file, Arena arena, MemorySegment data, long dataOffset, byte[] status,
                       List<ImportReport.Skip> skips, boolean built, String buildReason) {
        this.manifest = manifest;
        this.size = size;
        this.file = file;
        this.arena = arena;
        this.data = data;
        this.dataOffset = dataOffset;
        this.status = status;
        this.skips = List.copyOf(skips);
        this.built = built;
        this.buildReason = buildReason;
    }

    /** The cache of {@code manifest} for {@code pre}'s size in {@code DIR/.cache/}, built when needed. */
    public static ImageCache open(Manifest manifest, ClipPreprocess pre) {
        return open(manifest, pre, manifest.dir().resolve(Manifest.CACHE_DIR), Progress.NONE);
    }

    /**
     * The cache of {@code manifest} for {@code pre}'s size in {@code cacheDir} (a data set on a read-only disk can
     * keep its cache elsewhere), built when missing or stale, reporting the build on {@code progress}.
     */
    public static ImageCache open(Manifest manifest, ClipPreprocess pre, Path cacheDir, Progress progress) {
        return open(manifest, pre.size(), pre.threads(), new ImageLoader(), cacheDir, progress, recipe(pre.size()));
    }

    static ImageCache open(Manifest manifest, int size, int threads, ImageLoader loader, Path cacheDir,
                           Progress progress, String recipe) {
        Objects.requireNonNull(manifest, "manifest");
        Path file = cacheDir.resolve("images-" + size + ".xbtc");
        String fingerprint = fingerprint(manifest);
        String why;
        try {
            why = Files.isRegularFile(file) ? check(file, recipe, size, manifest.size(), fingerprint) : "no cache yet";
        } catch (IOException e) {
            why = "unreadable (" + e.getMessage() + ")";
        }
        try {
            if (why != null) {
                progress.log("image cache " + file + ": building (" + why + ")");
                Files.createDirectories(cacheDir);
                build(manifest, size, threads, loader, file, recipe, fingerprint, progress);
            }
            ImageCache c = load(manifest, size, file, why != null, why);
            if (c == null) throw new IOException("the cache just written does not read back");
            return c;
        } catch (IOException e) {
            throw new UncheckedIOException("image cache " + file + ": " + e.getMessage(), e);
        }
    }

    /** The preprocessing a cache of crop size {@code size} holds; a cache made with another recipe is rebuilt. */
    public static String recipe(int size) {
        return "xbt image cache v" + VERSION + ": ImageLoader RGB (alpha on white) -> Resize(" + size
                + ", bicubic, PIL) -> CenterCrop(" + size + "); uint8 HWC";
    }

    /** SHA-256 of each entry's image path, file size and modification time (ms), in manifest order. */
    static String fingerprint(Manifest manifest) {
        MessageDigest sha = Splits.sha256();
        for (ManifestEntry e : manifest.entries()) {
            long len = -1;
            long mtime = -1;
            try {
                BasicFileAttributes a = Files.readAttributes(manifest.imagePath(e), BasicFileAttributes.class);
                len = a.size();
                mtime = a.lastModifiedTime().toMillis();
            } catch (IOException ignored) {
                // a missing image: recorded as -1, and skipped when built
            }
            sha.update((e.image() + "\0" + len + "\0" + mtime + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    // ---- file format --------------------------------------------------------------------------------

    private static long slot(int size) {
        return 3L * size * size;
    }

    /** Why the file cannot be used, or null when it can. */
    private static String check(Path file, String recipe, int size, int count, String fingerprint) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            JsonNode h = header(ch);
            if (h == null) return "not a cache file or damaged";
            if (h.path("version").asInt() != VERSION || !recipe.equals(h.path("recipe").asText())) {
                return "the preprocessing changed";
            }
            if (h.path("size").asInt() != size || h.path("count").asInt() != count
                    || !fingerprint.equals(h.path("fingerprint").asText())) {
                return "the data set changed";
            }
            long data = h.path("dataOffset").asLong();
            long end = data + count * slot(size) + count;
            if (ch.size() < end + 4) return "damaged (too short)";
            int k = readInt(ch, end);
            if (ch.size() != end + 4 + k) return "damaged (wrong length)";
            return null;
        }
    }

    private static JsonNode header(FileChannel ch) throws IOException {
        if (ch.size() < 12) return null;
        ByteBuffer b = ByteBuffer.allocate(12);
        readFully(ch, b, 0);
        byte[] magic = new byte[8];
        b.flip().get(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) return null;
        int h = b.order(ByteOrder.LITTLE_ENDIAN).getInt(8);
        if (h <= 0 || h > 1 << 20 || ch.size() < 12 + h) return null;
        ByteBuffer hb = ByteBuffer.allocate(h);
        readFully(ch, hb, 12);
        try {
            return JSON.readTree(hb.array());
        } catch (IOException e) {
            return null;
        }
    }

    private static int readInt(FileChannel ch, long pos) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, b, pos);
        return b.getInt(0);
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, pos + b.position());
            if (n < 0) throw new IOException("unexpected end of file");
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) ch.write(b, pos + b.position());
    }

    private static void build(Manifest manifest, int size, int threads, ImageLoader loader, Path file, String recipe,
                              String fingerprint, Progress progress) throws IOException {
        int n = manifest.size();
        long slot = slot(size);
        ObjectNode h = JSON.createObjectNode();
        h.put("version", VERSION);
        h.put("recipe", recipe);
        h.put("size", size);
        h.put("count", n);
        h.put("fingerprint", fingerprint);
        h.put("manifest", manifest.file().toString());
        h.put("dataOffset", 0L);
        int headerLen = JSON.writeValueAsBytes(h).length + 24; // room for the real offset's digits
        long dataOffset = (12 + headerLen + 4095) / 4096 * 4096;
        h.put("dataOffset", dataOffset);
        byte[] header = JSON.writeValueAsBytes(h);
        Path tmp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp");
        byte[] status = new byte[n];
        String[] reasons = new String[n];
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer head = ByteBuffer.allocate(12 + header.length).order(ByteOrder.LITTLE_ENDIAN);
                head.put(MAGIC).putInt(header.length).put(header).flip();
                writeFully(ch, head, 0);
                AtomicInteger next = new AtomicInteger();
                AtomicInteger done = new AtomicInteger();
                int workers = Math.max(1, Math.min(threads, n));
                ClipPreprocess pre = new ClipPreprocess(size);
                Runnable work = () -> {
                    byte[] zeros = null;
                    for (int i; (i = next.getAndIncrement()) < n; ) {
                        ManifestEntry e = manifest.entry(i);
                        byte[] crop;
                        try {
                            RgbImage img = loader.read(manifest.imagePath(e));
                            crop = pre.resizeAndCrop(img).data();
                            status[i] = 1;
                        } catch (RuntimeException ex) { // ImageException and any decoder surprise: skip, never stop
                            reasons[i] = ex.getMessage() == null ? ex.toString() : ex.getMessage();
                            crop = zeros == null ? zeros = new byte[(int) slot] : zeros;
                        }
                        try {
                            writeFully(ch, ByteBuffer.wrap(crop), dataOffset + i * slot);
                        } catch (IOException ex) {
                            throw new UncheckedIOException(ex);
                        }
                        int d = done.incrementAndGet();
                        if ((d & 63) == 0 || d == n) progress.update("caching " + size + "px crops", d, n);
                    }
                };
                if (workers == 1) {
                    work.run();
                } else {
                    ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
                        Thread t = new Thread(r, "xbt-cache");
                        t.setDaemon(true);
                        return t;
                    });
                    try {
                        List<Future<?>> fs = new ArrayList<>();
                        for (int w = 0; w < workers; w++) fs.add(pool.submit(work));
                        for (Future<?> f : fs) Parallel.await(f);
                    } catch (UncheckedIOException e) {
                        throw e.getCause();
                    } finally {
                        pool.shutdownNow();
                    }
                }
                long end = dataOffset + n * slot;
                writeFully(ch, ByteBuffer.wrap(status), end);
                ArrayNode list = JSON.createArrayNode();
                for (int i = 0; i < n; i++) {
                    if (status[i] == 0) {
                        list.addObject().put("index", i).put("id", manifest.entry(i).id()).put("reason", reasons[i]);
                    }
                }
                byte[] trailer = JSON.writeValueAsBytes(list);
                ByteBuffer tb = ByteBuffer.allocate(4 + trailer.length).order(ByteOrder.LITTLE_ENDIAN);
                tb.putInt(trailer.length).put(trailer).flip();
                writeFully(ch, tb, end + n);
                ch.force(true);
            }
            ManifestWriter.moveAtomically(tmp, file);
        } finally {
            Files.deleteIfExists(tmp);
        }
        int skipped = 0;
        for (byte s : status) if (s == 0) skipped++;
        progress.log("image cache " + file + ": " + (n - skipped) + " images" + (skipped > 0 ? ", " + skipped
                + " skipped (unreadable; see ImageCache.skips())" : ""));
    }

    private static ImageCache load(Manifest manifest, int size, Path file, boolean built, String reason) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            JsonNode h = header(ch);
            if (h == null) throw new IOException("bad header");
            int n = manifest.size();
            long data = h.path("dataOffset").asLong();
            long end = data + n * slot(size);
            ByteBuffer sb = ByteBuffer.allocate(n);
            readFully(ch, sb, end);
            int k = readInt(ch, end + n);
            ByteBuffer kb = ByteBuffer.allocate(k);
            readFully(ch, kb, end + n + 4);
            List<ImportReport.Skip> skips = new ArrayList<>();
            for (JsonNode s : JSON.readTree(kb.array())) {
                skips.add(new ImportReport.Skip(s.path("id").asText(), s.path("reason").asText()));
            }
            // mapped, not read through the channel: an interrupted reader would close a channel for everyone
            Arena arena = Arena.ofShared();
            try {
                MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, data, n * slot(size), arena);
                return new ImageCache(manifest, size, file, arena, seg, data, sb.array(), skips, built, reason);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        }
    }

    // ---- access -------------------------------------------------------------------------------------

    public Manifest manifest() {
        return manifest;
    }

    /** The crops' side in pixels. */
    public int size() {
        return size;
    }

    /** The cache file. */
    public Path file() {
        return file;
    }

    /** Whether this {@link #open} built (or rebuilt) the file rather than reusing it. */
    public boolean built() {
        return built;
    }

    /** Why it was built ({@code "no cache yet"}, {@code "the preprocessing changed"}, ...), or null when reused. */
    public String buildReason() {
        return buildReason;
    }

    /** Whether entry {@code index} of the manifest has a crop (false: its image could not be read). */
    public boolean usable(int index) {
        return status[index] != 0;
    }

    /** How many images were skipped. */
    public int skipped() {
        return skips.size();
    }

    /** The skipped images (id and reason), in manifest order. */
    public List<ImportReport.Skip> skips() {
        return skips;
    }

    /** Copies entry {@code index}'s crop ({@code S*S*3} bytes, HWC) into {@code dst} at {@code offset}. */
    public void crop(int index, byte[] dst, int offset) {
        Objects.checkIndex(index, status.length);
        int len = (int) slot(size);
        Objects.checkFromIndexSize(offset, len, dst.length);
        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, index * slot(size), dst, offset, len);
    }

    /** Entry {@code index}'s crop as a picture. */
    public RgbImage image(int index) {
        byte[] b = new byte[(int) slot(size)];
        crop(index, b, 0);
        return new RgbImage(size, size, b);
    }

    @Override
    public void close() throws IOException {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        arena.close();
    }
}

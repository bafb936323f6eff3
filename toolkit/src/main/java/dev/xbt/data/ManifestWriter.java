package dev.xbt.data;

import dev.xbt.engine.cpu.Parallel;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.xbt.image.ImageException;
import dev.xbt.image.ImageLoader;
import dev.xbt.image.RgbImage;

import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Writes a data set: images into {@code DIR/images/}, entries into {@code DIR/manifest.jsonl}, and a summary into
 * {@code DIR/import-report.json}. Importers ({@link DataSource}s) get one and call the {@code add...} methods:
 * <ul>
 *   <li>{@link #addImage}: a decoded picture, written as {@code images/<id>.png};</li>
 *   <li>{@link #addBytes}: an encoded image file's bytes, written as {@code images/<name>};</li>
 *   <li>{@link #addFile} / {@link #addFiles}: an image file copied (or hard-linked, see {@link #link}) to
 *       {@code images/<name>};</li>
 *   <li>{@link #addExisting}: an image the importer already put inside the folder (referred to, not copied);</li>
 *   <li>{@link #skip}: an item that could not be imported, with the reason.</li>
 * </ul>
 * An item is skipped, counted and reported, never fatal, when its image does not decode (with {@link #verify}
 * on, the default), when its id was already added, or when it has no non-blank caption. Captions are cleaned
 * (white space runs become one space, ends stripped, blanks and repeats dropped). A {@code null} split means the
 * one {@link Splits#assign} gives the id. Entries keep the order of the calls; all methods are thread-safe, but
 * call them in a fixed order (or use {@link #addFiles}, parallel inside and ordered) for reproducible manifests.
 *
 * <p>Entries stream to a temporary file; {@link #finish()} (or {@link #close()}) renames it to
 * {@code manifest.jsonl} atomically and writes the report (also atomically), so a reader never sees half a
 * manifest. {@link #abort()} discards the entries instead (images already written stay). Finishing with no entry
 * writes the report and throws.
 */
public final class ManifestWriter implements Closeable {
    /** The report's file name. */
    public static final String REPORT_FILE = "import-report.json";
    /** The images' folder inside the data set. */
    public static final String IMAGES_DIR = "images";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;
    private final String source;
    private final Path temp;
    private final BufferedWriter out;
    private final Set<String> ids = new HashSet<>();
    private final Set<String> names = new HashSet<>();
    private final Map<String, Integer> splits = new LinkedHashMap<>();
    private final List<ImportReport.Skip> skips = new ArrayList<>();
    private final Map<String, String> notes = new TreeMap<>();
    private boolean verify = true;
    private boolean link;
    private String split;
    private int threads = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), 16));
    private ImageLoader loader = new ImageLoader();
    private int images;
    private int captions;
    private int skipped;
    private boolean done;
    private ImportReport report;

    private ManifestWriter(Path dir, String source) throws IOException {
        this.dir = dir;
        this.source = source;
        for (String s : Splits.ALL) splits.put(s, 0);
        Files.createDirectories(dir.resolve(IMAGES_DIR));
        this.temp = Files.createTempFile(dir, ".manifest-", ".jsonl.tmp");
        this.out = new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(temp), StandardCharsets.UTF_8), 1 << 16);
    }

    /**
     * A writer into {@code dir}, created when missing. A folder that exists and is not empty is refused unless
     * {@code force}; with {@code force} the previous data set's {@code manifest.jsonl}, {@code import-report.json},
     * {@code images/} and {@code .cache/} are deleted first (other files are left alone).
     *
     * @param source the source's name, for the report
     */
    public static ManifestWriter create(Path dir, String source, boolean force) throws IOException {
        Objects.requireNonNull(dir, "dir");
        Path d = dir.toAbsolutePath().normalize();
        if (Files.exists(d, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(d)) {
            throw new ManifestException(dir + ": exists and is not a folder");
        }
        if (Files.isDirectory(d)) {
            boolean empty;
            try (Stream<Path> s = Files.list(d)) {
                empty = s.findAny().isEmpty();
            }
            if (!empty) {
                if (!force) {
                    throw new ManifestException(dir + ": the folder exists and is not empty"
                            + " (use --force to replace the data set in it)");
                }
                Files.deleteIfExists(d.resolve(Manifest.FILE_NAME));
                Files.deleteIfExists(d.resolve(REPORT_FILE));
                deleteTree(d.resolve(IMAGES_DIR));
                deleteTree(d.resolve(Manifest.CACHE_DIR));
            }
        }
        Files.createDirectories(d);
        return new ManifestWriter(d, source == null ? "unknown" : source);
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) return;
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            Files.delete(root);
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) throw e;
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    // ---- settings -----------------------------------------------------------------------------------

    /** Whether {@link #addFile}, {@link #addFiles} and {@link #addBytes} decode each image first (default true). */
    public synchronized ManifestWriter verify(boolean verify) {
        this.verify = verify;
        return this;
    }

    /** Whether {@link #addFile} hard-links instead of copying where it can (default false: copy). */
    public synchronized ManifestWriter link(boolean link) {
        this.link = link;
        return this;
    }

    /**
     * Puts every item into {@code split} (train, val or test), whatever split its source or its id gives it: a data
     * set made to be held out, e.g. a test set that no model or method has seen. Null (the default) keeps each
     * item's own split. Recorded in the report's notes.
     */
    public synchronized ManifestWriter split(String split) {
        this.split = split == null ? null : Splits.check(split);
        if (split == null) notes.remove("split");
        else notes.put("split", split + " (every item)");
        return this;
    }

    /** Threads of {@link #addFiles} (default: the cores, at most 16). */
    public synchronized ManifestWriter threads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        this.threads = threads;
        return this;
    }

    /** The decoder (and its size limits) that verifies images. */
    public synchronized ManifestWriter loader(ImageLoader loader) {
        this.loader = Objects.requireNonNull(loader, "loader");
        return this;
    }

    /** The data set's folder (absolute). */
    public Path dir() {
        return dir;
    }

    /** {@code dir()/images}, where images go. */
    public Path imagesDir() {
        return dir.resolve(IMAGES_DIR);
    }

    public String source() {
        return source;
    }

    // ---- adding -------------------------------------------------------------------------------------

    /**
     * Adds {@code entry}, whose image must already be inside the folder; the file is not opened. Returns false
     * (and counts a skip) when the id was added before.
     */
    public synchronized boolean add(ManifestEntry entry) {
        checkOpen();
        if (split != null && !split.equals(entry.split())) {
            entry = new ManifestEntry(entry.id(), entry.image(), entry.captions(), split, entry.meta());
        }
        if (!ids.add(entry.id())) {
            skip(entry.id(), "duplicate id");
            return false;
        }
        names.add(entry.image().toLowerCase(Locale.ROOT));
        try {
            out.write(Manifest.toJsonLine(entry));
            out.write('\n');
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + temp + ": " + e.getMessage(), e);
        }
        images++;
        captions += entry.captions().size();
        splits.merge(entry.split(), 1, Integer::sum);
        return true;
    }

    /**
     * Refers to an image already inside the folder at {@code image} (relative, {@code /}-separated). Returns false,
     * counting a skip, for a repeated id, no usable caption or a missing file.
     */
    public synchronized boolean addExisting(String id, String image, List<String> captions, String split) {
        return addExisting(id, image, captions, split, Map.of());
    }

    public synchronized boolean addExisting(String id, String image, List<String> captions, String split,
                                            Map<String, String> meta) {
        ManifestEntry e = entry(id, image, captions, split, meta);
        if (e == null) return false;
        if (!Files.isRegularFile(dir.resolve(image))) {
            skip(id, "missing image " + image);
            return false;
        }
        return add(e);
    }

    /** Encodes {@code image} as {@code images/<id>.png} (the id made file-safe, and unique) and adds it. */
    public boolean addImage(String id, RgbImage image, List<String> captions, String split) {
        return addImage(id, image, captions, split, Map.of());
    }

    public boolean addImage(String id, RgbImage image, List<String> captions, String split, Map<String, String> meta) {
        byte[] png = PngEncoder.encode(image);
        String rel;
        synchronized (this) {
            checkOpen();
            if (precheck(id, captions) == null) return false;
            rel = reserve(safeFileName(id) + ".png");
        }
        write(rel, png);
        return addReserved(id, rel, captions, split, meta);
    }

    /**
     * Writes an encoded image ({@code bytes}, e.g. a PNG or JPEG file's content) as {@code images/<name>} and adds
     * it; with {@link #verify} on, bytes that do not decode are skipped with the decoder's reason.
     */
    public boolean addBytes(String id, byte[] bytes, String name, List<String> captions, String split) {
        return addBytes(id, bytes, name, captions, split, Map.of());
    }

    public boolean addBytes(String id, byte[] bytes, String name, List<String> captions, String split,
                            Map<String, String> meta) {
        ImageLoader l;
        synchronized (this) {
            checkOpen();
            if (precheck(id, captions) == null) return false;
            l = verify ? loader : null;
        }
        if (l != null) {
            try {
                l.read(bytes, name);
            } catch (ImageException e) {
                skip(id, e.getMessage());
                return false;
            }
        }
        String rel;
        synchronized (this) {
            rel = reserve(safeRelative(name));
        }
        write(rel, bytes);
        return addReserved(id, rel, captions, split, meta);
    }

    /**
     * Copies {@code file} to {@code images/<name>} ({@code name} may have {@code /} folders; it is made safe and
     * unique) and adds it. With {@link #verify} on the file is decoded first and skipped when it does not decode.
     */
    public boolean addFile(String id, Path file, String name, List<String> captions, String split) {
        return addFiles(List.of(new FileItem(id, file, name, captions, split, Map.of()))) == 1;
    }

    /** One image file for {@link #addFiles}. */
    public record FileItem(String id, Path file, String name, List<String> captions, String split,
                           Map<String, String> meta) {
        public FileItem(String id, Path file, String name, List<String> captions, String split) {
            this(id, file, name, captions, split, Map.of());
        }
    }

    /**
     * {@link #addFile} for many files: verified and copied on {@link #threads} threads, added in list order, so
     * the manifest is the same as one {@link #addFile} call per item. Returns how many were added.
     */
    public int addFiles(List<FileItem> items) {
        int added = 0;
        int chunk = 256;
        ExecutorService pool = null;
        try {
            for (int from = 0; from < items.size(); from += chunk) {
                List<FileItem> part = items.subList(from, Math.min(items.size(), from + chunk));
                String[] rel = new String[part.size()];
                List<String>[] caps = new List[part.size()];
                ImageLoader l;
                boolean ln;
                int nThreads;
                synchronized (this) {
                    checkOpen();
                    Set<String> seen = new HashSet<>();
                    for (int i = 0; i < part.size(); i++) {
                        FileItem it = part.get(i);
                        if (it.id() != null && !seen.add(it.id())) {
                            skip(it.id(), "duplicate id");
                            continue;
                        }
                        caps[i] = precheck(it.id(), it.captions());
                        if (caps[i] != null) rel[i] = reserve(safeRelative(it.name()));
                    }
                    l = verify ? loader : null;
                    ln = link;
                    nThreads = threads;
                }
                String[] failure = new String[part.size()];
                Runnable[] jobs = new Runnable[part.size()];
                for (int i = 0; i < part.size(); i++) {
                    if (rel[i] == null) continue;
                    int k = i;
                    jobs[i] = () -> failure[k] = copy(part.get(k).file(), rel[k], l, ln);
                }
                if (nThreads > 1 && part.size() > 1) {
                    if (pool == null) pool = Executors.newFixedThreadPool(nThreads, r -> {
                        Thread t = new Thread(r, "xbt-import");
                        t.setDaemon(true);
                        return t;
                    });
                    List<Future<?>> fs = new ArrayList<>();
                    for (Runnable j : jobs) if (j != null) fs.add(pool.submit(j));
                    for (Future<?> f : fs) Parallel.await(f);
                } else {
                    for (Runnable j : jobs) if (j != null) j.run();
                }
                for (int i = 0; i < part.size(); i++) {
                    FileItem it = part.get(i);
                    if (rel[i] == null) continue; // skipped and counted above
                    if (failure[i] != null) {
                        synchronized (this) {
                            names.remove(rel[i].toLowerCase(Locale.ROOT));
                        }
                        skip(it.id(), failure[i]);
                        continue;
                    }
                    if (addReserved(it.id(), rel[i], caps[i], it.split(), it.meta())) added++;
                }
            }
        } finally {
            if (pool != null) pool.shutdownNow();
        }
        return added;
    }

    /** Verifies (when {@code l} is not null) and copies or links; the reason it failed, or null. */
    private String copy(Path file, String rel, ImageLoader l, boolean hardLink) {
        if (!Files.isRegularFile(file)) return file + ": no such file";
        if (l != null) {
            try {
                l.read(file);
            } catch (ImageException e) {
                return e.getMessage();
            }
        }
        Path target = dir.resolve(rel);
        try {
            Files.createDirectories(target.getParent());
            if (hardLink) {
                try {
                    Files.deleteIfExists(target);
                    Files.createLink(target, file);
                    return null;
                } catch (IOException | UnsupportedOperationException e) {
                    // another file system: copy
                }
            }
            Files.copy(file, target, StandardCopyOption.REPLACE_EXISTING);
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + file + " to " + target + ": " + e.getMessage(), e);
        }
    }

    private void write(String rel, byte[] bytes) {
        Path target = dir.resolve(rel);
        try {
            Files.createDirectories(target.getParent());
            Files.write(target, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    private synchronized boolean addReserved(String id, String rel, List<String> captions, String split,
                                             Map<String, String> meta) {
        ManifestEntry e = entry(id, rel, captions, split, meta);
        return e != null && add(e);
    }

    /** The cleaned captions, or null after counting a skip (repeated id, no caption). */
    private List<String> precheck(String id, List<String> captions) {
        if (id == null || id.isBlank()) {
            skip(String.valueOf(id), "empty id");
            return null;
        }
        if (ids.contains(id)) {
            skip(id, "duplicate id");
            return null;
        }
        List<String> c = cleanCaptions(captions);
        if (c.isEmpty()) {
            skip(id, "no caption");
            return null;
        }
        return c;
    }

    private ManifestEntry entry(String id, String image, List<String> captions, String split, Map<String, String> meta) {
        List<String> c = precheck(id, captions);
        if (c == null) return null;
        if (split != null && !Splits.isKnown(split)) {
            skip(id, "unknown split " + Splits.quote(split));
            return null;
        }
        String why = Manifest.checkImagePath(image);
        if (why != null) throw new IllegalArgumentException(id + ": " + why);
        return new ManifestEntry(id, image, c, split == null ? Splits.assign(id) : split, meta);
    }

    /** Records an item that was not imported; it is counted and listed in the report. */
    public synchronized void skip(String item, String reason) {
        skipped++;
        if (skips.size() < ImportReport.MAX_LISTED) skips.add(new ImportReport.Skip(item, ManifestException.oneLine(reason)));
    }

    /** Records a fact for the report ({@code "seed" -> "0"}, {@code "package" -> "openclipart-png 1:0.18"}). */
    public synchronized void note(String key, String value) {
        notes.put(key, value);
    }

    public synchronized int images() {
        return images;
    }

    public synchronized int captions() {
        return captions;
    }

    public synchronized int skipped() {
        return skipped;
    }

    // ---- names --------------------------------------------------------------------------------------

    /** The captions with white space runs collapsed, ends stripped, blanks and exact repeats dropped. */
    public static List<String> cleanCaptions(List<String> captions) {
        if (captions == null) return List.of();
        List<String> out = new ArrayList<>(captions.size());
        for (String c : captions) {
            if (c == null) continue;
            String t = c.replaceAll("\\s+", " ").strip();
            if (!t.isEmpty() && !out.contains(t)) out.add(t);
        }
        return out;
    }

    /** {@code s} with every character other than letters, digits, {@code . _ -} replaced by {@code _}. */
    public static String safeFileName(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(c < 128 && (Character.isLetterOrDigit(c) || c == '.' || c == '_' || c == '-') ? c : '_');
        }
        String t = b.toString();
        if (t.isEmpty() || t.chars().allMatch(ch -> ch == '.')) t = "_" + t;
        if (t.length() > 150) t = t.substring(0, 150);
        return t;
    }

    private static String safeRelative(String name) {
        if (name == null || name.isBlank()) name = "image";
        List<String> parts = new ArrayList<>();
        for (String p : name.replace('\\', '/').split("/")) {
            if (p.isEmpty() || p.equals(".")) continue;
            parts.add(safeFileName(p));
        }
        if (parts.isEmpty()) parts.add("image");
        return String.join("/", parts);
    }

    /** {@code images/<name>}, made unique (case-insensitively) with {@code -2}, {@code -3}, ... before the extension. */
    private String reserve(String name) {
        String rel = IMAGES_DIR + "/" + name;
        if (names.add(rel.toLowerCase(Locale.ROOT))) return rel;
        int slash = name.lastIndexOf('/');
        int dot = name.lastIndexOf('.');
        String stem = dot > slash + 1 ? name.substring(0, dot) : name;
        String ext = dot > slash + 1 ? name.substring(dot) : "";
        for (int k = 2; ; k++) {
            rel = IMAGES_DIR + "/" + stem + "-" + k + ext;
            if (names.add(rel.toLowerCase(Locale.ROOT))) return rel;
        }
    }

    // ---- finishing ----------------------------------------------------------------------------------

    private void checkOpen() {
        if (done) throw new IllegalStateException("ManifestWriter for " + dir + " is already finished or aborted");
    }

    /**
     * Publishes {@code manifest.jsonl} and {@code import-report.json} (each written to a temporary file, then
     * renamed), and returns the report. With no entry the report is written and a {@link ManifestException}
     * thrown. Calling it again returns the same report.
     */
    public synchronized ImportReport finish() throws IOException {
        if (report != null) return report;
        checkOpen();
        done = true;
        out.close();
        report = new ImportReport(source, images, captions, splits, skipped, skips, notes);
        writeReport(report);
        if (images == 0) {
            Files.deleteIfExists(temp);
            String first = skips.isEmpty() ? "" : " (first: " + skips.getFirst().item() + ": " + skips.getFirst().reason() + ")";
            throw new ManifestException(source + ": nothing imported into " + dir + ", " + skipped + " item(s) skipped"
                    + first + "; see " + REPORT_FILE);
        }
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        moveAtomically(temp, dir.resolve(Manifest.FILE_NAME));
        return report;
    }

    /** Discards the entries written so far (the images stay); later calls do nothing. */
    public synchronized void abort() {
        if (done) return;
        done = true;
        try {
            out.close();
        } catch (IOException ignored) {
            // the temp file is deleted anyway
        }
        try {
            Files.deleteIfExists(temp);
        } catch (IOException ignored) {
            // best effort
        }
    }

    /** {@link #finish()}, unless the writer was finished or aborted already. */
    @Override
    public synchronized void close() throws IOException {
        if (!done) finish();
    }

    private void writeReport(ImportReport r) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("source", r.source());
        o.put("images", r.images());
        o.put("captions", r.captions());
        ObjectNode s = o.putObject("splits");
        r.splits().entrySet().stream().sorted(Map.Entry.comparingByKey(
                (a, b) -> Integer.compare(Splits.ALL.indexOf(a), Splits.ALL.indexOf(b)))).forEach(e -> s.put(e.getKey(), e.getValue()));
        o.put("skipped", r.skipped());
        ArrayNode list = o.putArray("skips");
        for (ImportReport.Skip k : r.skips()) list.addObject().put("item", k.item()).put("reason", k.reason());
        ObjectNode n = o.putObject("notes");
        new TreeMap<>(r.notes()).forEach(n::put);
        writeAtomically(dir.resolve(REPORT_FILE), JSON.writeValueAsBytes(o));
    }

    /** Writes {@code bytes} to a temporary file beside {@code target}, then renames it over {@code target}. */
    static void writeAtomically(Path target, byte[] bytes) throws IOException {
        Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(java.nio.ByteBuffer.wrap(bytes));
                ch.force(true);
            }
            moveAtomically(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static void moveAtomically(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}

package dev.xbt.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A data set on disk: a folder with {@code manifest.jsonl}, one JSON object a line, one line an image:
 * <pre>{@code
 * {"id": "shapes-000001", "image": "images/shapes-000001.png", "captions": ["a red circle above a blue square", ...], "split": "train"}
 * }</pre>
 * <ul>
 *   <li>{@code id}: non-empty text, unique in the file;</li>
 *   <li>{@code image}: the image file relative to the folder, folders separated by {@code /}; an absolute path, a
 *       {@code \}, or a {@code ..} that would leave the folder is an error;</li>
 *   <li>{@code captions}: a non-empty array of non-blank strings;</li>
 *   <li>{@code split} (optional): {@code "train"}, {@code "val"} or {@code "test"}; when it is absent (or null) the
 *       split is assigned from the id, 80/10/10, by {@link Splits#assign};</li>
 *   <li>{@code meta} (optional): an object of text attributes, kept as {@link ManifestEntry#meta()};</li>
 *   <li>other fields are ignored; blank lines are skipped (line numbers still count them).</li>
 * </ul>
 * {@link #read} reads the file line by line and stops at the first problem with a {@link ManifestException}
 * naming the file and the line: {@code "data/manifest.jsonl:12: duplicate id \"x\" (first on line 3)"}. Image
 * files are not opened here; {@link ImageCache} reports unreadable ones. {@link ManifestWriter} writes manifests.
 *
 * <p>Instances are immutable.
 */
public final class Manifest {
    /** The manifest's file name inside a data-set folder. */
    public static final String FILE_NAME = "manifest.jsonl";
    /** The folder inside a data set where derived files (preprocessed image caches) live. */
    public static final String CACHE_DIR = ".cache";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);
    private static final Pattern DRIVE = Pattern.compile("^[A-Za-z]:.*");

    private final Path dir;
    private final Path file;
    private final List<ManifestEntry> entries;
    private final Map<String, Integer> index;
    private final String digest;

    private Manifest(Path dir, Path file, List<ManifestEntry> entries, Map<String, Integer> index, String digest) {
        this.dir = dir;
        this.file = file;
        this.entries = Collections.unmodifiableList(entries);
        this.index = index;
        this.digest = digest;
    }

    /** Reads {@code dir/manifest.jsonl}; see the class comment for the format and the errors. */
    public static Manifest read(Path dir) {
        Path d = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(d)) {
            throw new ManifestException(dir + ": " + (Files.exists(d) ? "not a folder" : "no such folder")
                    + " (a data set is a folder with " + FILE_NAME + ")");
        }
        Path file = d.resolve(FILE_NAME);
        Path shown = dir.resolve(FILE_NAME);
        List<ManifestEntry> entries = new ArrayList<>();
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> lineOf = new HashMap<>();
        MessageDigest sha = Splits.sha256();
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        int lineNo = 0;
        try (InputStream in = Files.newInputStream(file)) {
            LineReader lines = new LineReader(in);
            String line;
            while (true) {
                byte[] raw = lines.next();
                if (raw == null) break;
                try {
                    line = decoder.decode(ByteBuffer.wrap(raw)).toString();
                } catch (CharacterCodingException e) {
                    throw new ManifestException(shown, lineNo + 1, "not UTF-8 text", e);
                }
                lineNo++;
                if (lineNo == 1 && line.startsWith("\uFEFF")) line = line.substring(1);
                if (line.isBlank()) continue;
                sha.update(line.getBytes(StandardCharsets.UTF_8));
                sha.update((byte) '\n');
                ManifestEntry e = parseLine(line, shown, lineNo);
                Integer first = lineOf.putIfAbsent(e.id(), lineNo);
                if (first != null) {
                    throw new ManifestException(shown, lineNo, "duplicate id " + Splits.quote(e.id())
                            + " (first on line " + first + ")");
                }
                index.put(e.id(), entries.size());
                entries.add(e);
            }
        } catch (NoSuchFileException e) {
            throw new ManifestException(dir + ": no " + FILE_NAME + " in this folder (make one with xbt data prepare)");
        } catch (IOException e) {
            throw new ManifestException(shown, lineNo + 1, "cannot read (" + e.getMessage() + ")", e);
        }
        if (entries.isEmpty()) throw new ManifestException(shown, 0, "empty manifest (no entries)");
        return new Manifest(d, file, entries, index, HexFormat.of().formatHex(sha.digest()));
    }

    /** Splits a byte stream into lines (without {@code \n} or {@code \r\n}), so each can be decoded on its own. */
    static final class LineReader {
        private final InputStream in;
        private final byte[] buf = new byte[1 << 16];
        private int pos;
        private int lim;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream(512);

        LineReader(InputStream in) {
            this.in = in;
        }

        /** The next line's bytes, or null at the end. */
        byte[] next() throws IOException {
            line.reset();
            boolean any = false;
            while (true) {
                if (pos == lim) {
                    lim = in.read(buf, 0, buf.length);
                    pos = 0;
                    if (lim <= 0) {
                        lim = 0;
                        if (!any) return null;
                        break;
                    }
                }
                any = true;
                int start = pos;
                while (pos < lim && buf[pos] != '\n') pos++;
                line.write(buf, start, pos - start);
                if (pos < lim) {
                    pos++;
                    break;
                }
            }
            byte[] b = line.toByteArray();
            return b.length > 0 && b[b.length - 1] == '\r' ? java.util.Arrays.copyOf(b, b.length - 1) : b;
        }
    }

    /** One line of a manifest as an entry; {@code file} and {@code lineNo} are for the messages. */
    static ManifestEntry parseLine(String line, Path file, int lineNo) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new ManifestException(file, lineNo, "invalid JSON (" + e.getOriginalMessage() + ")", e);
        }
        if (node == null || !node.isObject()) {
            throw new ManifestException(file, lineNo, "expected a JSON object, found "
                    + (node == null ? "nothing" : node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
        }
        JsonNode id = node.get("id");
        if (id == null || id.isNull()) throw new ManifestException(file, lineNo, "missing id");
        if (!id.isTextual()) throw new ManifestException(file, lineNo, "id must be a string, found " + id);
        if (id.asText().isBlank()) throw new ManifestException(file, lineNo, "empty id");
        String idText = id.asText();
        JsonNode image = node.get("image");
        if (image == null || image.isNull()) {
            throw new ManifestException(file, lineNo, "missing image for id " + Splits.quote(idText));
        }
        if (!image.isTextual()) throw new ManifestException(file, lineNo, "image must be a string, found " + image);
        String why = checkImagePath(image.asText());
        if (why != null) throw new ManifestException(file, lineNo, why);
        JsonNode caps = node.get("captions");
        if (caps == null || caps.isNull()) {
            throw new ManifestException(file, lineNo, "missing captions for id " + Splits.quote(idText));
        }
        if (!caps.isArray()) {
            throw new ManifestException(file, lineNo, "captions must be an array of strings, found " + abbreviate(caps));
        }
        if (caps.isEmpty()) throw new ManifestException(file, lineNo, "empty captions for id " + Splits.quote(idText));
        List<String> captions = new ArrayList<>(caps.size());
        for (int i = 0; i < caps.size(); i++) {
            JsonNode c = caps.get(i);
            if (!c.isTextual()) {
                throw new ManifestException(file, lineNo, "caption " + (i + 1) + " must be a string, found " + abbreviate(c));
            }
            if (c.asText().isBlank()) {
                throw new ManifestException(file, lineNo, "caption " + (i + 1) + " is empty (id " + Splits.quote(idText) + ")");
            }
            captions.add(c.asText());
        }
        JsonNode split = node.get("split");
        String splitName;
        if (split == null || split.isNull()) {
            splitName = Splits.assign(idText);
        } else if (!split.isTextual() || !Splits.isKnown(split.asText())) {
            throw new ManifestException(file, lineNo, "unknown split " + (split.isTextual() ? Splits.quote(split.asText())
                    : abbreviate(split)) + " (train, val or test)");
        } else {
            splitName = split.asText();
        }
        Map<String, String> meta = Map.of();
        JsonNode m = node.get("meta");
        if (m != null && !m.isNull()) {
            if (!m.isObject()) throw new ManifestException(file, lineNo, "meta must be an object, found " + abbreviate(m));
            meta = new TreeMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                JsonNode v = f.getValue();
                meta.put(f.getKey(), v.isValueNode() ? v.asText() : v.toString());
            }
        }
        return new ManifestEntry(idText, image.asText(), captions, splitName, meta);
    }

    private static String abbreviate(JsonNode n) {
        String s = n.toString();
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }

    /**
     * Why {@code image} cannot be an entry's image path (one line), or null when it can: it must be non-empty,
     * relative, use {@code /} only, and have no empty, {@code .} or {@code ..} folder.
     */
    static String checkImagePath(String image) {
        if (image == null || image.isBlank()) return "missing image (empty path)";
        String q = Splits.quote(image);
        if (image.startsWith("/") || DRIVE.matcher(image).matches() || image.startsWith("~")) {
            return "image path " + q + " is absolute; it must be relative to the manifest's folder";
        }
        if (image.indexOf('\\') >= 0) return "image path " + q + " has a \\; separate folders with /";
        if (image.indexOf('\0') >= 0) return "image path " + q + " has a NUL character";
        for (String part : image.split("/", -1)) {
            if (part.equals("..")) return "image path " + q + " escapes the manifest's folder (..)";
            if (part.isEmpty() || part.equals(".")) return "image path " + q + " has an empty or '.' folder";
        }
        return null;
    }

    /** One manifest line for {@code e} (no line break): id, image, captions, split, and meta when there is some. */
    public static String toJsonLine(ManifestEntry e) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", e.id());
        o.put("image", e.image());
        var caps = o.putArray("captions");
        for (String c : e.captions()) caps.add(c);
        o.put("split", e.split());
        if (!e.meta().isEmpty()) {
            ObjectNode m = o.putObject("meta");
            e.meta().forEach(m::put);
        }
        return o.toString();
    }

    // ---- access -------------------------------------------------------------------------------------

    /** The data set's folder (absolute). */
    public Path dir() {
        return dir;
    }

    /** The manifest file. */
    public Path file() {
        return file;
    }

    /** All entries, in file order. */
    public List<ManifestEntry> entries() {
        return entries;
    }

    public int size() {
        return entries.size();
    }

    public ManifestEntry entry(int index) {
        return entries.get(index);
    }

    /** The position of the entry with {@code id}, or -1. */
    public int indexOf(String id) {
        Integer i = index.get(id);
        return i == null ? -1 : i;
    }

    public Optional<ManifestEntry> byId(String id) {
        int i = indexOf(id);
        return i < 0 ? Optional.empty() : Optional.of(entries.get(i));
    }

    /** The entries of one split ({@code train}, {@code val} or {@code test}), in file order. */
    public List<ManifestEntry> split(String split) {
        Splits.check(split);
        return entries.stream().filter(e -> e.split().equals(split)).toList();
    }

    /** The positions in {@link #entries()} of one split's entries, ascending; {@code null} means all entries. */
    public int[] indices(String split) {
        if (split == null) return java.util.stream.IntStream.range(0, entries.size()).toArray();
        Splits.check(split);
        return java.util.stream.IntStream.range(0, entries.size())
                .filter(i -> entries.get(i).split().equals(split)).toArray();
    }

    /** Entries per split, in the order train, val, test (zeros included). */
    public Map<String, Integer> splitCounts() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String s : Splits.ALL) counts.put(s, 0);
        for (ManifestEntry e : entries) counts.merge(e.split(), 1, Integer::sum);
        return counts;
    }

    /** Captions in all entries. */
    public int captionCount() {
        int n = 0;
        for (ManifestEntry e : entries) n += e.captions().size();
        return n;
    }

    /** The image file of {@code entry}: the folder resolved with its relative path. */
    public Path imagePath(ManifestEntry entry) {
        return dir.resolve(entry.image());
    }

    /** SHA-256 (hex) of the manifest's non-blank lines; changes whenever an entry does. */
    public String digest() {
        return digest;
    }

    @Override
    public String toString() {
        return "Manifest[" + file + ", " + entries.size() + " entries]";
    }
}

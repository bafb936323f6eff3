package dev.xbt.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code folder:DIR}: images with their captions beside them. Three layouts, which may be combined (an image's
 * captions are then merged, in this order):
 * <ol>
 *   <li><b>text files</b>: {@code DIR/.../NAME.jpg} (or {@code .jpeg .png .gif .bmp}) with {@code NAME.txt} in
 *       the same folder, one caption a line (blank lines ignored);</li>
 *   <li><b>{@code DIR/captions.jsonl}</b>: one JSON object a line, {@code {"image": "cats/tom.jpg", "caption":
 *       "..."}} or {@code "captions": [...]}, optionally {@code "split"} (train, val, test; restval counts as
 *       train); several lines may name one image;</li>
 *   <li><b>{@code DIR/captions.csv}</b>: a header row with the columns {@code image} and {@code caption} (and
 *       optionally {@code split}), then one row a caption; RFC 4180 quoting ({@code "a, b"}, {@code ""} for a
 *       quote).</li>
 * </ol>
 * Image paths are relative to {@code DIR} with {@code /}; folders starting with {@code .} are not searched. An
 * entry's id is its image's relative path ({@code cats/tom.jpg}), its file {@code images/<that path>}; entries are
 * in path order. Images without a caption, captions of missing images, and images that do not decode are skipped
 * and listed in the import report. A split not given is assigned from the id ({@link Splits#assign}).
 */
final class FolderSource implements DataSource {
    static final Set<String> IMAGE_EXTENSIONS = Set.of("jpg", "jpeg", "png", "gif", "bmp");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public String name() {
        return "folder";
    }

    @Override
    public String description() {
        return "images with captions beside them: NAME.jpg + NAME.txt, captions.jsonl or captions.csv";
    }

    @Override
    public String usage() {
        return "folder:DIR";
    }

    @Override
    public List<Path> inputs(PrepareOptions opts) {
        return List.of(Path.of(opts.requireArgument(usage())));
    }

    private static final class Item {
        final List<String> captions = new ArrayList<>();
        String split;
    }

    @Override
    public void prepare(ManifestWriter out, PrepareOptions opts) throws IOException {
        Path dir = Path.of(opts.requireArgument(usage()));
        if (!Files.isDirectory(dir)) throw new DataSourceException("folder: " + dir + " is not a folder");
        TreeMap<String, Item> items = new TreeMap<>();
        TreeSet<String> images = new TreeSet<>();
        Map<String, Path> textFiles = new HashMap<>();
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                return !d.equals(dir) && d.getFileName().toString().startsWith(".") ? FileVisitResult.SKIP_SUBTREE
                        : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) {
                if (!attrs.isRegularFile()) return FileVisitResult.CONTINUE;
                String rel = relative(dir, f);
                String ext = extension(rel);
                if (IMAGE_EXTENSIONS.contains(ext)) images.add(rel);
                else if (ext.equals("txt")) textFiles.put(stem(rel), f);
                return FileVisitResult.CONTINUE;
            }
        });
        int layouts = 0;
        for (String rel : images) {
            Path txt = textFiles.get(stem(rel));
            if (txt == null) continue;
            layouts |= 1;
            Item it = items.computeIfAbsent(rel, k -> new Item());
            for (String line : Files.readAllLines(txt, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) it.captions.add(line);
            }
        }
        Path jsonl = dir.resolve("captions.jsonl");
        if (Files.isRegularFile(jsonl)) {
            layouts |= 2;
            readJsonl(jsonl, items, out);
        }
        Path csv = dir.resolve("captions.csv");
        if (Files.isRegularFile(csv)) {
            layouts |= 4;
            readCsv(csv, items, out);
        }
        if (layouts == 0) {
            throw new DataSourceException("folder: " + dir + " has no captions: put NAME.txt beside NAME.jpg (one caption"
                    + " a line), or a captions.jsonl or captions.csv in the folder (see xbt data prepare --help)");
        }
        for (String rel : images) {
            if (!items.containsKey(rel)) out.skip(rel, "no caption (no " + stem(rel) + ".txt and not in captions.jsonl/csv)");
        }
        List<ManifestWriter.FileItem> files = new ArrayList<>();
        int limit = opts.countOr(Integer.MAX_VALUE);
        for (Map.Entry<String, Item> e : items.entrySet()) {
            if (files.size() >= limit) break;
            String rel = e.getKey();
            Path file = dir.resolve(rel);
            if (!Files.isRegularFile(file)) {
                out.skip(rel, "missing image " + file);
                continue;
            }
            files.add(new ManifestWriter.FileItem(rel, file, rel, e.getValue().captions, e.getValue().split));
        }
        out.note("folder", dir.toAbsolutePath().normalize().toString());
        int done = 0;
        for (int from = 0; from < files.size(); from += 1024) {
            List<ManifestWriter.FileItem> part = files.subList(from, Math.min(files.size(), from + 1024));
            out.addFiles(part);
            done += part.size();
            opts.progress().update("folder", done, files.size());
        }
    }

    private static void readJsonl(Path file, TreeMap<String, Item> items, ManifestWriter out) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (i == 0 && line.startsWith("\uFEFF")) line = line.substring(1);
            if (line.isBlank()) continue;
            String where = file.getFileName() + ":" + (i + 1);
            JsonNode o;
            try {
                o = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                throw new DataSourceException(file + ":" + (i + 1) + ": invalid JSON (" + e.getOriginalMessage() + ")", e);
            }
            if (o == null || !o.isObject() || !o.path("image").isTextual()) {
                throw new DataSourceException(file + ":" + (i + 1) + ": expected {\"image\": \"path\", \"caption\": \"...\"}");
            }
            List<String> caps = new ArrayList<>();
            if (o.path("caption").isTextual()) caps.add(o.get("caption").asText());
            if (o.path("captions").isArray()) for (JsonNode c : o.get("captions")) if (c.isTextual()) caps.add(c.asText());
            String split = o.path("split").isTextual() ? o.get("split").asText() : null;
            add(items, out, where, o.get("image").asText(), caps, split);
        }
    }

    private static void readCsv(Path file, TreeMap<String, Item> items, ManifestWriter out) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        List<List<String>> rows = parseCsv(text);
        if (rows.isEmpty()) throw new DataSourceException(file + ": empty (expected a header row: image,caption)");
        List<String> header = rows.getFirst().stream().map(h -> h.strip().toLowerCase(Locale.ROOT)).toList();
        int image = header.indexOf("image");
        int caption = header.indexOf("caption");
        int split = header.indexOf("split");
        if (image < 0 || caption < 0) {
            throw new DataSourceException(file + ":1: the header row needs the columns image and caption (found "
                    + String.join(",", header) + ")");
        }
        for (int r = 1; r < rows.size(); r++) {
            List<String> row = rows.get(r);
            if (row.size() == 1 && row.getFirst().isBlank()) continue;
            String where = file.getFileName() + " row " + (r + 1);
            if (row.size() <= Math.max(image, caption)) {
                out.skip(where, "too few columns");
                continue;
            }
            String s = split >= 0 && split < row.size() && !row.get(split).isBlank() ? row.get(split).strip() : null;
            add(items, out, where, row.get(image).strip(), List.of(row.get(caption)), s);
        }
    }

    private static void add(TreeMap<String, Item> items, ManifestWriter out, String where, String image,
                            List<String> captions, String split) {
        String why = Manifest.checkImagePath(image);
        if (why != null) {
            out.skip(where, why);
            return;
        }
        if (split != null) {
            split = split.toLowerCase(Locale.ROOT);
            if (split.equals("restval")) split = Splits.TRAIN;
            if (!Splits.isKnown(split)) {
                out.skip(where, "unknown split " + Splits.quote(split) + " (train, val or test)");
                return;
            }
        }
        Item it = items.computeIfAbsent(image, k -> new Item());
        it.captions.addAll(captions);
        if (it.split == null) it.split = split;
    }

    /** RFC 4180: fields separated by commas, quoted with {@code "}, {@code ""} a quote inside quotes; CRLF or LF. */
    static List<List<String>> parseCsv(String text) {
        List<List<String>> rows = new ArrayList<>();
        List<String> row = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        boolean any = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            any = true;
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < text.length() && text.charAt(i + 1) == '"') {
                        field.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    field.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                row.add(field.toString());
                field.setLength(0);
            } else if (c == '\n' || c == '\r') {
                if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') i++;
                row.add(field.toString());
                field.setLength(0);
                rows.add(row);
                row = new ArrayList<>();
                any = false;
            } else {
                field.append(c);
            }
        }
        if (any) {
            row.add(field.toString());
            rows.add(row);
        }
        return rows;
    }

    static String relative(Path dir, Path file) {
        return dir.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
    }

    private static String extension(String rel) {
        int slash = rel.lastIndexOf('/');
        int dot = rel.lastIndexOf('.');
        return dot > slash ? rel.substring(dot + 1).toLowerCase(Locale.ROOT) : "";
    }

    private static String stem(String rel) {
        int slash = rel.lastIndexOf('/');
        int dot = rel.lastIndexOf('.');
        return dot > slash + 1 ? rel.substring(0, dot) : rel;
    }
}

package dev.xbt.data.sources;

import dev.xbt.data.DataSource;
import dev.xbt.data.ManifestWriter;
import dev.xbt.data.PrepareOptions;

import java.io.IOException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code tuxpaint}: the rubber stamps of Tux Paint, from Debian's {@code tuxpaint-stamps-default}
 * ({@code /usr/share/tuxpaint/stamps}). A stamp is a picture {@code NAME.png} (or {@code NAME.svg}) with its
 * description in {@code NAME.txt}: the first line is the English description ({@code "A frog."}), the others its
 * translations ({@code "fr.utf8=Une grenouille."}), which are not used.
 *
 * <ul>
 *   <li><b>Pictures.</b> The PNG, copied as it is ({@code images/<category>/<name>.png}; the stamps have
 *       transparent backgrounds, which the loader composites onto white). A stamp with only an SVG is skipped
 *       (the project has no SVG renderer); one with both uses the PNG. {@code NAME_mirror.png} and
 *       {@code NAME_flip.png}, the mirrored drawings Tux Paint shows for some stamps, are skipped as variants.</li>
 *   <li><b>Captions</b> ({@link #captions}): the English line, cleaned: the first word lower-cased when it is
 *       capitalised ({@code "A cat."} becomes {@code "a cat"}), the final full stop removed. When it has several
 *       sentences ({@code "A telephone. Hello? Hello?"}), the first sentence is the first caption and the whole line
 *       the second.</li>
 *   <li><b>Entries.</b> The id is the stamp's path without extension ({@code animals/amphibians/frog}), the split
 *       assigned from the id; {@code meta} has the licence (GPL-2), the source file, and the stamp's options from
 *       {@code NAME.dat} ({@code colorable}, {@code tintable}) when it has some.</li>
 *   <li>Stamps without a description, descriptions without a picture, and pictures that do not decode are skipped
 *       and counted with their reasons; {@link PrepareOptions#count()} stops after that many entries.</li>
 * </ul>
 */
public final class TuxPaintSource implements DataSource {
    static final String PACKAGE = "tuxpaint-stamps-default";
    /** A translation line: {@code fr.utf8=...}, {@code pt_BR.utf8=...}, {@code ca@valencia.utf8=...}. */
    private static final Pattern TRANSLATION = Pattern.compile("^[a-z]{2,3}(_[A-Za-z]{2,4})?(@[A-Za-z]+)?(\\.[A-Za-z0-9-]+)?=.*");
    private static final Pattern SENTENCE_END = Pattern.compile("(?<=[.!?])\\s+(?=[\\p{Lu}\\p{N}\"'(\u00bf\u00a1])");
    private static final Pattern CAPITALISED = Pattern.compile("^\\p{Lu}\\p{Ll}*(?=[\\s,;:.!?]|$)");
    private static final Set<String> VARIANTS = Set.of("_mirror", "_flip");

    private final Path root;

    /** The source reading the installed package. */
    public TuxPaintSource() {
        this(Path.of("/"));
    }

    /** The source reading the package's files under {@code root} (a fake file system tree in tests). */
    public TuxPaintSource(Path root) {
        this.root = Objects.requireNonNull(root, "root");
    }

    @Override
    public String name() {
        return "tuxpaint";
    }

    @Override
    public String description() {
        return "Tux Paint's rubber stamps (tuxpaint-stamps-default) with their English descriptions";
    }

    Path stampsDir() {
        return root.resolve("usr/share/tuxpaint/stamps");
    }

    @Override
    public void prepare(ManifestWriter out, PrepareOptions opts) throws IOException {
        Debian.require(name(), new Debian.Need(PACKAGE, stampsDir()));
        int limit = opts.countOr(Integer.MAX_VALUE);
        Path dir = stampsDir();
        // stem path ("animals/frog") -> extensions present (".png", ".svg", ".txt", ".dat")
        Map<String, Set<String>> stems = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).forEach(p -> {
                String rel = dir.relativize(p).toString().replace('\\', '/');
                int dot = rel.lastIndexOf('.');
                if (dot <= rel.lastIndexOf('/') + 1) return;
                String ext = rel.substring(dot).toLowerCase(Locale.ROOT);
                if (ext.equals(".png") || ext.equals(".svg") || ext.equals(".txt") || ext.equals(".dat")) {
                    stems.computeIfAbsent(rel.substring(0, dot), k -> new TreeSet<>()).add(ext);
                }
            });
        }
        out.note("package", Debian.describe(root, PACKAGE));
        out.note("license", "GPL-2 (Tux Paint stamps)");
        out.note("pictures", "the package's PNG files, copied as they are (transparent backgrounds)");

        List<ManifestWriter.FileItem> items = new ArrayList<>();
        int svgOnly = 0;
        for (var e : stems.entrySet()) {
            if (out.images() + items.size() >= limit) break;
            String stem = e.getKey();
            Set<String> exts = e.getValue();
            boolean png = exts.contains(".png");
            boolean svg = exts.contains(".svg");
            boolean txt = exts.contains(".txt");
            if (!png && !svg && !txt) continue; // a .dat alone: no stamp
            String variantOf = variantOf(stem);
            if (variantOf != null && !txt) {
                if (png) out.skip(stem, "a mirrored variant of " + variantOf + " (not imported twice)");
                continue;
            }
            if (!png) {
                if (svg) {
                    svgOnly++;
                    out.skip(stem, "SVG only, no PNG (SVG pictures are not rendered)");
                } else {
                    out.skip(stem, "a description without a picture");
                }
                continue;
            }
            if (!txt) {
                out.skip(stem, "no description (" + stem + ".txt)");
                continue;
            }
            String english;
            try {
                english = englishLine(Files.readAllBytes(dir.resolve(stem + ".txt")));
            } catch (IOException e2) {
                out.skip(stem, "cannot read " + stem + ".txt (" + e2.getMessage() + ")");
                continue;
            }
            List<String> caps = captions(english);
            if (caps.isEmpty()) {
                out.skip(stem, "no English description in " + stem + ".txt");
                continue;
            }
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("license", "GPL-2");
            meta.put("source", PACKAGE + ":" + stem + ".png");
            if (exts.contains(".dat")) {
                String options = stampOptions(dir.resolve(stem + ".dat"));
                if (!options.isEmpty()) meta.put("stamp", options);
            }
            items.add(new ManifestWriter.FileItem(stem, dir.resolve(stem + ".png"), stem + ".png", caps, null, meta));
        }
        opts.progress().log("tuxpaint: " + items.size() + " stamps with a PNG and a description; " + svgOnly
                + " SVG-only stamps skipped");
        opts.progress().update("tuxpaint: stamps", 0, items.size());
        for (int from = 0; from < items.size() && out.images() < limit; ) {
            int n = Math.min(Math.min(128, items.size() - from), limit - out.images());
            out.addFiles(items.subList(from, from + n));
            from += n;
            opts.progress().update("tuxpaint: stamps", from, items.size());
        }
    }

    /** The stamp {@code stem} is a mirrored or flipped variant of, or null. */
    static String variantOf(String stem) {
        for (String v : VARIANTS) if (stem.endsWith(v)) return stem.substring(0, stem.length() - v.length());
        return null;
    }

    /**
     * The English description in a stamp's {@code .txt}: the first line that is neither blank nor a translation
     * ({@code xx.utf8=...}), white space collapsed; "" when there is none. The bytes are UTF-8 (a BOM is dropped;
     * malformed bytes are replaced).
     */
    static String englishLine(byte[] bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE).decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return "";
        }
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        for (String line : text.split("\r?\n|\r")) {
            String l = line.strip();
            if (l.isEmpty() || TRANSLATION.matcher(l).matches()) continue;
            return SvgMetadata.collapse(l);
        }
        return "";
    }

    /**
     * Captions from an English description: the first sentence, cleaned, and (when there are more sentences) the
     * whole description, cleaned; none for a blank one.
     */
    static List<String> captions(String english) {
        String s = SvgMetadata.collapse(english);
        if (s.isEmpty() || s.chars().noneMatch(Character::isLetter)) return List.of();
        List<String> out = new ArrayList<>(2);
        String[] sentences = SENTENCE_END.split(s);
        out.add(clean(sentences[0]));
        if (sentences.length > 1) {
            String all = clean(s);
            if (!out.contains(all)) out.add(all);
        }
        out.removeIf(String::isBlank);
        return out;
    }

    /** {@code "A cat."} as {@code "a cat"}: a capitalised first word lower-cased, a final full stop dropped. */
    static String clean(String sentence) {
        String t = sentence.strip();
        while (t.endsWith(".") && !t.endsWith("..")) t = t.substring(0, t.length() - 1).strip();
        var m = CAPITALISED.matcher(t);
        if (m.find() && !m.group().equals("I")) t = m.group().toLowerCase(Locale.ROOT) + t.substring(m.end());
        return t;
    }

    /** The options of a stamp's {@code .dat} that say what kind of picture it is, comma-separated. */
    private static String stampOptions(Path dat) {
        try {
            List<String> found = new ArrayList<>();
            for (String line : Files.readAllLines(dat, StandardCharsets.ISO_8859_1)) {
                String l = line.strip().toLowerCase(Locale.ROOT);
                for (String o : List.of("colorable", "tintable")) if (l.contains(o) && !found.contains(o)) found.add(o);
            }
            return String.join(",", found);
        } catch (IOException e) {
            return "";
        }
    }
}

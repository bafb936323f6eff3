package dev.xbt.data.sources;

import dev.xbt.data.DataSource;
import dev.xbt.data.DataSourceException;
import dev.xbt.data.ManifestWriter;
import dev.xbt.data.PngEncoder;
import dev.xbt.data.PrepareOptions;
import dev.xbt.image.ImageException;
import dev.xbt.image.RgbImage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * {@code openclipart[:SIZE|original]}: the public-domain clip art of Debian's {@code openclipart-png} (the
 * pictures) and {@code openclipart-svg} (the same pictures as SVG, whose RDF metadata gives the captions).
 *
 * <ul>
 *   <li><b>Pictures.</b> Every regular {@code .png} under {@code /usr/share/openclipart/png}, in path order; the
 *       symbolic links there (the same picture listed in a second category) are not imported again. The package
 *       ships one rendering of each drawing, from 3 to 29700 pixels a side (median about 220); the import makes
 *       every picture the same kind of file: decoded, alpha composited onto white, shrunk so its longest side is
 *       at most {@link #DEFAULT_SIZE} pixels (smaller ones are kept at their size, never enlarged) with PIL's
 *       antialiased bicubic, and written as an RGB PNG, {@code images/<category>/<name>.png}, on
 *       {@link PrepareOptions#threads()} threads. That keeps the data set small (the package is 150 MB) and
 *       self-contained; 256 is above CLIP's 224. {@code openclipart:128} picks another size;
 *       {@code openclipart:original} copies the package's files as they are instead.</li>
 *   <li><b>Captions.</b> From the SVG of the same path under {@code /usr/share/openclipart/svg}: the title, the
 *       title with the description, and the keywords, by the rules of {@link ClipArtCaptions}. Pictures without
 *       any usable caption, without an SVG, or whose SVG does not parse are skipped, each with its reason in the
 *       import report.</li>
 *   <li><b>Entries.</b> The id is the picture's path without {@code .png} ({@code animals/bat_orlando_karam_}),
 *       the split assigned from the id; {@code meta} has the creator, the licence and the source file.</li>
 *   <li>A picture that does not decode is skipped and counted; {@link PrepareOptions#count()} stops after that
 *       many entries.</li>
 * </ul>
 */
public final class OpenClipartSource implements DataSource {
    /** The default longest side of the imported pictures, in pixels. */
    public static final int DEFAULT_SIZE = 256;
    static final String PNG_PACKAGE = "openclipart-png";
    static final String SVG_PACKAGE = "openclipart-svg";

    private final Path root;

    /** The source reading the installed packages. */
    public OpenClipartSource() {
        this(Path.of("/"));
    }

    /** The source reading the packages' files under {@code root} (a fake file system tree in tests). */
    public OpenClipartSource(Path root) {
        this.root = Objects.requireNonNull(root, "root");
    }

    @Override
    public String name() {
        return "openclipart";
    }

    @Override
    public String description() {
        return "public-domain clip art (openclipart-png) with captions from its SVG titles, descriptions and keywords"
                + " (openclipart-svg)";
    }

    @Override
    public String usage() {
        return "openclipart[:SIZE|original]";
    }

    Path pngDir() {
        return root.resolve("usr/share/openclipart/png");
    }

    Path svgDir() {
        return root.resolve("usr/share/openclipart/svg");
    }

    /** The longest side of {@code argument} ("256"), 0 for {@code "original"}, or {@link #DEFAULT_SIZE}. */
    static int size(String argument) {
        if (argument == null || argument.isBlank()) return DEFAULT_SIZE;
        String a = argument.strip();
        if (a.equalsIgnoreCase("original")) return 0;
        try {
            int s = Integer.parseInt(a.endsWith("px") ? a.substring(0, a.length() - 2) : a);
            if (s >= 16 && s <= 4096) return s;
        } catch (NumberFormatException ignored) {
            // below
        }
        throw new DataSourceException("openclipart: bad argument \"" + argument + "\"; use openclipart:SIZE (the longest"
                + " side in pixels, 16 to 4096, default " + DEFAULT_SIZE + ") or openclipart:original");
    }

    /** One picture: its path under png/ ({@code animals/bat.png}), and its captions or why it has none. */
    record Item(String rel, String id, Path png, List<String> captions, String skipReason, Map<String, String> meta) {}

    @Override
    public void prepare(ManifestWriter out, PrepareOptions opts) throws IOException {
        Debian.require(name(), new Debian.Need(PNG_PACKAGE, pngDir()), new Debian.Need(SVG_PACKAGE, svgDir()));
        int size = size(opts.argument());
        int limit = opts.countOr(Integer.MAX_VALUE);
        long start = System.nanoTime();

        List<String> rels = new ArrayList<>();
        int links = listPngs(rels);
        List<Item> items = describe(rels, opts);

        out.note("package", Debian.describe(root, PNG_PACKAGE) + ", " + Debian.describe(root, SVG_PACKAGE));
        out.note("license", "public domain (Open Clip Art Library)");
        out.note("pictures", size == 0 ? "the package's PNG files, copied as they are"
                : "longest side at most " + size + " px (PIL bicubic), alpha composited onto white, RGB PNG");
        out.note("symbolic links not imported", Integer.toString(links));

        List<Item> usable = new ArrayList<>();
        int captionless = 0;
        for (Item it : items) {
            if (it.skipReason() == null) {
                usable.add(it);
            } else if (out.images() + usable.size() < limit) { // stop reporting once enough are chosen
                out.skip(it.id(), it.skipReason());
                captionless++;
            }
        }
        opts.progress().log("openclipart: " + items.size() + " pictures (" + links + " links ignored), " + usable.size()
                + " with captions, " + captionless + " skipped without one");
        if (size == 0) {
            copyOriginals(out, usable, limit, opts);
        } else {
            writeShrunk(out, usable, size, limit, opts);
        }
        opts.progress().log(String.format(java.util.Locale.ROOT, "openclipart: %d pictures imported in %.1f s",
                out.images(), (System.nanoTime() - start) / 1e9));
    }

    /** The regular .png files under png/, relative, sorted; returns how many symbolic links were passed over. */
    private int listPngs(List<String> rels) throws IOException {
        Path dir = pngDir();
        AtomicInteger links = new AtomicInteger();
        try (Stream<Path> s = Files.walk(dir)) {
            s.filter(p -> p.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".png"))
                    .forEach(p -> {
                        if (Files.isSymbolicLink(p)) {
                            links.incrementAndGet();
                        } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                            rels.add(dir.relativize(p).toString().replace('\\', '/'));
                        }
                    });
        }
        rels.sort(null);
        return links.get();
    }

    /** Reads every SVG's metadata (in parallel) and decides each picture's captions. */
    private List<Item> describe(List<String> rels, PrepareOptions opts) {
        record Parsed(SvgMetadata md, String error) {}
        List<Parsed> parsed = new ArrayList<>(rels.size());
        AtomicInteger done = new AtomicInteger();
        opts.progress().update("openclipart: reading SVG metadata", 0, rels.size());
        Ordered.map(rels, opts.threads(), rel -> {
            Path svg = svgDir().resolve(stemPath(rel) + ".svg");
            Parsed p;
            if (!Files.isRegularFile(svg)) {
                p = new Parsed(null, "no SVG with its metadata (" + SVG_PACKAGE + " has no " + stemPath(rel) + ".svg)");
            } else {
                try {
                    p = new Parsed(SvgMetadata.read(svg), null);
                } catch (IOException | RuntimeException e) {
                    p = new Parsed(null, "unreadable SVG metadata: " + e.getMessage());
                }
            }
            return p;
        }, (rel, p) -> {
            parsed.add(p);
            opts.progress().update("openclipart: reading SVG metadata", done.incrementAndGet(), rels.size());
            return true;
        });
        ClipArtCaptions.Counts counts = ClipArtCaptions.Counts.of(
                parsed.stream().map(Parsed::md).filter(Objects::nonNull).toList());
        List<Item> items = new ArrayList<>(rels.size());
        for (int i = 0; i < rels.size(); i++) {
            String rel = rels.get(i);
            String id = stemPath(rel);
            Path png = pngDir().resolve(rel);
            Parsed p = parsed.get(i);
            if (p.md() == null) {
                items.add(new Item(rel, id, png, List.of(), p.error(), Map.of()));
                continue;
            }
            String stem = id.substring(id.lastIndexOf('/') + 1);
            ClipArtCaptions.Result r = ClipArtCaptions.captions(stem, p.md(), counts);
            Map<String, String> meta = new LinkedHashMap<>();
            if (!p.md().creator().isEmpty()) meta.put("creator", p.md().creator());
            meta.put("license", "public domain");
            meta.put("source", PNG_PACKAGE + ":" + rel);
            items.add(new Item(rel, id, png, r.captions(), r.reason(), meta));
        }
        // at most MAX_SAME pictures with the same captions
        Map<List<String>, List<Integer>> groups = new HashMap<>();
        for (int i = 0; i < items.size(); i++) {
            if (items.get(i).skipReason() == null) groups.computeIfAbsent(items.get(i).captions(), k -> new ArrayList<>()).add(i);
        }
        for (var g : groups.entrySet()) {
            List<Integer> members = g.getValue();
            boolean[] keep = ClipArtCaptions.spread(members.size(), ClipArtCaptions.MAX_SAME);
            for (int j = 0; j < members.size(); j++) {
                if (keep[j]) continue;
                Item it = items.get(members.get(j));
                String why = "captions shared by " + members.size() + " pictures, of which " + ClipArtCaptions.MAX_SAME
                        + " are kept (" + String.join(" | ", g.getKey()) + ")";
                items.set(members.get(j), new Item(it.rel(), it.id(), it.png(), List.of(), why, it.meta()));
            }
        }
        return items;
    }

    private static String stemPath(String rel) {
        return rel.substring(0, rel.length() - 4);
    }

    private void writeShrunk(ManifestWriter out, List<Item> items, int size, int limit, PrepareOptions opts) {
        record Done(byte[] png, String error) {}
        int total = Math.min(items.size(), limit);
        AtomicInteger seen = new AtomicInteger();
        opts.progress().update("openclipart: pictures", 0, total);
        Ordered.map(items, opts.threads(), it -> {
            try {
                RgbImage img = Thumbnails.read(it.png(), size);
                return new Done(PngEncoder.encode(img), null);
            } catch (ImageException e) {
                return new Done(null, e.getMessage());
            } catch (RuntimeException e) {
                return new Done(null, it.png() + ": cannot decode (" + e + ")");
            } catch (OutOfMemoryError e) {
                return new Done(null, it.png() + ": not enough memory to decode");
            }
        }, (it, d) -> {
            if (d.error() != null) {
                out.skip(it.id(), d.error());
            } else {
                out.addBytes(it.id(), d.png(), it.rel(), it.captions(), null, it.meta());
            }
            opts.progress().update("openclipart: pictures", Math.min(seen.incrementAndGet(), total), total);
            return out.images() < limit;
        });
    }

    private void copyOriginals(ManifestWriter out, List<Item> items, int limit, PrepareOptions opts) {
        int from = 0;
        int total = Math.min(items.size(), limit);
        while (from < items.size() && out.images() < limit) {
            int n = Math.min(Math.min(256, items.size() - from), limit - out.images());
            List<ManifestWriter.FileItem> chunk = new ArrayList<>(n);
            for (Item it : items.subList(from, from + n)) {
                chunk.add(new ManifestWriter.FileItem(it.id(), it.png(), it.rel(), it.captions(), null, it.meta()));
            }
            out.addFiles(chunk);
            from += n;
            opts.progress().update("openclipart: pictures", Math.min(from, total), total);
        }
    }
}

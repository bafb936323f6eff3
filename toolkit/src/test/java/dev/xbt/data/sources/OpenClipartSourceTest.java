package dev.xbt.data.sources;

import dev.xbt.data.DataSourceException;
import dev.xbt.data.DataSources;
import dev.xbt.data.ImportReport;
import dev.xbt.data.Manifest;
import dev.xbt.data.ManifestEntry;
import dev.xbt.data.ManifestWriter;
import dev.xbt.data.PrepareOptions;
import dev.xbt.image.ImageLoader;
import dev.xbt.image.RgbImage;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OpenClipartSourceTest {
    @TempDir
    Path tmp;

    /** A PNG with a transparent left half and an opaque red right half. */
    static void png(Path file, int w, int h) throws IOException {
        BufferedImage b = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < h; y++) for (int x = w / 2; x < w; x++) b.setRGB(x, y, 0xFFFF0000);
        Files.createDirectories(file.getParent());
        ImageIO.write(b, "png", file.toFile());
    }

    static void svg(Path file, String title, String description, List<String> keywords, String creator) throws IOException {
        String items = keywords.stream().map(k -> "<rdf:li>" + k + "</rdf:li>").collect(Collectors.joining());
        Files.createDirectories(file.getParent());
        Files.writeString(file, """
                <?xml version="1.0" encoding="UTF-8" standalone="no"?>
                <!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 20010904//EN" "http://www.w3.org/TR/2001/REC-SVG-20010904/DTD/svg10.dtd">
                <svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">
                  <metadata>
                    <rdf:RDF xmlns:cc="http://web.resource.org/cc/" xmlns:dc="http://purl.org/dc/elements/1.1/"
                             xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
                      <cc:Work rdf:about="">
                        <dc:title>%s</dc:title>
                        <dc:description>%s</dc:description>
                        <dc:subject><rdf:Bag>%s</rdf:Bag></dc:subject>
                        <dc:publisher><cc:Agent rdf:about="http://www.openclipart.org/"><dc:title>Open Clip Art Library</dc:title></cc:Agent></dc:publisher>
                        <dc:creator><cc:Agent><dc:title>%s</dc:title></cc:Agent></dc:creator>
                      </cc:Work>
                    </rdf:RDF>
                  </metadata>
                  <rect width="10" height="10"/>
                </svg>
                """.formatted(title, description, items, creator));
    }

    /** A fake openclipart-png + openclipart-svg tree under {@code root}. */
    static void fakePackages(Path root) throws IOException {
        Path png = root.resolve("usr/share/openclipart/png");
        Path svg = root.resolve("usr/share/openclipart/svg");
        png(png.resolve("animals/bat_orlando_karam_.png"), 300, 100);
        svg(svg.resolve("animals/bat_orlando_karam_.svg"), "bat", "", List.of("mammal", "bat", "", "hash", "animal"), "Orlando Karam");
        png(png.resolve("animals/architetto_francesco_ro_01.png"), 20, 20);
        svg(svg.resolve("animals/architetto_francesco_ro_01.svg"), "Architetto Francesco Rollandin", "",
                List.of("architetto francesco rollandin", "animal"), "Architetto Francesco Rollandin");
        png(png.resolve("people/smilies/smiley120.png"), 20, 20);
        svg(svg.resolve("people/smilies/smiley120.svg"), "Clipart by Nicu Buculei - smiley111", "", List.of("people", "smiley"), "Nicu Buculei");
        png(png.resolve("food/red_apple_01.png"), 20, 20);
        svg(svg.resolve("food/red_apple_01.svg"), "red_apple", "A shiny red apple.", List.of(), "Someone");
        png(png.resolve("computer/icons/folder.png"), 20, 20);
        svg(svg.resolve("computer/icons/folder.svg"), "Part of the Flat Icon Collection (Wed Aug 25 23:31:12 2004)", "",
                List.of("hash", ""), "Danny Allen");
        Files.createDirectories(png.resolve("food"));
        Files.write(png.resolve("food/broken_01.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        svg(svg.resolve("food/broken_01.svg"), "Broken Plate", "", List.of("plate"), "Someone");
        png(png.resolve("unsorted/lonely.png"), 20, 20); // no SVG
        // the same picture in a second category, as a symbolic link: not imported twice
        Files.createDirectories(png.resolve("animals/mammals"));
        try {
            Files.createSymbolicLink(png.resolve("animals/mammals/bat_orlando_karam_.png"), Path.of("../bat_orlando_karam_.png"));
        } catch (UnsupportedOperationException | IOException e) {
            // no links on this file system
        }
    }

    static ImportReport prepare(Path root, Path out, PrepareOptions opts) throws IOException {
        try (ManifestWriter w = ManifestWriter.create(out, "openclipart", false)) {
            new OpenClipartSource(root).prepare(w, opts);
            return w.finish();
        }
    }

    @Test
    void importsAFakePackage() throws IOException {
        Path root = tmp.resolve("root");
        fakePackages(root);
        Path out = tmp.resolve("ds");
        ImportReport r = prepare(root, out, PrepareOptions.defaults().withThreads(3));
        Manifest m = Manifest.read(out);
        Map<String, List<String>> caps = m.entries().stream().collect(Collectors.toMap(ManifestEntry::id, ManifestEntry::captions));
        assertEquals(Map.of(
                "animals/bat_orlando_karam_", List.of("bat", "a clip art of mammal, bat, animal"),
                "animals/architetto_francesco_ro_01", List.of("a clip art of animal"),          // creator's name dropped
                "people/smilies/smiley120", List.of("a clip art of people, smiley"),             // file-name title dropped
                "food/red_apple_01", List.of("A shiny red apple")), caps);                      // title = stem dropped
        assertEquals(4, r.images());
        Map<String, String> skips = r.skips().stream().collect(Collectors.toMap(ImportReport.Skip::item, ImportReport.Skip::reason));
        assertEquals(3, r.skipped(), skips.toString());
        assertTrue(skips.get("computer/icons/folder").startsWith("no usable caption (title: boilerplate"), skips.toString());
        assertTrue(skips.get("food/broken_01").contains("broken_01.png"), skips.toString());
        assertTrue(skips.get("unsorted/lonely").startsWith("no SVG"), skips.toString());

        ManifestEntry bat = m.byId("animals/bat_orlando_karam_").orElseThrow();
        assertEquals("images/animals/bat_orlando_karam_.png", bat.image());
        assertEquals("Orlando Karam", bat.meta().get("creator"));
        assertEquals("openclipart-png:animals/bat_orlando_karam_.png", bat.meta().get("source"));
        // shrunk to 256 px, alpha onto white
        RgbImage img = ImageLoader.load(m.dir().resolve(bat.image()));
        assertEquals(256, img.width());
        assertEquals(85, img.height());
        assertEquals(0xFFFFFF, img.rgb(10, 40));
        assertEquals(0xFF0000, img.rgb(250, 40));
        // small pictures are not enlarged
        assertEquals(20, ImageLoader.load(m.dir().resolve("images/food/red_apple_01.png")).width());
        assertTrue(Files.readString(out.resolve(ManifestWriter.REPORT_FILE)).contains("symbolic links not imported"));
    }

    @Test
    void countAndOriginalSize() throws IOException {
        Path root = tmp.resolve("root");
        fakePackages(root);
        Path out = tmp.resolve("two");
        ImportReport r = prepare(root, out, PrepareOptions.defaults().withCount(2).withArgument("original").withThreads(1));
        assertEquals(2, r.images());
        Manifest m = Manifest.read(out);
        assertEquals(2, m.size());
        // copied as it is: 300x100 with its alpha (composited onto white by the loader)
        RgbImage bat = ImageLoader.load(m.dir().resolve(m.byId("animals/bat_orlando_karam_").orElseThrow().image()));
        assertEquals(300, bat.width());
        Path out128 = tmp.resolve("small");
        prepare(root, out128, PrepareOptions.defaults().withArgument("128"));
        assertEquals(128, ImageLoader.load(out128.resolve("images/animals/bat_orlando_karam_.png")).width());
        DataSourceException bad = assertThrows(DataSourceException.class,
                () -> prepare(root, tmp.resolve("bad"), PrepareOptions.defaults().withArgument("huge")));
        assertTrue(bad.getMessage().contains("openclipart:SIZE"), bad.getMessage());
    }

    @Test
    void largePicturesAreDecodedSubsampled() throws IOException {
        Path big = tmp.resolve("big.png");
        png(big, 2000, 1000);
        RgbImage direct = Thumbnails.read(big, 100);
        RgbImage subsampled = Thumbnails.read(big, 100, 1000);
        assertEquals(100, subsampled.width());
        assertEquals(50, subsampled.height());
        assertEquals(direct.rgb(10, 25), subsampled.rgb(10, 25));
        assertEquals(direct.rgb(90, 25), subsampled.rgb(90, 25));
    }

    @Test
    void missingPackagesSayHowToInstallThem() throws IOException {
        Path root = tmp.resolve("empty");
        Files.createDirectories(root);
        DataSourceException both = assertThrows(DataSourceException.class, () -> prepare(root, tmp.resolve("a"), PrepareOptions.defaults()));
        assertTrue(both.getMessage().endsWith("sudo apt-get install openclipart-png openclipart-svg"), both.getMessage());
        assertFalse(both.getMessage().contains("\n"));
        Files.createDirectories(root.resolve("usr/share/openclipart/png"));
        DataSourceException svg = assertThrows(DataSourceException.class, () -> prepare(root, tmp.resolve("b"), PrepareOptions.defaults()));
        assertTrue(svg.getMessage().startsWith("openclipart: needs the Debian package openclipart-svg"), svg.getMessage());
        assertTrue(svg.getMessage().endsWith("install it with: sudo apt-get install openclipart-svg"), svg.getMessage());
    }

    @Test
    void registered() {
        assertInstanceOf(OpenClipartSource.class, DataSources.get("openclipart"));
        assertInstanceOf(TuxPaintSource.class, DataSources.get("tuxpaint"));
        assertInstanceOf(FashionMnistSource.class, DataSources.get("fashion-mnist"));
        assertInstanceOf(WordNetSource.class, DataSources.textSource("wordnet"));
    }

    @Test
    void realPackages() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/usr/share/openclipart/png"))
                && Files.isDirectory(Path.of("/usr/share/openclipart/svg")),
                "openclipart-png and openclipart-svg are not installed (sudo apt-get install openclipart-png openclipart-svg)");
        Path out = tmp.resolve("real");
        ImportReport r;
        try (ManifestWriter w = ManifestWriter.create(out, "openclipart", false)) {
            new OpenClipartSource().prepare(w, PrepareOptions.defaults().withCount(200));
            r = w.finish();
        }
        Manifest m = Manifest.read(out);
        assertEquals(200, m.size());
        assertEquals(200, r.images());
        for (ManifestEntry e : m.entries()) {
            assertTrue(e.captions().size() <= 3, e.toString());
            for (String c : e.captions()) {
                assertTrue(c.length() <= ClipArtCaptions.MAX_CAPTION + 20, c);
                assertFalse(c.toLowerCase(java.util.Locale.ROOT).contains("collection"), c);
                assertFalse(c.endsWith(".svg") || c.endsWith(".png"), c);
            }
            RgbImage img = ImageLoader.load(m.dir().resolve(e.image()));
            assertTrue(Math.max(img.width(), img.height()) <= OpenClipartSource.DEFAULT_SIZE, e.id());
        }
        assertTrue(m.entries().stream().anyMatch(e -> e.captions().contains("bat")), "the bat is among the first animals");
    }
}

package dev.xbt.data.sources;

import dev.xbt.data.DataSourceException;
import dev.xbt.data.ImportReport;
import dev.xbt.data.Manifest;
import dev.xbt.data.ManifestEntry;
import dev.xbt.data.ManifestWriter;
import dev.xbt.data.PrepareOptions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TuxPaintSourceTest {
    @TempDir
    Path tmp;

    static void fakePackage(Path root) throws IOException {
        Path s = root.resolve("usr/share/tuxpaint/stamps");
        OpenClipartSourceTest.png(s.resolve("animals/cat.png"), 40, 30);
        Files.writeString(s.resolve("animals/cat.txt"), "A cat.\nfr.utf8=Un chat.\nde.utf8=Eine Katze.\npt_BR.utf8=Um gato.\n");
        Files.writeString(s.resolve("animals/cat.dat"), "colorable\n");
        Files.writeString(s.resolve("animals/cat_desc.ogg"), "not a picture");
        // translations first, then the English line (with a BOM and Windows line ends)
        OpenClipartSourceTest.png(s.resolve("animals/dog.png"), 40, 30);
        Files.write(s.resolve("animals/dog.txt"), "\uFEFFca@valencia.utf8=Un gos.\r\nA dog.\r\nes.utf8=Un perro.\r\n"
                .getBytes(StandardCharsets.UTF_8));
        OpenClipartSourceTest.png(s.resolve("household/phone.png"), 40, 30);
        Files.writeString(s.resolve("household/phone.txt"), "A telephone.  Hello? Hello?\nfr.utf8=Un téléphone.\n");
        OpenClipartSourceTest.png(s.resolve("household/phone_mirror.png"), 40, 30);
        Files.createDirectories(s.resolve("food"));
        Files.writeString(s.resolve("food/bread.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
        Files.writeString(s.resolve("food/bread.txt"), "A loaf of bread.\n");
        OpenClipartSourceTest.png(s.resolve("food/cheese.png"), 40, 30);
        Files.writeString(s.resolve("food/cheese.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
        Files.writeString(s.resolve("food/cheese.txt"), "Some cheese.\n");
        Files.write(s.resolve("food/broken.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 0});
        Files.writeString(s.resolve("food/broken.txt"), "A broken plate.\n");
        OpenClipartSourceTest.png(s.resolve("cartoon/tux-drat.png"), 40, 30);
        Files.writeString(s.resolve("food/only_translations.txt"), "fr.utf8=Rien.\n");
        OpenClipartSourceTest.png(s.resolve("food/only_translations.png"), 40, 30);
    }

    static ImportReport prepare(Path root, Path out, PrepareOptions opts) throws IOException {
        try (ManifestWriter w = ManifestWriter.create(out, "tuxpaint", false)) {
            new TuxPaintSource(root).prepare(w, opts);
            return w.finish();
        }
    }

    @Test
    void importsAFakePackage() throws IOException {
        Path root = tmp.resolve("root");
        fakePackage(root);
        Path out = tmp.resolve("ds");
        ImportReport r = prepare(root, out, PrepareOptions.defaults());
        Manifest m = Manifest.read(out);
        Map<String, List<String>> caps = m.entries().stream().collect(Collectors.toMap(ManifestEntry::id, ManifestEntry::captions));
        assertEquals(Map.of(
                "animals/cat", List.of("a cat"),
                "animals/dog", List.of("a dog"),
                "household/phone", List.of("a telephone", "a telephone. Hello? Hello?"),
                "food/cheese", List.of("some cheese")), caps);
        ManifestEntry cat = m.byId("animals/cat").orElseThrow();
        assertEquals("images/animals/cat.png", cat.image());
        assertEquals("colorable", cat.meta().get("stamp"));
        assertEquals("GPL-2", cat.meta().get("license"));
        assertTrue(Files.isRegularFile(out.resolve("images/food/cheese.png")));
        Map<String, String> skips = r.skips().stream().collect(Collectors.toMap(ImportReport.Skip::item, ImportReport.Skip::reason));
        assertEquals(5, r.skipped(), skips.toString());
        assertTrue(skips.get("food/bread").startsWith("SVG only"), skips.toString());
        assertTrue(skips.get("food/broken").contains("broken.png"), skips.toString());
        assertTrue(skips.get("household/phone_mirror").startsWith("a mirrored variant of household/phone"), skips.toString());
        assertTrue(skips.get("cartoon/tux-drat").startsWith("no description"), skips.toString());
        assertTrue(skips.get("food/only_translations").startsWith("no English description"), skips.toString());

        ImportReport two = prepare(root, tmp.resolve("two"), PrepareOptions.defaults().withCount(2));
        assertEquals(2, two.images());
    }

    @Test
    void captionsAreCleaned() {
        assertEquals(List.of("a cat"), TuxPaintSource.captions("A cat."));
        assertEquals(List.of("the letter I"), TuxPaintSource.captions("The letter I."));
        assertEquals(List.of("DSLR camera"), TuxPaintSource.captions("DSLR camera."));
        assertEquals(List.of("roundabout ahead!", "roundabout ahead! Which way will you go?"),
                TuxPaintSource.captions("Roundabout ahead! Which way will you go?"));
        assertEquals(List.of("a Canadian 10 cent piece ($.10) called a dime"),
                TuxPaintSource.captions("A Canadian 10 cent piece ($.10) called a dime."));
        assertEquals(List.of(), TuxPaintSource.captions("  "));
        assertEquals("A frog.", TuxPaintSource.englishLine("\nA frog.\nfr.utf8=Une grenouille.".getBytes(StandardCharsets.UTF_8)));
        assertEquals("", TuxPaintSource.englishLine("sr@latin.utf8=Žaba.\nzh_TW.utf8=青蛙\n".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void missingPackageSaysHowToInstallIt() throws IOException {
        Path root = tmp.resolve("empty");
        Files.createDirectories(root);
        DataSourceException e = assertThrows(DataSourceException.class, () -> prepare(root, tmp.resolve("x"), PrepareOptions.defaults()));
        assertTrue(e.getMessage().startsWith("tuxpaint: needs the Debian package tuxpaint-stamps-default"), e.getMessage());
        assertTrue(e.getMessage().endsWith("sudo apt-get install tuxpaint-stamps-default"), e.getMessage());
    }

    @Test
    void realPackage() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/usr/share/tuxpaint/stamps")),
                "tuxpaint-stamps-default is not installed (sudo apt-get install tuxpaint-stamps-default)");
        Path out = tmp.resolve("real");
        try (ManifestWriter w = ManifestWriter.create(out, "tuxpaint", false)) {
            new TuxPaintSource().prepare(w, PrepareOptions.defaults().withCount(200));
            w.finish();
        }
        Manifest m = Manifest.read(out);
        assertEquals(200, m.size());
        for (ManifestEntry e : m.entries()) {
            for (String c : e.captions()) {
                assertFalse(c.contains(".utf8="), c);
                assertFalse(c.endsWith("."), c);
                assertTrue(c.length() < 200, c);
            }
        }
        assertTrue(m.entries().stream().anyMatch(e -> e.captions().getFirst().startsWith("a ")), "captions like \"a frog\"");
    }
}

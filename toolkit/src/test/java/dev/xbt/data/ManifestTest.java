package dev.xbt.data;

import dev.xbt.image.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ManifestTest {
    @TempDir
    Path dir;

    static final String GOOD = "{\"id\": \"a\", \"image\": \"images/a.png\", \"captions\": [\"a red circle\"], \"split\": \"train\"}";

    static RgbImage picture(int seed) {
        byte[] d = new byte[8 * 6 * 3];
        for (int i = 0; i < d.length; i++) d[i] = (byte) (i * 7 + seed * 31);
        return new RgbImage(8, 6, d);
    }

    @Test
    void writerAndReaderRoundTrip() throws IOException {
        Path ds = dir.resolve("ds");
        List<ManifestEntry> written;
        ImportReport report;
        try (ManifestWriter w = ManifestWriter.create(ds, "test", false)) {
            assertTrue(w.addImage("one/1", picture(1), List.of("a  red\ncircle ", "a red circle", "", "round thing"), Splits.VAL));
            assertTrue(w.addImage("two", picture(2), List.of("a blue square"), null, Map.of("licence", "CC0")));
            assertFalse(w.addImage("two", picture(3), List.of("again"), null));            // duplicate id
            assertFalse(w.addImage("three", picture(3), List.of(" ", "\t"), null));        // no caption
            assertFalse(w.addBytes("four", new byte[] {1, 2, 3}, "four.png", List.of("x"), null)); // corrupt image
            Path src = dir.resolve("src.png");
            Files.write(src, PngEncoder.encode(picture(5)));
            assertTrue(w.addFile("five", src, "sub/five.png", List.of("five"), Splits.TEST));
            assertTrue(w.addFile("six", src, "sub/five.png", List.of("six"), Splits.TEST)); // name made unique
            assertTrue(w.addExisting("seven", "images/sub/five.png", List.of("seven"), Splits.TRAIN));
            assertFalse(w.addExisting("eight", "images/nothing.png", List.of("eight"), null));
            report = w.finish();
        }
        assertEquals(5, report.images());
        assertEquals(4, report.skipped());
        assertEquals(List.of("duplicate id", "no caption"), report.skips().subList(0, 2).stream().map(ImportReport.Skip::reason).toList());
        assertTrue(report.skips().get(2).reason().contains("four.png"), report.skips().toString());
        assertTrue(Files.readString(ds.resolve(ManifestWriter.REPORT_FILE)).contains("\"skipped\" : 4"));
        Manifest m = Manifest.read(ds);
        assertEquals(5, m.size());
        ManifestEntry one = m.entry(0);
        assertEquals(new ManifestEntry("one/1", "images/one_1.png", List.of("a red circle", "round thing"), Splits.VAL), one);
        assertEquals(Map.of("licence", "CC0"), m.byId("two").orElseThrow().meta());
        assertEquals(Splits.assign("two"), m.byId("two").orElseThrow().split());
        assertEquals("images/sub/five-2.png", m.byId("six").orElseThrow().image());
        assertArrayEquals(Files.readAllBytes(dir.resolve("src.png")), Files.readAllBytes(m.imagePath(m.byId("six").orElseThrow())));
        assertEquals(List.of("six", "five"), m.split(Splits.TEST).stream().map(ManifestEntry::id).sorted().toList().reversed());
        assertEquals(report.captions(), m.captionCount());
        assertEquals(report.splits(), m.splitCounts());
        // writing the entries read gives the same file
        written = m.entries();
        Path copy = dir.resolve("copy");
        try (ManifestWriter w = ManifestWriter.create(copy, "copy", false)) {
            Files.createDirectories(copy.resolve("images/sub"));
            for (ManifestEntry e : written) {
                Files.copy(m.imagePath(e), copy.resolve(e.image()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                assertTrue(w.add(e));
            }
        }
        assertEquals(Files.readString(m.file()), Files.readString(copy.resolve(Manifest.FILE_NAME)));
        assertEquals(written, Manifest.read(copy).entries());
        assertEquals(m.digest(), Manifest.read(copy).digest());
    }

    @Test
    void aManifestWithoutSplitsGetsThemFromTheIds() throws IOException {
        Files.writeString(dir.resolve("manifest.jsonl"), "\uFEFF{\"id\": \"x\", \"image\": \"x.png\", \"captions\": [\"c\"]}\n\n"
                + "{\"id\": \"y\", \"image\": \"y.png\", \"captions\": [\"d\"], \"split\": null, \"extra\": 1}\n");
        Manifest m = Manifest.read(dir);
        assertEquals(Splits.assign("x"), m.entry(0).split());
        assertEquals(Splits.assign("y"), m.entry(1).split());
        assertEquals(dir.toAbsolutePath().resolve("x.png"), m.imagePath(m.entry(0)));
    }

    static Stream<Object[]> malformed() {
        String e = "{\"id\": \"b\", \"image\": \"b.png\", ";
        return Stream.of(
                new Object[] {"", 0, "empty manifest"},
                new Object[] {"\n  \n", 0, "empty manifest"},
                new Object[] {GOOD + "\n{\"id\": \"b\", ", 2, "invalid JSON"},
                new Object[] {GOOD + "\n\n{\"id\": \"b\"} trailing", 3, "invalid JSON"},
                new Object[] {"[1, 2]", 1, "expected a JSON object"},
                new Object[] {GOOD + "\n{\"image\": \"b.png\", \"captions\": [\"c\"]}", 2, "missing id"},
                new Object[] {GOOD + "\n{\"id\": \" \", \"image\": \"b.png\", \"captions\": [\"c\"]}", 2, "empty id"},
                new Object[] {GOOD + "\n{\"id\": 5, \"image\": \"b.png\", \"captions\": [\"c\"]}", 2, "id must be a string"},
                new Object[] {GOOD + "\n{\"id\": \"b\", \"captions\": [\"c\"]}", 2, "missing image"},
                new Object[] {GOOD + "\n{\"id\": \"b\", \"image\": \"\", \"captions\": [\"c\"]}", 2, "missing image"},
                new Object[] {GOOD + "\n" + e + "\"split\": \"train\"}", 2, "missing captions"},
                new Object[] {GOOD + "\n" + e + "\"captions\": []}", 2, "empty captions"},
                new Object[] {GOOD + "\n" + e + "\"captions\": \"c\"}", 2, "captions must be an array"},
                new Object[] {GOOD + "\n" + e + "\"captions\": [\"c\", \"  \"]}", 2, "caption 2 is empty"},
                new Object[] {GOOD + "\n" + e + "\"captions\": [\"c\", 3]}", 2, "caption 2 must be a string"},
                new Object[] {GOOD + "\n" + e + "\"captions\": [\"c\"], \"split\": \"restval\"}", 2, "unknown split \"restval\""},
                new Object[] {GOOD + "\n" + e + "\"captions\": [\"c\"], \"split\": 1}", 2, "unknown split 1"},
                new Object[] {GOOD + "\n\n" + GOOD.replace("images/a.png", "b.png"), 3, "duplicate id \"a\" (first on line 1)"},
                new Object[] {GOOD + "\n{\"id\": \"b\", \"image\": \"../b.png\", \"captions\": [\"c\"]}", 2, "escapes"},
                new Object[] {GOOD + "\n{\"id\": \"b\", \"image\": \"images/../../b.png\", \"captions\": [\"c\"]}", 2, "escapes"},
                new Object[] {GOOD + "\n{\"id\": \"b\", \"image\": \"/etc/passwd\", \"captions\": [\"c\"]}", 2, "absolute"},
                new Object[] {GOOD + "\n{\"id\": \"b\", \"image\": \"C:/x.png\", \"captions\": [\"c\"]}", 2, "absolute"},
                new Object[] {GOOD + "\n{\"id\": \"b\", \"image\": \"a\\\\b.png\", \"captions\": [\"c\"]}", 2, "separate folders with /"},
                new Object[] {GOOD + "\n" + e + "\"captions\": [\"c\"], \"id\": \"z\"}", 2, "invalid JSON"}, // repeated key
                new Object[] {GOOD + "\n" + e + "\"captions\": [\"c\"], \"meta\": 3}", 2, "meta must be an object"});
    }

    @ParameterizedTest
    @MethodSource("malformed")
    void malformedManifestsNameTheFileAndLine(String content, int line, String problem) throws IOException {
        Files.writeString(dir.resolve("manifest.jsonl"), content);
        ManifestException ex = assertThrows(ManifestException.class, () -> Manifest.read(dir));
        assertEquals(line, ex.line(), ex.getMessage());
        String where = dir.resolve("manifest.jsonl") + (line > 0 ? ":" + line + ": " : ": ");
        assertTrue(ex.getMessage().startsWith(where), ex.getMessage());
        assertTrue(ex.getMessage().contains(problem), ex.getMessage());
        assertFalse(ex.getMessage().contains("\n"));
    }

    @Test
    void notUtf8AndMissingFilesAreReported() throws IOException {
        Files.write(dir.resolve("manifest.jsonl"), (GOOD + "\n{\"id\": \"\u00ff\"}").replace("\u00ff", "X")
                .getBytes(StandardCharsets.UTF_8));
        byte[] bytes = Files.readAllBytes(dir.resolve("manifest.jsonl"));
        bytes[bytes.length - 3] = (byte) 0xFF;
        Files.write(dir.resolve("manifest.jsonl"), bytes);
        ManifestException ex = assertThrows(ManifestException.class, () -> Manifest.read(dir));
        assertEquals(2, ex.line(), ex.getMessage());
        assertTrue(ex.getMessage().contains("not UTF-8"), ex.getMessage());
        ex = assertThrows(ManifestException.class, () -> Manifest.read(dir.resolve("nowhere")));
        assertTrue(ex.getMessage().contains("no such folder"), ex.getMessage());
        Files.createDirectories(dir.resolve("empty"));
        ex = assertThrows(ManifestException.class, () -> Manifest.read(dir.resolve("empty")));
        assertTrue(ex.getMessage().contains("no manifest.jsonl"), ex.getMessage());
    }

    @Test
    void splitAssignmentIsStableAndRoughly801010() {
        assertEquals(Splits.assign("shapes-000001"), Splits.assign("shapes-000001"));
        // pinned values: the rule is documented and must not change (SHA-256, first 8 bytes big-endian, mod 100)
        assertEquals(Long.remainderUnsigned(0xca978112ca1bbdcaL, 100), Splits.bucket("a")); // sha256("a") = ca978112ca1bbdca...
        Map<String, Integer> counts = new HashMap<>();
        int n = 20_000;
        for (int i = 0; i < n; i++) counts.merge(Splits.assign("img-" + i), 1, Integer::sum);
        assertEquals(0.8, counts.get("train") / (double) n, 0.015);
        assertEquals(0.1, counts.get("val") / (double) n, 0.01);
        assertEquals(0.1, counts.get("test") / (double) n, 0.01);
    }

    @Test
    void anExistingFolderIsRefusedUnlessForced() throws IOException {
        Path ds = dir.resolve("ds");
        try (ManifestWriter w = ManifestWriter.create(ds, "t", false)) {
            w.addImage("a", picture(1), List.of("a"), null);
        }
        Files.writeString(ds.resolve("notes.txt"), "mine");
        ManifestException ex = assertThrows(ManifestException.class, () -> ManifestWriter.create(ds, "t", false));
        assertTrue(ex.getMessage().contains("--force"), ex.getMessage());
        try (ManifestWriter w = ManifestWriter.create(ds, "t", true)) {
            w.addImage("b", picture(2), List.of("b"), null);
        }
        assertEquals(List.of("b"), Manifest.read(ds).entries().stream().map(ManifestEntry::id).toList());
        assertFalse(Files.exists(ds.resolve("images/a.png")));
        assertTrue(Files.exists(ds.resolve("notes.txt")));
    }

    @Test
    void nothingImportedIsAnErrorWithAReportAndAbortLeavesNoManifest() throws IOException {
        Path ds = dir.resolve("ds");
        ManifestWriter w = ManifestWriter.create(ds, "t", false);
        w.skip("x", "broken");
        ManifestException ex = assertThrows(ManifestException.class, w::finish);
        assertTrue(ex.getMessage().contains("nothing imported") && ex.getMessage().contains("x: broken"), ex.getMessage());
        assertTrue(Files.exists(ds.resolve(ManifestWriter.REPORT_FILE)));
        assertFalse(Files.exists(ds.resolve(Manifest.FILE_NAME)));
        Path ds2 = dir.resolve("ds2");
        ManifestWriter w2 = ManifestWriter.create(ds2, "t", false);
        w2.addImage("a", picture(1), List.of("a"), null);
        w2.abort();
        w2.close();
        assertFalse(Files.exists(ds2.resolve(Manifest.FILE_NAME)));
        try (Stream<Path> s = Files.list(ds2)) {
            assertEquals(List.of("images"), s.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void pngEncoderOutputDecodesToTheSamePixels() {
        RgbImage p = picture(9);
        RgbImage back = new dev.xbt.image.ImageLoader().read(PngEncoder.encode(p), "p.png");
        assertArrayEquals(p.data(), back.data());
        assertArrayEquals(PngEncoder.encode(p), PngEncoder.encode(p));
    }
}

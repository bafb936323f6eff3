package dev.xbt.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code xbt data ...} end to end through {@code Main.run}. */
class DataCommandTest {
    @TempDir
    Path dir;

    @Test
    void prepareShapesWritesADataSetAndRefusesToOverwriteWithoutForce() throws IOException {
        Path out = dir.resolve("tmp");
        Cli.Run r = Cli.run("data", "prepare", "shapes", "--count", "50", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("shapes: 50 images"), r.out());
        assertTrue(r.err().contains("shapes: 50/50 (100%)"), r.err()); // plain progress lines off a terminal
        Manifest m = Manifest.read(out);
        assertEquals(50, m.size());
        for (ManifestEntry e : m.entries()) {
            assertTrue(Files.size(m.imagePath(e)) > 100, e.image());
            assertTrue(e.captions().size() >= 3);
            assertEquals(Splits.assign(e.id()), e.split());
        }
        assertEquals(ShapesGenerator.id(7), m.entry(7).id());
        assertEquals(new ShapesGenerator(0).sample(7).captions(), m.entry(7).captions());
        assertTrue(Files.readString(out.resolve(ManifestWriter.REPORT_FILE)).contains("\"images\" : 50"));

        Cli.Run again = Cli.run("data", "prepare", "shapes", "--count", "20", "--out", out.toString());
        assertEquals(2, again.code());
        assertTrue(again.err().startsWith("xbt: ") && again.err().contains("not empty") && again.err().contains("--force"), again.err());
        assertEquals(50, Manifest.read(out).size());

        Cli.Run forced = Cli.run("data", "prepare", "shapes", "--count", "20", "--out", out.toString(), "--force");
        assertEquals(0, forced.code(), forced.err());
        assertEquals(20, Manifest.read(out).size());
        try (Stream<Path> s = Files.list(out.resolve("images"))) {
            assertEquals(20, s.count()); // the old images went with --force
        }

        Cli.Run info = Cli.run("data", "info", out.toString());
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().contains("20 images"), info.out());
        Cli.Run text = Cli.run("data", "text", out.toString());
        assertEquals(0, text.code(), text.err());
        assertEquals(TextCorpus.of(Manifest.read(out)).texts(), text.out().lines().toList());
    }

    @Test
    void shapesAreTheSameForTheSameSeedWhateverTheThreadsAndDifferForAnotherSeed() throws IOException {
        Path a = dir.resolve("a"), b = dir.resolve("b"), c = dir.resolve("c");
        assertEquals(0, Cli.run("data", "prepare", "shapes", "--count", "150", "--out", a.toString(), "--threads", "1").code());
        assertEquals(0, Cli.run("data", "prepare", "shapes", "--count", "150", "--out", b.toString(), "--threads", "3").code());
        assertEquals(0, Cli.run("data", "prepare", "shapes", "--count", "150", "--out", c.toString(), "--seed", "1").code());
        assertEquals(Files.readString(a.resolve("manifest.jsonl")), Files.readString(b.resolve("manifest.jsonl")));
        assertNotEquals(Files.readString(a.resolve("manifest.jsonl")), Files.readString(c.resolve("manifest.jsonl")));
        int same = 0;
        for (ManifestEntry e : Manifest.read(a).entries()) {
            byte[] x = Files.readAllBytes(a.resolve(e.image()));
            assertArrayEquals(x, Files.readAllBytes(b.resolve(e.image())), e.image());
            if (java.util.Arrays.equals(x, Files.readAllBytes(c.resolve(e.image())))) same++;
        }
        assertEquals(0, same);
    }

    @Test
    void splitPutsEveryItemIntoOneSplitAndRefusesAnUnknownOne() throws IOException {
        Path out = dir.resolve("held-out");
        Cli.Run r = Cli.run("data", "prepare", "shapes", "--count", "40", "--seed", "1", "--split", "test", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("(train 0, val 0, test 40)"), r.out());
        Manifest m = Manifest.read(out);
        long hashedElsewhere = m.entries().stream().filter(e -> !Splits.assign(e.id()).equals(Splits.TEST)).count();
        assertTrue(hashedElsewhere > 20, "most of 40 ids hash to train, so the test is not vacuous: " + hashedElsewhere);
        for (ManifestEntry e : m.entries()) assertEquals(Splits.TEST, e.split(), e.id());
        assertEquals(new ShapesGenerator(1).sample(3).captions(), m.entry(3).captions());
        assertTrue(Files.readString(out.resolve(ManifestWriter.REPORT_FILE)).contains("test (every item)"));

        Path bad = dir.resolve("bad");
        Cli.Run no = Cli.run("data", "prepare", "shapes", "--count", "5", "--split", "holdout", "--out", bad.toString());
        assertEquals(2, no.code());
        assertTrue(no.err().startsWith("xbt: --split must be train, val or test, got \"holdout\""), no.err());
        assertFalse(Files.exists(bad.resolve(Manifest.FILE_NAME)));
    }

    @Test
    void unknownSourcesAreClearErrors() {
        Cli.Run r = Cli.run("data", "prepare", "nosuch", "--out", dir.resolve("x").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown data source \"nosuch\"") && r.err().contains("folder:DIR"), r.err());
        r = Cli.run("data", "prepare", "folder", "--out", dir.resolve("z").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("folder:DIR"), r.err());
        r = Cli.run("data", "sources");
        assertEquals(0, r.code());
        for (String s : List.of("shapes", "folder:DIR", "karpathy:FILE", "openclipart", "tuxpaint", "fashion-mnist", "wordnet")) {
            assertTrue(r.out().contains(s), r.out());
        }
        r = Cli.run("data", "prepare", "--help");
        assertTrue(r.out().contains("captions.csv") && r.out().contains("NAME.txt"), r.out());
    }

    @Test
    void theOutputMayNotBeInsideTheInput() throws IOException {
        Path src = dir.resolve("src");
        Files.createDirectories(src);
        Cli.Run r = Cli.run("data", "prepare", "folder:" + src, "--out", src.resolve("out").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("overlaps"), r.err());
    }
}

package dev.xbt.data.sources;

import dev.xbt.data.DataSourceException;
import dev.xbt.data.TextCorpus;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WordNetSourceTest {
    @TempDir
    Path tmp;

    static final String HEADER = """
              1 This software and database is being provided to you, the LICENSEE, by \s
              2 Princeton University under the following license.  By obtaining, using \s
            """;

    static void fakePackage(Path root) throws IOException {
        Path d = root.resolve("usr/share/wordnet");
        Files.createDirectories(d);
        Files.writeString(d.resolve("data.noun"), HEADER + """
                00001740 03 n 01 entity 0 003 ~ 00001930 n 0000 ~ 00002137 n 0000 | that which is perceived or known or inferred to have its own distinct existence (living or nonliving) \s
                02121620 05 n 03 cat 0 true_cat 0 domestic_cat 0 002 @ 02121808 n 0000 | feline mammal usually having thick soft fur and no ability to roar: domestic cats; wildcats \s
                03001627 06 n 01 chair 0 001 @ 04161981 n 0000 | a seat for one person, with a support for the back; "he put his coat over the back of the chair and sat down" \s
                09999999 06 n 01 example_only 0 000 | "only an example" \s
                """);
        Files.writeString(d.resolve("data.adj"), HEADER + """
                00001740 00 a 01 able 0 005 = 05200169 n 0000 | (usually followed by `to') having the necessary means or skill or know-how or authority to do something; "able to swim" \s
                01437963 00 s 01 long(a) 0 001 & 01433493 a 0000 | primarily temporal sense; being or indicating a relatively great or greater than average duration (of a treaty; in force) \s
                """);
    }

    @Test
    void glossesAsSentences() throws IOException {
        Path root = tmp.resolve("root");
        fakePackage(root);
        List<String> texts = new WordNetSource(root, List.of("noun", "adj"), -1).texts();
        assertEquals(List.of(
                "entity: that which is perceived or known or inferred to have its own distinct existence (living or nonliving)",
                "cat: feline mammal usually having thick soft fur and no ability to roar: domestic cats",
                "chair: a seat for one person, with a support for the back",
                "able: having the necessary means or skill or know-how or authority to do something",
                "long: primarily temporal sense"), texts);
        assertEquals(List.of("entity: that which is perceived or known or inferred to have its own distinct existence"
                + " (living or nonliving)", "cat: feline mammal usually having thick soft fur and no ability to roar: domestic cats"),
                new WordNetSource(root, List.of("noun"), 2).texts());
        assertEquals(3, TextCorpus.builder().add(new WordNetSource(root, List.of("noun"), 3)).build().size());
        assertNull(WordNetSource.sentence("  1 This software and database"));
        WordNetSource lemmas = new WordNetSource(root, List.of("noun", "adj"), -1).lemmas();
        assertEquals("wordnet-lemmas", lemmas.name());
        assertEquals(List.of("entity", "cat", "chair", "example only", "able", "long"), lemmas.texts());
        assertEquals(List.of("entity", "chair", "able"), lemmas.withLimit(3).texts());
        assertEquals("", WordNetSource.definition("\"only an example\""));
    }

    @Test
    void badArgumentsAndMissingPackage() throws IOException {
        assertThrows(IllegalArgumentException.class, () -> new WordNetSource(tmp, List.of("nouns"), -1));
        assertThrows(IllegalArgumentException.class, () -> new WordNetSource(tmp, List.of("noun"), 0));
        DataSourceException e = assertThrows(DataSourceException.class, () -> new WordNetSource(tmp, List.of("noun"), -1).texts());
        assertTrue(e.getMessage().startsWith("wordnet: needs the Debian package wordnet-base"), e.getMessage());
        assertTrue(e.getMessage().endsWith("install it with: sudo apt-get install wordnet-base"), e.getMessage());
        Path root = tmp.resolve("root");
        fakePackage(root);
        Files.writeString(root.resolve("usr/share/wordnet/data.verb"), HEADER + "garbage line\n");
        DataSourceException bad = assertThrows(DataSourceException.class,
                () -> new WordNetSource(root, List.of("verb"), -1).texts());
        assertTrue(bad.getMessage().contains("data.verb:3: not a WordNet data line"), bad.getMessage());
    }

    @Test
    void realPackage() throws IOException {
        Assumptions.assumeTrue(Files.isRegularFile(Path.of("/usr/share/wordnet/data.noun")),
                "wordnet-base is not installed (sudo apt-get install wordnet-base)");
        List<String> texts = new WordNetSource().withLimit(2000).texts();
        assertEquals(2000, texts.size());
        for (String t : texts) {
            assertTrue(t.matches("[^:]+: \\S.*"), t);
            assertTrue(!t.contains("\""), t);
        }
        assertTrue(new WordNetSource().withParts(List.of("noun")).texts().contains(
                "cat: feline mammal usually having thick soft fur and no ability to roar: domestic cats"));
    }
}

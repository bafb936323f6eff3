package dev.xbt.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** The merges-file and Hugging Face loaders, and their one-line errors. */
class ClipTokenizerLoaderTest {
    private static final List<String> TEXTS = List.of("a photo of a cat", "The quick brown fox jumps over the lazy dog!",
            "naïve café résumé", "It's 3:45pm — don't you think?", "user@example.com visited https://example.org/path?q=1",
            "supercalifragilisticexpialidocious 12345 東京", "");

    @TempDir
    Path dir;

    @Test
    void smallHandWrittenMergesFile() throws IOException {
        Path file = write("merges.txt", "#version: 0.2\nh e\nl l\nhe ll\nhell o</w>\n");
        ClipTokenizer tok = ClipTokenizer.fromMergesGz(file);
        assertEquals(512 + 4 + 2, tok.vocabSize());
        assertEquals(516, tok.startId());
        assertEquals(517, tok.endId());
        assertEquals("hello</w>", tok.token(515));
        assertArrayEquals(new int[] {515}, tok.encode("Hello"));
        assertEquals(List.of("hello</w>", "he", "l", "l</w>", "!</w>"), tok.tokenStrings("hello hell!"));
        assertArrayEquals(new int[] {516, 515, 517, 0}, tok.tokenize("hello", 4));
        assertEquals("hello hello ", tok.decode(tok.encode("hello hello")));
    }

    @Test
    void huggingFaceFilesGiveTheSameIdsAsTheMergesFile() throws IOException {
        Path gz = SharedClip.require(SharedClip.MERGES);
        int merges = 2_000;
        ClipTokenizer fromGz = ClipTokenizer.fromMergesGz(gz, merges);
        Path[] hf = writeHuggingFace(fromGz, MergesFile.read(gz, merges));
        ClipTokenizer fromHf = ClipTokenizer.fromHuggingFace(hf[0], hf[1]);
        assertEquals(512 + merges + 2, fromHf.vocabSize());
        assertEquals(fromGz.startId(), fromHf.startId());
        assertEquals(fromGz.endId(), fromHf.endId());
        for (String text : TEXTS) {
            assertArrayEquals(fromGz.encode(text), fromHf.encode(text), text);
            assertArrayEquals(fromGz.tokenize(text), fromHf.tokenize(text), text);
        }
    }

    @Test
    void fullHuggingFaceVocabularyMatchesOpenAi() throws IOException {
        ClipTokenizer openAi = SharedClip.openAi();
        Path[] hf = writeHuggingFace(openAi, MergesFile.read(SharedClip.require(SharedClip.MERGES), 300_000));
        ClipTokenizer fromHf = ClipTokenizer.fromHuggingFace(hf[0], hf[1]);
        assertEquals(ClipTokenizer.OPENAI_VOCAB_SIZE, fromHf.vocabSize());
        assertEquals(ClipTokenizer.OPENAI_END_ID, fromHf.endId());
        for (String text : TEXTS) {
            assertArrayEquals(openAi.encode(text), fromHf.encode(text), text);
        }
    }

    @Test
    void missingFilesSayWhich() throws IOException {
        Path absent = dir.resolve("absent.txt.gz");
        assertMessage(() -> ClipTokenizer.fromMergesGz(absent), "file not found: " + absent);
        Path merges = write("merges.txt", "#version: 0.2\nh e\n");
        Path vocab = dir.resolve("vocab.json");
        assertMessage(() -> ClipTokenizer.fromHuggingFace(vocab, merges), "file not found: " + vocab);
        Files.writeString(vocab, "{}");
        assertMessage(() -> ClipTokenizer.fromHuggingFace(vocab, absent), "is missing");
    }

    @Test
    void malformedMergesFilesSayWhereAndWhat() throws IOException {
        assertMessage(() -> ClipTokenizer.fromMergesGz(write("empty.txt", "")), "line 1 is not a '#version' header");
        assertMessage(() -> ClipTokenizer.fromMergesGz(write("nohead.txt", "h e\nl l\n")),
                "line 1 is not a '#version' header: 'h e'");
        assertMessage(() -> ClipTokenizer.fromMergesGz(write("one.txt", "#version: 0.2\nh e\nll\n")),
                "line 3 is not two symbols separated by one space: 'll'");
        assertMessage(() -> ClipTokenizer.fromMergesGz(write("three.txt", "#version: 0.2\nh e l\n")),
                "line 2 is not two symbols separated by one space");
        assertMessage(() -> ClipTokenizer.fromMergesGz(write("blank.txt", "#version: 0.2\nh e\n\nl l\n")),
                "line 3 is not two symbols");
        assertMessage(() -> ClipTokenizer.fromMergesGz(write("unknown.txt", "#version: 0.2\nh e\nhe xyz\n")),
                "merges line 3 (merge 2): symbol 'xyz' is not in the vocabulary");
        Path latin1 = dir.resolve("latin1.txt");
        Files.write(latin1, new byte[] {'#', 'v', 'e', 'r', 's', 'i', 'o', 'n', '\n', (byte) 0xE9, ' ', 'e', '\n'});
        assertMessage(() -> ClipTokenizer.fromMergesGz(latin1), "not valid UTF-8");
        // Lines past the ones used are not parsed.
        ClipTokenizer tok = ClipTokenizer.fromMergesGz(write("tail.txt", "#version: 0.2\nh e\nbroken line here\n"), 1);
        assertEquals(515, tok.vocabSize());
    }

    @Test
    void truncatedOrCorruptGzipIsRefused() throws IOException {
        StringBuilder text = new StringBuilder("#version: 0.2\n");
        for (char c = 'a'; c <= 'z'; c++) {
            text.append(c).append(" ").append(c).append('\n');
        }
        byte[] gz = gzip(text.toString());
        Path whole = dir.resolve("whole.txt.gz");
        Files.write(whole, gz);
        assertEquals(512 + 26 + 2, ClipTokenizer.fromMergesGz(whole).vocabSize());
        Path truncated = dir.resolve("truncated.txt.gz");
        Files.write(truncated, Arrays.copyOf(gz, gz.length - 12));
        assertMessage(() -> ClipTokenizer.fromMergesGz(truncated), truncated + ": gzip data is truncated");
        byte[] bad = gz.clone();
        bad[gz.length - 6] ^= 0x55; // inside the CRC-32 / size trailer
        Path corrupt = dir.resolve("corrupt.txt.gz");
        Files.write(corrupt, bad);
        assertMessage(() -> ClipTokenizer.fromMergesGz(corrupt), corrupt + ": gzip data is corrupt");
    }

    @Test
    void truncatedOpenAiFileIsRefused() throws IOException {
        byte[] gz = Files.readAllBytes(SharedClip.require(SharedClip.MERGES));
        Path truncated = dir.resolve("bpe_simple_vocab_16e6.txt.gz");
        Files.write(truncated, Arrays.copyOf(gz, gz.length / 2));
        assertMessage(() -> ClipTokenizer.fromMergesGz(truncated), "gzip data is truncated");
    }

    @Test
    void malformedVocabJsonSaysWhat() throws IOException {
        Path merges = write("merges.txt", "#version: 0.2\nh e\n");
        assertMessage(() -> ClipTokenizer.fromHuggingFace(write("v1.json", "{\"a\": 1,"), merges), "not valid JSON");
        assertMessage(() -> ClipTokenizer.fromHuggingFace(write("v2.json", "[1, 2]"), merges),
                "expected a JSON object mapping token to id");
        assertMessage(() -> ClipTokenizer.fromHuggingFace(write("v3.json", "{\"a\": \"one\"}"), merges),
                "token 'a' has id \"one\", expected an int");
        assertMessage(() -> ClipTokenizer.fromHuggingFace(write("v4.json", "{\"a\": 0, \"b\": 0}"), merges),
                "id 0 is given to both");
        assertMessage(() -> ClipTokenizer.fromHuggingFace(write("v5.json", "{\"a\": 0}"), merges), "token '!' is missing");
        // Every byte symbol and special present, but the merge's result is not.
        ObjectNode vocab = new ObjectMapper().createObjectNode();
        for (int id = 0; id < 512; id++) {
            vocab.put(ByteLevel.baseSymbol(id), id);
        }
        vocab.put("<|startoftext|>", 512);
        Path v6 = write("v6.json", vocab.toString());
        assertMessage(() -> ClipTokenizer.fromHuggingFace(v6, merges), "token '<|endoftext|>' is missing");
        vocab.put("<|endoftext|>", 513);
        Path v7 = write("v7.json", vocab.toString());
        assertMessage(() -> ClipTokenizer.fromHuggingFace(v7, merges), "symbol 'he' is not in the vocabulary");
        vocab.put("he", 514);
        ClipTokenizer tok = ClipTokenizer.fromHuggingFace(write("v8.json", vocab.toString()), merges);
        assertEquals(List.of("he", "y</w>"), tok.tokenStrings("hey"));
        assertEquals(513, tok.endId());
    }

    /** Writes Hugging Face's vocab.json (token to id) and merges.txt for a tokenizer and its merges. */
    private Path[] writeHuggingFace(ClipTokenizer tok, List<BpeMerge> merges) throws IOException {
        ObjectNode vocab = new ObjectMapper().createObjectNode();
        for (int id = 0; id < tok.vocabSize(); id++) {
            vocab.put(tok.token(id), id);
        }
        Path vocabJson = dir.resolve("vocab.json");
        Files.writeString(vocabJson, vocab.toString());
        List<String> lines = new ArrayList<>();
        lines.add("#version: 0.2");
        merges.forEach(m -> lines.add(m.left() + " " + m.right()));
        Path mergesTxt = dir.resolve("merges.txt");
        Files.write(mergesTxt, lines);
        return new Path[] {vocabJson, mergesTxt};
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private static byte[] gzip(String text) throws IOException {
        var bytes = new java.io.ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(bytes)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return bytes.toByteArray();
    }

    private static void assertMessage(Executable call, String expected) {
        TokenizerException e = assertThrows(TokenizerException.class, call);
        assertTrue(e.getMessage().contains(expected), "message '" + e.getMessage() + "' lacks '" + expected + "'");
        assertTrue(!e.getMessage().contains("\n"), "message is not one line: " + e.getMessage());
    }
}

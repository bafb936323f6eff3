package dev.xbt.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** OpenAI's tokenizer against the reference ids, and the tokenizer's contract: padding, truncation, decode. */
class ClipTokenizerTest {
    private static final int START = ClipTokenizer.OPENAI_START_ID;
    private static final int END = ClipTokenizer.OPENAI_END_ID;

    @Test
    void everyReferenceCaseMatches() throws IOException {
        ClipTokenizer tok = SharedClip.openAi();
        List<String> lines = Files.readAllLines(SharedClip.require(SharedClip.CASES));
        ObjectMapper json = new ObjectMapper();
        int matched = 0;
        List<String> failures = new ArrayList<>();
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode c = json.readTree(line);
            String text = c.get("text").asText();
            int[] expected = new int[c.get("ids").size()];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = c.get("ids").get(i).asInt();
            }
            int[] content = tok.encode(text);
            int[] actual = new int[content.length + 2];
            actual[0] = tok.startId();
            System.arraycopy(content, 0, actual, 1, content.length);
            actual[actual.length - 1] = tok.endId();
            if (Arrays.equals(expected, actual)) {
                matched++;
            } else {
                failures.add(text + ": expected " + Arrays.toString(expected) + " got " + Arrays.toString(actual));
            }
            if (expected.length <= ClipTokenizer.CONTEXT_LENGTH) {
                assertArrayEquals(expected, Arrays.copyOf(tok.tokenize(text), expected.length), text);
            }
        }
        System.out.println("tokenizer reference cases matched: " + matched + " of " + (matched + failures.size()));
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        assertTrue(matched > 0, "no reference cases read");
    }

    @Test
    void openAiVocabularyShape() {
        ClipTokenizer tok = SharedClip.openAi();
        assertEquals(ClipTokenizer.OPENAI_VOCAB_SIZE, tok.vocabSize());
        assertEquals(START, tok.startId());
        assertEquals(END, tok.endId());
        assertEquals("!", tok.token(0));
        assertEquals("!</w>", tok.token(256));
        assertEquals("<|startoftext|>", tok.token(START));
        assertArrayEquals(new int[] {END}, tok.encode("<|endoftext|>"));
        assertArrayEquals(new int[] {START, 320, END}, tok.encode("<|startoftext|>a<|endoftext|>"));
    }

    @Test
    void shortTextIsPaddedWithZeros() {
        ClipTokenizer tok = SharedClip.openAi();
        int[] row = tok.tokenize("a photo of a cat");
        assertEquals(77, row.length);
        assertArrayEquals(new int[] {START, 320, 1125, 539, 320, 2368, END}, Arrays.copyOf(row, 7));
        for (int i = 7; i < 77; i++) {
            assertEquals(0, row[i], "padding at " + i);
        }
        int[][] batch = tok.tokenize(List.of("a diagram", "a photo of a cat"), 10);
        assertArrayEquals(new int[] {START, 320, 22697, END, 0, 0, 0, 0, 0, 0}, batch[0]);
        assertEquals(10, batch[1].length);
    }

    @Test
    void emptyTextIsStartAndEnd() {
        ClipTokenizer tok = SharedClip.openAi();
        assertEquals(0, tok.encode("").length);
        assertEquals(0, tok.encode(" \t\n ").length);
        int[] row = tok.tokenize("");
        assertEquals(77, row.length);
        assertArrayEquals(new int[] {START, END, 0}, Arrays.copyOf(row, 3));
        assertArrayEquals(new int[] {START, END}, tok.tokenize("", 2));
    }

    @Test
    void longTextKeepsStartFirstContentAndEndLast() {
        ClipTokenizer tok = SharedClip.openAi();
        String text = "a photo of a cat sitting on the mat ".repeat(30);
        int[] content = tok.encode(text);
        assertTrue(content.length > 75);
        int[] row = tok.tokenize(text);
        assertEquals(77, row.length);
        assertEquals(START, row[0]);
        assertEquals(END, row[76]);
        assertArrayEquals(Arrays.copyOf(content, 75), Arrays.copyOfRange(row, 1, 76));
        // Exactly 75 content tokens fit without truncation; 76 lose the last one.
        int[] exact = tok.tokenize(String.join(" ", java.util.Collections.nCopies(75, "cat")));
        assertEquals(END, exact[76]);
        assertEquals(2368, exact[75]);
        int[] over = tok.tokenize(String.join(" ", java.util.Collections.nCopies(76, "cat")));
        assertEquals(END, over[76]);
        assertEquals(2368, over[75]);
        assertThrows(IllegalArgumentException.class, () -> tok.tokenize("a", 1));
    }

    @Test
    void tenThousandCharactersAreFast() {
        ClipTokenizer tok = SharedClip.openAi();
        Random random = new Random(7);
        StringBuilder words = new StringBuilder();
        while (words.length() < 10_000) {
            for (int i = 0, n = 1 + random.nextInt(9); i < n; i++) {
                words.append((char) ('a' + random.nextInt(26)));
            }
            words.append(random.nextInt(10) == 0 ? ", " : " ");
        }
        String oneWord = "a".repeat(10_000);
        StringBuilder mixed = new StringBuilder();
        for (int i = 0; i < 10_000; i++) {
            mixed.append((char) ('a' + random.nextInt(26)));
        }
        for (String text : List.of(words.substring(0, 10_000), oneWord, mixed.toString(), "😀".repeat(2_500))) {
            long t0 = System.nanoTime();
            int[] ids = tok.encode(text);
            double ms = (System.nanoTime() - t0) / 1e6;
            System.out.printf("encode %,d chars (%s...): %,d tokens in %.1f ms%n", text.length(),
                    text.substring(0, 8), ids.length, ms);
            assertTrue(ms < 500, "took " + ms + " ms");
            assertEquals(77, tok.tokenize(text).length);
        }
    }

    @Test
    void bpeMatchesTheReferenceAlgorithmOnManyWords() {
        ClipTokenizer tok = SharedClip.openAi();
        List<BpeMerge> merges = MergesFile.read(SharedClip.require(SharedClip.MERGES), ClipTokenizer.OPENAI_MERGES);
        ReferenceBpe reference = new ReferenceBpe(merges);
        Map<String, Integer> ids = new HashMap<>();
        for (int id = 0; id < tok.vocabSize(); id++) {
            ids.put(tok.token(id), id);
        }
        Random random = new Random(11);
        String alphabet = "abcdefghijklmnopqrstuvwxyzéüßñøçàёжщ中文字😀";
        for (int w = 0; w < 3_000; w++) {
            int len = w < 2_990 ? 1 + random.nextInt(14) : 300 + random.nextInt(500);
            StringBuilder word = new StringBuilder();
            for (int i = 0; i < len; i++) {
                word.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0,
                        random.nextInt(alphabet.codePointCount(0, alphabet.length())))));
            }
            String piece = word.toString();
            if (ClipPreTokenizer.pieces(piece).size() != 1) {
                continue; // a piece of one class only: the pre-tokenizer would split it
            }
            int[] expected = reference.bpe(piece).stream().mapToInt(ids::get).toArray();
            assertArrayEquals(expected, tok.encode(piece), piece);
        }
        // Runs of one letter exercise overlapping occurrences of a pair.
        for (int n = 1; n < 40; n++) {
            String piece = "a".repeat(n);
            assertArrayEquals(reference.bpe(piece).stream().mapToInt(ids::get).toArray(), tok.encode(piece), piece);
        }
    }

    @Test
    void decodeRoundTripsCleanLowerCaseText() {
        ClipTokenizer tok = SharedClip.openAi();
        for (String text : List.of("a photo of a cat", "hello world hello world", "naïve café résumé",
                "two wild boars in the snow", "東京 の 夜景")) {
            assertEquals(text + " ", tok.decode(tok.encode(text)), text);
        }
        assertEquals("<|startoftext|>a dog . <|endoftext|>!!", tok.decode(Arrays.copyOf(tok.tokenize("A dog."), 7)));
        assertThrows(TokenizerException.class, () -> tok.decode(new int[] {49408}));
        assertThrows(TokenizerException.class, () -> tok.decode(new int[] {-1}));
    }

    @Test
    void cleanUpFollowsTheReference() {
        assertEquals("a & b <c>", ClipPreTokenizer.clean("  A &amp;amp; B\u00A0 &lt;c&gt;\n"));
        assertEquals(List.of("it", "'s", "3", ":", "4", "5", "pm", "—", "don", "'t", "!?"),
                ClipPreTokenizer.pieces("It's 3:45PM — DON'T!?"));
        assertEquals(List.of("<|endoftext|>", "x"), ClipPreTokenizer.pieces("<|ENDOFTEXT|>x"));
        assertEquals("café", ClipPreTokenizer.clean("cafe\u0301")); // NFC, as ftfy does
    }

    @Test
    void captionThroughput() {
        ClipTokenizer tok = SharedClip.openAi();
        String[] words = ("a an the photo picture image of on in with and dog cat man woman child car street "
                + "red blue green small large old young sitting standing running beach mountain city night "
                + "sunset table kitchen two three people group field water snow tree building bicycle").split(" ");
        Random random = new Random(3);
        List<String> captions = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            StringBuilder c = new StringBuilder(words[random.nextInt(words.length)]);
            for (int j = 0, n = 5 + random.nextInt(12); j < n; j++) {
                c.append(' ').append(words[random.nextInt(words.length)]);
            }
            captions.add(random.nextBoolean() ? c + "." : c.toString());
        }
        for (int warm = 0; warm < 3; warm++) {
            tok.tokenize(captions);
        }
        long t0 = System.nanoTime();
        int[][] rows = tok.tokenize(captions);
        double s = (System.nanoTime() - t0) / 1e9;
        long tokens = 0;
        for (int[] row : rows) {
            for (int id : row) {
                tokens++;
                if (id == END) {
                    break;
                }
            }
        }
        System.out.printf("tokenize: %,d captions, %,d tokens in %.3f s: %,.0f tokens/s, %,.0f captions/s%n",
                rows.length, tokens, s, tokens / s, rows.length / s);
        assertEquals(20_000, rows.length);
    }

    /** The reference's merge loop on strings, quadratic and plain, as an oracle for the heap-based one. */
    private static final class ReferenceBpe {
        private final Map<String, Integer> ranks = new HashMap<>();

        ReferenceBpe(List<BpeMerge> merges) {
            for (int r = 0; r < merges.size(); r++) {
                ranks.put(merges.get(r).left() + " " + merges.get(r).right(), r);
            }
        }

        List<String> bpe(String piece) {
            List<String> word = new ArrayList<>();
            int[] base = ByteLevel.baseIds(piece);
            for (int id : base) {
                word.add(ByteLevel.baseSymbol(id));
            }
            while (word.size() > 1) {
                int best = Integer.MAX_VALUE;
                String first = null;
                String second = null;
                for (int i = 0; i + 1 < word.size(); i++) {
                    Integer r = ranks.get(word.get(i) + " " + word.get(i + 1));
                    if (r != null && r < best) {
                        best = r;
                        first = word.get(i);
                        second = word.get(i + 1);
                    }
                }
                if (first == null) {
                    break;
                }
                List<String> merged = new ArrayList<>();
                for (int i = 0; i < word.size(); i++) {
                    if (i + 1 < word.size() && word.get(i).equals(first) && word.get(i + 1).equals(second)) {
                        merged.add(first + second);
                        i++;
                    } else {
                        merged.add(word.get(i));
                    }
                }
                word = merged;
            }
            return word;
        }
    }
}

package dev.xbt.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The BPE trainer: its merge order, determinism, file round trip, and speed. */
class BpeTrainerTest {
    @TempDir
    Path dir;

    @Test
    void mergesTheMostFrequentPairAndBreaksTiesByTheSymbols() {
        // Sennrich et al.'s example, with CLIP's end-of-word marker on the last symbol.
        BpeTrainer trainer = new BpeTrainer();
        for (int i = 0; i < 5; i++) {
            trainer.add("low");
        }
        trainer.add("lower lower");
        for (int i = 0; i < 6; i++) {
            trainer.add("newest");
        }
        trainer.add("widest widest widest");
        List<BpeMerge> merges = trainer.train(BpeTrainer.vocabSize(4));
        // "e s" and "s t</w>" both occur 9 times: "e" < "s". Then "es t</w>" (9), "l o" (7), and of the pairs
        // at 6 ("e w", "n e", "w est</w>") the smallest left symbol.
        assertEquals(List.of(new BpeMerge("e", "s"), new BpeMerge("es", "t</w>"), new BpeMerge("l", "o"),
                new BpeMerge("e", "w")), merges);
    }

    @Test
    void stopsWhenPairsFallBelowTheMinimumCount() {
        List<BpeMerge> merges = new BpeTrainer().add("ab ab cd").train(10_000);
        assertEquals(List.of(new BpeMerge("a", "b</w>")), merges);
        assertEquals(2, new BpeTrainer().add("ab ab cd").train(10_000, 1).size());
        assertThrows(IllegalArgumentException.class, () -> new BpeTrainer().train(513));
    }

    @Test
    void trainingIsDeterministicAndIndependentOfTextOrder() {
        List<String> corpus = corpus(2_000, 5);
        List<BpeMerge> first = new BpeTrainer().addAll(corpus).train(900);
        List<BpeMerge> again = new BpeTrainer().addAll(corpus).train(900);
        List<String> shuffled = new ArrayList<>(corpus);
        Collections.shuffle(shuffled, new Random(99));
        List<BpeMerge> reordered = new BpeTrainer().addAll(shuffled).train(900);
        assertEquals(900 - BpeTrainer.FIXED_IDS, first.size());
        assertEquals(first, again);
        assertEquals(first, reordered);
    }

    @Test
    void writtenMergesLoadIntoTheTokenizer() {
        List<String> corpus = corpus(2_000, 5);
        List<BpeMerge> merges = new BpeTrainer().addAll(corpus).train(1_000);
        ClipTokenizer inMemory = ClipTokenizer.fromMerges(merges);
        for (String name : List.of("trained.txt", "trained.txt.gz")) {
            Path file = dir.resolve(name);
            BpeTrainer.write(file, merges);
            assertEquals(merges, MergesFile.read(file, Integer.MAX_VALUE), name);
            ClipTokenizer tok = ClipTokenizer.fromMergesGz(file);
            assertEquals(BpeTrainer.vocabSize(merges.size()), tok.vocabSize());
            assertEquals(1_000, tok.vocabSize());
            assertEquals(998, tok.startId());
            assertEquals(999, tok.endId());
            String sentence = corpus.get(0);
            int[] ids = tok.encode(sentence);
            assertArrayEquals(inMemory.encode(sentence), ids);
            int bytes = ClipPreTokenizer.clean(sentence).replace(" ", "").getBytes(StandardCharsets.UTF_8).length;
            assertTrue(ids.length < bytes / 2, ids.length + " tokens for " + bytes + " bytes: " + sentence);
            assertEquals(ClipPreTokenizer.clean(sentence).replace(".", " .") + " ", tok.decode(ids));
            int[] row = tok.tokenize(sentence);
            assertEquals(998, row[0]);
            assertEquals(999, row[ids.length + 1]);
        }
    }

    @Test
    void hundredThousandWordsTenThousandMergesTrainInSeconds() {
        List<String> corpus = corpus(10_000, 10);
        BpeTrainer trainer = new BpeTrainer();
        long t0 = System.nanoTime();
        trainer.addAll(corpus);
        long t1 = System.nanoTime();
        List<BpeMerge> merges = trainer.train(BpeTrainer.vocabSize(10_000));
        long t2 = System.nanoTime();
        long words = corpus.stream().mapToLong(s -> s.split(" ").length).sum();
        System.out.printf("BPE training: %,d words (%,d distinct) counted in %.2f s, %,d merges in %.2f s%n",
                words, trainer.distinctWords(), (t1 - t0) / 1e9, merges.size(), (t2 - t1) / 1e9);
        assertTrue(words >= 100_000, words + " words");
        assertEquals(10_000, merges.size());
        assertTrue((t2 - t0) / 1e9 < 20, "took " + (t2 - t0) / 1e9 + " s");
    }

    /**
     * Sentences of made-up words: {@code sentences} of {@code wordsPer} words each, drawn Zipf-like from 20,000
     * words of 1-4 syllables, so frequent words and shared syllables give BPE something to learn.
     */
    private static List<String> corpus(int sentences, int wordsPer) {
        Random random = new Random(42);
        String[] onsets = {"", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w",
            "z", "br", "ch", "cl", "dr", "fl", "gr", "pl", "sh", "st", "th", "tr"};
        String[] nuclei = {"a", "e", "i", "o", "u", "ai", "ea", "ou", "ie", "oo", "é"};
        String[] codas = {"", "", "n", "r", "s", "t", "l", "m", "ng", "ck", "st", "nd"};
        String[] lexicon = new String[20_000];
        for (int w = 0; w < lexicon.length; w++) {
            StringBuilder word = new StringBuilder();
            for (int s = 0, n = 1 + random.nextInt(4); s < n; s++) {
                word.append(onsets[random.nextInt(onsets.length)]).append(nuclei[random.nextInt(nuclei.length)])
                        .append(codas[random.nextInt(codas.length)]);
            }
            lexicon[w] = word.toString();
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < sentences; i++) {
            StringBuilder sentence = new StringBuilder();
            for (int j = 0; j < wordsPer; j++) {
                // Zipf-like: index ~ exp(uniform) concentrates on the first words of the lexicon.
                int w = (int) Math.min(lexicon.length - 1, Math.exp(random.nextDouble() * Math.log(lexicon.length)) - 1);
                sentence.append(j == 0 ? "" : " ").append(lexicon[w]);
            }
            out.add(sentence.append('.').toString());
        }
        return out;
    }
}

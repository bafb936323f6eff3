package dev.xbt.text;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Learns byte-level BPE merges from a text corpus, with {@link ClipPreTokenizer}'s clean-up and pieces and CLIP's
 * 512 byte symbols, so that the result plugs into {@link ClipTokenizer#fromMerges} or, written with
 * {@link #write}, into {@link ClipTokenizer#fromMergesGz}. The vocabulary then has 512 + merges + 2 ids, the
 * last two being start and end.
 *
 * <p>Training counts each distinct piece once with its frequency, then repeatedly joins the adjacent pair that
 * occurs most often (a word of frequency f counts f for each position the pair is at), everywhere, left to right
 * within a word as the tokenizer does. Ties are broken by the pair's symbols in {@link String#compareTo} order,
 * left symbol first, so a corpus gives the same merges whatever order its texts came in. Pair counts are kept
 * up to date incrementally: a merge only revisits the words that contain its pair, found through an index from
 * pair to words. Training stops at the target vocabulary size or when no pair occurs {@code minPairCount} times.
 *
 * <p>Special-token strings in the corpus are skipped. Not thread-safe.
 */
public final class BpeTrainer {
    /** Ids the vocabulary has besides the merges: 512 byte symbols and the two special tokens. */
    public static final int FIXED_IDS = ByteLevel.BASE_SYMBOLS + 2;

    private final Map<String, Integer> wordCounts = new HashMap<>();

    /** Adds the pieces of {@code text} to the counts. */
    public BpeTrainer add(String text) {
        for (String piece : ClipPreTokenizer.pieces(text)) {
            if (!piece.equals(ClipPreTokenizer.START_OF_TEXT) && !piece.equals(ClipPreTokenizer.END_OF_TEXT)) {
                wordCounts.merge(piece, 1, Integer::sum);
            }
        }
        return this;
    }

    /** Adds every text. */
    public BpeTrainer addAll(Iterable<String> texts) {
        for (String text : texts) {
            add(text);
        }
        return this;
    }

    /** Number of distinct pieces counted so far. */
    public int distinctWords() {
        return wordCounts.size();
    }

    /** {@link #train(int, int)} with pairs needing to occur at least twice. */
    public List<BpeMerge> train(int targetVocabSize) {
        return train(targetVocabSize, 2);
    }

    /**
     * The merges, in rank order, for a vocabulary of at most {@code targetVocabSize} ids ({@value #FIXED_IDS}
     * + merges); fewer where pairs run out or fall below {@code minPairCount}.
     */
    public List<BpeMerge> train(int targetVocabSize, int minPairCount) {
        if (targetVocabSize < FIXED_IDS) {
            throw new IllegalArgumentException("targetVocabSize must be >= " + FIXED_IDS + " (512 byte symbols and "
                    + "2 special tokens), got " + targetVocabSize);
        }
        if (minPairCount < 1) {
            throw new IllegalArgumentException("minPairCount must be >= 1, got " + minPairCount);
        }
        return new Run(wordCounts).train(targetVocabSize - FIXED_IDS, minPairCount);
    }

    /** Writes merges in the format of {@code bpe_simple_vocab_16e6.txt}; gzip where the name ends with .gz. */
    public static void write(Path file, List<BpeMerge> merges) {
        MergesFile.write(file, merges);
    }

    /** The vocabulary size of a tokenizer built from {@code merges} merges. */
    public static int vocabSize(int merges) {
        return FIXED_IDS + merges;
    }

    /** One training run's state: the words as symbol ids, pair counts, the pair-to-words index, the heap. */
    private static final class Run {
        private final int[][] words;
        private final int[] lengths;
        private final int[] freqs;
        private final int[] visited;
        /** Token string of each symbol id; ids 0..511 are the byte symbols, merges add more. */
        private final List<String> symbols = new ArrayList<>();
        private final Map<String, Integer> symbolIds = new HashMap<>();
        private final LongIntMap pairCounts;
        private final Map<Long, IntList> wordsOfPair = new HashMap<>();
        private final PriorityQueue<Candidate> heap;
        /** Pairs whose count the current merge changed, with their count before it. */
        private final Map<Long, Integer> countsBefore = new HashMap<>();

        /** A pair and its count when pushed; stale once the pair's count has changed since. */
        private record Candidate(long pair, int count) {}

        Run(Map<String, Integer> wordCounts) {
            for (int id = 0; id < ByteLevel.BASE_SYMBOLS; id++) {
                symbols.add(ByteLevel.baseSymbol(id));
                symbolIds.put(symbols.get(id), id);
            }
            int n = wordCounts.size();
            words = new int[n][];
            lengths = new int[n];
            freqs = new int[n];
            visited = new int[n];
            Arrays.fill(visited, -1);
            pairCounts = new LongIntMap(Math.max(16, n * 4));
            int w = 0;
            for (Map.Entry<String, Integer> e : wordCounts.entrySet()) {
                words[w] = ByteLevel.baseIds(e.getKey());
                lengths[w] = words[w].length;
                freqs[w] = e.getValue();
                countPairs(w, +1);
                w++;
            }
            heap = new PriorityQueue<>(Math.max(16, pairCounts.size()),
                    Comparator.comparingInt((Candidate c) -> -c.count())
                            .thenComparing(c -> symbols.get(LongIntMap.left(c.pair())))
                            .thenComparing(c -> symbols.get(LongIntMap.right(c.pair()))));
            pairCounts.forEach((pair, count) -> heap.add(new Candidate(pair, count)));
            countsBefore.clear();
        }

        List<BpeMerge> train(int maxMerges, int minPairCount) {
            List<BpeMerge> merges = new ArrayList<>();
            Set<Long> merged = new HashSet<>();
            int step = 0;
            while (merges.size() < maxMerges && !heap.isEmpty()) {
                Candidate best = heap.poll();
                if (pairCounts.get(best.pair(), 0) != best.count()) {
                    continue;
                }
                if (best.count() < minPairCount) {
                    break;
                }
                int left = LongIntMap.left(best.pair());
                int right = LongIntMap.right(best.pair());
                String joined = symbols.get(left) + symbols.get(right);
                Integer id = symbolIds.get(joined);
                if (id == null) {
                    id = symbols.size();
                    symbols.add(joined);
                    symbolIds.put(joined, id);
                }
                // A pair made again by another merge path has its rank already: join it, but list it once.
                if (merged.add(best.pair())) {
                    merges.add(new BpeMerge(symbols.get(left), symbols.get(right)));
                }
                apply(best.pair(), left, right, id, step++);
            }
            return merges;
        }

        /** Joins every occurrence of (left, right) into {@code id} and updates the counts and the heap. */
        private void apply(long pair, int left, int right, int id, int step) {
            IntList ws = wordsOfPair.remove(pair);
            if (ws == null) {
                return;
            }
            for (int k = 0; k < ws.size; k++) {
                int w = ws.items[k];
                if (visited[w] == step) {
                    continue;
                }
                visited[w] = step;
                int[] s = words[w];
                int len = lengths[w];
                if (!contains(s, len, left, right)) {
                    continue;
                }
                countPairs(w, -1);
                int out = 0;
                for (int i = 0; i < len; i++) {
                    if (i + 1 < len && s[i] == left && s[i + 1] == right) {
                        s[out++] = id;
                        i++;
                    } else {
                        s[out++] = s[i];
                    }
                }
                lengths[w] = out;
                countPairs(w, +1);
            }
            countsBefore.forEach((p, before) -> {
                int count = pairCounts.get(p, 0);
                if (count > 0 && count != before) {
                    heap.add(new Candidate(p, count));
                }
            });
            countsBefore.clear();
        }

        /** Adds (sign +1) or removes (-1) word w's pairs from the counts, indexing the word under each pair. */
        private void countPairs(int w, int sign) {
            int[] s = words[w];
            int f = freqs[w] * sign;
            for (int i = 0; i + 1 < lengths[w]; i++) {
                long p = LongIntMap.pair(s[i], s[i + 1]);
                int count = pairCounts.add(p, f);
                countsBefore.putIfAbsent(p, count - f);
                if (sign > 0) {
                    wordsOfPair.computeIfAbsent(p, x -> new IntList()).add(w);
                }
            }
        }

        private static boolean contains(int[] s, int len, int left, int right) {
            for (int i = 0; i + 1 < len; i++) {
                if (s[i] == left && s[i + 1] == right) {
                    return true;
                }
            }
            return false;
        }
    }

    /** A growable int list for the pair-to-words index; a word may appear in it more than once. */
    private static final class IntList {
        int[] items = new int[4];
        int size;

        void add(int value) {
            if (size > 0 && items[size - 1] == value) {
                return;
            }
            if (size == items.length) {
                items = Arrays.copyOf(items, size * 2);
            }
            items[size++] = value;
        }
    }
}

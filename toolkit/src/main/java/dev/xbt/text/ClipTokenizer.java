package dev.xbt.text;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * CLIP's byte-level BPE tokenizer, as OpenAI's {@code simple_tokenizer} computes it: the ids of the reference
 * for every text that {@link ClipPreTokenizer} cleans as the reference does (see there for what of ftfy is
 * and is not reproduced).
 *
 * <p>Each pre-tokenized piece becomes its UTF-8 bytes, shown through GPT-2's byte-to-character table, the last
 * one marked {@code </w>}; then the adjacent pair of lowest merge rank is joined everywhere in the word, left to
 * right, until no adjacent pair has a rank. The pieces {@code <|startoftext|>} and {@code <|endoftext|>} in a
 * text become their special ids, as in the reference. Any word length is exact and fast: the merge loop keeps
 * the word's pairs in a heap, O(n log n) for a word of n bytes, so a 10,000-letter word takes milliseconds.
 * Words of up to {@value #CACHED_WORD_LENGTH} characters are cached in a map cleared whenever it passes
 * {@value #CACHE_LIMIT} entries.
 *
 * <p>Vocabulary: ids 0..255 are the byte symbols, 256..511 the same with {@code </w>}, then one id for each
 * merge, then the start and end tokens, the last two ids. With OpenAI's merges that is 49,408 ids, start 49406
 * and end 49407; a vocabulary trained by {@link BpeTrainer} has its own size, and its special ids follow it.
 *
 * <p>Instances are immutable apart from the cache and safe to share between threads.
 */
public final class ClipTokenizer {
    /** Start-of-text id in OpenAI's vocabulary. */
    public static final int OPENAI_START_ID = 49406;
    /** End-of-text id in OpenAI's vocabulary: the highest id, the position the text model pools at. */
    public static final int OPENAI_END_ID = 49407;
    /** Number of ids in OpenAI's vocabulary. */
    public static final int OPENAI_VOCAB_SIZE = 49408;
    /** Merges CLIP uses from {@code bpe_simple_vocab_16e6.txt.gz}: 49152 - 256 - 2. */
    public static final int OPENAI_MERGES = 49152 - 256 - 2;
    /** CLIP's text context length. */
    public static final int CONTEXT_LENGTH = 77;

    static final int CACHED_WORD_LENGTH = 64;
    static final int CACHE_LIMIT = 1 << 16;
    private static final int NO_RANK = -1;

    /** Token string of each id; null where no token has the id. */
    private final String[] tokens;
    /** Id of the i-th byte symbol (0..255) and of the same with {@code </w>} (256..511). */
    private final int[] baseIds;
    /** Rank of each mergeable pair of ids. */
    private final LongIntMap ranks;
    /** Id that the merge of rank r makes. */
    private final int[] mergedIds;
    private final int startId;
    private final int endId;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private ClipTokenizer(String[] tokens, int[] baseIds, LongIntMap ranks, int[] mergedIds, int startId, int endId) {
        this.tokens = tokens;
        this.baseIds = baseIds;
        this.ranks = ranks;
        this.mergedIds = mergedIds;
        this.startId = startId;
        this.endId = endId;
    }

    // ---------------------------------------------------------------------------------------------- loaders

    /**
     * OpenAI's tokenizer from {@code bpe_simple_vocab_16e6.txt.gz}, or any merges file of that format, gzip or
     * plain (such as one written by {@link BpeTrainer}): its first {@value #OPENAI_MERGES} merges, or all of
     * them where it has fewer.
     *
     * @throws TokenizerException where the file is missing, truncated or malformed
     */
    public static ClipTokenizer fromMergesGz(Path mergesFile) {
        return fromMergesGz(mergesFile, OPENAI_MERGES);
    }

    /** As {@link #fromMergesGz(Path)}, using the first {@code maxMerges} merges of the file. */
    public static ClipTokenizer fromMergesGz(Path mergesFile, int maxMerges) {
        List<BpeMerge> merges = MergesFile.read(mergesFile, maxMerges);
        try {
            return fromMerges(merges);
        } catch (TokenizerException e) {
            throw new TokenizerException(mergesFile + ": " + e.getMessage(), e);
        }
    }

    /**
     * The tokenizer of a merge list, numbered as CLIP numbers it: 512 byte symbols, one id a merge (the
     * symbol it makes; where two merges make the same symbol, the later id is the one used, as in the
     * reference), then start and end.
     *
     * @throws TokenizerException where a merge's symbol is neither a byte symbol nor made by a merge
     */
    public static ClipTokenizer fromMerges(List<BpeMerge> merges) {
        int size = ByteLevel.BASE_SYMBOLS + merges.size() + 2;
        String[] tokens = new String[size];
        Map<String, Integer> ids = new HashMap<>(size * 2);
        for (int id = 0; id < ByteLevel.BASE_SYMBOLS; id++) {
            tokens[id] = ByteLevel.baseSymbol(id);
            ids.put(tokens[id], id);
        }
        for (int r = 0; r < merges.size(); r++) {
            int id = ByteLevel.BASE_SYMBOLS + r;
            tokens[id] = merges.get(r).joined();
            ids.put(tokens[id], id);
        }
        tokens[size - 2] = ClipPreTokenizer.START_OF_TEXT;
        tokens[size - 1] = ClipPreTokenizer.END_OF_TEXT;
        int[] baseIds = new int[ByteLevel.BASE_SYMBOLS];
        Arrays.setAll(baseIds, i -> i);
        return withMerges(tokens, ids, baseIds, merges, size - 2, size - 1);
    }

    /**
     * A Hugging Face CLIP tokenizer: {@code vocab.json} maps each token to its id and must hold the 512 byte
     * symbols, every merge's symbols, {@code <|startoftext|>} and {@code <|endoftext|>}; {@code merges.txt}
     * has a {@code #version} header line, of which the first {@value #OPENAI_MERGES} merges are used, as
     * Hugging Face's {@code CLIPTokenizer} does.
     *
     * @throws TokenizerException where a file is missing or malformed, or a needed token is not in the vocab
     */
    public static ClipTokenizer fromHuggingFace(Path vocabJson, Path mergesTxt) {
        Map<String, Integer> ids = readVocabJson(vocabJson);
        String[] tokens = new String[ids.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1];
        ids.forEach((token, id) -> {
            if (tokens[id] != null) {
                throw new TokenizerException(vocabJson + ": id " + id + " is given to both '" + tokens[id]
                        + "' and '" + token + "'");
            }
            tokens[id] = token;
        });
        int[] baseIds = new int[ByteLevel.BASE_SYMBOLS];
        for (int i = 0; i < baseIds.length; i++) {
            baseIds[i] = idOf(ids, ByteLevel.baseSymbol(i), vocabJson);
        }
        int start = idOf(ids, ClipPreTokenizer.START_OF_TEXT, vocabJson);
        int end = idOf(ids, ClipPreTokenizer.END_OF_TEXT, vocabJson);
        List<BpeMerge> merges = MergesFile.read(mergesTxt, OPENAI_MERGES);
        try {
            return withMerges(tokens, ids, baseIds, merges, start, end);
        } catch (TokenizerException e) {
            throw new TokenizerException(mergesTxt + " against " + vocabJson + ": " + e.getMessage(), e);
        }
    }

    private static ClipTokenizer withMerges(String[] tokens, Map<String, Integer> ids, int[] baseIds,
            List<BpeMerge> merges, int startId, int endId) {
        LongIntMap ranks = new LongIntMap(merges.size());
        int[] mergedIds = new int[merges.size()];
        for (int r = 0; r < merges.size(); r++) {
            BpeMerge m = merges.get(r);
            int left = symbolId(ids, m.left(), r);
            int right = symbolId(ids, m.right(), r);
            mergedIds[r] = symbolId(ids, m.joined(), r);
            ranks.put(LongIntMap.pair(left, right), r); // a repeated pair keeps its last rank, as in the reference
        }
        return new ClipTokenizer(tokens, baseIds, ranks, mergedIds, startId, endId);
    }

    private static int symbolId(Map<String, Integer> ids, String symbol, int rank) {
        Integer id = ids.get(symbol);
        if (id == null) {
            throw new TokenizerException("merges line " + (rank + 2) + " (merge " + (rank + 1) + "): symbol '"
                    + symbol + "' is not in the vocabulary");
        }
        return id;
    }

    private static int idOf(Map<String, Integer> ids, String token, Path vocabJson) {
        Integer id = ids.get(token);
        if (id == null) {
            throw new TokenizerException(vocabJson + ": token '" + token + "' is missing");
        }
        return id;
    }

    private static Map<String, Integer> readVocabJson(Path vocabJson) {
        byte[] bytes = MergesFile.readBytes(vocabJson);
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new TokenizerException(vocabJson + ": not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new TokenizerException(vocabJson + ": cannot parse: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new TokenizerException(vocabJson + ": expected a JSON object mapping token to id");
        }
        // Ids index an array: refuse ones far past the number of tokens rather than allocate for them.
        long idLimit = 4L * root.size() + 1024;
        Map<String, Integer> ids = new HashMap<>(root.size() * 2);
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            JsonNode v = e.getValue();
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0 || v.intValue() >= idLimit) {
                throw new TokenizerException(vocabJson + ": token '" + e.getKey() + "' has id " + v
                        + ", expected an int in [0, " + idLimit + ")");
            }
            ids.put(e.getKey(), v.intValue());
        }
        return ids;
    }

    // ------------------------------------------------------------------------------------------- vocabulary

    /** Number of ids: one past the highest. */
    public int vocabSize() {
        return tokens.length;
    }

    /** Id of {@code <|startoftext|>}. */
    public int startId() {
        return startId;
    }

    /** Id of {@code <|endoftext|>}: with CLIP's numbering, the highest id. */
    public int endId() {
        return endId;
    }

    /** The token string of {@code id}, in byte-level spelling, e.g. {@code "photo</w>"}. */
    public String token(int id) {
        checkId(id);
        return tokens[id];
    }

    // ------------------------------------------------------------------------------------------- encoding

    /** The ids of {@code text}, without start and end tokens, padding or truncation. */
    public int[] encode(String text) {
        int[] out = new int[16];
        int n = 0;
        for (String piece : ClipPreTokenizer.pieces(text)) {
            int[] ids = word(piece);
            if (n + ids.length > out.length) {
                out = Arrays.copyOf(out, Math.max(out.length * 2, n + ids.length));
            }
            System.arraycopy(ids, 0, out, n, ids.length);
            n += ids.length;
        }
        return Arrays.copyOf(out, n);
    }

    /** {@link #encode(String)} as a list. */
    public List<Integer> encodeToList(String text) {
        return Arrays.stream(encode(text)).boxed().toList();
    }

    /** {@link #tokenize(String, int)} at {@value #CONTEXT_LENGTH}. */
    public int[] tokenize(String text) {
        return tokenize(text, CONTEXT_LENGTH);
    }

    /**
     * The model input for {@code text}: start, the content ids, end, then 0 up to {@code contextLength}. Zero is
     * a real token ({@code !}), not a mask: the text model pools at the end token. A text longer than the
     * context keeps the start, its first {@code contextLength - 2} content ids and the end token last
     * (OpenCLIP's {@code truncate=True}; OpenAI's tokenizer raises instead). An empty text gives start, end.
     */
    public int[] tokenize(String text, int contextLength) {
        if (contextLength < 2) {
            throw new IllegalArgumentException("contextLength must be >= 2 (start and end), got " + contextLength);
        }
        int[] content = encode(text);
        int kept = Math.min(content.length, contextLength - 2);
        int[] row = new int[contextLength];
        row[0] = startId;
        System.arraycopy(content, 0, row, 1, kept);
        row[kept + 1] = endId;
        return row;
    }

    /** {@link #tokenize(List, int)} at {@value #CONTEXT_LENGTH}. */
    public int[][] tokenize(List<String> texts) {
        return tokenize(texts, CONTEXT_LENGTH);
    }

    /** One row of {@link #tokenize(String, int)} for each text. */
    public int[][] tokenize(List<String> texts, int contextLength) {
        int[][] rows = new int[texts.size()][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = tokenize(texts.get(i), contextLength);
        }
        return rows;
    }

    /** The token strings of {@code text}'s ids, for inspection. */
    public List<String> tokenStrings(String text) {
        List<String> out = new ArrayList<>();
        for (int id : encode(text)) {
            out.add(tokens[id]);
        }
        return out;
    }

    /**
     * The text of {@code ids}, as the reference decodes: token strings joined, byte-level characters turned back
     * into bytes, UTF-8 decoded (invalid sequences become U+FFFD), and every {@code </w>} replaced by a space.
     * So words come back lower-cased with a space after each (also before punctuation), special tokens and
     * padding zeros ({@code !}) come back as text: strip them from the ids first where unwanted.
     *
     * @throws TokenizerException for an id outside the vocabulary
     */
    public String decode(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 6);
        for (int id : ids) {
            checkId(id);
            String token = tokens[id];
            for (int i = 0; i < token.length(); i++) {
                int b = ByteLevel.byteOf(token.charAt(i));
                if (b >= 0) {
                    bytes.write(b);
                } else {
                    bytes.writeBytes(String.valueOf(token.charAt(i)).getBytes(StandardCharsets.UTF_8));
                }
            }
        }
        return bytes.toString(StandardCharsets.UTF_8).replace(ByteLevel.END_OF_WORD, " ");
    }

    private void checkId(int id) {
        if (id < 0 || id >= tokens.length || tokens[id] == null) {
            throw new TokenizerException("id " + id + " is not in the vocabulary (" + tokens.length + " ids)");
        }
    }

    // ------------------------------------------------------------------------------------------------- BPE

    /** The ids of one pre-tokenized piece. */
    private int[] word(String piece) {
        if (piece.length() > CACHED_WORD_LENGTH) {
            return bpe(piece);
        }
        int[] ids = cache.get(piece);
        if (ids == null) {
            ids = bpe(piece);
            if (cache.size() >= CACHE_LIMIT) {
                cache.clear();
            }
            cache.put(piece, ids);
        }
        return ids;
    }

    private int[] bpe(String piece) {
        if (piece.equals(ClipPreTokenizer.START_OF_TEXT)) {
            return new int[] {startId};
        }
        if (piece.equals(ClipPreTokenizer.END_OF_TEXT)) {
            return new int[] {endId};
        }
        int[] sym = ByteLevel.baseIds(piece);
        for (int i = 0; i < sym.length; i++) {
            sym[i] = baseIds[sym[i]];
        }
        int n = sym.length;
        if (n < 2) {
            return sym;
        }
        // Symbols form a linked list over their first byte's position; the heap holds (rank << 32 | position)
        // of adjacent pairs, stale entries being skipped when the pair at that position no longer has that rank.
        int[] next = new int[n];
        int[] prev = new int[n];
        boolean[] gone = new boolean[n];
        LongHeap heap = new LongHeap(2 * n);
        for (int i = 0; i < n; i++) {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
            if (i + 1 < n) {
                push(heap, sym[i], sym[i + 1], i);
            }
        }
        int[] batch = new int[n];
        while (!heap.isEmpty()) {
            // All occurrences of the lowest-ranked pair are joined left to right before any other rank, like the
            // reference's pass over the word; a join never makes another occurrence of the same pair.
            int rank = (int) (heap.peek() >>> 32);
            int count = 0;
            while (!heap.isEmpty() && (int) (heap.peek() >>> 32) == rank) {
                batch[count++] = (int) heap.pop();
            }
            for (int k = 0; k < count; k++) {
                int i = batch[k];
                int j = next[i];
                if (gone[i] || j < 0 || rank(sym[i], sym[j]) != rank) {
                    continue;
                }
                sym[i] = mergedIds[rank];
                gone[j] = true;
                next[i] = next[j];
                if (next[j] >= 0) {
                    prev[next[j]] = i;
                    push(heap, sym[i], sym[next[i]], i);
                }
                if (prev[i] >= 0) {
                    push(heap, sym[prev[i]], sym[i], prev[i]);
                }
            }
        }
        int[] out = new int[n];
        int m = 0;
        for (int i = 0; i >= 0; i = next[i]) {
            out[m++] = sym[i];
        }
        return Arrays.copyOf(out, m);
    }

    private int rank(int left, int right) {
        return ranks.get(LongIntMap.pair(left, right), NO_RANK);
    }

    private void push(LongHeap heap, int left, int right, int position) {
        int rank = rank(left, right);
        if (rank != NO_RANK) {
            heap.push(((long) rank << 32) | position);
        }
    }
}

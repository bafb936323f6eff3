package dev.xbt.eval;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Locale;

/**
 * The outcome of one retrieval evaluation: for every query its first-hit rank, the 0-based position of the first
 * matching gallery item (rank 0: the top result matches). Recall@K is the share of queries whose first-hit rank is
 * below K. Ties are broken against the query (see {@link Retrieval}).
 *
 * @param imageToText one rank per image query (over the caption gallery)
 * @param textToImage one rank per caption query (over the image gallery)
 */
public record Ranks(int[] imageToText, int[] textToImage) {
    /** The cut-offs reported everywhere: R@1, R@5, R@10. */
    public static final int[] KS = {1, 5, 10};

    /** The first-hit ranks of one direction. */
    public int[] ranks(Direction d) {
        return d == Direction.IMAGE_TO_TEXT ? imageToText : textToImage;
    }

    /** Recall@k of one direction as a fraction in [0, 1] (0 when there are no queries). */
    public double recall(Direction d, int k) {
        if (k < 1) throw new IllegalArgumentException("recall@k needs k >= 1, got " + k);
        int[] r = ranks(d);
        int hits = 0;
        for (int x : r) if (x < k) hits++;
        return r.length == 0 ? 0 : hits / (double) r.length;
    }

    /** Whether query {@code q} of direction {@code d} is a hit at k. */
    public boolean hit(Direction d, int q, int k) {
        return ranks(d)[q] < k;
    }

    /** rsum: R@1 + R@5 + R@10 of both directions, in percent (0 to 600), as retrieval papers report it. */
    public double rsum() {
        double s = 0;
        for (Direction d : Direction.values()) for (int k : KS) s += 100 * recall(d, k);
        return s;
    }

    /** {"i2t_r1": ..., "i2t_r5": ..., ..., "t2i_r10": ..., "rsum": ...} with recalls as fractions. */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        for (Direction d : Direction.values()) for (int k : KS) o.put(key(d, k), recall(d, k));
        o.put("rsum", rsum());
        o.put("image_queries", imageToText.length);
        o.put("text_queries", textToImage.length);
        return o;
    }

    /** The JSON key of one recall: {@code i2t_r1}, {@code t2i_r10}, ... */
    public static String key(Direction d, int k) {
        return d.key() + "_r" + k;
    }

    /** A table: one row per direction, columns R@1, R@5, R@10 in percent, then rsum. */
    public String table(String title) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-14s %7s %7s %7s%n", title, "R@1", "R@5", "R@10"));
        for (Direction d : Direction.values()) {
            sb.append(String.format(Locale.ROOT, "%-14s", d.label()));
            for (int k : KS) sb.append(String.format(Locale.ROOT, " %7.2f", 100 * recall(d, k)));
            sb.append(String.format(Locale.ROOT, "   (%d queries)%n", ranks(d).length));
        }
        sb.append(String.format(Locale.ROOT, "%-14s %7.2f%n", "rsum", rsum()));
        return sb.toString();
    }
}

package dev.xbt.eval;

import dev.xbt.engine.Ops;
import dev.xbt.engine.Tape;
import dev.xbt.engine.Tensor;

/**
 * Image–text retrieval by cosine similarity (dot products of L2-normalised embeddings).
 *
 * <p>Image→text: each image queries the caption gallery; its first-hit rank is the number of captions of other
 * images that score at least as high as its best-scoring own caption (an image has several captions; finding any one
 * is a hit). Text→image: each caption queries the image gallery; its first-hit rank is the number of other images
 * that score at least as high as its own image.
 *
 * <p><b>Ties count against the query</b>: a non-matching item with exactly the matching item's score is ranked
 * ahead of it. A degenerate model that gives every item the same score therefore scores 0 at R@1 (for galleries
 * of more than one candidate) instead of a perfect 1.
 *
 * <p>Scores are computed in float32 on the current backend ({@link Ops#matmul}), queries in chunks, so a large
 * evaluation needs memory for {@value #CHUNK} × gallery scores at a time only.
 */
public final class Retrieval {
    /** Queries scored per matrix product. */
    static final int CHUNK = 256;

    private Retrieval() {}

    /** Retrieval within one embedding space: queries and gallery from the same set. */
    public static Ranks evaluate(EncodedSet set) {
        return evaluate(set, set);
    }

    /**
     * Queries of {@code queries} against the gallery of {@code gallery}: image queries against gallery captions and
     * caption queries against gallery images. The two sets must describe the same items in the same order and live
     * in the same space (same width): e.g. the new model's mapped queries against the old model's gallery.
     */
    public static Ranks evaluate(EncodedSet queries, EncodedSet gallery) {
        queries.checkSameItems(gallery, "retrieval");
        if (queries.dim() != gallery.dim()) {
            throw new IllegalArgumentException("retrieval: queries of width " + queries.dim() + " against a gallery of width "
                    + gallery.dim() + " (map the queries into the gallery's space first)");
        }
        checkFinite(queries, "queries");
        if (gallery != queries) checkFinite(gallery, "gallery");
        int n = queries.imageCount(), m = queries.captionCount(), d = queries.dim();
        int[] owner = queries.captionImage();
        // Image queries: best own caption vs every other caption.
        int[] i2t = new int[n];
        scan(queries.images(), n, gallery.captions(), m, d, (q, s) -> {
            float best = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < m; c++) if (owner[c] == q && s[c] > best) best = s[c];
            int rank = 0;
            for (int c = 0; c < m; c++) if (owner[c] != q && s[c] >= best) rank++;
            i2t[q] = rank;
        });
        int[] t2i = new int[m];
        scan(queries.captions(), m, gallery.images(), n, d, (q, s) -> {
            int own = owner[q];
            float target = s[own];
            int rank = 0;
            for (int j = 0; j < n; j++) if (j != own && s[j] >= target) rank++;
            t2i[q] = rank;
        });
        return new Ranks(i2t, t2i);
    }

    /**
     * {@link #evaluate(EncodedSet, EncodedSet)} with the images cut into {@code folds} galleries of about equal size
     * (consecutive images in the sets' order, the captions with their images): each query is ranked within its own
     * fold only, as in COCO's 5-fold 1K test. A large held-out set is then measured at the difficulty of a small
     * gallery, with the statistical weight of all its queries; recall is over all queries of all folds. The ranks
     * come back in the sets' order. One fold is the whole set.
     */
    public static Ranks evaluate(EncodedSet queries, EncodedSet gallery, int folds) {
        queries.checkSameItems(gallery, "retrieval");
        int n = queries.imageCount();
        if (folds < 1 || folds > Math.max(1, n)) {
            throw new IllegalArgumentException("retrieval: " + folds + " folds of " + n + " images (1 to the number of images)");
        }
        if (folds == 1) return evaluate(queries, gallery);
        int[] i2t = new int[n], t2i = new int[queries.captionCount()];
        for (int f = 0; f < folds; f++) {
            int from = (int) ((long) n * f / folds), to = (int) ((long) n * (f + 1) / folds);
            int[] rows = queries.captionRows(from, to);
            Ranks r = evaluate(queries.images(from, to), gallery.images(from, to));
            System.arraycopy(r.imageToText(), 0, i2t, from, to - from);
            for (int i = 0; i < rows.length; i++) t2i[rows[i]] = r.textToImage()[i];
        }
        return new Ranks(i2t, t2i);
    }

    /** NaN scores would compare false both ways and silently count as hits; refuse them up front. */
    private static void checkFinite(EncodedSet s, String what) {
        for (float[] v : new float[][] {s.images(), s.captions()}) {
            for (float x : v) {
                if (!Float.isFinite(x)) throw new IllegalArgumentException("retrieval: the " + what + " hold a non-finite embedding value");
            }
        }
    }

    /** Receives the scores of one query against the whole gallery. */
    @FunctionalInterface
    interface Row {
        void accept(int query, float[] scores);
    }

    /** Scores [nq, d] queries against [ng, d] gallery rows, chunk by chunk, handing each query's row to {@code row}. */
    static void scan(float[] q, int nq, float[] g, int ng, int d, Row row) {
        if (nq == 0 || ng == 0) {
            float[] none = new float[ng];
            for (int i = 0; i < nq; i++) row.accept(i, none);
            return;
        }
        try (Tape.Region ignored = Tape.inference()) {
            Tensor gallery = Tensor.of(g, ng, d);
            float[] s = new float[ng];
            for (int from = 0; from < nq; from += CHUNK) {
                int to = Math.min(nq, from + CHUNK);
                float[] part = new float[(to - from) * d];
                System.arraycopy(q, from * d, part, 0, part.length);
                float[] scores = Ops.matmul(Tensor.of(part, to - from, d), gallery, false, true).toArray();
                for (int i = from; i < to; i++) {
                    System.arraycopy(scores, (i - from) * ng, s, 0, ng);
                    row.accept(i, s);
                }
            }
        }
    }
}

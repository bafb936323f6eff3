package dev.xbt.xbt;

import dev.xbt.eval.EncodedSet;

/**
 * A way to let the new model's queries search the old model's gallery: maps new embeddings [n, newDim] to
 * L2-normalised vectors in the old space [n, oldDim]. Every upgrade method (the raw map, the linear and Procrustes
 * baselines, SLERP blends, XBT's ψ) implements it, so evaluation treats them alike.
 */
public interface EmbeddingMap {
    /** A short name for tables and JSON keys. */
    String name();

    int newDim();

    int oldDim();

    /**
     * Maps {@code n} queries. {@code newEmb} [n, newDim] are the new model's embeddings; {@code oldEmb} [n, oldDim]
     * the old model's embeddings of the same queries, read only by methods that blend with them
     * ({@link #needsOld()}), and may be null otherwise. Returns [n, oldDim], each row L2-normalised.
     */
    float[] map(float[] newEmb, float[] oldEmb, int n);

    /** Whether {@link #map} needs the old model's embeddings of the queries (the old model still runs on queries). */
    default boolean needsOld() {
        return false;
    }

    /**
     * The new model's set mapped into the old space: images and captions through {@link #map}, with the old model's
     * embeddings of the same items where the method needs them.
     */
    default EncodedSet apply(EncodedSet newSet, EncodedSet oldSet) {
        if (newSet.dim() != newDim()) {
            throw new IllegalArgumentException(name() + ": maps width " + newDim() + ", the new embeddings are " + newSet.dim() + " wide");
        }
        if (needsOld()) {
            newSet.checkSameItems(oldSet, name());
            if (oldSet.dim() != oldDim()) {
                throw new IllegalArgumentException(name() + ": maps to width " + oldDim() + ", the old embeddings are " + oldSet.dim() + " wide");
            }
        }
        float[] img = map(newSet.images(), needsOld() ? oldSet.images() : null, newSet.imageCount());
        float[] cap = map(newSet.captions(), needsOld() ? oldSet.captions() : null, newSet.captionCount());
        return newSet.withEmbeddings(img, cap, oldDim());
    }

    /** Normalises each row of {@code v} [n, d] in place (a zero row stays zero); returns v. */
    static float[] normalizeRows(float[] v, int n, int d) {
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int k = 0; k < d; k++) s += (double) v[i * d + k] * v[i * d + k];
            if (s == 0) continue;
            double inv = 1 / Math.sqrt(s);
            for (int k = 0; k < d; k++) v[i * d + k] = (float) (v[i * d + k] * inv);
        }
        return v;
    }

    /** Throws unless {@code v} holds n rows of d values. */
    static void checkRows(String what, float[] v, int n, int d) {
        if (v == null || v.length != (long) n * d) {
            throw new IllegalArgumentException(what + ": expected " + n + " x " + d + " values, got " + (v == null ? "none" : v.length));
        }
    }
}

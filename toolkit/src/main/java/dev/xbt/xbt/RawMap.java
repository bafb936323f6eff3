package dev.xbt.xbt;

/**
 * The "do nothing" baseline: a new embedding used as an old one, zero-padded when the new space is narrower and
 * truncated when it is wider, then re-normalised. Meaningful only where the two spaces happen to agree; the floor
 * every other method should beat.
 */
public record RawMap(int newDim, int oldDim) implements EmbeddingMap {
    @Override
    public String name() {
        return "raw";
    }

    @Override
    public float[] map(float[] newEmb, float[] oldEmb, int n) {
        EmbeddingMap.checkRows(name(), newEmb, n, newDim);
        float[] out = new float[n * oldDim];
        int w = Math.min(newDim, oldDim);
        for (int i = 0; i < n; i++) System.arraycopy(newEmb, i * newDim, out, i * oldDim, w);
        return EmbeddingMap.normalizeRows(out, n, oldDim);
    }
}

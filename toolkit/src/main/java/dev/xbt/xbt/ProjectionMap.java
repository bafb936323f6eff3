package dev.xbt.xbt;

import dev.xbt.engine.Tape;
import dev.xbt.engine.Tensor;

/** XBT's ψ (or any {@link Projection}) as an {@link EmbeddingMap}: new embeddings through it, in inference mode, in chunks. */
public final class ProjectionMap implements EmbeddingMap {
    private static final int CHUNK = 1024;
    private final String name;
    private final Projection psi;

    /** ψ under the method name {@code xbt}. */
    public ProjectionMap(Projection psi) {
        this("xbt", psi);
    }

    /** A projection under another method name (e.g. {@code bct}, whose head has ψ's form). */
    public ProjectionMap(String name, Projection psi) {
        this.name = name;
        this.psi = psi;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int newDim() {
        return psi.config().newDim();
    }

    @Override
    public int oldDim() {
        return psi.config().oldDim();
    }

    @Override
    public float[] map(float[] newEmb, float[] oldEmb, int n) {
        int dn = newDim(), dold = oldDim();
        EmbeddingMap.checkRows(name(), newEmb, n, dn);
        float[] out = new float[n * dold];
        try (Tape.Region ignored = Tape.inference()) {
            for (int from = 0; from < n; from += CHUNK) {
                int to = Math.min(n, from + CHUNK);
                float[] part = java.util.Arrays.copyOfRange(newEmb, from * dn, to * dn);
                float[] y = psi.forward(Tensor.of(part, to - from, dn)).toArray();
                System.arraycopy(y, 0, out, from * dold, y.length);
            }
        }
        return out;
    }
}

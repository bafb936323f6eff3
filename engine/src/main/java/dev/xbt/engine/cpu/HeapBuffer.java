package dev.xbt.engine.cpu;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Buffer;

/** A range of a Java float[]: the memory of the CPU backends. */
public final class HeapBuffer implements Buffer {
    public final float[] data;
    public final int off;
    private final int len;
    private final Backend backend;

    HeapBuffer(Backend backend, float[] data, int off, int len) {
        this.backend = backend;
        this.data = data;
        this.off = off;
        this.len = len;
    }

    @Override
    public long length() {
        return len;
    }

    @Override
    public Buffer slice(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > len) {
            throw new IndexOutOfBoundsException("slice [" + offset + ", " + (offset + length) + ") of " + len);
        }
        return new HeapBuffer(backend, data, off + (int) offset, (int) length);
    }

    @Override
    public Backend backend() {
        return backend;
    }

    /** The heap buffer behind a buffer of a CPU backend. */
    static HeapBuffer of(Buffer b) {
        if (b instanceof HeapBuffer h) return h;
        throw new IllegalArgumentException("not a CPU buffer: " + (b == null ? "null" : b.backend().name()));
    }
}

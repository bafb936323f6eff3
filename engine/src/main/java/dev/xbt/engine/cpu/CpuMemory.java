package dev.xbt.engine.cpu;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Buffer;

import java.util.Arrays;

/** Memory of the CPU backends: Java heap arrays, shared by the scalar and the vector backend. */
abstract class CpuMemory implements Backend {

    static HeapBuffer h(Buffer b) {
        return HeapBuffer.of(b);
    }

    @Override
    public Buffer allocate(long n) {
        if (n < 0 || n > Integer.MAX_VALUE - 8) throw new EngineException(name() + ": cannot allocate " + n
                + " floats on the Java heap (limit 2^31 - 9 per tensor)");
        return new HeapBuffer(this, new float[(int) n], 0, (int) n);
    }

    @Override
    public Buffer upload(float[] src, int off, int n) {
        return new HeapBuffer(this, Arrays.copyOfRange(src, off, off + n), 0, n);
    }

    @Override
    public void download(Buffer src, float[] dst, int dstOff) {
        HeapBuffer s = h(src);
        System.arraycopy(s.data, s.off, dst, dstOff, (int) s.length());
    }

    @Override
    public void copy(Buffer src, Buffer dst) {
        HeapBuffer s = h(src), d = h(dst);
        if (s.length() != d.length()) throw new IllegalArgumentException("copy: lengths differ");
        System.arraycopy(s.data, s.off, d.data, d.off, (int) s.length());
    }

    @Override
    public void fill(Buffer dst, float value) {
        HeapBuffer d = h(dst);
        Arrays.fill(d.data, d.off, d.off + (int) d.length(), value);
    }

    @Override
    public String toString() {
        return name();
    }
}

package dev.xbt.engine.cpu;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Buffer;

/**
 * Memory of the scalar reference backend: float32 storage (the reference for the float32
 * backends) or float64 storage (for float64 gradient checks), behind one element accessor so that
 * the reference kernels are written once.
 */
abstract sealed class RefBuffer implements Buffer {
    final Backend backend;
    final int off;
    final int len;

    RefBuffer(Backend backend, int off, int len) {
        this.backend = backend;
        this.off = off;
        this.len = len;
    }

    /** Element i of this range. */
    abstract double get(int i);

    abstract void set(int i, double v);

    final void add(int i, double v) {
        set(i, get(i) + v);
    }

    @Override
    public long length() {
        return len;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    void checkSlice(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > len) {
            throw new IndexOutOfBoundsException("slice [" + offset + ", " + (offset + length) + ") of " + len);
        }
    }

    static final class F32 extends RefBuffer {
        final float[] data;

        F32(Backend backend, float[] data, int off, int len) {
            super(backend, off, len);
            this.data = data;
        }

        @Override
        double get(int i) {
            return data[off + i];
        }

        @Override
        void set(int i, double v) {
            data[off + i] = (float) v;
        }

        @Override
        public Buffer slice(long offset, long length) {
            checkSlice(offset, length);
            return new F32(backend, data, off + (int) offset, (int) length);
        }
    }

    static final class F64 extends RefBuffer {
        final double[] data;

        F64(Backend backend, double[] data, int off, int len) {
            super(backend, off, len);
            this.data = data;
        }

        @Override
        double get(int i) {
            return data[off + i];
        }

        @Override
        void set(int i, double v) {
            data[off + i] = v;
        }

        @Override
        public Buffer slice(long offset, long length) {
            checkSlice(offset, length);
            return new F64(backend, data, off + (int) offset, (int) length);
        }
    }
}

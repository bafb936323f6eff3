package dev.xbt.kernels.cuda;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Buffer;

/**
 * A range of float32 elements in device memory. Slices share their parent's {@link CudaMemory.Allocation};
 * each buffer holds one reference to it, given back by {@link #close} (once) or, unclosed, when the
 * buffers become unreachable.
 */
final class CudaBuffer implements Buffer {
    final CudaBackend backend;
    final CudaMemory.Allocation storage;
    /** First element within the allocation, and the element count. */
    final long offset, length;
    private boolean closed;

    CudaBuffer(CudaBackend backend, CudaMemory.Allocation storage, long offset, long length) {
        this.backend = backend;
        this.storage = storage;
        this.offset = offset;
        this.length = length;
    }

    /** The device address of element 0 of this range. */
    long address() {
        return storage.address() + 4 * offset;
    }

    DevicePtr base() {
        return storage.block.ptr();
    }

    long byteOffset() {
        return 4 * offset;
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public Buffer slice(long off, long len) {
        if (off < 0 || len < 0 || off + len > length) {
            throw new IndexOutOfBoundsException("slice [" + off + ", " + (off + len) + ") of " + length);
        }
        storage.retain();
        return new CudaBuffer(backend, storage, offset + off, len);
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        storage.release();
    }

    @Override
    public String toString() {
        return "cuda buffer of " + length + " floats at 0x" + Long.toHexString(address());
    }
}

package dev.xbt.kernels.opencl;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Buffer;
import org.jocl.cl_mem;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A range of an OpenCL allocation: the allocation plus an element offset, which every kernel
 * takes next to the pointer. The allocation is released when every buffer over it (the first and
 * its slices) has been closed or collected: each holds one reference, dropped once, by
 * {@link #close} or by the cleaner when the buffer becomes unreachable (the engine does not close
 * most of its buffers).
 */
final class ClBuffer implements Buffer {
    private static final Cleaner CLEANER = Cleaner.create();

    final OpenClBackend backend;
    final Allocation allocation;
    final int offset;
    private final int length;
    private final Cleaner.Cleanable cleanable;

    ClBuffer(OpenClBackend backend, Allocation allocation, int offset, int length) {
        this.backend = backend;
        this.allocation = allocation;
        this.offset = offset;
        this.length = length;
        allocation.holders.incrementAndGet();
        this.cleanable = CLEANER.register(this, new Drop(allocation));
    }

    /** The device memory (for kernel arguments). */
    cl_mem mem() {
        return allocation.mem;
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public Buffer slice(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > this.length) {
            throw new IndexOutOfBoundsException("slice [" + offset + ", " + (offset + length) + ") of " + this.length);
        }
        return new ClBuffer(backend, allocation, this.offset + (int) offset, (int) length);
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public void close() {
        cleanable.clean();
    }

    @Override
    public String toString() {
        return "opencl buffer [" + offset + ", " + (offset + length) + ") of " + allocation.elements;
    }

    /** One clCreateBuffer: released when its last holder lets go. */
    static final class Allocation {
        final cl_mem mem;
        final long elements;
        final long bytes;
        final OpenClBackend owner;
        final AtomicInteger holders = new AtomicInteger();

        Allocation(OpenClBackend owner, cl_mem mem, long elements, long bytes) {
            this.owner = owner;
            this.mem = mem;
            this.elements = elements;
            this.bytes = bytes;
        }

        void drop() {
            if (holders.decrementAndGet() == 0) owner.release(this);
        }
    }

    /** The cleaning action (run at most once by its Cleanable); must not refer to the buffer itself. */
    private record Drop(Allocation allocation) implements Runnable {
        @Override
        public void run() {
            allocation.drop();
        }
    }
}

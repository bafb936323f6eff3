package dev.xbt.kernels.opencl;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Buffer;
import org.jocl.CL;
import org.jocl.cl_mem;

import java.lang.ref.Cleaner;

/**
 * A range of float32 elements in one OpenCL buffer object. Slices share their parent's {@link Storage};
 * each buffer holds one reference, given back by {@link #close} (once) or, unclosed, when every buffer
 * of the storage has become unreachable (the engine leaves tensors to the garbage collector).
 */
final class ClBuffer implements Buffer {
    private static final Cleaner CLEANER = Cleaner.create();

    /** One cl_mem, released when its last reference goes. */
    static final class Storage {
        final cl_mem mem;
        private final Cleaner.Cleanable cleanable;
        private int references = 1;

        Storage(cl_mem mem) {
            this.mem = mem;
            this.cleanable = CLEANER.register(this, new Release(mem));
        }

        synchronized void retain() {
            references++;
        }

        void release() {
            boolean last;
            synchronized (this) {
                last = --references == 0;
            }
            if (last) cleanable.clean();
        }
    }

    /** Holds only the handle, never the Storage, so the Storage can become unreachable. */
    private record Release(cl_mem mem) implements Runnable {
        @Override
        public void run() {
            CL.clReleaseMemObject(mem); // the queue keeps the object alive until enqueued kernels finish
        }
    }

    final OpenClBackend backend;
    final Storage storage;
    final int offset, length;
    private boolean closed;

    ClBuffer(OpenClBackend backend, Storage storage, int offset, int length) {
        this.backend = backend;
        this.storage = storage;
        this.offset = offset;
        this.length = length;
    }

    cl_mem mem() {
        return storage.mem;
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
        return new ClBuffer(backend, storage, offset + (int) off, (int) len);
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
        return "opencl buffer of " + length + " floats";
    }
}

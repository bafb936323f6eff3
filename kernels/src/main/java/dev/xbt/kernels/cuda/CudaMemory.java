package dev.xbt.kernels.cuda;

import dev.xbt.engine.EngineException;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUevent;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;

import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

/**
 * Device memory of the CUDA backend: a caching allocator over cuMemAlloc, and transfers through
 * pinned host staging buffers.
 *
 * <p>Every kernel runs on one stream, in the order it was issued, so a block freed by the host can be
 * handed to the next allocation at once: whatever still reads it was issued earlier and runs first.
 * Blocks are freed when their {@link Allocation}'s last buffer is closed, or, for buffers nobody
 * closes (the engine leaves tensors to the garbage collector), by a {@link Cleaner} that queues the
 * block; the queue is drained by the next allocation, on a thread that holds the context. When
 * cuMemAlloc runs out, the cache is given back and the garbage collector asked for the unreachable
 * buffers before one more try.
 */
final class CudaMemory {
    /** Sizes are rounded up to this granularity (and to quarter powers of two above 1 MiB) so blocks are reused. */
    private static final long MIN_BLOCK = 512;
    private static final int STAGING_BYTES = 8 << 20;
    private static final Cleaner CLEANER = Cleaner.create();

    private final CudaDevice device;
    final CUstream stream;
    private final Map<Long, ArrayDeque<Block>> free = new HashMap<>();
    private final ConcurrentLinkedQueue<Block> released = new ConcurrentLinkedQueue<>();
    private long cachedBytes, liveBytes;

    // Two pinned staging buffers: while the GPU copies out of one, the host fills the other.
    private final Pointer[] staging = new Pointer[2];
    private final ByteBuffer[] stagingView = new ByteBuffer[2];
    private final CUevent[] stagingDone = new CUevent[2];
    private int nextStaging;

    CudaMemory(CudaDevice device, CUstream stream) {
        this.device = device;
        this.stream = stream;
        for (int i = 0; i < 2; i++) {
            staging[i] = new Pointer();
            cuMemAllocHost(staging[i], STAGING_BYTES);
            stagingView[i] = staging[i].getByteBuffer(0, STAGING_BYTES).order(ByteOrder.nativeOrder());
            stagingDone[i] = new CUevent();
            cuEventCreate(stagingDone[i], 0);
            cuEventRecord(stagingDone[i], stream);
        }
    }

    /** A device block: its pointer, address and (rounded) size. */
    record Block(DevicePtr ptr, long address, long bytes) {}

    /** Storage shared by a buffer and its slices; freed when the last one closes or becomes unreachable. */
    static final class Allocation {
        final Block block;
        private final Cleaner.Cleanable cleanable;
        private int refs = 1;

        private Allocation(CudaMemory memory, Block block) {
            this.block = block;
            ConcurrentLinkedQueue<Block> queue = memory.released;
            this.cleanable = CLEANER.register(this, () -> queue.add(block)); // captures no reference to this
        }

        synchronized void retain() {
            if (refs <= 0) throw new IllegalStateException("cuda: buffer used after it was closed");
            refs++;
        }

        synchronized void release() {
            if (refs <= 0) return;
            if (--refs == 0) cleanable.clean();
        }

        long address() {
            return block.address;
        }
    }

    static long rounded(long bytes) {
        long b = Math.max(MIN_BLOCK, (bytes + MIN_BLOCK - 1) / MIN_BLOCK * MIN_BLOCK);
        if (b <= (1 << 20)) return b;
        long step = Long.highestOneBit(b - 1) / 4; // quarter steps between powers of two
        return (b + step - 1) / step * step;
    }

    /** An allocation of at least {@code bytes}; its content is undefined. */
    synchronized Allocation allocate(long bytes) {
        device.makeCurrent();
        drainReleased();
        long size = rounded(bytes);
        ArrayDeque<Block> list = free.get(size);
        Block b = list == null ? null : list.poll();
        if (b != null) {
            cachedBytes -= size;
        } else {
            b = fresh(size);
        }
        liveBytes += size;
        return new Allocation(this, b);
    }

    private Block fresh(long size) {
        for (int attempt = 0; ; attempt++) {
            DevicePtr p = new DevicePtr();
            try {
                cuMemAlloc(p, size);
                return new Block(p, p.address(), size);
            } catch (CudaException e) {
                if (!e.getMessage().contains(CUresult.stringFor(CUresult.CUDA_ERROR_OUT_OF_MEMORY)) || attempt >= 2) {
                    long[] fr = new long[1], tot = new long[1];
                    try { cuMemGetInfo(fr, tot); } catch (CudaException ignored) { /* report what we know */ }
                    throw new EngineException("cuda: cannot allocate " + mib(size) + " on " + device.name + " ("
                            + mib(liveBytes) + " in use by tensors, " + mib(cachedBytes) + " cached, " + mib(fr[0])
                            + " free): " + CudaDevice.firstLine(e));
                }
                // Out of memory: let the collector find unreachable buffers, then return every cached block.
                System.gc();
                try {
                    Thread.sleep(20L * (attempt + 1));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                }
                drainReleased();
                trim();
            }
        }
    }

    private void drainReleased() {
        for (Block b; (b = released.poll()) != null; ) {
            liveBytes -= b.bytes;
            cachedBytes += b.bytes;
            free.computeIfAbsent(b.bytes, s -> new ArrayDeque<>()).push(b);
        }
    }

    /** Frees every cached block (cuMemFree waits for the device). */
    synchronized void trim() {
        device.makeCurrent();
        drainReleased();
        for (ArrayDeque<Block> list : free.values()) for (Block b : list) cuMemFree(b.ptr);
        free.clear();
        cachedBytes = 0;
    }

    synchronized long liveBytes() {
        drainReleased();
        return liveBytes;
    }

    // ---------------------------------------------------------------- transfers

    /** Copies n floats (or ints, when ints != null) from the host to dst + byteOffset, asynchronously. */
    synchronized void upload(float[] src, int[] ints, int off, int n, DevicePtr dst, long byteOffset) {
        device.makeCurrent();
        int perChunk = STAGING_BYTES / 4;
        for (int done = 0; done < n; ) {
            int count = Math.min(perChunk, n - done);
            int s = nextStaging;
            nextStaging ^= 1;
            cuEventSynchronize(stagingDone[s]); // the previous copy out of this staging buffer is over
            ByteBuffer view = stagingView[s].clear();
            if (ints != null) view.asIntBuffer().put(ints, off + done, count);
            else view.asFloatBuffer().put(src, off + done, count);
            cuMemcpyHtoDAsync(dst.withByteOffset(byteOffset + 4L * done), staging[s], 4L * count, stream);
            cuEventRecord(stagingDone[s], stream);
            done += count;
        }
    }

    /** Copies n floats from src + byteOffset into dst[dstOff...], waiting for every kernel issued before. */
    synchronized void download(DevicePtr src, long byteOffset, float[] dst, int dstOff, int n) {
        device.makeCurrent();
        int perChunk = STAGING_BYTES / 4;
        for (int done = 0; done < n; ) {
            int count = Math.min(perChunk, n - done);
            cuMemcpyDtoHAsync(staging[0], src.withByteOffset(byteOffset + 4L * done), 4L * count, stream);
            cuStreamSynchronize(stream);
            stagingView[0].clear().asFloatBuffer().get(dst, dstOff + done, count);
            done += count;
        }
    }

    /** Reads {@code bytes} (≤ 8 MiB) from a device address into a host buffer, waiting for the stream. */
    synchronized ByteBuffer read(DevicePtr src, long byteOffset, int bytes) {
        device.makeCurrent();
        cuMemcpyDtoHAsync(staging[0], src.withByteOffset(byteOffset), bytes, stream);
        cuStreamSynchronize(stream);
        ByteBuffer out = ByteBuffer.allocate(bytes).order(ByteOrder.nativeOrder());
        ByteBuffer v = stagingView[0].duplicate().order(ByteOrder.nativeOrder());
        v.limit(bytes);
        out.put(v).flip();
        return out;
    }

    static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / 1048576.0);
    }
}

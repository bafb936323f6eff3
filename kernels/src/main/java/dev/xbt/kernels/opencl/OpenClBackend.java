package dev.xbt.kernels.opencl;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.backend.Buffer;
import dev.xbt.kernels.KernelSignature;
import dev.xbt.kernels.PortableBackend;
import dev.xbt.kernels.PortableKernels;
import dev.xbt.kernels.PortableLaunch;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.jocl.CL.CL_KERNEL_FUNCTION_NAME;
import static org.jocl.CL.CL_KERNEL_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_MEM_COPY_HOST_PTR;
import static org.jocl.CL.CL_MEM_OBJECT_ALLOCATION_FAILURE;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_OUT_OF_HOST_MEMORY;
import static org.jocl.CL.CL_OUT_OF_RESOURCES;
import static org.jocl.CL.CL_PROGRAM_BUILD_LOG;
import static org.jocl.CL.CL_TRUE;
import static org.jocl.CL.clBuildProgram;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clCreateCommandQueue;
import static org.jocl.CL.clCreateContext;
import static org.jocl.CL.clCreateKernelsInProgram;
import static org.jocl.CL.clCreateProgramWithSource;
import static org.jocl.CL.clEnqueueNDRangeKernel;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.jocl.CL.clFinish;
import static org.jocl.CL.clGetKernelInfo;
import static org.jocl.CL.clGetKernelWorkGroupInfo;
import static org.jocl.CL.clGetProgramBuildInfo;
import static org.jocl.CL.clReleaseMemObject;
import static org.jocl.CL.clSetKernelArg;

/**
 * The OpenCL backend: the portable kernels (kernels/README.md) built once per JVM for one device,
 * launched by {@link PortableBackend}'s operations on one in-order queue. Launches never wait; only read-backs ({@link #download},
 * {@link #sumOfSquares}, {@link #countNaN}) do. Buffers are (allocation, offset) pairs released when
 * closed or collected ({@link ClBuffer}).
 *
 * <p>Kernel objects hold their arguments, so setting arguments and enqueueing happen under this
 * object's lock: calls from several threads are serialised.
 */
public final class OpenClBackend extends PortableBackend {
    private final OpenClDevice device;
    private final cl_context context;
    private final cl_command_queue queue;
    private final cl_program program;
    private final Map<String, cl_kernel> kernels = new HashMap<>();
    private final AtomicLong liveBytes = new AtomicLong();
    private final long budgetBytes;
    private final long buildMillis;
    /** A tiny buffer passed where a kernel's optional input or output is absent. */
    private final ClBuffer placeholder;

    OpenClBackend(OpenClDevice device) {
        this.device = device;
        cl_device_id[] ids = {device.device()};
        try {
            context = clCreateContext(null, 1, ids, null, null, null);
            queue = clCreateCommandQueue(context, device.device(), 0, null);
            program = clCreateProgramWithSource(context, 1, new String[] {PortableKernels.openClProgram()}, null, null);
        } catch (CLException e) {
            throw new EngineException("opencl: cannot open " + device.describe() + ": " + e.getMessage(), e);
        }
        String options = "-cl-std=CL1.2" + (device.correctlyRoundedDivideSqrt() ? " -cl-fp32-correctly-rounded-divide-sqrt" : "");
        long t0 = System.nanoTime();
        try {
            clBuildProgram(program, 1, ids, options, null, null);
        } catch (CLException e) {
            throw new EngineException("opencl: the portable kernels do not build on " + device.name() + ": " + e.getMessage()
                    + "\n" + buildLog());
        }
        buildMillis = (System.nanoTime() - t0) / 1_000_000;
        int[] count = new int[1];
        clCreateKernelsInProgram(program, 0, null, count);
        cl_kernel[] ks = new cl_kernel[count[0]];
        clCreateKernelsInProgram(program, ks.length, ks, null);
        int wgCap = (int) Math.min(PortableKernels.ROW_WG_MAX, device.maxWorkGroup());
        for (cl_kernel k : ks) {
            long[] size = new long[1];
            clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, 0, null, size);
            byte[] b = new byte[(int) size[0]];
            clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, b.length, Pointer.to(b), null);
            String name = new String(b, 0, Math.max(0, b.length - 1), StandardCharsets.UTF_8);
            kernels.put(name, k);
            long[] wg = new long[1];
            clGetKernelWorkGroupInfo(k, device.device(), CL_KERNEL_WORK_GROUP_SIZE, Sizeof.size_t, Pointer.to(wg), null);
            int need = switch (name) {
                case "xbt_gemm" -> PortableKernels.GEMM_WG * PortableKernels.GEMM_WG;
                case "xbt_attention_forward", "xbt_attention_backward_dq", "xbt_attention_backward_dkv" -> PortableKernels.ATTENTION_ROWS;
                default -> 1;
            };
            if (wg[0] < need) {
                throw new EngineException("opencl: kernel " + name + " needs work-groups of " + need + " on " + device.name()
                        + ", which allows " + wg[0]);
            }
            if (name.startsWith("xbt_layer_norm") || name.startsWith("xbt_softmax") || name.startsWith("xbt_cross_entropy")
                    || name.equals("xbt_reduce_rows")) {
                wgCap = (int) Math.min(wgCap, wg[0]);
            }
        }
        capRowWorkGroup(wgCap);
        budgetBytes = Math.max(64L << 20, device.globalMemBytes() / 4 * 3);
        placeholder = (ClBuffer) allocate(1);
    }

    private String buildLog() {
        long[] size = new long[1];
        clGetProgramBuildInfo(program, device.device(), CL_PROGRAM_BUILD_LOG, 0, null, size);
        byte[] b = new byte[(int) size[0]];
        clGetProgramBuildInfo(program, device.device(), CL_PROGRAM_BUILD_LOG, b.length, Pointer.to(b), null);
        return new String(b, StandardCharsets.UTF_8).trim();
    }

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public String toString() {
        return "opencl on " + device.describe();
    }

    /** The device in words, for logs and the harness. */
    public String deviceDescription() {
        return device.describe();
    }

    /** Milliseconds the program build took at start (PoCL caches compiled kernels between runs). */
    public long buildMillis() {
        return buildMillis;
    }

    /** Bytes of device memory held by live buffers. */
    public long liveBytes() {
        return liveBytes.get();
    }

    /** Waits for every launched kernel (for timing). */
    public synchronized void finish() {
        clFinish(queue);
    }

    // ================================================================ memory

    private ClBuffer cl(Buffer b) {
        if (b instanceof ClBuffer c && c.backend == this) return c;
        throw new IllegalArgumentException("opencl: buffer belongs to backend " + (b == null ? "null" : b.backend().name()));
    }

    private static int checkedLength(long n) {
        if (n < 0 || n > Integer.MAX_VALUE - 8) throw new EngineException("opencl: cannot allocate " + n + " floats (limit 2^31 - 9 per buffer)");
        return (int) n;
    }

    /** A new allocation of n elements (at least one, as OpenCL refuses empty buffers), copied from host when src is given. */
    private cl_mem createMem(long elements, int elementBytes, Pointer src) {
        long bytes = Math.max(1, elements) * elementBytes;
        if (liveBytes.get() + bytes > budgetBytes) reclaim(bytes);
        long flags = CL_MEM_READ_WRITE | (src != null ? CL_MEM_COPY_HOST_PTR : 0);
        for (int attempt = 0; ; attempt++) {
            try {
                cl_mem mem = clCreateBuffer(context, flags, bytes, src, null);
                liveBytes.addAndGet(bytes);
                return mem;
            } catch (CLException e) {
                boolean memory = e.getStatus() == CL_MEM_OBJECT_ALLOCATION_FAILURE || e.getStatus() == CL_OUT_OF_RESOURCES
                        || e.getStatus() == CL_OUT_OF_HOST_MEMORY;
                if (!memory || attempt > 0) {
                    throw new EngineException("opencl: cannot allocate " + bytes + " bytes on " + device.name() + " ("
                            + (liveBytes.get() >> 20) + " MiB held by live buffers): " + e.getMessage(), e);
                }
                reclaim(bytes);
            }
        }
    }

    /**
     * Lets the garbage collector find unreachable buffers so that their cleaners release device
     * memory: the JVM does not see device memory, so it would not collect for it on its own.
     */
    private void reclaim(long bytes) {
        System.gc();
        for (int i = 0; i < 20 && liveBytes.get() + bytes > budgetBytes; i++) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private ClBuffer wrap(cl_mem mem, int n) {
        return new ClBuffer(this, new ClBuffer.Allocation(this, mem, n, Math.max(1, n) * (long) Sizeof.cl_float), 0, n);
    }

    void release(ClBuffer.Allocation a) {
        clReleaseMemObject(a.mem);
        liveBytes.addAndGet(-a.bytes);
    }

    @Override
    public synchronized Buffer allocate(long n) {
        Buffer b = allocateUnfilled(n);
        fill(b, 0f);
        return b;
    }

    @Override
    protected synchronized Buffer allocateUnfilled(long n) {
        int len = checkedLength(n);
        return wrap(createMem(len, Sizeof.cl_float, null), len);
    }

    @Override
    public Buffer upload(float[] src, int off, int n) {
        if (off < 0 || n < 0 || off + n > src.length) throw new IndexOutOfBoundsException("upload [" + off + ", " + (off + n) + ") of " + src.length);
        int len = checkedLength(n);
        Pointer p = n == 0 ? null : Pointer.to(src).withByteOffset((long) off * Sizeof.cl_float);
        return wrap(createMem(len, Sizeof.cl_float, p), len);
    }

    @Override
    public synchronized void download(Buffer src, float[] dst, int dstOff) {
        ClBuffer s = cl(src);
        int n = (int) s.length();
        if (dstOff < 0 || dstOff + n > dst.length) throw new IndexOutOfBoundsException("download of " + n + " floats at " + dstOff + " into " + dst.length);
        if (n == 0) return;
        clEnqueueReadBuffer(queue, s.mem(), CL_TRUE, (long) s.offset * Sizeof.cl_float, (long) n * Sizeof.cl_float,
                Pointer.to(dst).withByteOffset((long) dstOff * Sizeof.cl_float), 0, null, null);
    }

    /** Temporary buffers are released as soon as their launches are enqueued: OpenCL keeps them alive until those finish. */
    @Override
    protected Buffer uploadInts(int[] values) {
        return wrap(createMem(values.length, Sizeof.cl_int, values.length == 0 ? null : Pointer.to(values)), values.length);
    }

    @Override
    protected Buffer scratch(long n) {
        int len = checkedLength(n);
        return wrap(createMem(len, Sizeof.cl_float, null), len);
    }

    @Override
    protected synchronized void readInts(Buffer src, int[] dst) {
        ClBuffer s = cl(src);
        if (dst.length == 0) return;
        clEnqueueReadBuffer(queue, s.mem(), CL_TRUE, (long) s.offset * Sizeof.cl_int, (long) dst.length * Sizeof.cl_int,
                Pointer.to(dst), 0, null, null);
    }

    @Override
    protected Buffer placeholder() {
        return placeholder;
    }

    // ================================================================ launches

    @Override
    protected PortableLaunch launch(String kernel) {
        cl_kernel k = kernels.get(kernel);
        if (k == null) throw new IllegalStateException("opencl: no kernel " + kernel + " in the program");
        return new Launch(signature(kernel), k);
    }

    /** Sets each argument on the kernel object as it comes; callers hold the backend's lock. */
    private final class Launch extends PortableLaunch {
        private final cl_kernel kernel;
        private int index;

        Launch(KernelSignature signature, cl_kernel kernel) {
            super(signature);
            this.kernel = kernel;
        }

        @Override
        protected void putInt(int v) {
            clSetKernelArg(kernel, index++, Sizeof.cl_int, Pointer.to(new int[] {v}));
        }

        @Override
        protected void putFloat(float v) {
            clSetKernelArg(kernel, index++, Sizeof.cl_float, Pointer.to(new float[] {v}));
        }

        @Override
        protected void putLong(long v) {
            clSetKernelArg(kernel, index++, Sizeof.cl_long, Pointer.to(new long[] {v}));
        }

        @Override
        protected void putBuffer(Buffer b, long extra) {
            ClBuffer c = cl(b);
            clSetKernelArg(kernel, index++, Sizeof.cl_mem, Pointer.to(c.mem()));
            putInt(Math.toIntExact(c.offset + extra));
        }

        @Override
        protected void putPointer(Buffer b) {
            ClBuffer c = cl(b);
            if (c.offset != 0) throw new IllegalStateException("opencl: " + kernel() + " takes a bare pointer, not a slice at " + c.offset);
            clSetKernelArg(kernel, index++, Sizeof.cl_mem, Pointer.to(c.mem()));
        }

        @Override
        protected void submit(int gx, int gy, int gz, int lx, int ly) {
            long[] local = {lx, ly, 1};
            long[] global = {(long) gx * lx, (long) gy * ly, gz};
            try {
                clEnqueueNDRangeKernel(queue, kernel, 3, null, global, local, 0, null, null);
            } catch (CLException e) {
                throw new EngineException("opencl: launching " + kernel() + " " + Arrays.toString(global) + " / " + Arrays.toString(local)
                        + " failed: " + e.getMessage(), e);
            }
        }
    }
}

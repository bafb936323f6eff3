package dev.xbt.kernels.opencl;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.BinaryOp;
import dev.xbt.engine.backend.Buffer;
import dev.xbt.engine.backend.ReduceOp;
import dev.xbt.engine.backend.UnaryOp;
import dev.xbt.kernels.PortableKernels;
import dev.xbt.kernels.StridedLayout;
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
 * launched on one in-order queue. Launches never wait; only read-backs ({@link #download},
 * {@link #sumOfSquares}, {@link #countNaN}) do. Buffers are (allocation, offset) pairs released when
 * closed or collected ({@link ClBuffer}).
 *
 * <p>Kernel objects hold their arguments, so setting arguments and enqueueing happen under this
 * object's lock: calls from several threads are serialised.
 */
public final class OpenClBackend implements Backend {
    /** Work-group size of the one-dimensional element-wise launches. */
    private static final int LINEAR_WG = 128;
    /** Elements per work-item of the read-back partial sums. */
    private static final int PARTIAL_CHUNK = 64;

    private final OpenClDevice device;
    private final cl_context context;
    private final cl_command_queue queue;
    private final cl_program program;
    private final Map<String, cl_kernel> kernels = new HashMap<>();
    private final AtomicLong liveBytes = new AtomicLong();
    private final long budgetBytes;
    private final long buildMillis;
    private final int rowWgCap;
    private int rowWgLimit;
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
        rowWgCap = Integer.highestOneBit(wgCap);
        rowWgLimit = rowWgCap;
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

    /**
     * Caps the work-group size of the row kernels (layer norm, softmax, cross-entropy, row
     * reductions) at a power of two, so that the harness and tests can validate each launch
     * configuration; returns the cap now in force (never above what the device allows).
     */
    public synchronized int limitRowWorkGroup(int limit) {
        if (limit < 1) throw new IllegalArgumentException("work-group limit must be positive: " + limit);
        rowWgLimit = Math.min(rowWgCap, Integer.highestOneBit(limit));
        return rowWgLimit;
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

    /** A temporary int buffer (row indices, targets); released after the launches that use it are enqueued. */
    private cl_mem uploadInts(int[] values) {
        return createMem(values.length, Sizeof.cl_int, values.length == 0 ? null : Pointer.to(values));
    }

    private void releaseTemp(cl_mem mem, long elements) {
        clReleaseMemObject(mem); // OpenCL keeps it alive until the enqueued kernels that use it finish
        liveBytes.addAndGet(-Math.max(1, elements) * 4);
    }

    @Override
    public synchronized Buffer allocate(long n) {
        int len = checkedLength(n);
        ClBuffer b = wrap(createMem(len, Sizeof.cl_float, null), len);
        fill(b, 0f);
        return b;
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

    @Override
    public synchronized void copy(Buffer src, Buffer dst) {
        ClBuffer s = cl(src), d = cl(dst);
        if (s.length() != d.length()) throw new IllegalArgumentException("copy: lengths differ");
        int n = (int) s.length();
        launch("xbt_copy").i(n).buf(s).buf(d).linear(n);
    }

    @Override
    public synchronized void fill(Buffer dst, float value) {
        ClBuffer d = cl(dst);
        int n = (int) d.length();
        launch("xbt_fill").i(n).buf(d).f(value).linear(n);
    }

    // ================================================================ launches

    private Launch launch(String kernel) {
        cl_kernel k = kernels.get(kernel);
        if (k == null) throw new IllegalStateException("opencl: no kernel " + kernel + " in the program");
        return new Launch(kernel, k);
    }

    /** Arguments in order, then the launch; callers hold the backend's lock. */
    private final class Launch {
        private final String name;
        private final cl_kernel kernel;
        private int index;

        Launch(String name, cl_kernel kernel) {
            this.name = name;
            this.kernel = kernel;
        }

        Launch i(int v) {
            clSetKernelArg(kernel, index++, Sizeof.cl_int, Pointer.to(new int[] {v}));
            return this;
        }

        Launch flag(boolean v) {
            return i(v ? 1 : 0);
        }

        Launch f(float v) {
            clSetKernelArg(kernel, index++, Sizeof.cl_float, Pointer.to(new float[] {v}));
            return this;
        }

        Launch l(long v) {
            clSetKernelArg(kernel, index++, Sizeof.cl_long, Pointer.to(new long[] {v}));
            return this;
        }

        Launch mem(cl_mem m) {
            clSetKernelArg(kernel, index++, Sizeof.cl_mem, Pointer.to(m));
            return this;
        }

        /** A float buffer: its memory and its element offset. */
        Launch buf(ClBuffer b) {
            return mem(b.mem()).i(b.offset);
        }

        /** A float buffer with an extra element offset. */
        Launch buf(ClBuffer b, long extra) {
            return mem(b.mem()).i(Math.toIntExact(b.offset + extra));
        }

        /** One work-item per element of n (rounded up to whole work-groups). */
        void linear(long n) {
            if (n <= 0) return;
            long groups = (n + LINEAR_WG - 1) / LINEAR_WG;
            run(new long[] {groups * LINEAR_WG}, new long[] {LINEAR_WG});
        }

        /** {@code groups} work-groups of {@code wg} work-items. */
        void groups(long groups, int wg) {
            if (groups <= 0) return;
            run(new long[] {groups * wg}, new long[] {wg});
        }

        void run(long[] global, long[] local) {
            try {
                clEnqueueNDRangeKernel(queue, kernel, global.length, null, global, local, 0, null, null);
            } catch (CLException e) {
                throw new EngineException("opencl: launching " + name + " " + Arrays.toString(global) + " / " + Arrays.toString(local)
                        + " failed: " + e.getMessage(), e);
            }
        }
    }

    /** Work-group size of a row kernel over rows of n: the smallest power of two covering n, capped. */
    private int rowWg(int n) {
        int wg = 1;
        while (wg < n && wg < rowWgLimit) wg <<= 1;
        return wg;
    }

    // ================================================================ linear algebra

    @Override
    public synchronized void gemm(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
                                  Buffer a, long strideA, Buffer b, long strideB, float beta, Buffer c, long strideC) {
        ClBuffer A = cl(a), B = cl(b), C = cl(c);
        if (batch <= 0 || m <= 0 || n <= 0) return;
        int sa = Math.toIntExact(strideA), sb = Math.toIntExact(strideB), sc = Math.toIntExact(strideC);
        long gx = (n + PortableKernels.GEMM_TILE - 1) / PortableKernels.GEMM_TILE * PortableKernels.GEMM_WG;
        long gy = (m + PortableKernels.GEMM_TILE - 1) / PortableKernels.GEMM_TILE * PortableKernels.GEMM_WG;
        long[] local = {PortableKernels.GEMM_WG, PortableKernels.GEMM_WG, 1};
        // C blocks that overlap (strideC == 0 sums every product into one C) must be written in order.
        boolean overlap = batch > 1 && (long) sc < (long) m * n;
        int launches = overlap ? batch : 1, perLaunch = overlap ? 1 : batch;
        for (int p = 0; p < launches; p++) {
            launch("xbt_gemm").flag(transA).flag(transB).i(m).i(n).i(k).f(alpha).buf(A).i(sa).buf(B).i(sb)
                    .f(beta).buf(C).i(sc).i(p).run(new long[] {gx, gy, perLaunch}, local);
        }
    }

    // ================================================================ element-wise

    /** Kernel axes of the strided kernels: four, padded with size-1 axes in front. */
    private static final int KERNEL_AXES = 4;

    @Override
    public synchronized void binary(BinaryOp op, int[] shape, Buffer a, int[] aStrides, Buffer b, int[] bStrides, Buffer out) {
        ClBuffer A = cl(a), B = cl(b), O = cl(out);
        int[] outStrides = contiguousStrides(shape);
        StridedLayout lay = StridedLayout.of(shape, aStrides, bStrides, outStrides);
        if (lay.count() == 0) return;
        int r = lay.rank(), k = Math.min(r, KERNEL_AXES);
        int[] hostAxes = range(0, r - k), kernelAxes = range(r - k, r);
        int[] n = padded(lay.sizes(), kernelAxes, 1);
        int[] as = padded(lay.strides()[0], kernelAxes, 0), bs = padded(lay.strides()[1], kernelAxes, 0);
        int count = n[0] * n[1] * n[2] * n[3];
        forEachHostIndex(lay, hostAxes, base -> launch("xbt_binary").i(op.ordinal()).i(count).i(n[1]).i(n[2]).i(n[3])
                .buf(A, base[0]).i(as[0]).i(as[1]).i(as[2]).i(as[3])
                .buf(B, base[1]).i(bs[0]).i(bs[1]).i(bs[2]).i(bs[3])
                .buf(O, base[2]).linear(count));
    }

    @Override
    public synchronized void stridedCopy(int[] shape, Buffer src, int[] srcStrides, Buffer dst, int[] dstStrides, boolean accumulate) {
        ClBuffer S = cl(src), D = cl(dst);
        StridedLayout lay = StridedLayout.of(shape, srcStrides, dstStrides);
        if (lay.count() == 0) return;
        int r = lay.rank();
        int[] ss = lay.strides()[0], ds = lay.strides()[1];
        // A destination axis of stride 0 is walked in order inside one work-item (no two work-items
        // write one element); the kernel takes one such axis and up to four others, the host loops
        // over the rest.
        int loopAxis = -1;
        for (int d = r - 1; d >= 0 && loopAxis < 0; d--) if (ds[d] == 0) loopAxis = d;
        int[] parallel = new int[r];
        int np = 0;
        for (int d = 0; d < r; d++) if (ds[d] != 0) parallel[np++] = d;
        int kp = Math.min(np, KERNEL_AXES);
        int[] kernelAxes = Arrays.copyOfRange(parallel, np - kp, np);
        int[] hostAxes = new int[r - kp - (loopAxis >= 0 ? 1 : 0)];
        int nh = 0;
        for (int d = 0; d < r; d++) {
            if (d != loopAxis && Arrays.binarySearch(kernelAxes, d) < 0) hostAxes[nh++] = d;
        }
        int[] n = padded(lay.sizes(), kernelAxes, 1);
        int[] sk = padded(ss, kernelAxes, 0), dk = padded(ds, kernelAxes, 0);
        int loop = loopAxis >= 0 ? lay.sizes()[loopAxis] : 1;
        int sl = loopAxis >= 0 ? ss[loopAxis] : 0, dl = loopAxis >= 0 ? ds[loopAxis] : 0;
        int count = n[0] * n[1] * n[2] * n[3];
        forEachHostIndex(lay, hostAxes, base -> launch("xbt_strided_copy").i(count).i(n[1]).i(n[2]).i(n[3]).i(loop)
                .buf(S, base[0]).i(sk[0]).i(sk[1]).i(sk[2]).i(sk[3]).i(sl)
                .buf(D, base[1]).i(dk[0]).i(dk[1]).i(dk[2]).i(dk[3]).i(dl)
                .flag(accumulate).linear(count));
    }

    private static int[] contiguousStrides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            s[d] = acc;
            acc *= shape[d];
        }
        return s;
    }

    private static int[] range(int from, int to) {
        int[] r = new int[to - from];
        for (int i = 0; i < r.length; i++) r[i] = from + i;
        return r;
    }

    /** values at the given axes, padded in front to KERNEL_AXES entries with {@code pad}. */
    private static int[] padded(int[] values, int[] axes, int pad) {
        int[] out = new int[KERNEL_AXES];
        Arrays.fill(out, pad);
        for (int i = 0; i < axes.length; i++) out[KERNEL_AXES - axes.length + i] = values[axes[i]];
        return out;
    }

    private interface HostStep {
        void launch(long[] bases);
    }

    /** Calls {@code step} with each operand's element offset for every index over the host axes, in row-major order. */
    private static void forEachHostIndex(StridedLayout lay, int[] hostAxes, HostStep step) {
        int ops = lay.strides().length;
        int[] idx = new int[hostAxes.length];
        while (true) {
            long[] base = new long[ops];
            for (int h = 0; h < hostAxes.length; h++) {
                for (int o = 0; o < ops; o++) base[o] += (long) idx[h] * lay.strides()[o][hostAxes[h]];
            }
            step.launch(base);
            int h = hostAxes.length - 1;
            while (h >= 0 && ++idx[h] == lay.sizes()[hostAxes[h]]) idx[h--] = 0;
            if (h < 0) return;
        }
    }

    @Override
    public synchronized void unary(UnaryOp op, Buffer x, Buffer out) {
        ClBuffer X = cl(x), O = cl(out);
        int n = (int) X.length();
        launch("xbt_unary").i(op.ordinal()).i(n).buf(X).buf(O).linear(n);
    }

    @Override
    public synchronized void unaryBackward(UnaryOp op, Buffer x, Buffer gradOut, Buffer gradIn) {
        ClBuffer X = cl(x), G = cl(gradOut), O = cl(gradIn);
        int n = (int) X.length();
        launch("xbt_unary_backward").i(op.ordinal()).i(n).buf(X).buf(G).buf(O).linear(n);
    }

    @Override
    public synchronized void affine(Buffer x, float scale, float shift, Buffer out) {
        ClBuffer X = cl(x), O = cl(out);
        int n = (int) X.length();
        launch("xbt_affine").i(n).buf(X).f(scale).f(shift).buf(O).linear(n);
    }

    // ================================================================ reductions and data movement

    @Override
    public synchronized void reduce(ReduceOp op, Buffer x, int outer, int n, int inner, Buffer out) {
        ClBuffer X = cl(x), O = cl(out);
        if (inner == 1) {
            launch("xbt_reduce_rows").i(op.ordinal()).i(outer).i(n).buf(X).buf(O).groups(outer, rowWg(n));
        } else {
            launch("xbt_reduce_cols").i(op.ordinal()).i(outer).i(n).i(inner).buf(X).buf(O).linear((long) outer * inner);
        }
    }

    @Override
    public synchronized void reduceMaxBackward(Buffer x, Buffer max, Buffer gradOut, int outer, int n, int inner, Buffer gradIn) {
        launch("xbt_reduce_max_backward").i(outer).i(n).i(inner).buf(cl(x)).buf(cl(max)).buf(cl(gradOut)).buf(cl(gradIn))
                .linear((long) outer * inner);
    }

    private static void checkRows(String op, int[] rows, long tableRows) {
        for (int r = 0; r < rows.length; r++) {
            if (rows[r] < 0 || rows[r] >= tableRows) {
                throw new EngineException(op + ": row index " + rows[r] + " at " + r + " is outside the table's " + tableRows + " rows");
            }
        }
    }

    @Override
    public synchronized void gatherRows(Buffer table, int rowLen, int[] rows, Buffer out) {
        ClBuffer T = cl(table), O = cl(out);
        if (rows.length == 0 || rowLen == 0) return;
        checkRows("gatherRows", rows, T.length() / rowLen);
        cl_mem idx = uploadInts(rows);
        try {
            launch("xbt_gather_rows").i(rows.length).i(rowLen).buf(T).mem(idx).buf(O).linear((long) rows.length * rowLen);
        } finally {
            releaseTemp(idx, rows.length);
        }
    }

    @Override
    public synchronized void scatterAddRows(Buffer src, int rowLen, int[] rows, Buffer table) {
        ClBuffer S = cl(src), T = cl(table);
        if (rows.length == 0 || rowLen == 0) return;
        checkRows("scatterAddRows", rows, T.length() / rowLen);
        cl_mem idx = uploadInts(rows);
        try {
            launch("xbt_scatter_add_rows").i(rows.length).i(rowLen).buf(S).mem(idx).buf(T).linear(rowLen);
        } finally {
            releaseTemp(idx, rows.length);
        }
    }

    // ================================================================ fused neural-network kernels

    @Override
    public synchronized void layerNorm(Buffer x, Buffer gamma, Buffer beta, int rows, int n, float eps,
                                       Buffer out, Buffer mean, Buffer rstd) {
        launch("xbt_layer_norm").i(rows).i(n).f(eps).buf(cl(x)).buf(cl(gamma)).buf(cl(beta)).buf(cl(out)).buf(cl(mean)).buf(cl(rstd))
                .groups(rows, rowWg(n));
    }

    @Override
    public synchronized void layerNormBackward(Buffer x, Buffer gamma, Buffer mean, Buffer rstd, Buffer gradOut, int rows, int n,
                                               Buffer gradX, Buffer gradGamma, Buffer gradBeta) {
        ClBuffer X = cl(x), G = cl(gamma), M = cl(mean), R = cl(rstd), GO = cl(gradOut);
        if (gradX != null) {
            launch("xbt_layer_norm_backward_x").i(rows).i(n).buf(X).buf(G).buf(M).buf(R).buf(GO).buf(cl(gradX)).groups(rows, rowWg(n));
        }
        if (gradGamma != null || gradBeta != null) {
            launch("xbt_layer_norm_backward_params").i(rows).i(n).buf(X).buf(M).buf(R).buf(GO)
                    .flag(gradGamma != null).buf(orPlaceholder(gradGamma)).flag(gradBeta != null).buf(orPlaceholder(gradBeta))
                    .linear(n);
        }
    }

    private ClBuffer orPlaceholder(Buffer b) {
        return b == null ? placeholder : cl(b);
    }

    @Override
    public synchronized void softmax(Buffer x, int rows, int n, boolean log, Buffer out) {
        launch("xbt_softmax").i(rows).i(n).flag(log).buf(cl(x)).buf(cl(out)).groups(rows, rowWg(n));
    }

    @Override
    public synchronized void softmaxBackward(Buffer y, Buffer gradOut, int rows, int n, boolean log, Buffer gradIn) {
        launch("xbt_softmax_backward").i(rows).i(n).flag(log).buf(cl(y)).buf(cl(gradOut)).buf(cl(gradIn)).groups(rows, rowWg(n));
    }

    private static void checkHead(int d) {
        if (d > PortableKernels.ATTENTION_MAX_D) {
            throw new EngineException("opencl attention: head size " + d + " exceeds the kernel's limit of " + PortableKernels.ATTENTION_MAX_D);
        }
    }

    @Override
    public synchronized void attention(int bh, int tq, int tk, int d, float scale, Buffer q, Buffer k, Buffer v,
                                       Buffer mask, int maskGroup, boolean causal, Buffer out, Buffer lse) {
        checkHead(d);
        int rowsPerGroup = PortableKernels.ATTENTION_ROWS;
        launch("xbt_attention_forward").i(bh).i(tq).i(tk).i(d).f(scale).buf(cl(q)).buf(cl(k)).buf(cl(v))
                .flag(mask != null).buf(orPlaceholder(mask)).i(Math.max(1, maskGroup)).flag(causal).buf(cl(out)).buf(cl(lse))
                .run(new long[] {(long) ceilDiv(tq, rowsPerGroup) * rowsPerGroup, bh}, new long[] {rowsPerGroup, 1});
    }

    @Override
    public synchronized void attentionBackward(int bh, int tq, int tk, int d, float scale, Buffer q, Buffer k, Buffer v,
                                               Buffer mask, int maskGroup, boolean causal, Buffer out, Buffer lse, Buffer gradOut,
                                               Buffer gradQ, Buffer gradK, Buffer gradV) {
        checkHead(d);
        if (gradQ == null && gradK == null && gradV == null) return;
        ClBuffer Q = cl(q), K = cl(k), V = cl(v), O = cl(out), L = cl(lse), G = cl(gradOut), M = orPlaceholder(mask);
        int group = Math.max(1, maskGroup), rowsPerGroup = PortableKernels.ATTENTION_ROWS;
        int rows = bh * tq;
        try (ClBuffer delta = wrap(createMem(rows, Sizeof.cl_float, null), rows)) {
            launch("xbt_attention_delta").i(rows).i(d).buf(O).buf(G).mem(delta.mem()).linear(rows);
            if (gradQ != null) {
                launch("xbt_attention_backward_dq").i(bh).i(tq).i(tk).i(d).f(scale).buf(Q).buf(K).buf(V)
                        .flag(mask != null).buf(M).i(group).flag(causal).buf(L).mem(delta.mem()).buf(G).buf(cl(gradQ))
                        .run(new long[] {(long) ceilDiv(tq, rowsPerGroup) * rowsPerGroup, bh}, new long[] {rowsPerGroup, 1});
            }
            if (gradK != null || gradV != null) {
                launch("xbt_attention_backward_dkv").i(bh).i(tq).i(tk).i(d).f(scale).buf(Q).buf(K).buf(V)
                        .flag(mask != null).buf(M).i(group).flag(causal).buf(L).mem(delta.mem()).buf(G)
                        .flag(gradK != null).buf(orPlaceholder(gradK)).flag(gradV != null).buf(orPlaceholder(gradV))
                        .run(new long[] {(long) ceilDiv(tk, rowsPerGroup) * rowsPerGroup, bh}, new long[] {rowsPerGroup, 1});
            }
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static void checkTargets(int[] targets, int rows, int n) {
        if (targets.length < rows) throw new EngineException("crossEntropy: " + targets.length + " targets for " + rows + " rows");
        for (int r = 0; r < rows; r++) {
            if (targets[r] >= n) throw new EngineException("crossEntropy: target " + targets[r] + " of row " + r + " is outside " + n + " classes");
        }
    }

    @Override
    public synchronized void crossEntropy(Buffer logits, int rows, int n, int[] targets, Buffer loss, Buffer lse) {
        if (rows == 0) return;
        checkTargets(targets, rows, n);
        cl_mem t = uploadInts(Arrays.copyOf(targets, rows));
        try {
            launch("xbt_cross_entropy").i(rows).i(n).buf(cl(logits)).mem(t).buf(cl(loss)).buf(cl(lse)).groups(rows, rowWg(n));
        } finally {
            releaseTemp(t, rows);
        }
    }

    @Override
    public synchronized void crossEntropyBackward(Buffer logits, Buffer lse, int[] targets, Buffer gradLoss, int rows, int n,
                                                  Buffer gradLogits) {
        if (rows == 0) return;
        checkTargets(targets, rows, n);
        cl_mem t = uploadInts(Arrays.copyOf(targets, rows));
        try {
            launch("xbt_cross_entropy_backward").i(rows).i(n).buf(cl(logits)).buf(cl(lse)).mem(t).buf(cl(gradLoss)).buf(cl(gradLogits))
                    .linear((long) rows * n);
        } finally {
            releaseTemp(t, rows);
        }
    }

    @Override
    public synchronized void dropout(Buffer x, float p, long seed, Buffer out) {
        ClBuffer X = cl(x), O = cl(out);
        int n = (int) X.length();
        float keepScale = (float) (1.0 / (1.0 - p));
        launch("xbt_dropout").i(n).buf(X).f(p).f(keepScale).l(seed).buf(O).linear(n);
    }

    // ================================================================ read-backs and optimizer steps

    /** Work-items of a partial-sum launch over n elements. */
    private static int partialItems(int n) {
        return Math.max(1, Math.min((n + PARTIAL_CHUNK - 1) / PARTIAL_CHUNK, 1 << 16));
    }

    @Override
    public synchronized double sumOfSquares(Buffer x) {
        ClBuffer X = cl(x);
        int n = (int) X.length();
        if (n == 0) return 0;
        int items = partialItems(n);
        float[] pairs = new float[2 * items];
        try (ClBuffer partial = wrap(createMem(2L * items, Sizeof.cl_float, null), 2 * items)) {
            launch("xbt_sum_squares_partial").i(n).i(items).buf(X).mem(partial.mem()).linear(items);
            download(partial, pairs, 0);
        }
        double s = 0;
        for (int i = 0; i < items; i++) s += (double) pairs[2 * i] + (double) pairs[2 * i + 1];
        return s;
    }

    @Override
    public synchronized long countNaN(Buffer x) {
        ClBuffer X = cl(x);
        int n = (int) X.length();
        if (n == 0) return 0;
        int items = partialItems(n);
        int[] counts = new int[items];
        cl_mem partial = createMem(items, Sizeof.cl_int, null);
        try {
            launch("xbt_count_nan_partial").i(n).i(items).buf(X).mem(partial).linear(items);
            clEnqueueReadBuffer(queue, partial, CL_TRUE, 0, (long) items * Sizeof.cl_int, Pointer.to(counts), 0, null, null);
        } finally {
            releaseTemp(partial, items);
        }
        long c = 0;
        for (int v : counts) c += v;
        return c;
    }

    @Override
    public synchronized void adamw(Buffer param, Buffer grad, Buffer m, Buffer v, float lr, float beta1, float beta2, float eps,
                                   float weightDecay, float bias1, float bias2) {
        ClBuffer P = cl(param);
        int n = (int) P.length();
        launch("xbt_adamw").i(n).buf(P).buf(cl(grad)).buf(cl(m)).buf(cl(v)).f(lr).f(beta1).f(beta2).f(eps).f(weightDecay)
                .f(bias1).f(bias2).linear(n);
    }

    @Override
    public synchronized void sgd(Buffer param, Buffer grad, Buffer momentum, float lr, float mu, float weightDecay, boolean nesterov) {
        ClBuffer P = cl(param);
        int n = (int) P.length();
        launch("xbt_sgd").i(n).buf(P).buf(cl(grad)).buf(cl(momentum)).f(lr).f(mu).f(weightDecay).flag(nesterov).linear(n);
    }
}

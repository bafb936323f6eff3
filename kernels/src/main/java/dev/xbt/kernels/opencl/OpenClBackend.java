package dev.xbt.kernels.opencl;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.BinaryOp;
import dev.xbt.engine.backend.Buffer;
import dev.xbt.engine.backend.ReduceOp;
import dev.xbt.engine.backend.UnaryOp;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The engine's kernels on an OpenCL device through JOCL: the portable kernels of
 * {@code dev/xbt/kernels/portable/ops.cl} (shared with CUDA through {@code xbt_compat.h}), built once
 * per process, each kernel looked up once. One in-order queue; a kernel launch never waits, only the
 * read-backs ({@link #download}, {@link #sumOfSquares}, {@link #countNaN}) do. Calls are serialized
 * (a cl_kernel's arguments are shared state).
 */
final class OpenClBackend implements Backend {
    static final String PORTABLE = "/dev/xbt/kernels/portable/";

    private final OpenClDevice device;
    private final cl_context context;
    private final cl_command_queue queue;
    private final cl_program program;
    private final Map<String, cl_kernel> kernels = new HashMap<>();
    /** Bound to absent optional buffers (a kernel argument cannot be left unset). */
    private final ClBuffer dummy;

    OpenClBackend(OpenClDevice device) {
        this.device = device;
        cl_device_id[] devices = {device.device()};
        org.jocl.cl_context_properties props = new org.jocl.cl_context_properties();
        props.addProperty(CL.CL_CONTEXT_PLATFORM, device.platform());
        this.context = CL.clCreateContext(props, 1, devices, null, null, null);
        this.queue = CL.clCreateCommandQueueWithProperties(context, device.device(), null, null);
        String source = resource("xbt_compat.h") + "\n" + resource("ops.cl");
        this.program = CL.clCreateProgramWithSource(context, 1, new String[] {source}, null, null);
        try {
            CL.clBuildProgram(program, 1, devices, "-cl-std=CL1.2", null, null);
        } catch (RuntimeException e) {
            throw new IllegalStateException("OpenCL kernels failed to build on " + device + ": " + buildLog(devices[0]), e);
        }
        this.dummy = (ClBuffer) allocate(1);
    }

    private static String resource(String name) {
        try (InputStream in = OpenClBackend.class.getResourceAsStream(PORTABLE + name)) {
            if (in == null) throw new IllegalStateException("missing kernel source " + PORTABLE + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String buildLog(cl_device_id d) {
        long[] size = new long[1];
        CL.clGetProgramBuildInfo(program, d, CL.CL_PROGRAM_BUILD_LOG, 0, null, size);
        byte[] log = new byte[(int) size[0]];
        CL.clGetProgramBuildInfo(program, d, CL.CL_PROGRAM_BUILD_LOG, log.length, Pointer.to(log), null);
        return new String(log, StandardCharsets.UTF_8).trim();
    }

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public String toString() {
        return "opencl on " + device;
    }

    // ---- launching ----

    /** Arguments of one launch, set in order; buffers pass as (cl_mem, element offset). */
    private final class Launch {
        private final cl_kernel kernel;
        private int index;
        private final List<cl_mem> temporaries = new ArrayList<>();

        Launch(String name) {
            this.kernel = kernels.computeIfAbsent(name, n -> CL.clCreateKernel(program, n, null));
        }

        Launch buf(Buffer b) {
            ClBuffer c = b == null ? dummy : cl(b);
            CL.clSetKernelArg(kernel, index++, Sizeof.cl_mem, Pointer.to(c.mem()));
            return i(c.offset);
        }

        /** An optional buffer: a flag (1 present, 0 absent) then the buffer. */
        Launch opt(Buffer b) {
            return i(b == null ? 0 : 1).buf(b);
        }

        /** A small read-only int array, copied for this launch. */
        Launch ints(int[] values) {
            int[] v = values.length == 0 ? new int[1] : values;
            cl_mem mem = CL.clCreateBuffer(context, CL.CL_MEM_READ_ONLY | CL.CL_MEM_COPY_HOST_PTR,
                    (long) Sizeof.cl_int * v.length, Pointer.to(v), null);
            temporaries.add(mem);
            CL.clSetKernelArg(kernel, index++, Sizeof.cl_mem, Pointer.to(mem));
            return this;
        }

        Launch mem(cl_mem mem) {
            CL.clSetKernelArg(kernel, index++, Sizeof.cl_mem, Pointer.to(mem));
            return this;
        }

        Launch i(int v) {
            CL.clSetKernelArg(kernel, index++, Sizeof.cl_int, Pointer.to(new int[] {v}));
            return this;
        }

        Launch i(boolean v) {
            return i(v ? 1 : 0);
        }

        Launch f(float v) {
            CL.clSetKernelArg(kernel, index++, Sizeof.cl_float, Pointer.to(new float[] {v}));
            return this;
        }

        Launch l(long v) {
            CL.clSetKernelArg(kernel, index++, Sizeof.cl_long, Pointer.to(new long[] {v}));
            return this;
        }

        /** One work-item per index in [0, n). */
        void run(long n) {
            if (n <= 0) {
                done();
                return;
            }
            CL.clEnqueueNDRangeKernel(queue, kernel, 1, null, new long[] {n}, null, 0, null, null);
            done();
        }

        void run(long[] global, long[] local) {
            CL.clEnqueueNDRangeKernel(queue, kernel, global.length, null, global, local, 0, null, null);
            done();
        }

        private void done() {
            for (cl_mem m : temporaries) CL.clReleaseMemObject(m); // enqueued kernels keep them alive
        }
    }

    private ClBuffer cl(Buffer b) {
        if (!(b instanceof ClBuffer c) || c.backend != this) {
            throw new IllegalArgumentException("not a buffer of this OpenCL backend: " + b);
        }
        return c;
    }

    private static int checkedInt(long v, String what) {
        if (v < 0 || v > Integer.MAX_VALUE) throw new IllegalArgumentException(what + " " + v + " exceeds the OpenCL backend's int range");
        return (int) v;
    }

    // ---- memory ----

    @Override
    public synchronized Buffer allocate(long n) {
        int len = checkedInt(n, "buffer length");
        cl_mem mem = CL.clCreateBuffer(context, CL.CL_MEM_READ_WRITE, 4L * Math.max(1, len), null, null);
        ClBuffer b = new ClBuffer(this, new ClBuffer.Storage(mem), 0, len);
        fill(b, 0f);
        return b;
    }

    @Override
    public synchronized Buffer upload(float[] src, int off, int n) {
        cl_mem mem;
        if (n == 0) {
            mem = CL.clCreateBuffer(context, CL.CL_MEM_READ_WRITE, 4, null, null);
        } else {
            mem = CL.clCreateBuffer(context, CL.CL_MEM_READ_WRITE | CL.CL_MEM_COPY_HOST_PTR, 4L * n,
                    Pointer.to(src).withByteOffset(4L * off), null);
        }
        return new ClBuffer(this, new ClBuffer.Storage(mem), 0, n);
    }

    @Override
    public synchronized void download(Buffer src, float[] dst, int dstOff) {
        ClBuffer s = cl(src);
        if (s.length == 0) return;
        CL.clEnqueueReadBuffer(queue, s.mem(), CL.CL_TRUE, 4L * s.offset, 4L * s.length,
                Pointer.to(dst).withByteOffset(4L * dstOff), 0, null, null);
    }

    @Override
    public synchronized void copy(Buffer src, Buffer dst) {
        new Launch("xbt_copy").buf(src).buf(dst).i(cl(src).length).run(cl(src).length);
    }

    @Override
    public synchronized void fill(Buffer dst, float value) {
        new Launch("xbt_fill").buf(dst).i(cl(dst).length).f(value).run(cl(dst).length);
    }

    // ---- linear algebra ----

    private static final int TILE = 16;

    @Override
    public synchronized void gemm(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
                                  Buffer a, long strideA, Buffer b, long strideB, float beta, Buffer c, long strideC) {
        if (batch == 0 || m == 0 || n == 0) return;
        new Launch("xbt_gemm").i(transA).i(transB).i(m).i(n).i(k).f(alpha)
                .buf(a).i(checkedInt(strideA, "strideA")).buf(b).i(checkedInt(strideB, "strideB"))
                .f(beta).buf(c).i(checkedInt(strideC, "strideC"))
                .run(new long[] {roundUp(n, TILE), roundUp(m, TILE), batch}, new long[] {TILE, TILE, 1});
    }

    private static long roundUp(long v, int to) {
        return (v + to - 1) / to * to;
    }

    // ---- element-wise ----

    private static int[] dims(int[] shape, int[] s1, int[] s2) {
        int r = shape.length;
        int[] d = new int[3 * r];
        System.arraycopy(shape, 0, d, 0, r);
        System.arraycopy(s1, 0, d, r, r);
        System.arraycopy(s2, 0, d, 2 * r, r);
        return d;
    }

    private static long count(int[] shape) {
        long n = 1;
        for (int s : shape) n *= s;
        return n;
    }

    @Override
    public synchronized void binary(BinaryOp op, int[] shape, Buffer a, int[] aStrides, Buffer b, int[] bStrides, Buffer out) {
        long n = count(shape);
        new Launch("xbt_binary").i(op.ordinal()).i(shape.length).ints(dims(shape, aStrides, bStrides))
                .buf(a).buf(b).buf(out).i(checkedInt(n, "element count")).run(n);
    }

    @Override
    public synchronized void unary(UnaryOp op, Buffer x, Buffer out) {
        int n = cl(x).length;
        new Launch("xbt_unary").i(op.ordinal()).buf(x).buf(out).i(n).run(n);
    }

    @Override
    public synchronized void unaryBackward(UnaryOp op, Buffer x, Buffer gradOut, Buffer gradIn) {
        int n = cl(x).length;
        new Launch("xbt_unary_backward").i(op.ordinal()).buf(x).buf(gradOut).buf(gradIn).i(n).run(n);
    }

    @Override
    public synchronized void affine(Buffer x, float scale, float shift, Buffer out) {
        int n = cl(x).length;
        new Launch("xbt_affine").buf(x).f(scale).f(shift).buf(out).i(n).run(n);
    }

    // ---- reductions and data movement ----

    @Override
    public synchronized void reduce(ReduceOp op, Buffer x, int outer, int n, int inner, Buffer out) {
        new Launch("xbt_reduce").i(op.ordinal()).buf(x).i(outer).i(n).i(inner).buf(out).run((long) outer * inner);
    }

    @Override
    public synchronized void reduceMaxBackward(Buffer x, Buffer max, Buffer gradOut, int outer, int n, int inner, Buffer gradIn) {
        new Launch("xbt_reduce_max_backward").buf(x).buf(max).buf(gradOut).i(outer).i(n).i(inner).buf(gradIn)
                .run((long) outer * inner);
    }

    @Override
    public synchronized void stridedCopy(int[] shape, Buffer src, int[] srcStrides, Buffer dst, int[] dstStrides, boolean accumulate) {
        long n = count(shape);
        if (accumulate && hasRepeats(shape, dstStrides)) {
            // Destinations that repeat would race on the device: accumulate through the host, in order.
            float[] s = new float[cl(src).length], d = new float[cl(dst).length];
            download(src, s, 0);
            download(dst, d, 0);
            int[] idx = new int[shape.length];
            for (long e = 0; e < n; e++) {
                int si = 0, di = 0;
                for (int ax = 0; ax < shape.length; ax++) {
                    si += idx[ax] * srcStrides[ax];
                    di += idx[ax] * dstStrides[ax];
                }
                d[di] += s[si];
                for (int ax = shape.length - 1; ax >= 0 && ++idx[ax] == shape[ax]; ax--) idx[ax] = 0;
            }
            ClBuffer c = cl(dst);
            CL.clEnqueueWriteBuffer(queue, c.mem(), CL.CL_TRUE, 4L * c.offset, 4L * c.length, Pointer.to(d), 0, null, null);
            return;
        }
        new Launch("xbt_strided_copy").i(shape.length).ints(dims(shape, srcStrides, dstStrides)).buf(src).buf(dst)
                .i(accumulate).i(checkedInt(n, "element count")).run(n);
    }

    /** Whether two index vectors reach the same destination element (a stride 0 over a size above 1). */
    private static boolean hasRepeats(int[] shape, int[] strides) {
        for (int ax = 0; ax < shape.length; ax++) if (shape[ax] > 1 && strides[ax] == 0) return true;
        return false;
    }

    @Override
    public synchronized void gatherRows(Buffer table, int rowLen, int[] rows, Buffer out) {
        new Launch("xbt_gather_rows").buf(table).i(rowLen).ints(rows).i(rows.length).buf(out)
                .run((long) rows.length * rowLen);
    }

    @Override
    public synchronized void scatterAddRows(Buffer src, int rowLen, int[] rows, Buffer table) {
        // Group source rows by destination (in source order within a destination): no two work-items write one element.
        TreeMap<Integer, List<Integer>> groups = new TreeMap<>();
        for (int r = 0; r < rows.length; r++) groups.computeIfAbsent(rows[r], x -> new ArrayList<>()).add(r);
        int[] targets = new int[groups.size()], starts = new int[groups.size() + 1], order = new int[rows.length];
        int u = 0, at = 0;
        for (Map.Entry<Integer, List<Integer>> e : groups.entrySet()) {
            targets[u] = e.getKey();
            starts[u++] = at;
            for (int r : e.getValue()) order[at++] = r;
        }
        starts[u] = at;
        new Launch("xbt_scatter_add_rows").buf(src).i(rowLen).ints(targets).ints(starts).ints(order).i(u).buf(table)
                .run((long) u * rowLen);
    }

    // ---- fused neural-network kernels ----

    @Override
    public synchronized void layerNorm(Buffer x, Buffer gamma, Buffer beta, int rows, int n, float eps,
                                       Buffer out, Buffer mean, Buffer rstd) {
        new Launch("xbt_layer_norm").buf(x).buf(gamma).buf(beta).i(rows).i(n).f(eps).buf(out).buf(mean).buf(rstd).run(rows);
    }

    @Override
    public synchronized void layerNormBackward(Buffer x, Buffer gamma, Buffer mean, Buffer rstd, Buffer gradOut, int rows,
                                               int n, Buffer gradX, Buffer gradGamma, Buffer gradBeta) {
        if (gradX != null) {
            new Launch("xbt_layer_norm_backward_x").buf(x).buf(gamma).buf(mean).buf(rstd).buf(gradOut).i(rows).i(n)
                    .buf(gradX).run(rows);
        }
        if (gradGamma != null || gradBeta != null) {
            new Launch("xbt_layer_norm_backward_params").buf(x).buf(mean).buf(rstd).buf(gradOut).i(rows).i(n)
                    .opt(gradGamma).opt(gradBeta).run(n);
        }
    }

    @Override
    public synchronized void softmax(Buffer x, int rows, int n, boolean log, Buffer out) {
        new Launch("xbt_softmax").buf(x).i(rows).i(n).i(log).buf(out).run(rows);
    }

    @Override
    public synchronized void softmaxBackward(Buffer y, Buffer gradOut, int rows, int n, boolean log, Buffer gradIn) {
        new Launch("xbt_softmax_backward").buf(y).buf(gradOut).i(rows).i(n).i(log).buf(gradIn).run(rows);
    }

    /** Head dimension the attention kernels hold in private memory (XBT_MAX_HEAD_DIM in ops.cl). */
    static final int MAX_HEAD_DIM = 256;

    private Launch attentionArgs(String kernel, int bh, int tq, int tk, int d, float scale, Buffer q, Buffer k,
                                 Buffer v, Buffer mask, int maskGroup, boolean causal) {
        if (d > MAX_HEAD_DIM) throw new IllegalArgumentException("attention head dimension " + d + " above " + MAX_HEAD_DIM);
        return new Launch(kernel).i(bh).i(tq).i(tk).i(d).f(scale).buf(q).buf(k).buf(v)
                .buf(mask).i(mask != null).i(Math.max(1, maskGroup)).i(causal);
    }

    @Override
    public synchronized void attention(int bh, int tq, int tk, int d, float scale, Buffer q, Buffer k, Buffer v,
                                       Buffer mask, int maskGroup, boolean causal, Buffer out, Buffer lse) {
        attentionArgs("xbt_attention", bh, tq, tk, d, scale, q, k, v, mask, maskGroup, causal)
                .buf(out).buf(lse).run((long) bh * tq);
    }

    @Override
    public synchronized void attentionBackward(int bh, int tq, int tk, int d, float scale, Buffer q, Buffer k, Buffer v,
                                               Buffer mask, int maskGroup, boolean causal, Buffer out, Buffer lse,
                                               Buffer gradOut, Buffer gradQ, Buffer gradK, Buffer gradV) {
        if (gradQ != null) {
            attentionArgs("xbt_attention_backward_q", bh, tq, tk, d, scale, q, k, v, mask, maskGroup, causal)
                    .buf(out).buf(lse).buf(gradOut).buf(gradQ).run((long) bh * tq);
        }
        if (gradK != null || gradV != null) {
            attentionArgs("xbt_attention_backward_kv", bh, tq, tk, d, scale, q, k, v, mask, maskGroup, causal)
                    .buf(out).buf(lse).buf(gradOut).opt(gradK).opt(gradV).run((long) bh * tk);
        }
    }

    @Override
    public synchronized void crossEntropy(Buffer logits, int rows, int n, int[] targets, Buffer loss, Buffer lse) {
        new Launch("xbt_cross_entropy").buf(logits).i(rows).i(n).ints(targets).buf(loss).buf(lse).run(rows);
    }

    @Override
    public synchronized void crossEntropyBackward(Buffer logits, Buffer lse, int[] targets, Buffer gradLoss, int rows, int n,
                                                  Buffer gradLogits) {
        new Launch("xbt_cross_entropy_backward").buf(logits).buf(lse).ints(targets).buf(gradLoss).i(rows).i(n)
                .buf(gradLogits).run((long) rows * n);
    }

    @Override
    public synchronized void dropout(Buffer x, float p, long seed, Buffer out) {
        int n = cl(x).length;
        new Launch("xbt_dropout").buf(x).f(p).l(seed).buf(out).i(n).run(n);
    }

    // ---- read-backs and optimizer steps ----

    /** Work-items of a read-back reduction; each sums a strided share, the host adds the partials in order. */
    private static final int PARTS = 256;

    @Override
    public synchronized double sumOfSquares(Buffer x) {
        int n = cl(x).length;
        if (n == 0) return 0;
        cl_mem partial = CL.clCreateBuffer(context, CL.CL_MEM_READ_WRITE, (long) Sizeof.cl_double * PARTS, null, null);
        try {
            new Launch("xbt_sum_of_squares").buf(x).i(n).i(PARTS).mem(partial).run(PARTS);
            double[] p = new double[PARTS];
            CL.clEnqueueReadBuffer(queue, partial, CL.CL_TRUE, 0, (long) Sizeof.cl_double * PARTS, Pointer.to(p), 0, null, null);
            double s = 0;
            for (double v : p) s += v;
            return s;
        } finally {
            CL.clReleaseMemObject(partial);
        }
    }

    @Override
    public synchronized long countNaN(Buffer x) {
        int n = cl(x).length;
        if (n == 0) return 0;
        cl_mem partial = CL.clCreateBuffer(context, CL.CL_MEM_READ_WRITE, (long) Sizeof.cl_int * PARTS, null, null);
        try {
            new Launch("xbt_count_nan").buf(x).i(n).i(PARTS).mem(partial).run(PARTS);
            int[] p = new int[PARTS];
            CL.clEnqueueReadBuffer(queue, partial, CL.CL_TRUE, 0, (long) Sizeof.cl_int * PARTS, Pointer.to(p), 0, null, null);
            long s = 0;
            for (int v : p) s += v;
            return s;
        } finally {
            CL.clReleaseMemObject(partial);
        }
    }

    @Override
    public synchronized void adamw(Buffer param, Buffer grad, Buffer m, Buffer v, float lr, float beta1, float beta2,
                                   float eps, float weightDecay, float bias1, float bias2) {
        int n = cl(param).length;
        new Launch("xbt_adamw").buf(param).buf(grad).buf(m).buf(v).f(lr).f(beta1).f(beta2).f(eps).f(weightDecay)
                .f(bias1).f(bias2).i(n).run(n);
    }

    @Override
    public synchronized void sgd(Buffer param, Buffer grad, Buffer momentum, float lr, float mu, float weightDecay,
                                 boolean nesterov) {
        int n = cl(param).length;
        new Launch("xbt_sgd").buf(param).buf(grad).buf(momentum).f(lr).f(mu).f(weightDecay).i(nesterov).i(n).run(n);
    }
}

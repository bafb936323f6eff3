package dev.xbt.kernels.cuda;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.BinaryOp;
import dev.xbt.engine.backend.Buffer;
import dev.xbt.engine.backend.ReduceOp;
import dev.xbt.engine.backend.UnaryOp;
import jcuda.driver.CUstream;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

/**
 * The CUDA backend: every kernel of the {@link Backend} SPI on one GPU through JCuda's driver API.
 * Kernels are our own CUDA C (kernels/src/main/cuda, shipped as PTX); matrix products go to cuBLAS
 * where it loads, else to our tiled kernels. Everything is issued to one stream without waiting;
 * only read-backs ({@link #download}, {@link #sumOfSquares}, {@link #countNaN}) and
 * {@link #synchronize} wait.
 *
 * <p>Settings (system properties, read at creation; {@link #setGemm} changes them later):
 * {@code xbt.cuda.gemm} = auto (cuBLAS if it loads, else ours) | cublas | kernel;
 * {@code xbt.cuda.precision} = fp32 (default, for parity with the CPU) | tf32 | bf16 (tensor cores,
 * opt-in: inputs of matrix products are rounded to 10 or 7 mantissa bits).
 */
public final class CudaBackend implements Backend {
    /** Who computes matrix products. */
    public enum GemmPath { CUBLAS, KERNEL }

    /** Arithmetic of matrix products; accumulation is always FP32. */
    public enum Precision { FP32, TF32, BF16 }

    private static final int THREADS = 256;
    private static final int MAX_RANK = 8;
    /** The attention kernels keep a row of the head dimension in registers, 8 per lane. */
    static final int MAX_HEAD_DIM = 256;

    private final CudaDevice device;
    private final CUstream stream = new CUstream(); // the default stream: cuBLAS uses it too
    private final CudaMemory memory;
    private final CudaModule module;
    private final Optional<Cublas> cublas;
    private final String cublasReason;
    private final ThreadLocal<MemoryScope> scope = new ThreadLocal<>();
    private volatile GemmPath gemmPath;
    private volatile Precision precision;

    CudaBackend(CudaDevice device) {
        this.device = device;
        device.makeCurrent();
        this.memory = new CudaMemory(device, stream);
        this.module = new CudaModule();
        StringBuilder why = new StringBuilder();
        this.cublas = Cublas.load(why);
        this.cublasReason = why.toString();
        String path = System.getProperty("xbt.cuda.gemm", "auto").strip().toLowerCase(Locale.ROOT);
        String prec = System.getProperty("xbt.cuda.precision", "fp32").strip().toLowerCase(Locale.ROOT);
        Precision p = switch (prec) {
            case "fp32" -> Precision.FP32;
            case "tf32" -> Precision.TF32;
            case "bf16" -> Precision.BF16;
            default -> throw new EngineException("xbt.cuda.precision must be fp32, tf32 or bf16, not '" + prec + "'");
        };
        GemmPath g = switch (path) {
            case "auto" -> cublas.isPresent() ? GemmPath.CUBLAS : GemmPath.KERNEL;
            case "cublas" -> GemmPath.CUBLAS;
            case "kernel" -> GemmPath.KERNEL;
            default -> throw new EngineException("xbt.cuda.gemm must be auto, cublas or kernel, not '" + path + "'");
        };
        setGemm(g, p);
    }

    @Override
    public String name() {
        return "cuda";
    }

    /** The GPU, its compute capability and memory, and the GEMM path in use, in one line. */
    public String describe() {
        return device + "; gemm " + gemmPath.name().toLowerCase(Locale.ROOT) + " " + precision.name().toLowerCase(Locale.ROOT)
                + (cublas.map(c -> " (cuBLAS: " + c.library + ")").orElse(" (no cuBLAS: " + cublasReason + ")"));
    }

    public String deviceName() {
        return device.name;
    }

    /** Chooses who computes matrix products, and in what precision. */
    public void setGemm(GemmPath path, Precision precision) {
        if (path == GemmPath.CUBLAS && cublas.isEmpty()) {
            throw new EngineException("cuda: cuBLAS was asked for but did not load: " + cublasReason);
        }
        this.gemmPath = path;
        this.precision = precision;
    }

    public boolean hasCublas() {
        return cublas.isPresent();
    }

    public GemmPath gemmPath() {
        return gemmPath;
    }

    public Precision precision() {
        return precision;
    }

    /** Waits until everything issued so far has run. */
    public void synchronize() {
        device.makeCurrent();
        cuStreamSynchronize(stream);
    }

    /** Device memory held by live buffers, in bytes (the allocator's cache not counted). */
    public long liveBytes() {
        return memory.liveBytes();
    }

    /** Returns the allocator's cached blocks to the driver. */
    public void trim() {
        memory.trim();
    }

    // ================================================================ memory

    /**
     * Buffers allocated on this thread while the scope is open are closed when it closes: for loops
     * that would otherwise leave device memory to the garbage collector. Results that must outlive
     * the scope have to be read back (or allocated before it opens).
     */
    public MemoryScope scope() {
        MemoryScope s = new MemoryScope(scope.get());
        scope.set(s);
        return s;
    }

    /** See {@link #scope()}. */
    public final class MemoryScope implements AutoCloseable {
        private final MemoryScope outer;
        private final List<CudaBuffer> owned = new ArrayList<>();

        private MemoryScope(MemoryScope outer) {
            this.outer = outer;
        }

        @Override
        public void close() {
            for (CudaBuffer b : owned) b.close();
            owned.clear();
            scope.set(outer);
        }
    }

    private CudaBuffer newBuffer(long n) {
        if (n < 0) throw new EngineException("cuda: cannot allocate " + n + " floats");
        CudaMemory.Allocation a = memory.allocate(Math.max(1, n) * 4);
        CudaBuffer b = new CudaBuffer(this, a, 0, n);
        MemoryScope s = scope.get();
        if (s != null) s.owned.add(b);
        return b;
    }

    static CudaBuffer c(Buffer b) {
        if (b instanceof CudaBuffer cb) return cb;
        throw new IllegalArgumentException("not a CUDA buffer: " + (b == null ? "null" : b.backend().name()));
    }

    /** Like {@link #c} but null stays null (optional outputs). */
    private static CudaBuffer opt(Buffer b) {
        return b == null ? null : c(b);
    }

    @Override
    public Buffer allocate(long n) {
        CudaBuffer b = newBuffer(n);
        if (n > 0) cuMemsetD32Async(b.base().withByteOffset(b.byteOffset()), 0, n, stream);
        return b;
    }

    @Override
    public Buffer upload(float[] src, int off, int n) {
        CudaBuffer b = newBuffer(n);
        memory.upload(src, null, off, n, b.base(), b.byteOffset());
        return b;
    }

    /** Integer arguments (row indices, targets) as a temporary device array. */
    private CudaBuffer uploadInts(int[] v) {
        CudaBuffer b = new CudaBuffer(this, memory.allocate(Math.max(1, v.length) * 4L), 0, v.length);
        memory.upload(null, v, 0, v.length, b.base(), b.byteOffset());
        return b;
    }

    @Override
    public void download(Buffer src, float[] dst, int dstOff) {
        CudaBuffer s = c(src);
        memory.download(s.base(), s.byteOffset(), dst, dstOff, (int) s.length);
    }

    @Override
    public void copy(Buffer src, Buffer dst) {
        CudaBuffer s = c(src), d = c(dst);
        if (s.length != d.length) throw new IllegalArgumentException("copy: lengths differ (" + s.length + " and " + d.length + ")");
        if (s.length == 0) return;
        device.makeCurrent();
        cuMemcpyDtoDAsync(d.base().withByteOffset(d.byteOffset()), s.base().withByteOffset(s.byteOffset()), 4 * s.length, stream);
    }

    @Override
    public void fill(Buffer dst, float value) {
        CudaBuffer d = c(dst);
        if (d.length == 0) return;
        device.makeCurrent();
        cuMemsetD32Async(d.base().withByteOffset(d.byteOffset()), Float.floatToRawIntBits(value), d.length, stream);
    }

    // ================================================================ launches

    private CudaModule.Launch k(String name) {
        device.makeCurrent();
        return module.launch(name);
    }

    /** Blocks for a grid-stride loop over n elements. */
    private int blocks(long n) {
        long b = (n + THREADS - 1) / THREADS;
        return (int) Math.max(1, Math.min(b, (long) device.multiprocessors * 16));
    }

    /** Blocks of 128 threads for one warp per row. */
    private static int warpBlocks(long rows) {
        long b = (rows * 32 + 127) / 128;
        if (b > Integer.MAX_VALUE) throw new EngineException("cuda: " + rows + " rows are too many for one launch");
        return (int) b;
    }

    private static int[] dims(int[] shape, int[] first, int[] second) {
        if (shape.length > MAX_RANK) throw new EngineException("cuda: rank " + shape.length + " exceeds the kernels' " + MAX_RANK);
        int[] d = new int[1 + 3 * MAX_RANK];
        d[0] = shape.length;
        for (int i = 0; i < shape.length; i++) {
            d[1 + i] = shape[i];
            d[1 + MAX_RANK + i] = first[i];
            d[1 + 2 * MAX_RANK + i] = second[i];
        }
        return d;
    }

    private static long size(int[] shape) {
        long n = 1;
        for (int s : shape) n *= s;
        return n;
    }

    private static boolean contiguous(int[] shape, int[] strides) {
        long expect = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expect) return false;
            expect *= shape[i];
        }
        return true;
    }

    // ================================================================ linear algebra

    @Override
    public void gemm(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
                     Buffer a, long strideA, Buffer b, long strideB, float beta, Buffer c, long strideC) {
        if (batch <= 0 || m <= 0 || n <= 0) return;
        CudaBuffer A = c(a), B = c(b), C = c(c);
        device.makeCurrent();
        // Batches whose outputs overlap (strideC smaller than a matrix: accumulation into one C) must run
        // one after another; the stream keeps separate launches in order.
        if (batch > 1 && strideC < (long) m * n) {
            for (int p = 0; p < batch; p++) {
                gemmOnce(1, transA, transB, m, n, k, alpha, A.address() + 4 * p * strideA, 0, B.address() + 4 * p * strideB, 0,
                        beta, C.address() + 4 * p * strideC, 0);
            }
            return;
        }
        gemmOnce(batch, transA, transB, m, n, k, alpha, A.address(), strideA, B.address(), strideB, beta, C.address(), strideC);
    }

    private void gemmOnce(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha, long a, long strideA,
                          long b, long strideB, float beta, long c, long strideC) {
        if (gemmPath == GemmPath.CUBLAS) {
            cublas.orElseThrow().gemm(precision, batch, transA, transB, m, n, k, alpha, a, strideA, b, strideB, beta, c, strideC);
            return;
        }
        String kernel = switch (precision) {
            case FP32 -> "xbt_gemm_f32";
            case TF32 -> "xbt_gemm_tf32";
            case BF16 -> "xbt_gemm_bf16";
        };
        CudaModule.Launch l = module.launch(kernel).i(batch).i(transA ? 1 : 0).i(transB ? 1 : 0).i(m).i(n).i(k).f(alpha)
                .l(a).l(strideA).l(b).l(strideB).f(beta).l(c).l(strideC);
        int gx = (n + 63) / 64, gy = (m + 63) / 64, gz = Math.min(batch, 65535);
        if (precision == Precision.FP32) l.run(stream, gx, gy, gz, 16, 16, 0);
        else l.run(stream, gx, gy, gz, 128, 0);
    }

    // ================================================================ element-wise

    @Override
    public void binary(BinaryOp op, int[] shape, Buffer a, int[] aStrides, Buffer b, int[] bStrides, Buffer out) {
        long n = size(shape);
        if (n == 0) return;
        if (contiguous(shape, aStrides) && contiguous(shape, bStrides)) {
            k("xbt_binary_flat").i(op.ordinal()).p(c(a)).p(c(b)).p(c(out)).l(n).run(stream, blocks(n), 1, 1, THREADS, 0);
        } else {
            k("xbt_binary").i(op.ordinal()).struct(dims(shape, aStrides, bStrides)).p(c(a)).p(c(b)).p(c(out)).l(n)
                    .run(stream, blocks(n), 1, 1, THREADS, 0);
        }
    }

    @Override
    public void unary(UnaryOp op, Buffer x, Buffer out) {
        long n = c(x).length;
        k("xbt_unary").i(op.ordinal()).p(c(x)).p(c(out)).l(n).run(stream, blocks(n), 1, 1, THREADS, 0);
    }

    @Override
    public void unaryBackward(UnaryOp op, Buffer x, Buffer gradOut, Buffer gradIn) {
        long n = c(x).length;
        k("xbt_unary_backward").i(op.ordinal()).p(c(x)).p(c(gradOut)).p(c(gradIn)).l(n).run(stream, blocks(n), 1, 1, THREADS, 0);
    }

    @Override
    public void affine(Buffer x, float scale, float shift, Buffer out) {
        long n = c(x).length;
        k("xbt_affine").p(c(x)).f(scale).f(shift).p(c(out)).l(n).run(stream, blocks(n), 1, 1, THREADS, 0);
    }

    // ================================================================ reductions and data movement

    @Override
    public void reduce(ReduceOp op, Buffer x, int outer, int n, int inner, Buffer out) {
        if (inner == 1) {
            k("xbt_reduce_rows").i(op.ordinal()).p(c(x)).i(outer).i(n).p(c(out)).run(stream, outer, 1, 1, THREADS, 0);
            return;
        }
        long outputs = (long) outer * inner;
        int chunk = Math.max(128, (n + 65534) / 65535), chunks = (n + chunk - 1) / chunk; // chunks go in gridDim.y
        if (outputs < 32L * 1024 && chunks > 1) {
            // Few outputs over a long axis: one thread per output would leave most of the GPU idle.
            try (CudaBuffer partial = newTemp(chunks * outputs)) {
                k("xbt_reduce_strided_chunk").i(op.ordinal()).p(c(x)).i(outer).i(n).i(inner).i(chunk).p(partial)
                        .run(stream, (int) ((outputs + THREADS - 1) / THREADS), chunks, 1, THREADS, 0);
                k("xbt_reduce_strided").i(op.ordinal()).p(partial).i(1).i(chunks).i((int) outputs).p(c(out))
                        .run(stream, blocks(outputs), 1, 1, THREADS, 0);
            }
            return;
        }
        k("xbt_reduce_strided").i(op.ordinal()).p(c(x)).i(outer).i(n).i(inner).p(c(out)).run(stream, blocks(outputs), 1, 1, THREADS, 0);
    }

    @Override
    public void reduceMaxBackward(Buffer x, Buffer max, Buffer gradOut, int outer, int n, int inner, Buffer gradIn) {
        k("xbt_reduce_max_backward").p(c(x)).p(c(max)).p(c(gradOut)).i(outer).i(n).i(inner).p(c(gradIn))
                .run(stream, blocks((long) outer * inner), 1, 1, THREADS, 0);
    }

    @Override
    public void stridedCopy(int[] shape, Buffer src, int[] srcStrides, Buffer dst, int[] dstStrides, boolean accumulate) {
        long n = size(shape);
        if (n == 0) return;
        // Accumulation where several indices share a destination element (a stride-0 axis) adds atomically.
        boolean shared = false;
        for (int i = 0; i < shape.length; i++) shared |= shape[i] > 1 && dstStrides[i] == 0;
        k("xbt_strided_copy").struct(dims(shape, srcStrides, dstStrides)).p(c(src)).p(c(dst)).l(n).i(accumulate ? 1 : 0)
                .i(shared ? 1 : 0).run(stream, blocks(n), 1, 1, THREADS, 0);
    }

    @Override
    public void gatherRows(Buffer table, int rowLen, int[] rows, Buffer out) {
        if (rows.length == 0 || rowLen == 0) return;
        try (CudaBuffer idx = uploadInts(rows)) {
            k("xbt_gather_rows").p(c(table)).i(rowLen).p(idx).i(rows.length).p(c(out))
                    .run(stream, blocks((long) rows.length * rowLen), 1, 1, THREADS, 0);
        }
    }

    @Override
    public void scatterAddRows(Buffer src, int rowLen, int[] rows, Buffer table) {
        if (rows.length == 0 || rowLen == 0) return;
        try (CudaBuffer idx = uploadInts(rows)) {
            k("xbt_scatter_add_rows").p(c(src)).i(rowLen).p(idx).i(rows.length).p(c(table))
                    .run(stream, blocks((long) rows.length * rowLen), 1, 1, THREADS, 0);
        }
    }

    // ================================================================ fused kernels

    @Override
    public void layerNorm(Buffer x, Buffer gamma, Buffer beta, int rows, int n, float eps, Buffer out, Buffer mean, Buffer rstd) {
        k("xbt_layer_norm").p(c(x)).p(c(gamma)).p(c(beta)).i(rows).i(n).f(eps).p(c(out)).p(opt(mean)).p(opt(rstd))
                .run(stream, rows, 1, 1, THREADS, 0);
    }

    @Override
    public void layerNormBackward(Buffer x, Buffer gamma, Buffer mean, Buffer rstd, Buffer gradOut, int rows, int n,
                                  Buffer gradX, Buffer gradGamma, Buffer gradBeta) {
        if (gradX != null) {
            k("xbt_layer_norm_backward_x").p(c(x)).p(c(gamma)).p(c(mean)).p(c(rstd)).p(c(gradOut)).i(rows).i(n).p(c(gradX))
                    .run(stream, rows, 1, 1, THREADS, 0);
        }
        if ((gradGamma != null || gradBeta != null) && rows > 0 && n > 0) {
            // Column sums in two passes: partial sums over chunks of rows, then the chunks added up.
            int rowsPerChunk = 64, chunks = (rows + rowsPerChunk - 1) / rowsPerChunk;
            try (CudaBuffer partial = newTemp(2L * chunks * n)) {
                int gx = (n + THREADS - 1) / THREADS;
                k("xbt_layer_norm_backward_params").p(c(x)).p(c(mean)).p(c(rstd)).p(c(gradOut)).i(rows).i(n).i(rowsPerChunk)
                        .p(partial).run(stream, gx, chunks, 1, THREADS, 0);
                k("xbt_layer_norm_backward_params_sum").p(partial).i(chunks).i(n).p(opt(gradGamma)).p(opt(gradBeta))
                        .run(stream, gx, 1, 1, THREADS, 0);
            }
        }
    }

    /** Scratch memory, outside any scope: the caller closes it (its memory is reused by later launches only). */
    private CudaBuffer newTemp(long n) {
        return new CudaBuffer(this, memory.allocate(Math.max(1, n) * 4), 0, n);
    }

    @Override
    public void softmax(Buffer x, int rows, int n, boolean log, Buffer out) {
        k("xbt_softmax").p(c(x)).i(rows).i(n).i(log ? 1 : 0).p(c(out)).run(stream, rows, 1, 1, THREADS, 0);
    }

    @Override
    public void softmaxBackward(Buffer y, Buffer gradOut, int rows, int n, boolean log, Buffer gradIn) {
        k("xbt_softmax_backward").p(c(y)).p(c(gradOut)).i(rows).i(n).i(log ? 1 : 0).p(c(gradIn)).run(stream, rows, 1, 1, THREADS, 0);
    }

    private static void checkHeadDim(int d) {
        if (d > MAX_HEAD_DIM) throw new EngineException("cuda: attention head dimension " + d + " exceeds " + MAX_HEAD_DIM);
    }

    @Override
    public void attention(int bh, int tq, int tk, int d, float scale, Buffer q, Buffer k, Buffer v, Buffer mask,
                          int maskGroup, boolean causal, Buffer out, Buffer lse) {
        checkHeadDim(d);
        long rows = (long) bh * tq;
        k("xbt_attention").i(bh).i(tq).i(tk).i(d).f(scale).p(c(q)).p(c(k)).p(c(v)).p(opt(mask)).i(Math.max(1, maskGroup))
                .i(causal ? 1 : 0).p(c(out)).p(c(lse)).run(stream, warpBlocks(rows), 1, 1, 128, 0);
    }

    @Override
    public void attentionBackward(int bh, int tq, int tk, int d, float scale, Buffer q, Buffer k, Buffer v, Buffer mask,
                                  int maskGroup, boolean causal, Buffer out, Buffer lse, Buffer gradOut,
                                  Buffer gradQ, Buffer gradK, Buffer gradV) {
        checkHeadDim(d);
        long rows = (long) bh * tq;
        int group = Math.max(1, maskGroup);
        try (CudaBuffer delta = newTemp(rows)) {
            k("xbt_attention_delta").l(rows).i(d).p(c(out)).p(c(gradOut)).p(delta).run(stream, warpBlocks(rows), 1, 1, 128, 0);
            if (gradQ != null) {
                k("xbt_attention_backward_q").i(bh).i(tq).i(tk).i(d).f(scale).p(c(q)).p(c(k)).p(c(v)).p(opt(mask)).i(group)
                        .i(causal ? 1 : 0).p(c(lse)).p(delta).p(c(gradOut)).p(c(gradQ)).run(stream, warpBlocks(rows), 1, 1, 128, 0);
            }
            if (gradK != null || gradV != null) {
                k("xbt_attention_backward_kv").i(bh).i(tq).i(tk).i(d).f(scale).p(c(q)).p(c(k)).p(c(v)).p(opt(mask)).i(group)
                        .i(causal ? 1 : 0).p(c(lse)).p(delta).p(c(gradOut)).p(opt(gradK)).p(opt(gradV))
                        .run(stream, warpBlocks((long) bh * tk), 1, 1, 128, 0);
            }
        }
    }

    @Override
    public void crossEntropy(Buffer logits, int rows, int n, int[] targets, Buffer loss, Buffer lse) {
        try (CudaBuffer t = uploadInts(targets)) {
            k("xbt_cross_entropy").p(c(logits)).i(rows).i(n).p(t).p(c(loss)).p(c(lse)).run(stream, rows, 1, 1, THREADS, 0);
        }
    }

    @Override
    public void crossEntropyBackward(Buffer logits, Buffer lse, int[] targets, Buffer gradLoss, int rows, int n, Buffer gradLogits) {
        try (CudaBuffer t = uploadInts(targets)) {
            k("xbt_cross_entropy_backward").p(c(logits)).p(c(lse)).p(t).p(c(gradLoss)).i(rows).i(n).p(c(gradLogits))
                    .run(stream, blocks((long) rows * n), 1, 1, THREADS, 0);
        }
    }

    @Override
    public void dropout(Buffer x, float p, long seed, Buffer out) {
        long n = c(x).length;
        k("xbt_dropout").p(c(x)).f(p).l(seed).p(c(out)).l(n).run(stream, blocks(n), 1, 1, THREADS, 0);
    }

    // ================================================================ read-backs and optimizer steps

    @Override
    public double sumOfSquares(Buffer x) {
        long n = c(x).length;
        try (CudaBuffer acc = newTemp(2)) {
            fill(acc, 0f);
            k("xbt_sum_of_squares").p(c(x)).l(n).p(acc).run(stream, blocks(n), 1, 1, THREADS, 0);
            ByteBuffer r = memory.read(acc.base(), acc.byteOffset(), 8);
            return r.getDouble(0);
        }
    }

    @Override
    public long countNaN(Buffer x) {
        long n = c(x).length;
        try (CudaBuffer acc = newTemp(2)) {
            fill(acc, 0f);
            k("xbt_count_nan").p(c(x)).l(n).p(acc).run(stream, blocks(n), 1, 1, THREADS, 0);
            ByteBuffer r = memory.read(acc.base(), acc.byteOffset(), 8);
            return r.getLong(0);
        }
    }

    @Override
    public void adamw(Buffer param, Buffer grad, Buffer m, Buffer v, float lr, float beta1, float beta2, float eps,
                      float weightDecay, float bias1, float bias2) {
        long n = c(param).length;
        k("xbt_adamw").p(c(param)).p(c(grad)).p(c(m)).p(c(v)).f(lr).f(beta1).f(beta2).f(eps).f(weightDecay).f(bias1).f(bias2)
                .l(n).run(stream, blocks(n), 1, 1, THREADS, 0);
    }

    @Override
    public void sgd(Buffer param, Buffer grad, Buffer momentum, float lr, float mu, float weightDecay, boolean nesterov) {
        long n = c(param).length;
        k("xbt_sgd").p(c(param)).p(c(grad)).p(c(momentum)).f(lr).f(mu).f(weightDecay).i(nesterov ? 1 : 0).l(n)
                .run(stream, blocks(n), 1, 1, THREADS, 0);
    }

    @Override
    public String toString() {
        return name();
    }
}

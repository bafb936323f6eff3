package dev.xbt.kernels.cuda;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.backend.Buffer;
import dev.xbt.kernels.KernelSignature;
import dev.xbt.kernels.PortableBackend;
import dev.xbt.kernels.PortableKernels;
import dev.xbt.kernels.PortableLaunch;
import jcuda.driver.CUstream;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

/**
 * The CUDA backend: every kernel of the {@link dev.xbt.engine.backend.Backend} SPI on one GPU through
 * JCuda's driver API. The operations and their kernels are the portable ones ({@link PortableBackend},
 * the .cl sources compiled by nvcc to PTX); CUDA adds driver copies and fills, cuBLAS for matrix
 * products where it loads, and its own tensor-core GEMMs (mma_gemm.cu). Everything is issued to one stream without waiting;
 * only read-backs ({@link #download}, {@link #sumOfSquares}, {@link #countNaN}) and
 * {@link #synchronize} wait.
 *
 * <p>Settings (system properties, read at creation; {@link #setGemm} changes them later):
 * {@code xbt.cuda.gemm} = auto (cuBLAS if it loads, else ours) | cublas | kernel;
 * {@code xbt.cuda.precision} = fp32 (default, for parity with the CPU) | tf32 | bf16 (tensor cores,
 * opt-in: inputs of matrix products are rounded to 10 or 7 mantissa bits).
 */
public final class CudaBackend extends PortableBackend {
    /** Who computes matrix products. */
    public enum GemmPath { CUBLAS, KERNEL }

    /** Arithmetic of matrix products; accumulation is always FP32. */
    public enum Precision { FP32, TF32, BF16 }

    /**
     * The kernels of CUDA's own (mma_gemm.cu): tensor-core matrix products through mma.sync, which
     * OpenCL C cannot express. Every other kernel is a portable one ({@link PortableKernels#SIGNATURES}).
     */
    static final Map<String, KernelSignature> CUDA_ONLY = PortableKernels.table(
            "xbt_gemm_tf32", "i i i i i i f p l p l f p l",
            "xbt_gemm_bf16", "i i i i i i f p l p l f p l");

    private final CudaDevice device;
    private final CUstream stream = new CUstream(); // the default stream: cuBLAS uses it too
    private final CudaMemory memory;
    private final CudaModule module;
    private final Optional<Cublas> cublas;
    private final String cublasReason;
    private final ThreadLocal<MemoryScope> scope = new ThreadLocal<>();
    private volatile GemmPath gemmPath;
    private volatile Precision precision;
    /** Passed where a kernel's optional input or output is absent. */
    private final Buffer placeholder;
    /** The profiler while {@link #startProfile} .. {@link #stopProfile} are open, null otherwise. */
    private CudaProfile profile;
    /** Made on the first {@link #startProfile} and kept, with its CUDA events, for the next. */
    private CudaProfile profiler;

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
        placeholder = allocate(1);
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

    /**
     * Starts timing every operation on the GPU (two CUDA events around each; see {@link CudaProfile}).
     * For finding where the time goes, not for timing runs.
     */
    public synchronized void startProfile() {
        device.makeCurrent();
        if (profiler == null) profiler = new CudaProfile(stream);
        profile = profiler;
    }

    /**
     * Waits for the GPU and returns the operations timed since {@link #startProfile}, summed per
     * name (at most {@code top} rows, the largest first), with the GPU's idle share; stops timing.
     */
    public synchronized String stopProfile(int top) {
        if (profile == null) throw new IllegalStateException("cuda: stopProfile without startProfile");
        device.makeCurrent();
        String report = profile.report(top);
        profile = null;
        return report;
    }

    private void begin(String op) {
        if (profile != null) profile.begin(op);
    }

    private void end() {
        if (profile != null) profile.end();
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

    @Override
    public Buffer allocate(long n) {
        CudaBuffer b = newBuffer(n);
        if (n > 0) {
            begin("memset (zero-filled allocation)");
            cuMemsetD32Async(b.base().withByteOffset(b.byteOffset()), 0, n, stream);
            end();
        }
        return b;
    }

    @Override
    protected Buffer allocateUnfilled(long n) {
        return newBuffer(n);
    }

    @Override
    public Buffer upload(float[] src, int off, int n) {
        CudaBuffer b = newBuffer(n);
        memory.upload(src, null, off, n, b.base(), b.byteOffset());
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
        begin("copy device to device");
        cuMemcpyDtoDAsync(d.base().withByteOffset(d.byteOffset()), s.base().withByteOffset(s.byteOffset()), 4 * s.length, stream);
        end();
    }

    @Override
    public void fill(Buffer dst, float value) {
        CudaBuffer d = c(dst);
        if (d.length == 0) return;
        device.makeCurrent();
        begin("fill");
        cuMemsetD32Async(d.base().withByteOffset(d.byteOffset()), Float.floatToRawIntBits(value), d.length, stream);
        end();
    }

    // ================================================================ launches

    @Override
    protected KernelSignature signature(String kernel) {
        KernelSignature s = CUDA_ONLY.get(kernel);
        return s != null ? s : super.signature(kernel);
    }

    @Override
    protected PortableLaunch launch(String kernel) {
        device.makeCurrent();
        return module.launch(signature(kernel), stream, profile);
    }

    @Override
    protected Buffer uploadInts(int[] values) {
        CudaBuffer b = new CudaBuffer(this, memory.allocate(Math.max(1, values.length) * 4L), 0, values.length);
        memory.upload(null, values, 0, values.length, b.base(), b.byteOffset());
        return b;
    }

    /** Scratch outside any scope: the caller closes it; one stream makes reuse by later launches safe. */
    @Override
    protected Buffer scratch(long n) {
        return new CudaBuffer(this, memory.allocate(Math.max(1, n) * 4), 0, n);
    }

    @Override
    protected void readInts(Buffer src, int[] dst) {
        CudaBuffer s = c(src);
        ByteBuffer r = memory.read(s.base(), s.byteOffset(), 4 * dst.length);
        r.asIntBuffer().get(dst);
    }

    @Override
    protected Buffer placeholder() {
        return placeholder;
    }

    // ================================================================ linear algebra

    @Override
    public void gemm(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
                     Buffer a, long strideA, Buffer b, long strideB, float beta, Buffer c, long strideC) {
        if (batch <= 0 || m <= 0 || n <= 0) return;
        if (gemmPath == GemmPath.KERNEL && precision == Precision.FP32) {
            super.gemm(batch, transA, transB, m, n, k, alpha, a, strideA, b, strideB, beta, c, strideC);
            return;
        }
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
        if (profile != null) { // the name is only formatted while profiling
            begin(String.format(Locale.ROOT, "gemm %s %s %s%d×%d×%d %s%s", gemmPath.name().toLowerCase(Locale.ROOT),
                    precision.name().toLowerCase(Locale.ROOT), batch > 1 ? batch + "×" : "", m, n, k, transA ? "T" : "N", transB ? "T" : "N"));
        }
        try {
            gemmPath(batch, transA, transB, m, n, k, alpha, a, strideA, b, strideB, beta, c, strideC);
        } finally {
            end();
        }
    }

    private void gemmPath(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha, long a, long strideA,
                          long b, long strideB, float beta, long c, long strideC) {
        if (gemmPath == GemmPath.CUBLAS) {
            cublas.orElseThrow().gemm(precision, batch, transA, transB, m, n, k, alpha, a, strideA, b, strideB, beta, c, strideC);
            return;
        }
        tensorCoreGemm(launch(precision == Precision.BF16 ? "xbt_gemm_bf16" : "xbt_gemm_tf32"), batch, transA, transB, m, n, k,
                alpha, a, strideA, b, strideB, beta, c, strideC);
    }

    /**
     * The launch of mma_gemm.cu's kernels: 64 x 64 C tiles, 128 threads (four warps), batches over
     * the grid's z (the kernel loops when there are more than z allows). Static, so that a test
     * checks it without a GPU.
     */
    static void tensorCoreGemm(PortableLaunch l, int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
                               long a, long strideA, long b, long strideB, float beta, long c, long strideC) {
        l.i(batch).flag(transA).flag(transB).i(m).i(n).i(k).f(alpha).address(a).l(strideA).address(b).l(strideB).f(beta).address(c).l(strideC)
                .run(PortableLaunch.ceilDiv(n, 64), PortableLaunch.ceilDiv(m, 64), Math.min(batch, PortableLaunch.MAX_GROUPS_YZ), 128, 1);
    }

    @Override
    public String toString() {
        return name();
    }
}

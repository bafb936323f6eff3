package dev.xbt.kernels.cuda;

import dev.xbt.engine.EngineException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A thin binding to cuBLAS through Java's foreign-function API: cublasCreate_v2 and
 * cublasGemmStridedBatchedEx, which exist with the same signatures in libcublas.so.13 (CUDA 13, the
 * GPU machines) and libcublas.so.12 (CUDA 12). It works on the device addresses of JCuda's
 * allocations, in the primary context the backend makes current, on the default stream (the
 * backend's one stream). The FP32 default computes in FP32 (CUBLAS_COMPUTE_32F, no TF32 under the
 * default math mode); TF32 and BF16 are the opt-in fast compute types.
 */
final class Cublas {
    private static final int CUDA_R_32F = 0;
    private static final int COMPUTE_32F = 68, COMPUTE_32F_FAST_16BF = 75, COMPUTE_32F_FAST_TF32 = 77;
    private static final int GEMM_DEFAULT = -1;
    private static final int OP_N = 0, OP_T = 1;

    final String library;
    private final MethodHandle gemmEx;
    private final MemorySegment handle;
    private final MemorySegment scalars; // alpha, beta: read by cuBLAS during the call (host pointer mode)

    private Cublas(String library, SymbolLookup lookup) throws Throwable {
        this.library = library;
        Linker linker = Linker.nativeLinker();
        MethodHandle create = linker.downcallHandle(find(lookup, "cublasCreate_v2"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        gemmEx = linker.downcallHandle(find(lookup, "cublasGemmStridedBatchedEx"), FunctionDescriptor.of(JAVA_INT,
                ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG,
                ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG,
                ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG,
                JAVA_INT, JAVA_INT, JAVA_INT));
        MemorySegment out = Arena.global().allocate(ADDRESS);
        int status = (int) create.invokeExact(out);
        if (status != 0) throw new EngineException("cublasCreate_v2 returned status " + status);
        handle = out.get(ADDRESS, 0);
        scalars = Arena.global().allocate(JAVA_FLOAT, 2);
    }

    private static MemorySegment find(SymbolLookup lookup, String name) {
        return lookup.find(name).orElseThrow(() -> new EngineException("symbol " + name + " not found"));
    }

    /** Library names and paths tried in order: -Dxbt.cublas / XBT_CUBLAS, then the sonames, then CUDA's usual folder. */
    static List<String> candidates() {
        List<String> c = new ArrayList<>();
        String explicit = System.getProperty("xbt.cublas", System.getenv("XBT_CUBLAS"));
        if (explicit != null && !explicit.isBlank()) c.add(explicit.strip());
        c.add("libcublas.so.13");
        c.add("libcublas.so.12");
        for (String dir : new String[] {"/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib"}) {
            for (String so : new String[] {"libcublas.so.13", "libcublas.so.12"}) {
                if (Files.exists(Path.of(dir, so))) c.add(dir + "/" + so);
            }
        }
        return c;
    }

    /** cuBLAS from the first candidate that loads and creates a handle, else empty with every reason in {@code why}. */
    static Optional<Cublas> load(StringBuilder why) {
        for (String lib : candidates()) {
            try {
                SymbolLookup lookup = SymbolLookup.libraryLookup(lib.contains("/") ? Path.of(lib).toString() : lib, Arena.global());
                return Optional.of(new Cublas(lib, lookup));
            } catch (Throwable e) {
                if (!why.isEmpty()) why.append("; ");
                why.append(lib).append(": ").append(CudaDevice.firstLine(e));
            }
        }
        return Optional.empty();
    }

    /**
     * Row-major C[p] = alpha·op(A[p])·op(B[p]) + beta·C[p]. cuBLAS is column-major, so it computes
     * Cᵀ = op(B)ᵀ·op(A)ᵀ: the operands swap places and each keeps its transpose flag.
     */
    synchronized void gemm(CudaBackend.Precision precision, int batch, boolean transA, boolean transB, int m, int n,
                           int k, float alpha, long a, long strideA, long b, long strideB, float beta, long c,
                           long strideC) {
        int compute = switch (precision) {
            case FP32 -> COMPUTE_32F;
            case TF32 -> COMPUTE_32F_FAST_TF32;
            case BF16 -> COMPUTE_32F_FAST_16BF;
        };
        scalars.setAtIndex(JAVA_FLOAT, 0, alpha);
        scalars.setAtIndex(JAVA_FLOAT, 1, beta);
        int lda = transA ? m : k, ldb = transB ? k : n;
        int status;
        try {
            status = (int) gemmEx.invokeExact(handle, transB ? OP_T : OP_N, transA ? OP_T : OP_N, n, m, k,
                    scalars, MemorySegment.ofAddress(b), CUDA_R_32F, ldb, strideB,
                    MemorySegment.ofAddress(a), CUDA_R_32F, lda, strideA,
                    scalars.asSlice(4), MemorySegment.ofAddress(c), CUDA_R_32F, n, strideC,
                    batch, compute, GEMM_DEFAULT);
        } catch (Throwable e) {
            throw new EngineException("cuda: cuBLAS call failed: " + CudaDevice.firstLine(e));
        }
        if (status != 0) {
            throw new EngineException("cuda: cublasGemmStridedBatchedEx returned status " + status + " for batch " + batch
                    + ", " + m + "×" + k + (transA ? "ᵀ" : "") + " · " + k + "×" + n + (transB ? "ᵀ" : ""));
        }
    }

}

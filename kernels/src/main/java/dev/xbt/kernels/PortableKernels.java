package dev.xbt.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The portable kernel sources (resources under dev/xbt/kernels/portable): written once, compiled
 * as OpenCL C at run time and as CUDA C++ to PTX by {@code scripts/build-cuda-ptx}. See kernels/README.md.
 */
public final class PortableKernels {
    /** The headers every source is compiled after, in order. */
    public static final List<String> HEADERS = List.of("xbt_compat.h", "xbt_util.h");
    /** The kernel sources. */
    public static final List<String> SOURCES = List.of("elementwise.cl", "reduce.cl", "index.cl", "norm.cl",
            "attention.cl", "gemm.cl");

    /** Elements per work-item of the binary, unary and strided-copy kernels (XBT_EPT). */
    public static final int ELEMENTS_PER_ITEM = 4;
    /** Largest work-group of the row kernels (XBT_WG_MAX). */
    public static final int ROW_WG_MAX = 256;
    /** GEMM: work-group side (XBT_GEMM_WG) and C tile side (XBT_GEMM_TM = XBT_GEMM_TN). */
    public static final int GEMM_WG = 16, GEMM_TILE = 64;
    /**
     * Attention: queries (or keys) per work-group (XBT_ATT_BQ), head dimensions per work-item
     * (XBT_ATT_SLICE: a row's work-items are ceil(d / slice)) and the largest head size (XBT_ATT_MAXD).
     */
    public static final int ATTENTION_ROWS = 32, ATTENTION_SLICE = 16, ATTENTION_MAX_D = 128;

    /**
     * Every portable kernel's parameters as the host passes them ({@link KernelSignature}'s letters:
     * b a float buffer with its offset, p a bare pointer, i int, f float, l 64-bit). Both backends
     * check each launch against this table; a test checks it against nvcc's PTX of the sources.
     */
    public static final Map<String, KernelSignature> SIGNATURES = table(
            // elementwise.cl
            "xbt_fill", "i b f",
            "xbt_copy", "i b b",
            "xbt_binary", "i i  i i i  i i i  i i i  b i i i i  b i i i i  b",
            "xbt_strided_copy", "i  i i i  i i i  i i i  i i i  i i i  i  b i i i i i i i  b i i i i i i i  i",
            "xbt_unary", "i i b b",
            "xbt_unary_backward", "i i b b b",
            "xbt_affine", "i b f f b",
            "xbt_dropout", "i b f f l b",
            "xbt_adamw", "i b b b b f f f f f f f",
            "xbt_sgd", "i b b b f f f i",
            "xbt_sum_squares_partial", "i i b p",
            "xbt_count_nan_partial", "i i b p",
            // reduce.cl
            "xbt_reduce_rows", "i i i b b",
            "xbt_reduce_cols", "i i i i b b",
            "xbt_reduce_max_backward", "i i i b b b b",
            // index.cl
            "xbt_gather_rows", "i i b p b",
            "xbt_scatter_add_rows", "i i b p b",
            // norm.cl
            "xbt_layer_norm", "i i f b b b b b b",
            "xbt_layer_norm_backward_x", "i i b b b b b b",
            "xbt_layer_norm_backward_params", "i i i b b b b i b i b",
            "xbt_softmax", "i i i b b",
            "xbt_softmax_backward", "i i i b b b",
            "xbt_cross_entropy", "i i b p b b",
            "xbt_cross_entropy_backward", "i i b b p b b",
            // attention.cl
            "xbt_attention_forward", "i i i i f b b b i b i i b b",
            "xbt_attention_delta", "i i b b p",
            "xbt_attention_backward_dq", "i i i i f b b b i b i i b p b b",
            "xbt_attention_backward_dkv", "i i i i f b b b i b i i b p b i b i b",
            // gemm.cl
            "xbt_gemm", "i i i i i f b i b i f b i i");

    private PortableKernels() {}

    /** Pairs of (kernel name, argument letters) as a map in declaration order. */
    public static Map<String, KernelSignature> table(String... nameThenLetters) {
        Map<String, KernelSignature> m = new LinkedHashMap<>();
        for (int i = 0; i < nameThenLetters.length; i += 2) {
            KernelSignature s = KernelSignature.of(nameThenLetters[i], nameThenLetters[i + 1]);
            if (m.put(s.name(), s) != null) throw new IllegalArgumentException("kernel " + s.name() + " declared twice");
        }
        return java.util.Collections.unmodifiableMap(m);
    }

    /** The text of one header or source. */
    public static String read(String name) {
        try (InputStream in = PortableKernels.class.getResourceAsStream("portable/" + name)) {
            if (in == null) throw new IllegalStateException("kernel source missing from the class path: " + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading kernel source " + name, e);
        }
    }

    /**
     * Headers then every source as one OpenCL program text; #line directives keep compiler messages
     * pointing at the original file and line.
     */
    public static String openClProgram() {
        StringBuilder sb = new StringBuilder();
        for (String name : HEADERS) sb.append(read(name)).append('\n');
        for (String name : SOURCES) sb.append("#line 1 \"").append(name).append("\"\n").append(read(name)).append('\n');
        return sb.toString();
    }
}

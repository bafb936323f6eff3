package dev.xbt.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The portable kernel sources (resources under dev/xbt/kernels/portable): written once, compiled
 * as OpenCL C at run time and as CUDA C++ by {@code kernels/build-ptx}. See kernels/README.md.
 */
public final class PortableKernels {
    /** The headers every source is compiled after, in order. */
    public static final List<String> HEADERS = List.of("xbt_compat.h", "xbt_util.h");
    /** The kernel sources. */
    public static final List<String> SOURCES = List.of("elementwise.cl", "reduce.cl", "index.cl", "norm.cl",
            "attention.cl", "gemm.cl");

    /** Largest work-group of the row kernels (XBT_WG_MAX). */
    public static final int ROW_WG_MAX = 256;
    /** GEMM: work-group side (XBT_GEMM_WG) and C tile side (XBT_GEMM_TM = XBT_GEMM_TN). */
    public static final int GEMM_WG = 16, GEMM_TILE = 64;
    /** Attention: queries (or keys) per work-group (XBT_ATT_BQ) and the largest head size (XBT_ATT_MAXD). */
    public static final int ATTENTION_ROWS = 32, ATTENTION_MAX_D = 128;

    private PortableKernels() {}

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

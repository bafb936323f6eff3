package dev.xbt.kernels.cuda;

import dev.xbt.engine.backend.BinaryOp;
import dev.xbt.engine.backend.Buffer;
import dev.xbt.engine.backend.ReduceOp;
import dev.xbt.engine.backend.UnaryOp;
import dev.xbt.kernels.KernelSignature;
import dev.xbt.kernels.PortableKernels;
import dev.xbt.kernels.PortableLaunch;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a first GPU run would otherwise be the first to see, checked without one: the committed PTX
 * against the kernel table the launchers use (names, parameter count and PTX types), and every
 * launch the CUDA backend's operations issue (the shared {@link dev.xbt.kernels.PortableBackend}
 * plan, run here against {@link RecordingBackend}) against the PTX directly: argument kinds in
 * order, and launch geometry within CUDA's limits and the kernels' fixed block shapes.
 */
class CudaLaunchSignatureTest {

    /** Entry name to PTX parameter types, over every module the backend loads. */
    private static Map<String, List<String>> ptxEntries() {
        Map<String, List<String>> all = new LinkedHashMap<>();
        for (String module : CudaModule.moduleNames()) {
            String ptx = CudaModule.ptx(module);
            assertTrue(ptx.contains(".target sm_80"), module + ".ptx must target sm_80");
            Map<String, List<String>> entries = PtxSignatures.parse(ptx);
            assertTrue(!entries.isEmpty(), module + ".ptx has no kernels");
            for (var e : entries.entrySet()) {
                assertTrue(all.put(e.getKey(), e.getValue()) == null, e.getKey() + " is in two modules");
            }
        }
        return all;
    }

    private static Map<String, KernelSignature> declared() {
        Map<String, KernelSignature> all = new HashMap<>(PortableKernels.SIGNATURES);
        all.putAll(CudaBackend.CUDA_ONLY);
        return all;
    }

    private static List<String> ptxTypes(List<KernelSignature.Arg> args) {
        return args.stream().map(KernelSignature.Arg::ptxType).toList();
    }

    @Test
    void everyDeclaredKernelIsInThePtxWithTheDeclaredParameters() {
        Map<String, List<String>> ptx = ptxEntries();
        Map<String, KernelSignature> declared = declared();
        assertEquals(new TreeSet<>(declared.keySet()), new TreeSet<>(ptx.keySet()),
                "kernels declared for launch vs kernels in the PTX (run scripts/build-cuda-ptx after changing sources)");
        for (KernelSignature s : declared.values()) {
            assertEquals(ptx.get(s.name()), ptxTypes(s.args()), s.name() + ": declared parameters vs PTX");
        }
    }

    @Test
    void everyKernelNamedInTheLaunchCodeIsDeclared() throws IOException {
        Set<String> named = new TreeSet<>();
        for (String file : List.of("src/main/java/dev/xbt/kernels/PortableBackend.java",
                "src/main/java/dev/xbt/kernels/cuda/CudaBackend.java")) {
            Matcher m = Pattern.compile("\"(xbt_[a-z0-9_]+)\"").matcher(Files.readString(Path.of(file)));
            while (m.find()) named.add(m.group(1));
        }
        assertTrue(named.size() >= 28, "found " + named);
        for (String k : named) assertTrue(declared().containsKey(k), k + " is launched but not declared");
    }

    /** The fixed shapes the host assumes equal the kernels' #defines. */
    @Test
    void hostConstantsMatchTheKernelSources() {
        Map<String, Integer> defines = new HashMap<>();
        for (String src : List.of("xbt_util.h", "gemm.cl", "attention.cl")) {
            Matcher m = Pattern.compile("#define (XBT_[A-Z_]+) (\\d+)\\b").matcher(PortableKernels.read(src));
            while (m.find()) defines.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        assertEquals(PortableKernels.ROW_WG_MAX, defines.get("XBT_WG_MAX"));
        assertEquals(PortableKernels.ELEMENTS_PER_ITEM, defines.get("XBT_EPT"));
        assertEquals(PortableKernels.GEMM_WG, defines.get("XBT_GEMM_WG"));
        assertEquals(PortableKernels.GEMM_TILE, defines.get("XBT_GEMM_WG") * defines.get("XBT_GEMM_R"));
        assertEquals(PortableKernels.ATTENTION_ROWS, defines.get("XBT_ATT_BQ"));
        assertEquals(PortableKernels.ATTENTION_MAX_D, defines.get("XBT_ATT_MAXD"));
        assertEquals(PortableKernels.ATTENTION_SLICE, defines.get("XBT_ATT_SLICE"));
    }

    /** Every Backend operation at model-like shapes, including the paths that split or chunk launches. */
    private static void runEveryOperation(RecordingBackend be) {
        Buffer big = be.allocate(1 << 24);
        Buffer x = big.slice(5, 12800 * 768), y = be.allocate(12800 * 768), z = be.allocate(12800 * 768);
        Buffer small = be.allocate(4096), rows = be.allocate(12800), rows2 = be.allocate(12800);
        be.gemm(3, false, true, 77, 512, 64, 1f, x, 77 * 64, y, 512 * 64, 0f, z, 77 * 512);
        be.gemm(4, true, false, 768, 768, 50, 1f, x, 768 * 50, y, 768 * 50, 1f, z, 0); // overlapping C: in order
        be.gemm(70_000, false, false, 3, 3, 3, 1f, x, 9, y, 9, 0f, z, 9);            // more batches than grid z
        be.binary(BinaryOp.ADD, new int[] {64, 77, 77}, x, new int[] {5929, 77, 1}, y, new int[] {77, 0, 1}, z);
        be.binary(BinaryOp.MUL, new int[] {2, 3, 2, 3, 2, 3}, x, new int[] {400, 100, 30, 10, 3, 1}, y,
                new int[] {0, 1, 0, 2, 0, 3}, z); // six axes: the host loops over two
        be.stridedCopy(new int[] {8, 77, 64}, x, new int[] {4928, 64, 1}, y, new int[] {0, 64, 1}, true);
        be.stridedCopy(new int[] {12, 64, 77}, x, new int[] {4928, 1, 64}, y, new int[] {4928, 77, 1}, false);
        be.unary(UnaryOp.GELU, x, y);
        be.unaryBackward(UnaryOp.QUICK_GELU, x, y, z);
        be.affine(x, 2f, 1f, y);
        be.reduce(ReduceOp.SUM, x, 12800, 768, 1, rows);
        be.reduce(ReduceOp.SUM, x, 1, 12800, 768, small);   // chunked, no tail
        be.reduce(ReduceOp.MAX, x, 1, 1000, 768, small);    // chunked with a tail
        be.reduce(ReduceOp.SUM, x, 64, 77, 77, small);
        be.reduceMaxBackward(x, small, small, 64, 77, 77, y);
        be.gatherRows(x, 512, new int[] {1, 5, 9}, y);
        be.scatterAddRows(y, 512, new int[] {1, 5, 1}, x);
        be.layerNorm(x, small, small, 12800, 768, 1e-5f, y, rows, rows2);
        be.layerNormBackward(x, small, rows, rows2, y, 12800, 768, z, small, small); // chunked
        be.layerNormBackward(x, small, rows, rows2, y, 50, 768, z, small, null);
        be.softmax(x, 1000, 77, false, y);
        be.softmaxBackward(y, x, 1000, 77, true, z);
        be.attention(96, 77, 77, 64, 0.125f, x, y, z, small, 8, true, big.slice(0, 96 * 77 * 64), rows);
        be.attention(96, 50, 50, 64, 0.125f, x, y, z, null, 1, false, big.slice(0, 96 * 50 * 64), rows);
        be.attentionBackward(96, 77, 77, 64, 0.125f, x, y, z, small, 8, true, x, rows, y, z, y, z);
        be.attentionBackward(96, 77, 77, 64, 0.125f, x, y, z, null, 1, false, x, rows, y, null, null, z);
        be.crossEntropy(x, 256, 256, new int[256], rows, rows2);
        be.crossEntropyBackward(x, rows, new int[256], rows2, 256, 256, y);
        be.dropout(x, 0.1f, 42L, y);
        be.sumOfSquares(x);
        be.countNaN(x);
        be.adamw(x, y, z, big.slice(7, x.length()), 1e-3f, 0.9f, 0.999f, 1e-8f, 0.1f, 0.1f, 0.001f);
        be.sgd(x, y, z, 0.1f, 0.9f, 0f, true);
        be.copy(x, y);
        be.fill(y, 1f);
    }

    @Test
    void everyLaunchOfTheSharedPlanMatchesThePtx() {
        Map<String, List<String>> ptx = ptxEntries();
        RecordingBackend be = new RecordingBackend();
        runEveryOperation(be);
        Set<String> launched = new TreeSet<>();
        for (RecordingBackend.Call call : be.calls) {
            launched.add(call.kernel());
            List<String> want = ptx.get(call.kernel());
            assertTrue(want != null, call.kernel() + " is launched but not in the PTX");
            assertEquals(want, ptxTypes(call.kinds()), call.kernel() + ": arguments passed vs PTX parameters");
            checkGeometry(call);
        }
        // The exercise above reaches every portable kernel: none is shipped untested here.
        assertEquals(new TreeSet<>(PortableKernels.SIGNATURES.keySet()), launched);
        // The splits: 70 000 batches in two launches; overlapping C one launch per batch.
        long gemmLaunches = be.calls.stream().filter(c -> c.kernel().equals("xbt_gemm")).count();
        assertEquals(1 + 4 + 2, gemmLaunches);
    }

    private static void checkGeometry(RecordingBackend.Call c) {
        int[] g = c.groups(), l = c.local();
        String what = c.kernel() + " groups " + java.util.Arrays.toString(g) + " local " + java.util.Arrays.toString(l);
        assertTrue(g[0] >= 1 && g[1] >= 1 && g[1] <= 65535 && g[2] >= 1 && g[2] <= 65535, what);
        assertTrue((long) l[0] * l[1] <= 1024, what);
        switch (c.kernel()) {
            case "xbt_gemm" -> assertTrue(l[0] == PortableKernels.GEMM_WG && l[1] == PortableKernels.GEMM_WG, what);
            case "xbt_gemm_tf32", "xbt_gemm_bf16" -> assertTrue(l[0] == 128 && l[1] == 1, what);
            case "xbt_attention_forward", "xbt_attention_backward_dq", "xbt_attention_backward_dkv" ->
                    assertTrue(l[0] >= 1 && l[0] * PortableKernels.ATTENTION_SLICE <= PortableKernels.ATTENTION_MAX_D
                            && l[1] == PortableKernels.ATTENTION_ROWS, what);
            case "xbt_reduce_rows", "xbt_layer_norm", "xbt_layer_norm_backward_x", "xbt_softmax", "xbt_softmax_backward",
                 "xbt_cross_entropy" -> assertTrue(Integer.bitCount(l[0]) == 1 && l[0] <= PortableKernels.ROW_WG_MAX && l[1] == 1, what);
            default -> assertTrue(l[0] == PortableLaunch.LINEAR_WG && l[1] == 1, what);
        }
    }

    @Test
    void tensorCoreGemmLaunchMatchesThePtx() {
        Map<String, List<String>> ptx = ptxEntries();
        for (String kernel : CudaBackend.CUDA_ONLY.keySet()) {
            RecordingBackend be = new RecordingBackend();
            CudaBackend.tensorCoreGemm(be.launchOf(kernel), 70_000, true, false, 512, 3072, 768, 1f, 0x1000L, 0, 0x2000L, 0,
                    0f, 0x3000L, 512 * 3072);
            RecordingBackend.Call call = be.calls.getFirst();
            assertEquals(ptx.get(kernel), ptxTypes(call.kinds()), kernel);
            assertEquals(List.of(48, 8, 65535), List.of(call.groups()[0], call.groups()[1], call.groups()[2]));
            checkGeometry(call);
        }
    }

    @Test
    void aLaunchWithTheWrongArgumentsFailsOnTheHost() {
        RecordingBackend be = new RecordingBackend();
        Buffer b = be.allocate(8);
        IllegalStateException kind = assertThrows(IllegalStateException.class, () -> be.launchOf("xbt_fill").f(1f));
        assertTrue(kind.getMessage().contains("xbt_fill") && kind.getMessage().contains("INT"), kind.getMessage());
        IllegalStateException few = assertThrows(IllegalStateException.class, () -> be.launchOf("xbt_fill").i(8).buf(b).linear(8));
        assertTrue(few.getMessage().contains("3 arguments passed, the kernel takes 4"), few.getMessage());
        assertThrows(IllegalStateException.class, () -> be.launchOf("xbt_fill").i(8).buf(b).f(0f).i(1));
        assertThrows(IllegalStateException.class, () -> be.launchOf("xbt_no_such_kernel"));
        assertEquals(List.of(), new ArrayList<>(be.calls));
    }

    @Test
    void ptxParametersAreParsed() {
        String ptx = """
                .visible .entry xbt_a(
                \t.param .u32 xbt_a_param_0,
                \t.param .u64 .ptr .global .align 4 xbt_a_param_1,
                \t.param .align 4 .b8 xbt_a_param_2[100],
                \t.param .f32 xbt_a_param_3
                )
                {
                }
                .visible .entry xbt_b_2()
                {
                }
                """;
        Map<String, List<String>> e = PtxSignatures.parse(ptx);
        assertEquals(List.of(".u32", ".u64", ".b8[100]", ".f32"), e.get("xbt_a"));
        assertEquals(List.of(), e.get("xbt_b_2"));
        assertEquals(List.of("xbt_a", "xbt_b_2"), CudaModule.entryPoints(ptx));
    }
}

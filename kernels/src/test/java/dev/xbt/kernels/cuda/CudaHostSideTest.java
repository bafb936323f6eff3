package dev.xbt.kernels.cuda;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What can be checked of the CUDA backend without a GPU: the shipped PTX, the names the Java side launches, the allocator's sizes. */
class CudaHostSideTest {
    private static String resource(String name) throws IOException {
        try (InputStream in = CudaModule.class.getResourceAsStream(name)) {
            assertNotNull(in, name + " missing: run scripts/build-cuda-ptx");
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    @Test
    void everyKernelTheBackendLaunchesIsInThePtx() throws IOException {
        Set<String> entries = new TreeSet<>();
        for (String m : CudaModule.MODULES) {
            String ptx = resource(m + ".ptx");
            assertTrue(ptx.contains(".target sm_80"), m + ".ptx must target sm_80");
            entries.addAll(CudaModule.entryPoints(ptx));
        }
        String source = Files.readString(Path.of("src/main/java/dev/xbt/kernels/cuda/CudaBackend.java"));
        Matcher mt = Pattern.compile("\"(xbt_[a-z0-9_]+)\"").matcher(source);
        Set<String> launched = new TreeSet<>();
        while (mt.find()) launched.add(mt.group(1));
        assertTrue(launched.size() > 20, "found " + launched);
        for (String k : launched) assertTrue(entries.contains(k), "kernel " + k + " is launched but not in the PTX " + entries);
    }

    @Test
    void entryPointsAreParsedFromPtx() {
        String ptx = "// x\n.visible .entry xbt_a(\n\t.param .u32 p\n)\n.visible .entry xbt_b_2(\n";
        assertEquals(List.of("xbt_a", "xbt_b_2"), CudaModule.entryPoints(ptx));
    }

    @Test
    void allocationSizesRoundToReusableClasses() {
        assertEquals(512, CudaMemory.rounded(1));
        assertEquals(1024, CudaMemory.rounded(513));
        assertEquals(1 << 20, CudaMemory.rounded(1 << 20));
        // Above 1 MiB: quarter steps between powers of two, never less than asked.
        long prev = 0;
        for (long b = (1 << 20) + 1; b < (64L << 20); b += 997_331) {
            long r = CudaMemory.rounded(b);
            assertTrue(r >= b && r <= b * 1.25 + 512, b + " -> " + r);
            assertTrue(r >= prev);
            prev = r;
        }
        assertEquals(5L << 20, CudaMemory.rounded((4L << 20) + 1));
    }
}

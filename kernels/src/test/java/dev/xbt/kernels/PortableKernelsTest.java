package dev.xbt.kernels;

import dev.xbt.kernels.cuda.PtxUpToDateTestAccess;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The portable kernels (ops.cl against xbt_compat.h) are one source for two languages: the OpenCL
 * backend's tests build them as OpenCL C; this test builds the same text as CUDA C with nvcc (sm_80),
 * so a kernel edit that only one language accepts fails here. Skipped, with the reason, without nvcc (CI).
 */
class PortableKernelsTest {
    private static final Path PORTABLE = Path.of("src/main/resources/dev/xbt/kernels/portable");

    @Test
    void portableKernelsCompileAsCuda() throws IOException, InterruptedException {
        Path nvcc = PtxUpToDateTestAccess.nvcc();
        Assumptions.assumeTrue(nvcc != null, "no nvcc here: the portable kernels are checked as OpenCL C only");
        Path tmp = Files.createTempDirectory("xbt-portable");
        try {
            Path unit = tmp.resolve("portable.cu"), ptx = tmp.resolve("portable.ptx");
            Files.writeString(unit, "#include \"xbt_compat.h\"\n#include \"ops.cl\"\n");
            Process p = new ProcessBuilder(nvcc.toString(), "-ptx", "-arch=sm_80", "-I", PORTABLE.toAbsolutePath().toString(),
                    "-o", ptx.toString(), unit.toString()).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(5, TimeUnit.MINUTES), "nvcc did not finish");
            assertEquals(0, p.exitValue(), "nvcc rejects the portable kernels:\n" + log);
            String text = Files.readString(ptx);
            for (String kernel : new String[] {"xbt_binary", "xbt_attention", "xbt_attention_backward_kv", "xbt_gemm", "xbt_adamw"}) {
                assertTrue(text.contains(".entry " + kernel + "("), kernel + " missing from the PTX");
            }
        } finally {
            try (var s = Files.walk(tmp)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}

package dev.xbt.kernels.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The committed PTX is what the sources compile to: scripts/build-cuda-ptx (the one place that says
 * how) writes fresh PTX of every portable and CUDA-only source to a temporary folder, which must
 * equal the committed files, name for name. Runs where nvcc of the version that wrote the committed
 * files is present; skipped, with the reason, elsewhere (CI).
 */
class PtxUpToDateTest {
    private static final Path SCRIPT = Path.of("../scripts/build-cuda-ptx");
    private static final Path PTX = Path.of("src/main/resources/dev/xbt/kernels/cuda");

    static Path nvcc() {
        List<Path> c = new ArrayList<>();
        String env = System.getenv("NVCC");
        if (env != null && !env.isBlank()) c.add(Path.of(env));
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) if (!dir.isEmpty()) c.add(Path.of(dir, "nvcc"));
        c.add(Path.of("/usr/local/cuda/bin/nvcc"));
        return c.stream().filter(Files::isExecutable).findFirst().orElse(null);
    }

    private static String release(String text) {
        return text.lines().filter(l -> l.contains("Cuda compilation tools")).findFirst().orElse("").replaceFirst("^// ?", "").strip();
    }

    private static Set<String> ptxNames(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".ptx")).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    @Test
    void committedPtxMatchesTheSources() throws IOException, InterruptedException {
        Path nvcc = nvcc();
        Assumptions.assumeTrue(nvcc != null, "no nvcc here: the committed PTX is used as it is");
        Path tmp = Files.createTempDirectory("xbt-ptx");
        try {
            ProcessBuilder pb = new ProcessBuilder("bash", SCRIPT.toString(), "--out", tmp.toAbsolutePath().toString())
                    .redirectErrorStream(true);
            pb.environment().put("NVCC", nvcc.toString());
            Process p = pb.start();
            String log = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(10, TimeUnit.MINUTES), "build-cuda-ptx did not finish");
            assertEquals(0, p.exitValue(), "build-cuda-ptx failed:\n" + log);
            assertEquals(ptxNames(tmp), ptxNames(PTX), "PTX files written vs committed: run scripts/build-cuda-ptx");
            for (String name : ptxNames(tmp)) {
                String want = Files.readString(PTX.resolve(name)), got = Files.readString(tmp.resolve(name));
                Assumptions.assumeTrue(release(want).equals(release(got)), "committed PTX was written by '" + release(want)
                        + "', nvcc here is '" + release(got) + "'");
                assertTrue(want.equals(got), name + " is stale: run scripts/build-cuda-ptx and commit the result");
            }
        } finally {
            try (Stream<Path> s = Files.list(tmp)) {
                for (Path f : s.toList()) Files.deleteIfExists(f);
            }
            Files.deleteIfExists(tmp);
        }
    }
}

package dev.xbt.kernels.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The committed PTX is what the CUDA sources compile to (scripts/build-cuda-ptx). Runs where nvcc of
 * the version that wrote the committed files is present; skipped, with the reason, elsewhere (CI).
 */
class PtxUpToDateTest {
    private static final Path SOURCES = Path.of("src/main/cuda");
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

    @Test
    void committedPtxMatchesTheSources() throws IOException, InterruptedException {
        Path nvcc = nvcc();
        Assumptions.assumeTrue(nvcc != null, "no nvcc here: the committed PTX is used as it is");
        Path tmp = Files.createTempDirectory("xbt-ptx");
        try {
            List<Path> sources;
            try (Stream<Path> s = Files.list(SOURCES)) {
                sources = s.filter(p -> p.toString().endsWith(".cu")).sorted().toList();
            }
            assertTrue(sources.size() >= 2, "sources: " + sources);
            for (Path cu : sources) {
                String name = cu.getFileName().toString().replace(".cu", "");
                Path committed = PTX.resolve(name + ".ptx"), fresh = tmp.resolve(name + ".ptx");
                assertTrue(Files.exists(committed), committed + " missing: run scripts/build-cuda-ptx");
                // As the script does: from the sources' folder, no line info, so the output depends on source and nvcc only.
                Process p = new ProcessBuilder(nvcc.toString(), "-ptx", "-arch=sm_80", "-o", fresh.toAbsolutePath().toString(), name + ".cu")
                        .directory(SOURCES.toFile()).redirectErrorStream(true).start();
                String log = new String(p.getInputStream().readAllBytes());
                assertTrue(p.waitFor(5, TimeUnit.MINUTES), "nvcc did not finish");
                assertEquals(0, p.exitValue(), "nvcc failed on " + cu + ":\n" + log);
                String want = Files.readString(committed), got = Files.readString(fresh);
                Assumptions.assumeTrue(release(want).equals(release(got)), "committed PTX was written by '" + release(want)
                        + "', nvcc here is '" + release(got) + "'");
                assertTrue(want.equals(got), name + ".ptx is stale: run scripts/build-cuda-ptx and commit the result");
            }
        } finally {
            try (Stream<Path> s = Files.list(tmp)) {
                for (Path f : s.toList()) Files.deleteIfExists(f);
            }
            Files.deleteIfExists(tmp);
        }
    }
}

package dev.xbt.text;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The CLIP reference data in {@code <repo>/../shared/clip} (or where {@code XBT_SHARED_CLIP} points), which the
 * project never copies into its tree; tests that need a file skip where it is absent.
 */
final class SharedClip {
    static final String MERGES = "bpe_simple_vocab_16e6.txt.gz";
    static final String CASES = "tokenizer_cases.jsonl";

    private SharedClip() {}

    /** The shared file {@code name}, or a skipped test saying where it was looked for. */
    static Path require(String name) {
        String env = System.getenv("XBT_SHARED_CLIP");
        Stream<Path> dirs = Stream.of(
                env == null || env.isBlank() ? null : Path.of(env),
                Path.of("../../shared/clip"), // from the module directory, where Surefire runs
                Path.of("../shared/clip")); // from the repository root
        Path file = dirs.filter(d -> d != null && Files.isRegularFile(d.resolve(name)))
                .map(d -> d.resolve(name).toAbsolutePath().normalize())
                .findFirst()
                .orElse(null);
        assumeTrue(file != null, "skipped: " + name + " not found in $XBT_SHARED_CLIP, ../../shared/clip or ../shared/clip");
        return file;
    }

    private static ClipTokenizer openAi;

    /** OpenAI's tokenizer, loaded once for the test run. */
    static synchronized ClipTokenizer openAi() {
        Path merges = require(MERGES);
        if (openAi == null) {
            openAi = ClipTokenizer.fromMergesGz(merges);
        }
        return openAi;
    }
}

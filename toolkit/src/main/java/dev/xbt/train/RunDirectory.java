package dev.xbt.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The folder of one training run: the resolved config ({@value #CONFIG}), the metrics ({@value #METRICS}), the
 * training state ({@value #CHECKPOINT}: weights, optimizer, schedule position, random and data-order state) and
 * whatever the trainer exports (e.g. {@code model.safetensors}). A new run refuses an existing non-empty folder
 * unless it is resumed ({@code --resume}) or replaced ({@code --force}); {@code --force} removes only the files a
 * run writes and refuses a folder that holds anything else.
 */
public final class RunDirectory {
    public static final String CONFIG = "config.yaml";
    public static final String METRICS = "metrics.jsonl";
    public static final String CHECKPOINT = "checkpoint.safetensors";

    private final Path dir;
    private final boolean resuming;

    private RunDirectory(Path dir, boolean resuming) {
        this.dir = dir;
        this.resuming = resuming;
    }

    /**
     * Opens {@code dir} for a new run (created if missing), for a resumed one ({@code resume}: it must hold a
     * run's {@value #CONFIG}), or replaces the run in it ({@code force}). {@code outputs} are the extra files the
     * trainer writes, which {@code force} may remove too.
     */
    public static RunDirectory open(Path dir, boolean resume, boolean force, Set<String> outputs) {
        if (resume && force) throw new IllegalArgumentException("--resume and --force exclude each other");
        Path abs = dir.toAbsolutePath().normalize();
        if (resume) {
            if (!Files.isRegularFile(abs.resolve(CONFIG))) {
                throw new IllegalArgumentException("nothing to resume in " + dir + ": it has no " + CONFIG);
            }
            return new RunDirectory(abs, true);
        }
        if (Files.exists(abs) && !Files.isDirectory(abs)) {
            throw new IllegalArgumentException("run directory " + dir + " is a file");
        }
        List<Path> present = list(abs);
        if (!present.isEmpty()) {
            if (!force) {
                throw new IllegalArgumentException("run directory " + dir + " exists and is not empty; pass --resume to "
                        + "continue its run or --force to start it over");
            }
            List<String> foreign = new ArrayList<>();
            for (Path p : present) if (!ours(p.getFileName().toString(), outputs) || Files.isDirectory(p)) foreign.add(p.getFileName().toString());
            if (!foreign.isEmpty()) {
                throw new IllegalArgumentException("--force: run directory " + dir + " holds files a run does not write ("
                        + String.join(", ", foreign.subList(0, Math.min(3, foreign.size()))) + "); not removing them");
            }
            try {
                for (Path p : present) Files.delete(p);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot clear run directory " + dir + ": " + e.getMessage(), e);
            }
        }
        try {
            Files.createDirectories(abs);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create run directory " + dir + ": " + e.getMessage(), e);
        }
        return new RunDirectory(abs, false);
    }

    private static boolean ours(String name, Set<String> outputs) {
        return name.equals(CONFIG) || name.equals(METRICS) || name.equals(CHECKPOINT) || outputs.contains(name)
                || (name.startsWith(".") && name.endsWith(".tmp"));
    }

    private static List<Path> list(Path dir) {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) out.add(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list run directory " + dir + ": " + e.getMessage(), e);
        }
        out.sort(null);
        return out;
    }

    public Path dir() {
        return dir;
    }

    /** Whether this run continues an earlier one. */
    public boolean resuming() {
        return resuming;
    }

    public Path file(String name) {
        return dir.resolve(name);
    }

    public Path config() {
        return file(CONFIG);
    }

    public Path metrics() {
        return file(METRICS);
    }

    public Path checkpoint() {
        return file(CHECKPOINT);
    }

    /** Whether a training state has been written. */
    public boolean hasCheckpoint() {
        return Files.isRegularFile(checkpoint());
    }

    /** Writes {@code text} to {@code file} atomically: a temporary file in the same folder, then a rename over it. */
    public static void writeAtomically(Path file, String text) {
        Path abs = file.toAbsolutePath();
        Path tmp = abs.resolveSibling("." + abs.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the write error is the one to report
            }
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}

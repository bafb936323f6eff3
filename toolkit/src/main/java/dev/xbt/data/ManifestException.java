package dev.xbt.data;

import java.nio.file.Path;

/**
 * A manifest that cannot be used, or a data set that cannot be prepared. The message is one line; for a problem
 * in a manifest it has the compiler form {@code "<file>:<line>: <problem>"} ({@link #file()} and {@link #line()}
 * give the two parts; {@code line} is 0 for a problem with the whole file).
 */
public class ManifestException extends RuntimeException {
    private final transient Path file;
    private final int line;

    public ManifestException(String message) {
        super(oneLine(message));
        this.file = null;
        this.line = 0;
    }

    public ManifestException(String message, Throwable cause) {
        super(oneLine(message), cause);
        this.file = null;
        this.line = 0;
    }

    /** {@code "<file>:<line>: <problem>"}, or {@code "<file>: <problem>"} for line 0. */
    public ManifestException(Path file, int line, String problem) {
        this(file, line, problem, null);
    }

    public ManifestException(Path file, int line, String problem, Throwable cause) {
        super(oneLine(file + (line > 0 ? ":" + line : "") + ": " + problem), cause);
        this.file = file;
        this.line = line;
    }

    /** The file the problem is in, or null. */
    public Path file() {
        return file;
    }

    /** The 1-based line of the problem, or 0 when it concerns the whole file (or no file). */
    public int line() {
        return line;
    }

    static String oneLine(String s) {
        return s == null ? "manifest error" : s.replaceAll("\\s+", " ").strip();
    }
}

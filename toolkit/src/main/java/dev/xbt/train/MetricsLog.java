package dev.xbt.train;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * {@code metrics.jsonl}: one JSON object a line, each with an {@code "event"}: {@code config} (first, the resolved
 * config), {@code step} (loss, learning rate, gradient norm, speed), {@code eval}, {@code checkpoint},
 * {@code resume}, {@code stopped}, {@code done}. Lines are flushed as they are written. A resumed run first drops
 * the lines of steps after its checkpoint (they are about to be trained again), so the file reads as if the run
 * had never stopped, plus a {@code resume} line.
 */
public final class MetricsLog implements Closeable {
    public static final ObjectMapper JSON = new ObjectMapper();
    private final Path file;
    private final BufferedWriter out;

    private MetricsLog(Path file, BufferedWriter out) {
        this.file = file;
        this.out = out;
    }

    /** A new log (replacing any file there). */
    public static MetricsLog create(Path file) {
        try {
            return new MetricsLog(file, Files.newBufferedWriter(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Continues the log of a run resumed at {@code step}: keeps the lines without a step or with a step up to
     * {@code step} (rewritten atomically), then appends. A torn last line (the process was killed while writing
     * it) is dropped.
     */
    public static MetricsLog resume(Path file, long step) {
        StringBuilder kept = new StringBuilder();
        try {
            List<String> lines = Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
            for (String line : lines) {
                JsonNode n;
                try {
                    n = JSON.readTree(line);
                } catch (JacksonException e) {
                    continue;
                }
                if (n == null || !n.isObject()) continue;
                JsonNode s = n.get("step");
                if (s != null && s.isIntegralNumber() && s.longValue() > step) continue;
                kept.append(line).append('\n');
            }
            RunDirectory.writeAtomically(file, kept.toString());
            return new MetricsLog(file, Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot continue " + file + ": " + e.getMessage(), e);
        }
    }

    /** A new line with its event name set. */
    public static ObjectNode event(String name) {
        ObjectNode o = JSON.createObjectNode();
        o.put("event", name);
        return o;
    }

    /** Appends one line and flushes it. */
    public synchronized void write(ObjectNode line) {
        try {
            out.write(JSON.writeValueAsString(line));
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    public Path file() {
        return file;
    }

    @Override
    public synchronized void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close " + file + ": " + e.getMessage(), e);
        }
    }
}

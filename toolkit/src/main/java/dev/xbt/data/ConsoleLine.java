package dev.xbt.data;

import java.io.PrintStream;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * One status line on a terminal, redrawn in place at most ten times a second, and the ordinary lines printed
 * around it (each closes the status line first, so nothing is written over). Used by the data and the training
 * progress displays. There is one per stream ({@link #on}): when a data display and a training display take
 * turns on standard error, a line of one must still close the other's status line.
 */
public final class ConsoleLine {
    private static final long REDRAW_NANOS = 100_000_000L;
    // PrintStream keeps Object's identity equals/hashCode, so this maps each stream object to its line.
    private static final Map<PrintStream, ConsoleLine> LINES = new WeakHashMap<>();
    private final PrintStream out;
    private long lastDraw;
    private boolean open;

    private ConsoleLine(PrintStream out) {
        this.out = out;
    }

    /** The status line of {@code out}, shared by everything that writes progress there. */
    public static ConsoleLine on(PrintStream out) {
        synchronized (LINES) {
            return LINES.computeIfAbsent(out, ConsoleLine::new);
        }
    }

    /** Redraws the status line with {@code text}, unless it was drawn less than 0.1 s ago and {@code force} is false. */
    public synchronized void draw(String text, boolean force) {
        long now = System.nanoTime();
        if (!force && now - lastDraw <= REDRAW_NANOS) return;
        out.print("\r" + text + "\u001B[K");
        out.flush();
        open = true;
        lastDraw = now;
    }

    /** Ends the status line, if one is showing, so that the next output starts on a line of its own. */
    public synchronized void close() {
        if (open) {
            out.println();
            open = false;
        }
    }

    /** An ordinary line, below the status line. */
    public synchronized void println(String line) {
        close();
        out.println(line);
    }
}

package dev.xbt.data;

import java.io.PrintStream;

/**
 * One status line on a terminal, redrawn in place at most ten times a second, and the ordinary lines printed
 * around it (each closes the status line first, so nothing is written over). Used by the data and the training
 * progress displays; not thread-safe: its owners synchronise.
 */
public final class ConsoleLine {
    private static final long REDRAW_NANOS = 100_000_000L;
    private final PrintStream out;
    private long lastDraw;
    private boolean open;

    public ConsoleLine(PrintStream out) {
        this.out = out;
    }

    /** Redraws the status line with {@code text}, unless it was drawn less than 0.1 s ago and {@code force} is false. */
    public void draw(String text, boolean force) {
        long now = System.nanoTime();
        if (!force && now - lastDraw <= REDRAW_NANOS) return;
        out.print("\r" + text + "\u001B[K");
        out.flush();
        open = true;
        lastDraw = now;
    }

    /** Ends the status line, if one is showing, so that the next output starts on a line of its own. */
    public void close() {
        if (open) {
            out.println();
            open = false;
        }
    }

    /** An ordinary line, below the status line. */
    public void println(String line) {
        close();
        out.println(line);
    }
}

package dev.xbt.train;

import dev.xbt.data.ConsoleLine;

import java.io.PrintStream;
import java.util.Locale;

/**
 * How a training run shows its progress. On a terminal: one line redrawn in place at most ten times a second, with
 * a bar, the step, the loss (and its moving average), samples per second and the time left. Otherwise (a log file,
 * a pipe): a plain line every {@code every} steps and at the last step.
 */
public final class TrainProgress {
    private static final int BAR = 24;
    private final ConsoleLine line; // null: show nothing
    private final boolean terminal;
    private final long every;
    private double smoothed = Double.NaN;

    public TrainProgress(PrintStream out, boolean terminal, long every) {
        this.line = out == null ? null : ConsoleLine.on(out);
        this.terminal = terminal;
        this.every = Math.max(1, every);
    }

    /** On standard error: a bar on a terminal, plain lines every {@code every} steps otherwise. */
    public static TrainProgress console(long every) {
        java.io.Console console = System.console();
        return new TrainProgress(System.err, console != null && console.isTerminal(), every);
    }

    /** Shows nothing (tests, library use). */
    public static TrainProgress none() {
        return new TrainProgress(null, false, 1);
    }

    /** Step {@code step} of {@code total} is done with {@code loss}; {@code rate} samples/s; {@code etaSeconds} left. */
    public synchronized void update(long step, long total, double loss, double rate, double etaSeconds) {
        if (line == null) return;
        smoothed = Double.isNaN(smoothed) ? loss : 0.95 * smoothed + 0.05 * loss;
        boolean last = step >= total;
        String text = String.format(Locale.ROOT, "step %d/%d loss %.4f (avg %.4f) %.0f samples/s ETA %s",
                step, total, loss, smoothed, rate, duration(etaSeconds));
        if (terminal) {
            int filled = (int) (BAR * Math.min(1.0, step / (double) Math.max(1, total)));
            line.draw("[" + "#".repeat(filled) + "-".repeat(BAR - filled) + "] " + text, last);
            if (last) line.close();
        } else if (last || step % every == 0) {
            line.println(text);
        }
    }

    /** A line of information (closes a redrawn line first). */
    public synchronized void log(String text) {
        if (line == null) return;
        line.println(text);
    }

    /** "1h02m", "3m12s", "45s". */
    public static String duration(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) return "?";
        long s = Math.round(seconds);
        if (s >= 3600) return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60);
        if (s >= 60) return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        return s + "s";
    }
}

package dev.xbt.data;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Where long jobs (imports, cache builds) report how far they are. {@link #update} may be called from any thread
 * and as often as wanted; implementations throttle. {@link #NONE} ignores everything.
 */
public interface Progress {
    /** {@code done} of {@code total} items of {@code task} are finished; {@code total} is -1 when unknown. */
    void update(String task, long done, long total);

    /** A line of information. */
    void log(String line);

    /** Ignores everything. */
    Progress NONE = new Progress() {
        @Override
        public void update(String task, long done, long total) {}

        @Override
        public void log(String line) {}
    };

    /**
     * Progress on {@code out}: on a terminal ({@code terminal} true, e.g. {@code System.console() != null}) one line
     * redrawn in place at most ten times a second; otherwise a plain log line at every tenth of the total (or every
     * 10 seconds when the total is unknown) and at the end.
     */
    static Progress console(PrintStream out, boolean terminal) {
        return new ConsoleProgress(out, terminal);
    }

    final class ConsoleProgress implements Progress {
        private final ConsoleLine line;
        private final boolean terminal;
        private String task;
        private long started;
        private boolean taskStarted;
        private long lastTenth = -1;

        ConsoleProgress(PrintStream out, boolean terminal) {
            this.line = ConsoleLine.on(out);
            this.terminal = terminal;
        }

        @Override
        public synchronized void update(String task, long done, long total) {
            long now = System.nanoTime();
            if (!task.equals(this.task)) {
                line.close();
                this.task = task;
                started = now;
                taskStarted = true;
                lastTenth = -1;
            }
            boolean end = total >= 0 && done >= total;
            double secs = (now - started) / 1e9;
            // A rate over a few milliseconds (e.g. the first update of a task) means nothing: leave it out.
            String rate = secs < 0.05 ? "" : String.format(Locale.ROOT, "%.0f/s", done / secs);
            String text = total >= 0
                    ? String.format(Locale.ROOT, "%s: %d/%d (%d%%) %s", task, done, total,
                    total == 0 ? 100 : done * 100 / total, rate)
                    : String.format(Locale.ROOT, "%s: %d %s", task, done, rate);
            text = text.stripTrailing();
            if (terminal) {
                // A new task's first state is drawn at once, whatever the previous task drew just before.
                line.draw(text, end || taskStarted);
                taskStarted = false;
                if (end) line.close();
            } else {
                long tenth = total > 0 ? done * 10 / total : (now - started) / 10_000_000_000L;
                if (tenth != lastTenth && (done > 0 || end)) {
                    lastTenth = tenth;
                    line.println(text);
                }
            }
        }

        @Override
        public synchronized void log(String text) {
            line.println(text);
        }
    }
}

package dev.xbt.engine.cpu;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.Future;
import java.util.concurrent.RecursiveAction;

/**
 * The CPU backends' thread pool: splits an index range into fixed chunks and runs them on all cores.
 * Chunk boundaries depend only on the range, the grain and the thread count, never on timing, so a
 * kernel that writes each output from one chunk gives the same bits run after run.
 */
public final class Parallel {
    /** Worker count: {@code -Dxbt.threads=N}, else every core. */
    public static final int THREADS = Math.max(1, Integer.getInteger("xbt.threads",
            Runtime.getRuntime().availableProcessors()));

    private static final ForkJoinPool POOL = new ForkJoinPool(THREADS,
            pool -> {
                var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
                t.setName("xbt-cpu-" + t.getPoolIndex());
                t.setDaemon(true);
                return t;
            }, null, false);

    /** A body over the half-open index range [start, end). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    private Parallel() {}

    /**
     * Runs {@code body} over [0, n) in chunks of at least {@code minGrain} indices, at most one chunk
     * per worker. Small ranges run on the caller's thread.
     */
    public static void forRange(int n, int minGrain, RangeBody body) {
        if (n <= 0) return;
        int chunks = (int) Math.min(THREADS, Math.max(1, n / (long) Math.max(1, minGrain)));
        if (chunks <= 1 || ForkJoinTask.inForkJoinPool() && Thread.currentThread().getName().startsWith("xbt-cpu-")) {
            body.run(0, n);
            return;
        }
        RecursiveAction[] tasks = new RecursiveAction[chunks];
        for (int c = 0; c < chunks; c++) {
            int start = (int) ((long) n * c / chunks), end = (int) ((long) n * (c + 1) / chunks);
            tasks[c] = new RecursiveAction() {
                @Override
                protected void compute() {
                    body.run(start, end);
                }
            };
        }
        for (int c = 1; c < chunks; c++) POOL.execute(tasks[c]);
        tasks[0].invoke();
        RuntimeException failure = null;
        for (int c = 1; c < chunks; c++) {
            try {
                tasks[c].join();
            } catch (RuntimeException | Error e) {
                // join() rethrows a copy made on this thread whose cause is the worker's original: report the original.
                Throwable t = e.getCause() != null && e.getCause().getClass() == e.getClass() ? e.getCause() : e;
                if (failure == null) failure = t instanceof RuntimeException re ? re : new RuntimeException(t);
            }
        }
        if (failure != null) throw failure;
    }

    /** Number of chunks {@link #forRange} would use for a range of n with this grain. */
    public static int chunks(int n, int minGrain) {
        return (int) Math.min(THREADS, Math.max(1, n / (long) Math.max(1, minGrain)));
    }

    /**
     * Waits for a task of any executor and returns its result, rethrowing the task's own unchecked exception or
     * error rather than the {@link ExecutionException} wrapper (a checked one arrives wrapped in an
     * IllegalStateException), so a worker's one-line message reaches the user as it was written.
     */
    public static <T> T await(Future<T> task) {
        try {
            return task.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) throw re;
            if (c instanceof Error err) throw err;
            throw new IllegalStateException(c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a worker", e);
        }
    }
}

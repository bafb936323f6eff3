package dev.xbt.data.sources;

import dev.xbt.engine.cpu.Parallel;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/**
 * Runs a function over a list on several threads and hands the results on in list order, so an import that
 * decodes in parallel still writes a reproducible manifest. At most a few items per thread are in flight, so
 * memory stays bounded however long the list is.
 */
final class Ordered {
    private Ordered() {}

    /** What to do with each result, in list order; returns false to stop (the rest is not handed on). */
    interface Sink<T, R> {
        boolean accept(T item, R result);
    }

    /**
     * Applies {@code work} to every item on {@code threads} threads and gives the results to {@code sink} in the
     * order of {@code items}, until the sink returns false. An exception thrown by {@code work} stops everything
     * and is rethrown (so {@code work} should turn per-item failures into results).
     */
    static <T, R> void map(List<T> items, int threads, Function<T, R> work, Sink<T, R> sink) {
        if (threads <= 1 || items.size() <= 1) {
            for (T t : items) if (!sink.accept(t, work.apply(t))) return;
            return;
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "xbt-import");
            t.setDaemon(true);
            return t;
        });
        try {
            ArrayDeque<Future<R>> inFlight = new ArrayDeque<>();
            int window = threads * 4;
            int next = 0;
            for (int done = 0; done < items.size(); done++) {
                while (next < items.size() && inFlight.size() < window) {
                    T t = items.get(next++);
                    inFlight.add(pool.submit(() -> work.apply(t)));
                }
                R r = Parallel.await(inFlight.poll());
                if (!sink.accept(items.get(done), r)) return;
            }
        } finally {
            pool.shutdownNow();
        }
    }

}

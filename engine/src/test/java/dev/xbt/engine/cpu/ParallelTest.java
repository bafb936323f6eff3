package dev.xbt.engine.cpu;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CPU backends' range splitter: full coverage, fixed chunk boundaries, failures surface. */
class ParallelTest {

    private static List<int[]> chunksOf(int n, int grain) {
        List<int[]> chunks = Collections.synchronizedList(new ArrayList<>());
        Parallel.forRange(n, grain, (s, e) -> chunks.add(new int[] {s, e}));
        chunks.sort((a, b) -> Integer.compare(a[0], b[0]));
        return chunks;
    }

    @Test
    void coversEveryIndexExactlyOnce() {
        for (int n : new int[] {1, 2, 7, 100, 1000, 65_537, 1 << 20}) {
            for (int grain : new int[] {0, 1, 16, 4096, 1 << 21}) {
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                Parallel.forRange(n, grain, (s, e) -> {
                    for (int i = s; i < e; i++) hits.incrementAndGet(i);
                });
                for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "n=" + n + " grain=" + grain + " index " + i);
            }
        }
    }

    @Test
    void chunkBoundariesDependOnlyOnTheRangeAndTheGrain() {
        for (int n : new int[] {10, 1000, 123_457}) {
            for (int grain : new int[] {1, 100, 50_000}) {
                List<int[]> first = chunksOf(n, grain), second = chunksOf(n, grain);
                int chunks = Parallel.chunks(n, grain);
                assertEquals(chunks, first.size());
                assertTrue(chunks >= 1 && chunks <= Parallel.THREADS);
                for (int c = 0; c < chunks; c++) {
                    assertEquals((int) ((long) n * c / chunks), first.get(c)[0]);
                    assertEquals((int) ((long) n * (c + 1) / chunks), first.get(c)[1]);
                    assertEquals(first.get(c)[0], second.get(c)[0]);
                    assertEquals(first.get(c)[1], second.get(c)[1]);
                    if (chunks > 1) assertTrue(first.get(c)[1] - first.get(c)[0] >= Math.min(grain, n / chunks));
                }
            }
        }
    }

    @Test
    void emptyAndSmallRanges() {
        AtomicInteger calls = new AtomicInteger();
        Parallel.forRange(0, 1, (s, e) -> calls.incrementAndGet());
        Parallel.forRange(-5, 1, (s, e) -> calls.incrementAndGet());
        assertEquals(0, calls.get());
        Thread caller = Thread.currentThread();
        Parallel.forRange(10, 1000, (s, e) -> {
            assertSame(caller, Thread.currentThread(), "a range below the grain runs on the caller");
            assertEquals(0, s);
            assertEquals(10, e);
        });
        assertEquals(1, Parallel.chunks(10, 1000));
        assertTrue(Parallel.THREADS >= 1);
    }

    @Test
    void failuresInAnyChunkSurface() {
        RuntimeException boom = new IllegalStateException("boom");
        int n = 1 << 16;
        for (int bad : new int[] {0, n - 1}) {   // in the caller's chunk and in a worker's
            RuntimeException e = assertThrows(RuntimeException.class, () -> Parallel.forRange(n, 1, (s, en) -> {
                if (bad >= s && bad < en) throw boom;
            }));
            // The worker's original exception, not join()'s same-type copy wrapping it.
            assertSame(boom, e);
        }
        // The pool is still usable afterwards.
        AtomicInteger sum = new AtomicInteger();
        Parallel.forRange(1000, 1, (s, e) -> sum.addAndGet(e - s));
        assertEquals(1000, sum.get());
    }

    @Test
    void nestedRangesComplete() {
        int outer = 64, inner = 10_000;
        AtomicIntegerArray hits = new AtomicIntegerArray(outer * inner);
        Parallel.forRange(outer, 1, (s, e) -> {
            for (int o = s; o < e; o++) {
                int base = o * inner;
                Parallel.forRange(inner, 1, (a, b) -> {
                    for (int i = a; i < b; i++) hits.incrementAndGet(base + i);
                });
            }
        });
        for (int i = 0; i < outer * inner; i++) assertEquals(1, hits.get(i));
    }

    @Test
    void awaitReturnsTheResultAndRethrowsTheTasksOwnException() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            assertEquals(42, Parallel.await(pool.submit(() -> 42)));
            IllegalArgumentException thrown = new IllegalArgumentException("bad picture x.png");
            assertSame(thrown, assertThrows(IllegalArgumentException.class,
                    () -> Parallel.await(pool.submit(() -> { throw thrown; }))));
            OutOfMemoryError error = new OutOfMemoryError("worker");
            assertSame(error, assertThrows(OutOfMemoryError.class,
                    () -> Parallel.await(pool.submit(() -> { throw error; }))));
            java.io.IOException checked = new java.io.IOException("disk full");
            IllegalStateException wrapped = assertThrows(IllegalStateException.class,
                    () -> Parallel.await(pool.submit(() -> { throw checked; })));
            assertSame(checked, wrapped.getCause());
        } finally {
            pool.shutdownNow();
        }
    }
}

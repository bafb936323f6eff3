package dev.xbt.engine;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine's random numbers: deterministic streams and a pure counter-based uniform. */
class RngTest {

    private static long[] longs(Rng r, int n) {
        long[] v = new long[n];
        for (int i = 0; i < n; i++) v[i] = r.nextLong();
        return v;
    }

    @Test
    void sameSeedSameSequence() {
        assertArrayEquals(longs(new Rng(42), 1000), longs(new Rng(42), 1000));
        Rng a = new Rng(7), b = new Rng(7);
        for (int i = 0; i < 200; i++) {
            assertEquals(a.nextFloat(), b.nextFloat());
            assertEquals(a.nextDouble(), b.nextDouble());
            assertEquals(a.nextGaussian(), b.nextGaussian());
            assertEquals(a.nextInt(17), b.nextInt(17));
        }
        assertEquals(a.state(), b.state());
    }

    @Test
    void differentSeedsDiffer() {
        long[] x = longs(new Rng(1), 100), y = longs(new Rng(2), 100);
        int same = 0;
        for (int i = 0; i < 100; i++) if (x[i] == y[i]) same++;
        assertEquals(0, same);
    }

    @Test
    void stateCheckpointsTheWholeGenerator() {
        Rng r = new Rng(123);
        longs(r, 37);
        long saved = r.state();
        long[] next = longs(r, 50);
        Rng restored = new Rng(0);
        restored.setState(saved);
        assertArrayEquals(next, longs(restored, 50));
    }

    @Test
    void knownFirstValues() {
        // SplitMix64 from seed 0: the reference stream of Steele, Lea and Flood.
        Rng r = new Rng(0);
        assertEquals(0xE220A8397B1DCDAFL, r.nextLong());
        assertEquals(0x6E789E6AA1B965F4L, r.nextLong());
        assertEquals(0x06C45D188009454FL, r.nextLong());
    }

    @Test
    void rangesAndMoments() {
        Rng r = new Rng(99);
        int n = 200_000;
        double sumF = 0, sumG = 0, sumG2 = 0;
        int[] counts = new int[10];
        for (int i = 0; i < n; i++) {
            float f = r.nextFloat();
            assertTrue(f >= 0f && f < 1f);
            double d = r.nextDouble();
            assertTrue(d >= 0 && d < 1);
            int k = r.nextInt(10);
            assertTrue(k >= 0 && k < 10);
            counts[k]++;
            double g = r.nextGaussian();
            assertTrue(Double.isFinite(g));
            sumF += f;
            sumG += g;
            sumG2 += g * g;
        }
        assertEquals(0.5, sumF / n, 0.005);
        assertEquals(0, sumG / n, 0.01);
        assertEquals(1, sumG2 / n, 0.02);
        for (int c : counts) assertEquals(n / 10.0, c, n / 10.0 * 0.05);
        assertThrows(IllegalArgumentException.class, () -> r.nextInt(0));
        assertThrows(IllegalArgumentException.class, () -> r.nextInt(-3));
        assertEquals(0, r.nextInt(1));
    }

    @Test
    void splitIsDeterministicAndIndependent() {
        Rng a = new Rng(5), b = new Rng(5);
        Rng sa = a.split(), sb = b.split();
        assertArrayEquals(longs(sa, 20), longs(sb, 20));
        assertEquals(a.state(), b.state());
        assertNotEquals(longs(a, 1)[0], longs(a.split(), 1)[0]);
    }

    @Test
    void shuffleIsADeterministicPermutation() {
        int[] x = IntStream.range(0, 100).toArray(), y = x.clone();
        new Rng(3).shuffle(x);
        new Rng(3).shuffle(y);
        assertArrayEquals(x, y);
        assertTrue(!Arrays.equals(x, IntStream.range(0, 100).toArray()), "a shuffle of 100 left everything in place");
        int[] sorted = x.clone();
        Arrays.sort(sorted);
        assertArrayEquals(IntStream.range(0, 100).toArray(), sorted);
        new Rng(3).shuffle(new int[0]);
    }

    @Test
    void counterUniformIsPure() {
        long seed = 0x1234_5678_9ABCL;
        float[] forward = new float[1000], backward = new float[1000];
        for (int i = 0; i < 1000; i++) forward[i] = Rng.uniform(seed, i);
        for (int i = 999; i >= 0; i--) backward[i] = Rng.uniform(seed, i);
        assertArrayEquals(forward, backward);
        // No hidden state: drawing from generators in between changes nothing, and so does
        // computing it on many threads at once.
        new Rng(seed).nextLong();
        float[] parallel = new float[1000];
        IntStream.range(0, 1000).parallel().forEach(i -> parallel[i] = Rng.uniform(seed, i));
        assertArrayEquals(forward, parallel);
        // In [0, 1), spread out, and different for another seed or counter.
        double sum = 0;
        for (float f : forward) {
            assertTrue(f >= 0f && f < 1f);
            sum += f;
        }
        assertEquals(0.5, sum / 1000, 0.05);
        assertNotEquals(Rng.uniform(seed, 0), Rng.uniform(seed + 1, 0));
        assertNotEquals(Rng.uniform(seed, 0), Rng.uniform(seed, 1));
        // Large counters (tensors past 2^31 elements) are fine.
        float big = Rng.uniform(seed, 5_000_000_000L);
        assertTrue(big >= 0f && big < 1f);
        assertEquals(big, Rng.uniform(seed, 5_000_000_000L));
    }

    @Test
    void counterUniformIsTheMixOfSeedAndCounter() {
        long seed = 77;
        for (long i : new long[] {0, 1, 2, 1000, -1}) {
            long mixed = Rng.mix(seed + 0x9E3779B97F4A7C15L * (i + 1));
            assertEquals((mixed >>> 40) * 0x1.0p-24f, Rng.uniform(seed, i));
        }
    }
}

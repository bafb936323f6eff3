package dev.xbt.engine;

/**
 * The one random-number design of the engine. Host-side draws (initialisation, shuffling, noise)
 * come from a SplitMix64 stream whose whole state is one long, so it checkpoints exactly. Kernels
 * (dropout) use the counter-based {@link #uniform(long, long)}: element i of a call draws from
 * (seed, i) alone, so any device, thread count or launch order yields the same bits. StrictMath
 * keeps the float64 transcendentals identical between the interpreter and JIT-compiled code.
 */
public final class Rng {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private long state;

    public Rng(long seed) {
        this.state = seed;
    }

    /** The whole generator state, for checkpoints. */
    public long state() {
        return state;
    }

    public void setState(long state) {
        this.state = state;
    }

    public long nextLong() {
        state += GOLDEN;
        return mix(state);
    }

    /** Uniform in [0, 1) with 24 random bits. */
    public float nextFloat() {
        return (nextLong() >>> 40) * 0x1.0p-24f;
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform integer in [0, bound). */
    public int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("bound must be positive: " + bound);
        return (int) ((nextLong() >>> 33) * bound >>> 31);
    }

    /** Standard normal by Box–Muller (one draw per call, the pair's second half discarded for simplicity). */
    public double nextGaussian() {
        double u1 = ((nextLong() >>> 11) + 1) * 0x1.0p-53; // (0, 1]: log stays finite
        double u2 = (nextLong() >>> 11) * 0x1.0p-53;
        return StrictMath.sqrt(-2.0 * StrictMath.log(u1)) * StrictMath.cos(2.0 * Math.PI * u2);
    }

    /** A fresh generator whose stream does not overlap this one's in practice. */
    public Rng split() {
        return new Rng(nextLong() ^ 0x5DEECE66DL);
    }

    /** Fisher–Yates shuffle in place. */
    public void shuffle(int[] a) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** Counter-based uniform in [0, 1): a pure function of (seed, counter), 24 random bits. */
    public static float uniform(long seed, long counter) {
        return (mix(seed + GOLDEN * (counter + 1)) >>> 40) * 0x1.0p-24f;
    }

    /** SplitMix64's finaliser (Stafford's variant 13). */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

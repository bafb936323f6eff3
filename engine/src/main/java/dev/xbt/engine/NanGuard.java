package dev.xbt.engine;

/**
 * Stops a computation at the first op whose result holds a NaN, naming the op and its input
 * shapes, instead of letting it spread silently. On by default; {@code -Dxbt.checkNaN=false} turns
 * it off for the last bit of speed.
 */
public final class NanGuard {
    private static volatile boolean enabled = !"false".equals(System.getProperty("xbt.checkNaN"));

    private NanGuard() {}

    public static boolean enabled() {
        return enabled;
    }

    public static void setEnabled(boolean on) {
        enabled = on;
    }

    /**
     * The error of a NaN result: an {@link EngineException} of its own type, so that a training loop can tell a
     * diverged run (stop, keep the last good checkpoint) from a programming error.
     */
    public static final class NanException extends EngineException {
        NanException(String message) {
            super(message);
        }
    }

    /** Throws a {@link NanException} when {@code result} of {@code op} holds a NaN. */
    static void check(String op, Tensor result, Tensor... inputs) {
        if (!enabled) return;
        long nans = result.backend.countNaN(result.buffer);
        if (nans > 0) {
            throw new NanException(EngineException.of(op, nans + " NaN value" + (nans == 1 ? "" : "s") + " in the result "
                    + Shape.str(result.shape()), inputs).getMessage());
        }
    }
}

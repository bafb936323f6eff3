package dev.xbt.engine;

/**
 * Stops a computation at the first op whose result holds a NaN, naming the op and its input
 * shapes, instead of letting it spread silently.
 *
 * <p>By default it checks on backends that compute as they are called (the CPU) and not on those
 * that queue work (GPUs: each check reads a count back and so would wait for the queue after every
 * op). {@code -Dxbt.checkNaN=true} or {@link #setEnabled}{@code (true)} checks everywhere,
 * {@code false} nowhere.
 */
public final class NanGuard {
    /** TRUE or FALSE when set, null for the default (check on backends that do not queue work). */
    private static volatile Boolean setting = parse(System.getProperty("xbt.checkNaN"));

    private NanGuard() {}

    private static Boolean parse(String value) {
        if (value == null || value.isBlank()) return null;
        return !"false".equalsIgnoreCase(value.strip());
    }

    /** Checks every result on every backend ({@code true}), or none ({@code false}). */
    public static void setEnabled(boolean on) {
        setting = on;
    }

    /** The current setting, to hand back to {@link #restore}: TRUE, FALSE or null (the default). */
    public static Boolean setting() {
        return setting;
    }

    public static void restore(Boolean previous) {
        setting = previous;
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
        Boolean on = setting;
        if (on == null ? result.backend.queuesWork() : !on) return;
        long nans = result.backend.countNaN(result.buffer);
        if (nans > 0) {
            throw new NanException(EngineException.of(op, nans + " NaN value" + (nans == 1 ? "" : "s") + " in the result "
                    + Shape.str(result.shape()), inputs).getMessage());
        }
    }
}

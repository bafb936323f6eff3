package dev.xbt.train;

/** A run stopped because it went wrong (a NaN or infinite loss or gradient); its last good checkpoint is kept. */
public final class TrainingStopped extends RuntimeException {
    private final long step;

    public TrainingStopped(long step, String message) {
        super(message);
        this.step = step;
    }

    /** The 1-based step that failed. */
    public long step() {
        return step;
    }
}

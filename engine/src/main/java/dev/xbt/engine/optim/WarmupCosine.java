package dev.xbt.engine.optim;

/**
 * Learning rate rising linearly from 0 over the warmup steps, then following a half cosine from the
 * peak down to {@code minLr} at {@code totalSteps}; constant at minLr after that.
 */
public record WarmupCosine(float peakLr, long warmupSteps, long totalSteps, float minLr) {
    public WarmupCosine {
        if (warmupSteps < 0 || totalSteps <= 0 || warmupSteps > totalSteps) {
            throw new IllegalArgumentException("WarmupCosine: need 0 <= warmup <= total and total > 0, got warmup "
                    + warmupSteps + ", total " + totalSteps);
        }
    }

    /** The learning rate for 0-based step {@code step}. */
    public float lr(long step) {
        if (step < warmupSteps) return peakLr * (step + 1) / warmupSteps;
        if (step >= totalSteps) return minLr;
        double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
        return (float) (minLr + 0.5 * (peakLr - minLr) * (1 + Math.cos(Math.PI * progress)));
    }
}

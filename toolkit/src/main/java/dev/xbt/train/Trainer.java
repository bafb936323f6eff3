package dev.xbt.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.xbt.engine.NanGuard;
import dev.xbt.engine.ParameterSet;
import dev.xbt.engine.Tape;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.optim.AdamW;
import dev.xbt.engine.optim.WarmupCosine;

import java.util.Map;
import java.util.Objects;

/**
 * The training loop shared by every trainer: for each step, the loss from a {@link Step} function recorded on a
 * tape, backward, global gradient-norm clipping, one AdamW update at the {@link WarmupCosine} rate, an optional
 * hook after the update (e.g. clamping CLIP's temperature), then metrics, evaluations and atomic checkpoints at
 * their intervals, all in a {@link RunDirectory}.
 *
 * <p><b>Resuming.</b> When the run directory is resumed and has a checkpoint, the loop restores the parameters,
 * the optimizer, the step and the trainer's {@link State} (random generators, data order) from it and goes on.
 * Everything the steps compute depends only on that state, so a run killed at any point and resumed ends with
 * the same weights, bit for bit, as one that never stopped.
 *
 * <p><b>Divergence.</b> A NaN anywhere in the step (the engine stops at the op that made it), an infinite loss or
 * a non-finite gradient norm stops the run before the update with a {@link TrainingStopped} that names the step;
 * the last checkpoint, written from finite weights, is left as it was.
 *
 * <p><b>Weight averaging.</b> With {@link #weightAverage(double)} the loop keeps a {@link WeightAverage} of the
 * parameters, updated after every step and saved in the checkpoints, and when {@link #run()} returns the parameters
 * hold the average, not the last step's weights (evaluations during the run see the last step's weights).
 */
public final class Trainer {
    /** Computes one step's loss (a one-element tensor) while a tape records; {@code step} counts from 0. */
    @FunctionalInterface
    public interface Step {
        Tensor loss(long step);
    }

    /** State besides parameters and optimizer that a checkpoint must hold (random generators, data position). */
    public interface State {
        Map<String, String> save();

        void restore(Map<String, String> state);
    }

    /** Metrics of the model at a step (e.g. validation recall); logged as an {@code eval} line. */
    @FunctionalInterface
    public interface Evaluation {
        Map<String, Double> evaluate(long step);
    }

    /** How a finished call went. */
    public record Result(long step, long stepsThisRun, double lastLoss, double stepSeconds, double samplesPerSecond) {}

    private final RunDirectory run;
    private final ParameterSet params;
    private final AdamW optimizer;
    private final WarmupCosine schedule;
    private final Step step;
    private long totalSteps = 1;
    private int samplesPerStep = 1;
    private double gradClip;
    private long checkpointEvery = 100;
    private long logEvery = 10;
    private long evalEvery;
    private State state = new State() {
        @Override
        public Map<String, String> save() {
            return Map.of();
        }

        @Override
        public void restore(Map<String, String> s) {}
    };
    private Evaluation evaluation;
    private Runnable afterUpdate = () -> {};
    private ObjectNode config = MetricsLog.JSON.createObjectNode();
    private TrainProgress progress = TrainProgress.none();
    private boolean checkEveryOp;
    private WeightAverage average;

    public Trainer(RunDirectory run, ParameterSet params, AdamW optimizer, WarmupCosine schedule, Step step) {
        this.run = Objects.requireNonNull(run, "run");
        this.params = Objects.requireNonNull(params, "params");
        this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
        this.schedule = Objects.requireNonNull(schedule, "schedule");
        this.step = Objects.requireNonNull(step, "step");
        this.totalSteps = schedule.totalSteps();
    }

    public Trainer totalSteps(long steps) {
        if (steps < 1) throw new IllegalArgumentException("total steps must be at least 1, got " + steps);
        this.totalSteps = steps;
        return this;
    }

    /** Samples a step trains on (for samples/s). */
    public Trainer samplesPerStep(int n) {
        this.samplesPerStep = n;
        return this;
    }

    /** Maximum global gradient L2 norm; 0 turns clipping off. */
    public Trainer gradClip(double maxNorm) {
        this.gradClip = maxNorm;
        return this;
    }

    public Trainer checkpointEvery(long steps) {
        this.checkpointEvery = Math.max(1, steps);
        return this;
    }

    public Trainer logEvery(long steps) {
        this.logEvery = Math.max(1, steps);
        return this;
    }

    /** Evaluates every {@code steps} steps (0: only at the end) with {@code evaluation}. */
    public Trainer evaluation(Evaluation evaluation, long steps) {
        this.evaluation = evaluation;
        this.evalEvery = Math.max(0, steps);
        return this;
    }

    public Trainer state(State state) {
        this.state = Objects.requireNonNull(state, "state");
        return this;
    }

    /** Runs after every optimizer update (constraints such as a clamped temperature). */
    public Trainer afterUpdate(Runnable hook) {
        this.afterUpdate = Objects.requireNonNull(hook, "hook");
        return this;
    }

    /** The resolved config, written to {@value RunDirectory#CONFIG}, as the first metrics line and into checkpoints. */
    public Trainer config(ObjectNode config) {
        this.config = config;
        return this;
    }

    /**
     * Whether every op of a step checks its result for NaN ({@link NanGuard}; slower, but the stop names the op that
     * made the first NaN). Off by default: the loop's own checks of the loss and of the gradient norm stop a
     * diverged run just the same, before its update, and the per-op check costs some 15% of a small model's step.
     */
    public Trainer checkEveryOp(boolean on) {
        this.checkEveryOp = on;
        return this;
    }

    /**
     * Averages the weights over the steps with this EMA decay (0: no averaging, the default), and leaves the average
     * in the parameters at the end; see {@link WeightAverage}.
     */
    public Trainer weightAverage(double decay) {
        if (!(decay >= 0 && decay < 1)) throw new IllegalArgumentException("weight-average decay must be in [0, 1), got " + decay);
        this.average = decay > 0 ? new WeightAverage(params, decay) : null;
        return this;
    }

    public Trainer progress(TrainProgress progress) {
        this.progress = Objects.requireNonNull(progress, "progress");
        return this;
    }

    /** Trains up to the total step count (from the checkpoint when resuming). */
    public Result run() {
        long at = 0;
        MetricsLog metrics;
        if (run.resuming() && run.hasCheckpoint()) {
            TrainingCheckpoint.Loaded loaded = TrainingCheckpoint.load(run.checkpoint(), params, optimizer, average);
            if (!sameJson(loaded.configJson(), config)) {
                throw new IllegalArgumentException("the checkpoint in " + run.dir() + " was written with another config than "
                        + run.config() + "; start a new run");
            }
            at = loaded.step();
            state.restore(loaded.state());
            metrics = MetricsLog.resume(run.metrics(), at);
            metrics.write(MetricsLog.event("resume").put("step", at));
            progress.log("resuming " + run.dir() + " at step " + at + " of " + totalSteps);
        } else if (run.resuming()) {
            metrics = MetricsLog.resume(run.metrics(), 0);
            metrics.write(MetricsLog.event("resume").put("step", 0));
            progress.log("no checkpoint in " + run.dir() + " yet: starting its run from step 0");
        } else {
            RunDirectory.writeAtomically(run.config(), TrainConfig.yaml(config));
            metrics = MetricsLog.create(run.metrics());
            ObjectNode first = MetricsLog.event("config");
            first.set("config", config);
            metrics.write(first);
        }
        if (at > totalSteps) {
            metrics.close();
            throw new IllegalArgumentException("the checkpoint is at step " + at + ", past the run's " + totalSteps + " steps");
        }
        String configJson = config.toString();
        long start = at;
        double stepSeconds = 0, loss = Double.NaN;
        Boolean guardWas = NanGuard.setting();
        NanGuard.setEnabled(checkEveryOp);
        try (metrics) {
            while (at < totalSteps) {
                long t0 = System.nanoTime();
                float lr = schedule.lr(at);
                params.zeroGrad();
                double norm;
                try (Tape tape = Tape.record()) {
                    Tensor l = step.loss(at);
                    loss = l.item();
                    if (!Double.isFinite(loss)) throw stop(metrics, at + 1, "the loss is " + loss);
                    // A NaN made in the backward pass shows in the gradient norm below.
                    tape.backward(l);
                } catch (NanGuard.NanException e) {
                    throw stop(metrics, at + 1, "a NaN appeared (" + e.getMessage() + ")");
                }
                norm = gradClip > 0 ? params.clipGradNorm(gradClip) : params.gradNorm();
                if (!Double.isFinite(norm)) throw stop(metrics, at + 1, "the gradient norm is " + norm);
                optimizer.step(lr);
                afterUpdate.run();
                if (average != null) average.update();
                at++;
                stepSeconds += (System.nanoTime() - t0) / 1e9;
                long done = at - start;
                double rate = samplesPerStep * done / Math.max(1e-9, stepSeconds);
                double eta = (totalSteps - at) * stepSeconds / done;
                progress.update(at, totalSteps, loss, rate, eta);
                if (at % logEvery == 0 || at == totalSteps) {
                    ObjectNode line = MetricsLog.event("step").put("step", at).put("loss", loss).put("lr", lr)
                            .put("grad_norm", norm).put("samples_per_s", Math.round(rate * 10) / 10.0)
                            .put("step_seconds", Math.round(stepSeconds * 1000) / 1000.0);
                    metrics.write(line);
                }
                if (evaluation != null && (at == totalSteps || (evalEvery > 0 && at % evalEvery == 0))) {
                    evaluate(metrics, at);
                }
                if (at % checkpointEvery == 0 || at == totalSteps) {
                    TrainingCheckpoint.save(run.checkpoint(), at, params, optimizer, average, state.save(), configJson);
                    metrics.write(MetricsLog.event("checkpoint").put("step", at));
                }
            }
            double rate = at > start ? samplesPerStep * (at - start) / Math.max(1e-9, stepSeconds) : 0;
            if (at > start) {
                metrics.write(MetricsLog.event("done").put("step", at).put("steps_this_run", at - start)
                        .put("step_seconds", Math.round(stepSeconds * 1000) / 1000.0)
                        .put("samples_per_s", Math.round(rate * 10) / 10.0));
            }
            if (average != null) average.copyToParameters();
            return new Result(at, at - start, loss, stepSeconds, rate);
        } finally {
            NanGuard.restore(guardWas);
        }
    }

    private static boolean sameJson(String json, ObjectNode tree) {
        try {
            // Both parsed from text: a long written as 0 reads back as an int node, so trees are compared as read.
            return MetricsLog.JSON.readTree(json).equals(MetricsLog.JSON.readTree(tree.toString()));
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            return false;
        }
    }

    private void evaluate(MetricsLog metrics, long at) {
        Map<String, Double> m;
        try (Tape.Region ignored = Tape.inference()) {
            m = evaluation.evaluate(at);
        }
        ObjectNode line = MetricsLog.event("eval").put("step", at);
        StringBuilder sb = new StringBuilder("eval at step " + at + ":");
        m.forEach((k, v) -> {
            line.put(k, v);
            sb.append(String.format(java.util.Locale.ROOT, " %s %.4f", k, v));
        });
        metrics.write(line);
        progress.log(sb.toString());
    }

    private TrainingStopped stop(MetricsLog metrics, long failedStep, String why) {
        String kept = run.hasCheckpoint() ? "the last good checkpoint is kept in " + run.checkpoint()
                : "no checkpoint had been written yet";
        String msg = "training stopped at step " + failedStep + ": " + why + "; " + kept
                + " (lower train.lr or raise train.warmup_steps, then start over or --resume)";
        metrics.write(MetricsLog.event("stopped").put("step", failedStep).put("reason", why));
        return new TrainingStopped(failedStep, msg);
    }
}

/**
 * Training runs: the machinery every trainer shares, and {@code xbt train-clip} as its first user.
 * <ul>
 *   <li>{@link dev.xbt.train.Contrastive}: the symmetric InfoNCE loss (learnable log-scale or fixed temperature),
 *       the one implementation of it.</li>
 *   <li>{@link dev.xbt.train.TrainConfig}: a schema of dotted fields with defaults and help, filled from YAML and
 *       {@code FIELD=VALUE} overrides; errors name the field.</li>
 *   <li>{@link dev.xbt.train.RunDirectory}: a run's folder ({@code config.yaml}, {@code metrics.jsonl},
 *       {@code checkpoint.safetensors}); refuses an existing run unless resumed or forced.</li>
 *   <li>{@link dev.xbt.train.Trainer}: the loop (tape, backward, clipping, AdamW with warmup-cosine, a hook after
 *       each update, metrics, evaluations, atomic checkpoints, resume, NaN stop) around a step function; a
 *       trainer's own state (random generators, data order) goes into checkpoints through
 *       {@link dev.xbt.train.Trainer.State}. Only the {@link dev.xbt.engine.ParameterSet}'s trainable parameters
 *       are checkpointed, so a trainer of adapters on a frozen model stores the adapters alone.</li>
 *   <li>{@link dev.xbt.train.TrainingCheckpoint}, {@link dev.xbt.train.MetricsLog},
 *       {@link dev.xbt.train.TrainProgress}: the pieces the loop writes with.</li>
 *   <li>{@link dev.xbt.train.ClipTraining}: CLIP from scratch on an image–caption data set.</li>
 * </ul>
 */
package dev.xbt.train;

/**
 * XBT (Jang &amp; Lim, ICCV 2025): backward-compatible upgrades of CLIP embedding models.
 * <ul>
 *   <li>{@link dev.xbt.xbt.Projection} ψ with its {@link dev.xbt.xbt.ProjectionConfig}: new space → old space, an MLP
 *       plus a residual linear path, L2-normalised; saved with the old and new contracts and refused elsewhere.</li>
 *   <li>{@link dev.xbt.xbt.XbtLoss}: the loss pieces of stage 1 (ψ on noisy new text embeddings against the old
 *       ones, plus InfoNCE) and stage 2 (InfoNCE between ψ(new image) and ψ(new text), plus consistency with the
 *       stage-1 text mapping).</li>
 *   <li>{@link dev.xbt.xbt.EmbeddingMap}: the common form of every upgrade method, new embeddings → old space:
 *       {@link dev.xbt.xbt.RawMap}, {@link dev.xbt.xbt.LinearMap} (ridge, Procrustes), {@link dev.xbt.xbt.SlerpMap}
 *       (blend with the old model's query embedding) and {@link dev.xbt.xbt.ProjectionMap} (ψ).</li>
 *   <li>The pipeline on these, configured by {@link dev.xbt.xbt.XbtConfig} (ψ's shape from its {@code projection.*}
 *       fields): {@link dev.xbt.xbt.ProjectionPretraining} (stage 1), {@link dev.xbt.xbt.AdapterTuning} (stage 2 and
 *       the BCT baseline), {@link dev.xbt.xbt.CompatEvaluation} (every method into one
 *       {@link dev.xbt.eval.CompatibilityReport}) and {@link dev.xbt.xbt.Pipeline} (all of it, for {@code xbt demo});
 *       models are loaded and their embeddings cached by {@link dev.xbt.eval.DatasetEncoder}.</li>
 * </ul>
 */
package dev.xbt.xbt;

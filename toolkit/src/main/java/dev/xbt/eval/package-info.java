/**
 * Evaluation: retrieval and backward compatibility.
 * <ul>
 *   <li>{@link dev.xbt.eval.EncodedSet}: one model's embeddings of one split (images, captions, caption→image);
 *       {@link dev.xbt.eval.DatasetEncoder} computes it from a CLIP model and a manifest split and caches it.</li>
 *   <li>{@link dev.xbt.eval.Retrieval} and {@link dev.xbt.eval.Ranks}: per-query first-hit ranks, Recall@1/5/10,
 *       rsum. An image is a hit when any of its captions is within K; a caption when its one image is. Ties count
 *       against the query.</li>
 *   <li>{@link dev.xbt.eval.CompatibilityReport} (built by {@link dev.xbt.eval.Compatibility}): old→old, new→new and
 *       per method new→old; per cell the compatibility flag, the gap closed and the flip rates; the {@code --gate}
 *       decision (exit code 3); a table and {@code report.json}.</li>
 * </ul>
 * Measured on the committed models (test split of the 6000-picture shapes corpus, 602 images, 2373 captions), with
 * ridge and Procrustes fitted on the train split's caption pairs and SLERP's α on the val split: Procrustes alone is
 * below old→old in image→text; Procrustes + SLERP is compatible in all six cells (rsum 522.8 against 509.2 old→old
 * and 547.6 new→new); the raw map (truncation 128 → 64) is far below old→old.
 */
package dev.xbt.eval;

/**
 * Retrieval evaluation: per-query ranks and Recall@1/5/10 in both directions ({@link dev.xbt.eval.Retrieval}) and the
 * backward-compatibility report of a model upgrade ({@link dev.xbt.eval.CompatReport}: flags, gap closed, flip rates,
 * table and report.json).
 */
package dev.xbt.eval;

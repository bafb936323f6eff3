package dev.xbt.engine;

import dev.xbt.engine.backend.Backend;

import java.util.Arrays;

/**
 * Neural-network ops: the fused kernels (layer norm, softmax, attention, cross-entropy, dropout)
 * and the losses and normalisations composed from {@link Ops}. Each records its gradient rule.
 */
public final class Nn {
    private Nn() {}

    /** Layer normalisation over the last axis with gain and bias of that width (fused kernels). */
    public static Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        Backend be = Ops.sameBackend("layerNorm", x, gamma, beta);
        int[] xs = x.shape();
        if (xs.length == 0) throw EngineException.of("layerNorm", "needs at least one axis", x);
        int n = xs[xs.length - 1];
        if (gamma.rank() != 1 || gamma.dim(0) != n || beta.rank() != 1 || beta.dim(0) != n) {
            throw EngineException.of("layerNorm", "gain and bias must be [" + n + "]", x, gamma, beta);
        }
        int rows = x.size() / Math.max(1, n);
        Tensor out = Ops.output(be, xs);
        Tensor mean = Ops.output(be, rows), rstd = Ops.output(be, rows);
        be.layerNorm(x.buffer, gamma.buffer, beta.buffer, rows, n, eps, out.buffer, mean.buffer, rstd.buffer);
        return Ops.done("layerNorm", out, new Tensor[] {x, gamma, beta}, (g, needs) -> {
            Tensor gx = needs[0] ? Ops.output(be, xs) : null;
            Tensor gg = needs[1] ? Ops.empty(be, n) : null;
            Tensor gb = needs[2] ? Ops.empty(be, n) : null;
            be.layerNormBackward(x.buffer, gamma.buffer, mean.buffer, rstd.buffer, g.buffer, rows, n,
                    gx == null ? null : gx.buffer, gg == null ? null : gg.buffer, gb == null ? null : gb.buffer);
            return new Tensor[] {gx, gg, gb};
        });
    }

    /** Softmax over the last axis. */
    public static Tensor softmax(Tensor x) {
        return softmax(x, false);
    }

    /** Log-softmax over the last axis. */
    public static Tensor logSoftmax(Tensor x) {
        return softmax(x, true);
    }

    private static Tensor softmax(Tensor x, boolean log) {
        String name = log ? "logSoftmax" : "softmax";
        int[] xs = x.shape();
        if (xs.length == 0) throw EngineException.of(name, "needs at least one axis", x);
        int n = xs[xs.length - 1];
        int rows = x.size() / Math.max(1, n);
        Backend be = x.backend;
        Tensor out = Ops.output(be, xs);
        be.softmax(x.buffer, rows, n, log, out.buffer);
        return Ops.done(name, out, new Tensor[] {x}, (g, needs) -> {
            Tensor gi = Ops.output(be, xs);
            be.softmaxBackward(out.buffer, g.buffer, rows, n, log, gi.buffer);
            return new Tensor[] {gi};
        });
    }

    /**
     * Scaled dot-product attention, softmax(q·kᵀ/√d + mask)·v, fused: q [..., Tq, D], k and v
     * [..., Tk, D] with equal leading axes; mask null or additive, of shape [Tq, Tk], [B, 1, Tq, Tk] or
     * [B, H, Tq, Tk] (it receives no gradient); causal hides key j from query i when j > i.
     */
    public static Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal) {
        Backend be = Ops.sameBackend("attention", q, k, v, mask);
        int[] qs = q.shape(), ks = k.shape(), vs = v.shape();
        int r = qs.length;
        if (r < 2 || ks.length != r || vs.length != r) throw EngineException.of("attention", "q, k, v need the same rank ≥ 2", q, k, v);
        int tq = qs[r - 2], d = qs[r - 1], tk = ks[r - 2];
        if (ks[r - 1] != d || !Arrays.equals(ks, vs)
                || !Arrays.equals(Arrays.copyOf(qs, r - 2), Arrays.copyOf(ks, r - 2))) {
            throw EngineException.of("attention", "k and v must be [..., Tk, " + d + "] with q's leading axes", q, k, v);
        }
        int bh = Shape.prod(qs, 0, r - 2);
        int maskGroup = Integer.MAX_VALUE;
        if (mask != null) {
            int[] ms = mask.shape();
            int slices = mask.size() / Math.max(1, tq * tk);
            boolean tail = ms.length >= 2 && ms[ms.length - 2] == tq && ms[ms.length - 1] == tk;
            // Head i uses mask slice i / maskGroup: the mask's leading axes must be q's leading
            // axes up to some point and 1 after it ([B, 1, Tq, Tk]), never 1 before a full axis
            // ([1, H, Tq, Tk] would hand batch 0's heads to every batch).
            boolean prefix = ms.length == 2 || ms.length == r;
            boolean broadcasting = false;
            for (int i = 0; prefix && i < ms.length - 2; i++) {
                if (!broadcasting && ms[i] == qs[i]) continue;
                broadcasting = true;
                prefix = ms[i] == 1;
            }
            if (!tail || slices == 0 || bh % slices != 0 || !prefix) {
                throw EngineException.of("attention", "mask must be [Tq, Tk], [B, 1, Tq, Tk] or [B, H, Tq, Tk]", q, k, mask);
            }
            maskGroup = slices == 1 ? Integer.MAX_VALUE : bh / slices;
        }
        float scale = (float) (1.0 / Math.sqrt(d));
        Tensor out = Ops.output(be, qs);
        Tensor lse = Ops.output(be, bh, tq);
        int group = maskGroup;
        be.attention(bh, tq, tk, d, scale, q.buffer, k.buffer, v.buffer, mask == null ? null : mask.buffer, group,
                causal, out.buffer, lse.buffer);
        return Ops.done("attention", out, new Tensor[] {q, k, v}, (g, needs) -> {
            Tensor gq = needs[0] ? Ops.output(be, qs) : null;
            Tensor gk = needs[1] ? Ops.output(be, ks) : null;
            Tensor gv = needs[2] ? Ops.output(be, vs) : null;
            be.attentionBackward(bh, tq, tk, d, scale, q.buffer, k.buffer, v.buffer, mask == null ? null : mask.buffer,
                    group, causal, out.buffer, lse.buffer, g.buffer,
                    gq == null ? null : gq.buffer, gk == null ? null : gk.buffer, gv == null ? null : gv.buffer);
            return new Tensor[] {gq, gk, gv};
        });
    }

    /**
     * Mean cross-entropy of logits [N, C] against class indices; a target of -1 is ignored (and
     * left out of the mean).
     */
    public static Tensor crossEntropy(Tensor logits, int[] targets) {
        if (logits.rank() != 2) throw EngineException.of("crossEntropy", "logits must be [N, C]", logits);
        int rows = logits.dim(0), n = logits.dim(1);
        if (targets.length != rows) throw EngineException.of("crossEntropy", targets.length + " targets for " + rows + " rows", logits);
        int counted = 0;
        for (int i = 0; i < rows; i++) {
            if (targets[i] >= n || targets[i] < -1) {
                throw EngineException.of("crossEntropy", "target " + targets[i] + " of row " + i + " outside [0, " + n + ")", logits);
            }
            if (targets[i] >= 0) counted++;
        }
        Backend be = logits.backend;
        int[] tg = targets.clone();
        Tensor perRow = Ops.empty(be, rows), lse = Ops.empty(be, rows);
        be.crossEntropy(logits.buffer, rows, n, tg, perRow.buffer, lse.buffer);
        Tensor perRowLoss = Ops.done("crossEntropy", perRow, new Tensor[] {logits}, (g, needs) -> {
            Tensor gl = Ops.empty(be, rows, n);
            be.crossEntropyBackward(logits.buffer, lse.buffer, tg, g.buffer, rows, n, gl.buffer);
            return new Tensor[] {gl};
        });
        return Ops.scale(Ops.sum(perRowLoss), 1f / Math.max(1, counted));
    }

    /** x / sqrt(Σx² + eps) over the last axis (eps keeps the zero vector finite). */
    public static Tensor l2Normalize(Tensor x) {
        return l2Normalize(x, 1e-12f);
    }

    public static Tensor l2Normalize(Tensor x, float eps) {
        Tensor ss = Ops.sum(Ops.square(x), true, -1);
        return Ops.mul(x, Ops.rsqrt(Ops.addScalar(ss, eps)));
    }

    /** Cosine similarity over the last axis: shape [...] for inputs [..., D]. */
    public static Tensor cosineSimilarity(Tensor a, Tensor b) {
        return Ops.sum(Ops.mul(l2Normalize(a), l2Normalize(b)), false, -1);
    }

    /** Mean squared error over all elements. */
    public static Tensor mse(Tensor a, Tensor b) {
        if (!Arrays.equals(a.shape(), b.shape())) throw EngineException.of("mse", "shapes differ", a, b);
        return Ops.mean(Ops.square(Ops.sub(a, b)));
    }

    /**
     * Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1−p). The
     * mask comes from a seed drawn from rng, so the same rng state gives the same mask on every
     * backend. Identity when p = 0 or when not training.
     */
    public static Tensor dropout(Tensor x, float p, Rng rng, boolean training) {
        if (!(p >= 0f && p < 1f)) throw EngineException.of("dropout", "p must be in [0, 1), got " + p, x);
        if (!training || p == 0f) return x;
        long seed = rng.nextLong();
        Backend be = x.backend;
        Tensor out = Ops.output(be, x.shape());
        be.dropout(x.buffer, p, seed, out.buffer);
        return Ops.done("dropout", out, new Tensor[] {x}, (g, needs) -> {
            Tensor gi = Ops.output(be, x.shape());
            be.dropout(g.buffer, p, seed, gi.buffer);
            return new Tensor[] {gi};
        });
    }
}

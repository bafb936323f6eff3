package dev.xbt.engine.cpu;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.Rng;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.BinaryOp;
import dev.xbt.engine.backend.Buffer;
import dev.xbt.engine.backend.ReduceOp;
import dev.xbt.engine.backend.UnaryOp;

/**
 * The reference backend: plain loops, one thread, float64 arithmetic. It is slow on purpose and
 * simple enough to check by eye; every other backend is tested against it. It stores float32
 * ("scalar", the oracle of the float32 backends) or float64 ("scalar64", used by the float64
 * gradient checks of every op); the kernels are the same code for both.
 */
public final class ScalarBackend implements Backend {
    private final boolean float64;

    /** A float32 reference backend. */
    public ScalarBackend() {
        this(false);
    }

    public ScalarBackend(boolean float64) {
        this.float64 = float64;
    }

    @Override
    public String name() {
        return float64 ? "scalar64" : "scalar";
    }

    @Override
    public String toString() {
        return name();
    }

    /** The buffer as this backend's own; a buffer of another backend (even the other precision) is refused. */
    private RefBuffer h(Buffer b) {
        if (b instanceof RefBuffer r && r.backend == this) return r;
        throw new IllegalArgumentException(name() + ": buffer belongs to backend " + (b == null ? "null" : b.backend().name()));
    }

    private RefBuffer make(int n) {
        return float64 ? new RefBuffer.F64(this, new double[n], 0, n) : new RefBuffer.F32(this, new float[n], 0, n);
    }

    @Override
    public Buffer allocate(long n) {
        if (n < 0 || n > Integer.MAX_VALUE - 8) throw new EngineException(name() + ": cannot allocate " + n + " elements");
        return make((int) n);
    }

    @Override
    public Buffer upload(float[] src, int off, int n) {
        RefBuffer b = make(n);
        for (int i = 0; i < n; i++) b.set(i, src[off + i]);
        return b;
    }

    @Override
    public Buffer uploadDoubles(double[] src) {
        RefBuffer b = make(src.length);
        for (int i = 0; i < src.length; i++) b.set(i, src[i]);
        return b;
    }

    @Override
    public void download(Buffer src, float[] dst, int dstOff) {
        RefBuffer s = h(src);
        for (int i = 0; i < s.len; i++) dst[dstOff + i] = (float) s.get(i);
    }

    @Override
    public void downloadDoubles(Buffer src, double[] dst) {
        RefBuffer s = h(src);
        for (int i = 0; i < s.len; i++) dst[i] = s.get(i);
    }

    @Override
    public void copy(Buffer src, Buffer dst) {
        RefBuffer s = h(src), d = h(dst);
        if (s.len != d.len) throw new IllegalArgumentException("copy: lengths differ");
        for (int i = 0; i < s.len; i++) d.set(i, s.get(i));
    }

    @Override
    public void fill(Buffer dst, float value) {
        RefBuffer d = h(dst);
        for (int i = 0; i < d.len; i++) d.set(i, value);
    }

    @Override
    public void gemm(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
                     Buffer a, long strideA, Buffer b, long strideB, float beta, Buffer c, long strideC) {
        RefBuffer A = h(a), B = h(b), C = h(c);
        for (int p = 0; p < batch; p++) {
            int ao = (int) (p * strideA), bo = (int) (p * strideB), co = (int) (p * strideC);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int l = 0; l < k; l++) {
                        double av = transA ? A.get(ao + l * m + i) : A.get(ao + i * k + l);
                        double bv = transB ? B.get(bo + j * k + l) : B.get(bo + l * n + j);
                        acc += av * bv;
                    }
                    int ci = co + i * n + j;
                    C.set(ci, alpha * acc + (beta == 0f ? 0.0 : beta * C.get(ci)));
                }
            }
        }
    }

    @Override
    public void binary(BinaryOp op, int[] shape, Buffer a, int[] aStrides, Buffer b, int[] bStrides, Buffer out) {
        RefBuffer A = h(a), B = h(b), O = h(out);
        int n = (int) O.length();
        int r = shape.length;
        int[] idx = new int[r];
        for (int i = 0; i < n; i++) {
            int ai = 0, bi = 0;
            for (int d = 0; d < r; d++) {
                ai += idx[d] * aStrides[d];
                bi += idx[d] * bStrides[d];
            }
            O.set(i, op.apply(A.get(ai), B.get(bi)));
            for (int d = r - 1; d >= 0 && ++idx[d] == shape[d]; d--) idx[d] = 0;
        }
    }

    @Override
    public void unary(UnaryOp op, Buffer x, Buffer out) {
        RefBuffer X = h(x), O = h(out);
        for (int i = 0; i < X.length(); i++) O.set(i, op.apply(X.get(i)));
    }

    @Override
    public void unaryBackward(UnaryOp op, Buffer x, Buffer gradOut, Buffer gradIn) {
        RefBuffer X = h(x), G = h(gradOut), O = h(gradIn);
        for (int i = 0; i < X.length(); i++) {
            O.set(i, (G.get(i) * op.derivative(X.get(i))));
        }
    }

    @Override
    public void affine(Buffer x, float scale, float shift, Buffer out) {
        RefBuffer X = h(x), O = h(out);
        for (int i = 0; i < X.length(); i++) O.set(i, X.get(i) * scale + shift);
    }

    @Override
    public void reduce(ReduceOp op, Buffer x, int outer, int n, int inner, Buffer out) {
        RefBuffer X = h(x), O = h(out);
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                double acc = op == ReduceOp.SUM ? 0 : Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    double v = X.get((o * n + j) * inner + i);
                    acc = op == ReduceOp.SUM ? acc + v : (v > acc || Double.isNaN(v) ? v : acc);
                }
                O.set(o * inner + i, acc);
            }
        }
    }

    @Override
    public void reduceMaxBackward(Buffer x, Buffer max, Buffer gradOut, int outer, int n, int inner, Buffer gradIn) {
        RefBuffer X = h(x), M = h(max), G = h(gradOut), O = h(gradIn);
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                double m = M.get(o * inner + i);
                boolean given = false;
                for (int j = 0; j < n; j++) {
                    int xi = (o * n + j) * inner + i;
                    boolean hit = !given && X.get(xi) == m;
                    O.set(xi, hit ? G.get(o * inner + i) : 0f);
                    given |= hit;
                }
            }
        }
    }

    @Override
    public void stridedCopy(int[] shape, Buffer src, int[] srcStrides, Buffer dst, int[] dstStrides, boolean accumulate) {
        RefBuffer S = h(src), D = h(dst);
        int r = shape.length;
        long total = 1;
        for (int d : shape) total *= d;
        int[] idx = new int[r];
        for (long e = 0; e < total; e++) {
            int si = 0, di = 0;
            for (int d = 0; d < r; d++) {
                si += idx[d] * srcStrides[d];
                di += idx[d] * dstStrides[d];
            }
            double v = S.get(si);
            D.set(di, accumulate ? D.get(di) + v : v);
            for (int d = r - 1; d >= 0 && ++idx[d] == shape[d]; d--) idx[d] = 0;
        }
    }

    @Override
    public void gatherRows(Buffer table, int rowLen, int[] rows, Buffer out) {
        RefBuffer T = h(table), O = h(out);
        for (int r = 0; r < rows.length; r++) {
            for (int j = 0; j < rowLen; j++) O.set(r * rowLen + j, T.get(rows[r] * rowLen + j));
        }
    }

    @Override
    public void scatterAddRows(Buffer src, int rowLen, int[] rows, Buffer table) {
        RefBuffer S = h(src), T = h(table);
        for (int r = 0; r < rows.length; r++) {
            for (int j = 0; j < rowLen; j++) T.add(rows[r] * rowLen + j, S.get(r * rowLen + j));
        }
    }

    @Override
    public void layerNorm(Buffer x, Buffer gamma, Buffer beta, int rows, int n, float eps,
                          Buffer out, Buffer mean, Buffer rstd) {
        RefBuffer X = h(x), G = h(gamma), B = h(beta), O = h(out), M = h(mean), R = h(rstd);
        for (int r = 0; r < rows; r++) {
            int base = r * n;
            double s = 0;
            for (int j = 0; j < n; j++) s += X.get(base + j);
            double mu = s / n, v = 0;
            for (int j = 0; j < n; j++) {
                double d = X.get(base + j) - mu;
                v += d * d;
            }
            double rs = 1.0 / Math.sqrt(v / n + eps);
            for (int j = 0; j < n; j++) {
                O.set(base + j, ((X.get(base + j) - mu) * rs * G.get(j) + B.get(j)));
            }
            M.set(r, mu);
            R.set(r, rs);
        }
    }

    @Override
    public void layerNormBackward(Buffer x, Buffer gamma, Buffer mean, Buffer rstd, Buffer gradOut, int rows, int n,
                                  Buffer gradX, Buffer gradGamma, Buffer gradBeta) {
        RefBuffer X = h(x), G = h(gamma), M = h(mean), R = h(rstd), GO = h(gradOut);
        for (int r = 0; r < rows; r++) {
            int base = r * n;
            double mu = M.get(r), rs = R.get(r);
            double sumD = 0, sumDX = 0;
            for (int j = 0; j < n; j++) {
                double xhat = (X.get(base + j) - mu) * rs;
                double dxhat = (double) GO.get(base + j) * G.get(j);
                sumD += dxhat;
                sumDX += dxhat * xhat;
                if (gradGamma != null) h(gradGamma).add(j, GO.get(base + j) * xhat);
                if (gradBeta != null) h(gradBeta).add(j, GO.get(base + j));
            }
            if (gradX != null) {
                RefBuffer DX = h(gradX);
                for (int j = 0; j < n; j++) {
                    double xhat = (X.get(base + j) - mu) * rs;
                    double dxhat = (double) GO.get(base + j) * G.get(j);
                    DX.set(base + j, (rs * (dxhat - sumD / n - xhat * sumDX / n)));
                }
            }
        }
    }

    @Override
    public void softmax(Buffer x, int rows, int n, boolean log, Buffer out) {
        RefBuffer X = h(x), O = h(out);
        for (int r = 0; r < rows; r++) {
            int base = r * n;
            double m = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) m = Math.max(m, X.get(base + j));
            double s = 0;
            for (int j = 0; j < n; j++) s += Math.exp(X.get(base + j) - m);
            double lse = m + Math.log(s);
            for (int j = 0; j < n; j++) {
                double v = X.get(base + j) - lse;
                O.set(base + j, (log ? v : Math.exp(v)));
            }
        }
    }

    @Override
    public void softmaxBackward(Buffer y, Buffer gradOut, int rows, int n, boolean log, Buffer gradIn) {
        RefBuffer Y = h(y), G = h(gradOut), O = h(gradIn);
        for (int r = 0; r < rows; r++) {
            int base = r * n;
            double dot = 0;
            for (int j = 0; j < n; j++) {
                dot += log ? G.get(base + j) : (double) G.get(base + j) * Y.get(base + j);
            }
            for (int j = 0; j < n; j++) {
                double yv = Y.get(base + j), g = G.get(base + j);
                O.set(base + j, (log ? g - Math.exp(yv) * dot : yv * (g - dot)));
            }
        }
    }

    /** Attention score of query i and key j, before the softmax; -inf where masked. */
    private static double score(RefBuffer Q, RefBuffer K, RefBuffer M, int qo, int ko, int mo, int i, int j,
                                int tk, int d, float scale, boolean causal) {
        if (causal && j > i) return Double.NEGATIVE_INFINITY;
        double s = 0;
        for (int l = 0; l < d; l++) s += Q.get(qo + i * d + l) * K.get(ko + j * d + l);
        s *= scale;
        if (M != null) s += M.get(mo + i * tk + j);
        return s;
    }

    @Override
    public void attention(int bh, int tq, int tk, int d, float scale, Buffer q, Buffer k, Buffer v,
                          Buffer mask, int maskGroup, boolean causal, Buffer out, Buffer lse) {
        RefBuffer Q = h(q), K = h(k), V = h(v), O = h(out), L = h(lse), M = mask == null ? null : h(mask);
        double[] s = new double[tk];
        for (int hh = 0; hh < bh; hh++) {
            int qo = hh * tq * d, ko = hh * tk * d, vo = hh * tk * d, oo = hh * tq * d;
            int mo = M == null ? 0 : (hh / maskGroup) * tq * tk;
            for (int i = 0; i < tq; i++) {
                double m = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < tk; j++) {
                    s[j] = score(Q, K, M, qo, ko, mo, i, j, tk, d, scale, causal);
                    m = Math.max(m, s[j]);
                }
                if (m == Double.NEGATIVE_INFINITY) {
                    for (int l = 0; l < d; l++) O.set(oo + i * d + l, 0);
                    L.set(hh * tq + i, Double.NEGATIVE_INFINITY);
                    continue;
                }
                double sum = 0;
                for (int j = 0; j < tk; j++) sum += s[j] = Math.exp(s[j] - m);
                for (int l = 0; l < d; l++) {
                    double acc = 0;
                    for (int j = 0; j < tk; j++) acc += s[j] * V.get(vo + j * d + l);
                    O.set(oo + i * d + l, acc / sum);
                }
                L.set(hh * tq + i, (m + Math.log(sum)));
            }
        }
    }

    @Override
    public void attentionBackward(int bh, int tq, int tk, int d, float scale, Buffer q, Buffer k, Buffer v,
                                  Buffer mask, int maskGroup, boolean causal, Buffer out, Buffer lse, Buffer gradOut,
                                  Buffer gradQ, Buffer gradK, Buffer gradV) {
        RefBuffer Q = h(q), K = h(k), V = h(v), O = h(out), L = h(lse), GO = h(gradOut), M = mask == null ? null : h(mask);
        RefBuffer GQ = gradQ == null ? null : h(gradQ), GK = gradK == null ? null : h(gradK), GV = gradV == null ? null : h(gradV);
        if (GQ != null) zero(GQ);
        if (GK != null) zero(GK);
        if (GV != null) zero(GV);
        double[] p = new double[tk], ds = new double[tk];
        for (int hh = 0; hh < bh; hh++) {
            int qo = hh * tq * d, ko = hh * tk * d;
            int mo = M == null ? 0 : (hh / maskGroup) * tq * tk;
            for (int i = 0; i < tq; i++) {
                double l = L.get(hh * tq + i);
                double dsum = 0;
                for (int l2 = 0; l2 < d; l2++) dsum += (double) GO.get(qo + i * d + l2) * O.get(qo + i * d + l2);
                for (int j = 0; j < tk; j++) {
                    double sc = score(Q, K, M, qo, ko, mo, i, j, tk, d, scale, causal);
                    p[j] = l == Double.NEGATIVE_INFINITY || sc == Double.NEGATIVE_INFINITY ? 0 : Math.exp(sc - l);
                    double dp = 0;
                    for (int l2 = 0; l2 < d; l2++) dp += (double) GO.get(qo + i * d + l2) * V.get(ko + j * d + l2);
                    ds[j] = p[j] * (dp - dsum);
                }
                for (int j = 0; j < tk; j++) {
                    for (int l2 = 0; l2 < d; l2++) {
                        if (GQ != null) GQ.add(qo + i * d + l2, (scale * ds[j] * K.get(ko + j * d + l2)));
                        if (GK != null) GK.add(ko + j * d + l2, (scale * ds[j] * Q.get(qo + i * d + l2)));
                        if (GV != null) GV.add(ko + j * d + l2, (p[j] * GO.get(qo + i * d + l2)));
                    }
                }
            }
        }
    }

    @Override
    public void crossEntropy(Buffer logits, int rows, int n, int[] targets, Buffer loss, Buffer lse) {
        RefBuffer X = h(logits), O = h(loss), L = h(lse);
        for (int r = 0; r < rows; r++) {
            int base = r * n;
            double m = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) m = Math.max(m, X.get(base + j));
            double s = 0;
            for (int j = 0; j < n; j++) s += Math.exp(X.get(base + j) - m);
            double l = m + Math.log(s);
            L.set(r, l);
            O.set(r, targets[r] < 0 ? 0f : l - X.get(base + targets[r]));
        }
    }

    @Override
    public void crossEntropyBackward(Buffer logits, Buffer lse, int[] targets, Buffer gradLoss, int rows, int n,
                                     Buffer gradLogits) {
        RefBuffer X = h(logits), L = h(lse), G = h(gradLoss), O = h(gradLogits);
        for (int r = 0; r < rows; r++) {
            double g = targets[r] < 0 ? 0 : G.get(r), l = L.get(r);
            for (int j = 0; j < n; j++) {
                double p = Math.exp(X.get(r * n + j) - l) - (j == targets[r] ? 1 : 0);
                O.set(r * n + j, (g * p));
            }
        }
    }

    @Override
    public void dropout(Buffer x, float p, long seed, Buffer out) {
        RefBuffer X = h(x), O = h(out);
        double keepScale = 1.0 / (1.0 - p);
        for (int i = 0; i < X.length(); i++) {
            O.set(i, Rng.uniform(seed, i) >= p ? X.get(i) * keepScale : 0f);
        }
    }

    @Override
    public double sumOfSquares(Buffer x) {
        RefBuffer X = h(x);
        double s = 0;
        for (int i = 0; i < X.length(); i++) s += (double) X.get(i) * X.get(i);
        return s;
    }

    @Override
    public long countNaN(Buffer x) {
        RefBuffer X = h(x);
        long c = 0;
        for (int i = 0; i < X.length(); i++) if (Double.isNaN(X.get(i))) c++;
        return c;
    }

    @Override
    public void adamw(Buffer param, Buffer grad, Buffer m, Buffer v, float lr, float beta1, float beta2, float eps,
                      float weightDecay, float bias1, float bias2) {
        RefBuffer P = h(param), G = h(grad), Mm = h(m), Vv = h(v);
        for (int i = 0; i < P.length(); i++) {
            double g = G.get(i);
            double mi = beta1 * Mm.get(i) + (1 - beta1) * g;
            double vi = beta2 * Vv.get(i) + (1 - beta2) * g * g;
            Mm.set(i, mi);
            Vv.set(i, vi);
            double p = P.get(i);
            P.set(i, p - lr * ((mi / bias1) / (Math.sqrt(vi / bias2) + eps) + weightDecay * p));
        }
    }

    @Override
    public void sgd(Buffer param, Buffer grad, Buffer momentum, float lr, float mu, float weightDecay, boolean nesterov) {
        RefBuffer P = h(param), G = h(grad), B = h(momentum);
        for (int i = 0; i < P.length(); i++) {
            double p = P.get(i);
            double d = G.get(i) + weightDecay * p;
            double b = mu * B.get(i) + d;
            B.set(i, b);
            P.set(i, p - lr * (nesterov ? d + mu * b : b));
        }
    }

    private static void zero(RefBuffer b) {
        for (int i = 0; i < b.len; i++) b.set(i, 0);
    }
}

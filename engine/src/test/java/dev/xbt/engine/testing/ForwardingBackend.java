package dev.xbt.engine.testing;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.BinaryOp;
import dev.xbt.engine.backend.Buffer;
import dev.xbt.engine.backend.ReduceOp;
import dev.xbt.engine.backend.UnaryOp;

/**
 * A backend that hands every call to another one: the base of test decorators that count kernel
 * calls or inject faults. Its buffers wrap the delegate's so that they report this backend as
 * their owner (tensors made from them, views included, stay on the decorator).
 */
public class ForwardingBackend implements Backend {
    protected final Backend delegate;
    private final String name;

    public ForwardingBackend(String name, Backend delegate) {
        this.name = name;
        this.delegate = delegate;
    }

    /** A delegate's buffer seen as one of this backend's. */
    public final class Wrapped implements Buffer {
        final Buffer inner;

        Wrapped(Buffer inner) {
            this.inner = inner;
        }

        @Override
        public long length() {
            return inner.length();
        }

        @Override
        public Buffer slice(long offset, long length) {
            return new Wrapped(inner.slice(offset, length));
        }

        @Override
        public Backend backend() {
            return ForwardingBackend.this;
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    protected Buffer wrap(Buffer inner) {
        return new Wrapped(inner);
    }

    /** The delegate's buffer behind one of ours (null stays null). */
    protected Buffer u(Buffer b) {
        if (b == null) return null;
        if (b instanceof ForwardingBackend.Wrapped w && w.backend() == this) return w.inner;
        throw new IllegalArgumentException(name + ": not one of this backend's buffers");
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return name;
    }

    @Override
    public Buffer allocate(long n) {
        return wrap(delegate.allocate(n));
    }

    @Override
    public Buffer upload(float[] src, int off, int n) {
        return wrap(delegate.upload(src, off, n));
    }

    @Override
    public void download(Buffer src, float[] dst, int dstOff) {
        delegate.download(u(src), dst, dstOff);
    }

    @Override
    public Buffer uploadDoubles(double[] src) {
        return wrap(delegate.uploadDoubles(src));
    }

    @Override
    public void downloadDoubles(Buffer src, double[] dst) {
        delegate.downloadDoubles(u(src), dst);
    }

    @Override
    public void copy(Buffer src, Buffer dst) {
        delegate.copy(u(src), u(dst));
    }

    @Override
    public void fill(Buffer dst, float value) {
        delegate.fill(u(dst), value);
    }

    @Override
    public void gemm(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha, Buffer a, long strideA,
                     Buffer b, long strideB, float beta, Buffer c, long strideC) {
        delegate.gemm(batch, transA, transB, m, n, k, alpha, u(a), strideA, u(b), strideB, beta, u(c), strideC);
    }

    @Override
    public void binary(BinaryOp op, int[] shape, Buffer a, int[] aStrides, Buffer b, int[] bStrides, Buffer out) {
        delegate.binary(op, shape, u(a), aStrides, u(b), bStrides, u(out));
    }

    @Override
    public void unary(UnaryOp op, Buffer x, Buffer out) {
        delegate.unary(op, u(x), u(out));
    }

    @Override
    public void unaryBackward(UnaryOp op, Buffer x, Buffer gradOut, Buffer gradIn) {
        delegate.unaryBackward(op, u(x), u(gradOut), u(gradIn));
    }

    @Override
    public void affine(Buffer x, float scale, float shift, Buffer out) {
        delegate.affine(u(x), scale, shift, u(out));
    }

    @Override
    public void reduce(ReduceOp op, Buffer x, int outer, int n, int inner, Buffer out) {
        delegate.reduce(op, u(x), outer, n, inner, u(out));
    }

    @Override
    public void reduceMaxBackward(Buffer x, Buffer max, Buffer gradOut, int outer, int n, int inner, Buffer gradIn) {
        delegate.reduceMaxBackward(u(x), u(max), u(gradOut), outer, n, inner, u(gradIn));
    }

    @Override
    public void stridedCopy(int[] shape, Buffer src, int[] srcStrides, Buffer dst, int[] dstStrides, boolean accumulate) {
        delegate.stridedCopy(shape, u(src), srcStrides, u(dst), dstStrides, accumulate);
    }

    @Override
    public void gatherRows(Buffer table, int rowLen, int[] rows, Buffer out) {
        delegate.gatherRows(u(table), rowLen, rows, u(out));
    }

    @Override
    public void scatterAddRows(Buffer src, int rowLen, int[] rows, Buffer table) {
        delegate.scatterAddRows(u(src), rowLen, rows, u(table));
    }

    @Override
    public void layerNorm(Buffer x, Buffer gamma, Buffer beta, int rows, int n, float eps, Buffer out, Buffer mean, Buffer rstd) {
        delegate.layerNorm(u(x), u(gamma), u(beta), rows, n, eps, u(out), u(mean), u(rstd));
    }

    @Override
    public void layerNormBackward(Buffer x, Buffer gamma, Buffer mean, Buffer rstd, Buffer gradOut, int rows, int n,
                                  Buffer gradX, Buffer gradGamma, Buffer gradBeta) {
        delegate.layerNormBackward(u(x), u(gamma), u(mean), u(rstd), u(gradOut), rows, n, u(gradX), u(gradGamma), u(gradBeta));
    }

    @Override
    public void softmax(Buffer x, int rows, int n, boolean log, Buffer out) {
        delegate.softmax(u(x), rows, n, log, u(out));
    }

    @Override
    public void softmaxBackward(Buffer y, Buffer gradOut, int rows, int n, boolean log, Buffer gradIn) {
        delegate.softmaxBackward(u(y), u(gradOut), rows, n, log, u(gradIn));
    }

    @Override
    public void attention(int bh, int tq, int tk, int d, float scale, Buffer q, Buffer k, Buffer v, Buffer mask,
                          int maskGroup, boolean causal, Buffer out, Buffer lse) {
        delegate.attention(bh, tq, tk, d, scale, u(q), u(k), u(v), u(mask), maskGroup, causal, u(out), u(lse));
    }

    @Override
    public void attentionBackward(int bh, int tq, int tk, int d, float scale, Buffer q, Buffer k, Buffer v, Buffer mask,
                                  int maskGroup, boolean causal, Buffer out, Buffer lse, Buffer gradOut,
                                  Buffer gradQ, Buffer gradK, Buffer gradV) {
        delegate.attentionBackward(bh, tq, tk, d, scale, u(q), u(k), u(v), u(mask), maskGroup, causal, u(out), u(lse),
                u(gradOut), u(gradQ), u(gradK), u(gradV));
    }

    @Override
    public void crossEntropy(Buffer logits, int rows, int n, int[] targets, Buffer loss, Buffer lse) {
        delegate.crossEntropy(u(logits), rows, n, targets, u(loss), u(lse));
    }

    @Override
    public void crossEntropyBackward(Buffer logits, Buffer lse, int[] targets, Buffer gradLoss, int rows, int n, Buffer gradLogits) {
        delegate.crossEntropyBackward(u(logits), u(lse), targets, u(gradLoss), rows, n, u(gradLogits));
    }

    @Override
    public void dropout(Buffer x, float p, long seed, Buffer out) {
        delegate.dropout(u(x), p, seed, u(out));
    }

    @Override
    public double sumOfSquares(Buffer x) {
        return delegate.sumOfSquares(u(x));
    }

    @Override
    public boolean queuesWork() {
        return delegate.queuesWork();
    }

    @Override
    public long countNaN(Buffer x) {
        return delegate.countNaN(u(x));
    }

    @Override
    public void adamw(Buffer param, Buffer grad, Buffer m, Buffer v, float lr, float beta1, float beta2, float eps,
                      float weightDecay, float bias1, float bias2) {
        delegate.adamw(u(param), u(grad), u(m), u(v), lr, beta1, beta2, eps, weightDecay, bias1, bias2);
    }

    @Override
    public void sgd(Buffer param, Buffer grad, Buffer momentum, float lr, float mu, float weightDecay, boolean nesterov) {
        delegate.sgd(u(param), u(grad), u(momentum), lr, mu, weightDecay, nesterov);
    }
}

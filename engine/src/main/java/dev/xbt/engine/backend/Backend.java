package dev.xbt.engine.backend;

/**
 * The narrow interface every device implements: memory, and the kernels the ops of
 * {@code dev.xbt.engine} are built from. Tensors are contiguous and row-major; a kernel sees only
 * buffers and sizes, never tensors, modules or models. Kernels may run asynchronously; reading a
 * buffer back ({@link #download}, {@link #sumOfSquares}, {@link #countNaN}) waits for them.
 *
 * <p>Conventions: sizes are element counts; "rows × n" means a row-major matrix whose rows are
 * independent (the op runs over the last axis); buffers passed as outputs never alias inputs unless
 * a method says so; a null optional output means "not wanted".
 */
public interface Backend {
    /** Short lower-case name: "scalar", "cpu", "cuda", "opencl". */
    String name();

    // ---- memory ----

    /** A zero-filled buffer of n elements. */
    Buffer allocate(long n);

    /**
     * Whether {@link #allocateUninitialized} fills its buffers with NaN ({@code -Dxbt.poisonUninitialized=true}):
     * then a kernel that leaves an element of its result unwritten shows up as a NaN. The test suites run so.
     */
    boolean POISON_UNINITIALIZED = Boolean.getBoolean("xbt.poisonUninitialized");

    /**
     * A buffer of n elements whose contents are unspecified, for a result that a kernel writes in
     * full: a GPU backend saves the zero-fill that {@link #allocate} costs. NaN-filled under
     * {@link #POISON_UNINITIALIZED}.
     */
    default Buffer allocateUninitialized(long n) {
        Buffer b = allocate(n);
        if (POISON_UNINITIALIZED && n > 0) fill(b, Float.NaN);
        return b;
    }

    /** A new buffer holding src[off, off + n). */
    Buffer upload(float[] src, int off, int n);

    /** Copies all of src into dst[dstOff...]. */
    void download(Buffer src, float[] dst, int dstOff);

    /** A new buffer from float64 values; backends that store float32 round them. */
    default Buffer uploadDoubles(double[] src) {
        float[] f = new float[src.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) src[i];
        return upload(f, 0, f.length);
    }

    /** All of src as float64 (exact for float64 backends). */
    default void downloadDoubles(Buffer src, double[] dst) {
        float[] f = new float[(int) src.length()];
        download(src, f, 0);
        for (int i = 0; i < f.length; i++) dst[i] = f[i];
    }

    /** dst = src (same length). */
    void copy(Buffer src, Buffer dst);

    void fill(Buffer dst, float value);

    // ---- linear algebra ----

    /**
     * C[i] = alpha · op(A[i]) · op(B[i]) + beta · C[i] for i in [0, batch), with op(X) = X or Xᵀ.
     * A[i] is m×k (k×m when transA) starting at i·strideA in a; a stride of 0 shares one matrix.
     * beta = 0 overwrites C.
     */
    void gemm(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
              Buffer a, long strideA, Buffer b, long strideB, float beta, Buffer c, long strideC);

    // ---- element-wise ----

    /**
     * out = a ⊙ b over {@code shape} (out is contiguous); aStrides/bStrides give each operand's
     * element stride per axis, 0 where it is broadcast. out may alias a (in-place accumulation).
     */
    void binary(BinaryOp op, int[] shape, Buffer a, int[] aStrides, Buffer b, int[] bStrides, Buffer out);

    /** out = f(x). out may alias x. */
    void unary(UnaryOp op, Buffer x, Buffer out);

    /** gradIn = gradOut · f'(x). */
    void unaryBackward(UnaryOp op, Buffer x, Buffer gradOut, Buffer gradIn);

    /** out = x · scale + shift. out may alias x. */
    void affine(Buffer x, float scale, float shift, Buffer out);

    // ---- reductions and data movement ----

    /** out[o, i] = reduce over j of x[o, j, i], x viewed as outer × n × inner. */
    void reduce(ReduceOp op, Buffer x, int outer, int n, int inner, Buffer out);

    /** gradIn[o, j, i] = gradOut[o, i] where j is the first index holding the maximum, else 0. */
    void reduceMaxBackward(Buffer x, Buffer max, Buffer gradOut, int outer, int n, int inner, Buffer gradIn);

    /**
     * For every index vector over {@code shape}: dst[Σ idx·dstStrides] (+)= src[Σ idx·srcStrides].
     * Covers transposes, slices, concatenation and their gradients.
     */
    void stridedCopy(int[] shape, Buffer src, int[] srcStrides, Buffer dst, int[] dstStrides, boolean accumulate);

    /** out[r, :] = table[rows[r], :] with rows of rowLen elements. */
    void gatherRows(Buffer table, int rowLen, int[] rows, Buffer out);

    /** table[rows[r], :] += src[r, :] (repeated rows add up). */
    void scatterAddRows(Buffer src, int rowLen, int[] rows, Buffer table);

    // ---- fused neural-network kernels (over the last axis of rows × n) ----

    /** out = (x − mean) · rstd · gamma + beta per row; saves mean and rstd (rows each). */
    void layerNorm(Buffer x, Buffer gamma, Buffer beta, int rows, int n, float eps,
                   Buffer out, Buffer mean, Buffer rstd);

    /** gradX = ∂/∂x; gradGamma and gradBeta are accumulated (+=); any output may be null. */
    void layerNormBackward(Buffer x, Buffer gamma, Buffer mean, Buffer rstd, Buffer gradOut, int rows, int n,
                           Buffer gradX, Buffer gradGamma, Buffer gradBeta);

    /** out = softmax(x) or log_softmax(x) per row. */
    void softmax(Buffer x, int rows, int n, boolean log, Buffer out);

    /** gradIn from the forward output y and gradOut. */
    void softmaxBackward(Buffer y, Buffer gradOut, int rows, int n, boolean log, Buffer gradIn);

    /**
     * Scaled dot-product attention for bh independent heads: out = softmax(q·kᵀ·scale + mask) · v,
     * q and out bh × tq × d, k and v bh × tk × d. The additive mask (tq × tk slices, may be null) used
     * by head i is slice i / maskGroup. causal masks key j > query i. lse (bh × tq) receives each
     * row's log-sum-exp, for the backward pass. A row with every key masked yields zeros.
     */
    void attention(int bh, int tq, int tk, int d, float scale, Buffer q, Buffer k, Buffer v,
                   Buffer mask, int maskGroup, boolean causal, Buffer out, Buffer lse);

    /** Gradients of {@link #attention}; gradQ, gradK, gradV are overwritten and may each be null. */
    void attentionBackward(int bh, int tq, int tk, int d, float scale, Buffer q, Buffer k, Buffer v,
                           Buffer mask, int maskGroup, boolean causal, Buffer out, Buffer lse, Buffer gradOut,
                           Buffer gradQ, Buffer gradK, Buffer gradV);

    /** loss[r] = logsumexp(logits[r]) − logits[r, targets[r]] (0 where targets[r] < 0); saves lse. */
    void crossEntropy(Buffer logits, int rows, int n, int[] targets, Buffer loss, Buffer lse);

    /** gradLogits[r] = gradLoss[r] · (softmax(logits[r]) − onehot(targets[r])); 0 where targets[r] < 0. */
    void crossEntropyBackward(Buffer logits, Buffer lse, int[] targets, Buffer gradLoss, int rows, int n,
                              Buffer gradLogits);

    /**
     * out[i] = x[i] / (1 − p) where {@link dev.xbt.engine.Rng#uniform}(seed, i) ≥ p, else 0. Linear in
     * x, so the same call with the same seed is its own backward.
     */
    void dropout(Buffer x, float p, long seed, Buffer out);

    // ---- read-backs and optimizer steps ----

    /** Σ x², accumulated in float64. */
    double sumOfSquares(Buffer x);

    /** Number of NaN elements. */
    long countNaN(Buffer x);

    /**
     * Whether kernels are queued and run later (a GPU) rather than as they are called: then a
     * read-back after each op would stall the queue, so per-op checks (NaN) are off by default.
     */
    default boolean queuesWork() {
        return false;
    }

    /**
     * One AdamW step over a flat range: m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
     * p −= lr·(m/bias1 / (sqrt(v/bias2) + eps) + weightDecay·p), bias_i = 1 − β_i^t.
     */
    void adamw(Buffer param, Buffer grad, Buffer m, Buffer v, float lr, float beta1, float beta2, float eps,
               float weightDecay, float bias1, float bias2);

    /** SGD with momentum: buf = μ·buf + g + wd·p; p −= lr·buf (Nesterov: p −= lr·(g + wd·p + μ·buf)). */
    void sgd(Buffer param, Buffer grad, Buffer momentum, float lr, float mu, float weightDecay, boolean nesterov);
}

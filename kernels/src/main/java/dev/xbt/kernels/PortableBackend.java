package dev.xbt.kernels;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.BinaryOp;
import dev.xbt.engine.backend.Buffer;
import dev.xbt.engine.backend.ReduceOp;
import dev.xbt.engine.backend.UnaryOp;

import java.util.Arrays;

/**
 * The {@link Backend} operations written once over the portable kernels (kernels/README.md): which
 * kernels each operation launches, with which arguments and geometry. The OpenCL and the CUDA
 * backend both extend it and supply memory, the kernel lookup and the launch itself
 * ({@link PortableLaunch}); CUDA overrides what it does better with its own means (copies and fills
 * by the driver, matrix products by cuBLAS or tensor cores).
 *
 * <p>Launch methods are synchronized: an OpenCL kernel object holds its arguments between setting
 * them and enqueueing.
 */
public abstract class PortableBackend implements Backend {
    /** Elements per work-item of the read-back partial sums. */
    private static final int PARTIAL_CHUNK = 64;
    /** Rows per work-item of the chunked column sums (bias and layer-norm parameter gradients). */
    static final int COLUMN_CHUNK = 64;
    /** Column sums over fewer outputs than this are chunked over the rows, so that a GPU has enough work-items. */
    static final int FEW_OUTPUTS = 16384;
    /**
     * Axes the strided kernels index themselves, padded with size-1 axes in front (the host loops over the rest):
     * four for the binary kernel, six for the strided copy.
     */
    private static final int KERNEL_AXES = 4, COPY_KERNEL_AXES = 6;

    private int rowWgCap = PortableKernels.ROW_WG_MAX;
    private int rowWgLimit = PortableKernels.ROW_WG_MAX;

    /** A launch of the named kernel (checked against {@link #signature}). */
    protected abstract PortableLaunch launch(String kernel);

    /** An int array in device memory (row indices, targets), closed by the caller once its launches are issued. */
    protected abstract Buffer uploadInts(int[] values);

    /** Uninitialised scratch of n 4-byte elements at offset 0, closed by the caller once its launches are issued. */
    protected abstract Buffer scratch(long n);

    /** Reads an int scratch buffer (waits for the launches before it). */
    protected abstract void readInts(Buffer src, int[] dst);

    /** A one-element buffer passed where an optional input or output is absent. */
    protected abstract Buffer placeholder();

    /** The declared signature of one of this backend's kernels; an error for an unknown name. */
    protected KernelSignature signature(String kernel) {
        KernelSignature s = PortableKernels.SIGNATURES.get(kernel);
        if (s == null) throw new IllegalStateException(name() + ": no kernel " + kernel + " is declared");
        return s;
    }

    /** The largest work-group the device allows for every row kernel; called once by the subclass at start. */
    protected final void capRowWorkGroup(long deviceLimit) {
        rowWgCap = Integer.highestOneBit((int) Math.min(PortableKernels.ROW_WG_MAX, deviceLimit));
        rowWgLimit = rowWgCap;
    }

    /**
     * Caps the work-group size of the row kernels (layer norm, softmax, cross-entropy, row
     * reductions) at a power of two, so that the harness and tests can validate each launch
     * configuration; returns the cap now in force (never above what the device allows).
     */
    public synchronized int limitRowWorkGroup(int limit) {
        if (limit < 1) throw new IllegalArgumentException("work-group limit must be positive: " + limit);
        rowWgLimit = Math.min(rowWgCap, Integer.highestOneBit(limit));
        return rowWgLimit;
    }

    /** Work-group size of a row kernel over rows of n: the smallest power of two covering n, capped. */
    private int rowWg(int n) {
        int wg = 1;
        while (wg < n && wg < rowWgLimit) wg <<= 1;
        return wg;
    }

    /** A buffer's length as the kernels' int. */
    protected final int count(Buffer b) {
        long n = b.length();
        if (n > Integer.MAX_VALUE) throw new EngineException(name() + ": " + n + " elements exceed the kernels' 2^31 - 1");
        return (int) n;
    }

    private Buffer orPlaceholder(Buffer b) {
        return b == null ? placeholder() : b;
    }

    // ================================================================ data movement

    @Override
    public synchronized void copy(Buffer src, Buffer dst) {
        if (src.length() != dst.length()) {
            throw new IllegalArgumentException("copy: lengths differ (" + src.length() + " and " + dst.length() + ")");
        }
        int n = count(src);
        launch("xbt_copy").i(n).buf(src).buf(dst).linear(n);
    }

    @Override
    public synchronized void fill(Buffer dst, float value) {
        int n = count(dst);
        launch("xbt_fill").i(n).buf(dst).f(value).linear(n);
    }

    /** No zero-fill (the caller's kernel writes every element); NaN-filled under {@link #POISON_UNINITIALIZED}. */
    @Override
    public final Buffer allocateUninitialized(long n) {
        Buffer b = allocateUnfilled(n);
        if (POISON_UNINITIALIZED && n > 0) fill(b, Float.NaN);
        return b;
    }

    /** A buffer of n elements as the device hands it out, contents unspecified. */
    protected abstract Buffer allocateUnfilled(long n);

    /** Launches are queued on the device (an OpenCL queue, a CUDA stream); only read-backs wait. */
    @Override
    public boolean queuesWork() {
        return true;
    }

    // ================================================================ linear algebra

    @Override
    public synchronized void gemm(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
                                  Buffer a, long strideA, Buffer b, long strideB, float beta, Buffer c, long strideC) {
        if (batch <= 0 || m <= 0 || n <= 0) return;
        int sa = Math.toIntExact(strideA), sb = Math.toIntExact(strideB), sc = Math.toIntExact(strideC);
        int gx = PortableLaunch.ceilDiv(n, PortableKernels.GEMM_TILE), gy = PortableLaunch.ceilDiv(m, PortableKernels.GEMM_TILE);
        // C blocks that overlap (strideC == 0 sums every product into one C) must be written in order:
        // one launch per batch. Otherwise as many batches per launch as the z dimension allows.
        boolean overlap = batch > 1 && (long) sc < (long) m * n;
        int perLaunch = overlap ? 1 : PortableLaunch.MAX_GROUPS_YZ;
        for (int p = 0; p < batch; p += perLaunch) {
            launch("xbt_gemm").flag(transA).flag(transB).i(m).i(n).i(k).f(alpha).buf(a).i(sa).buf(b).i(sb)
                    .f(beta).buf(c).i(sc).i(p)
                    .run(gx, gy, Math.min(perLaunch, batch - p), PortableKernels.GEMM_WG, PortableKernels.GEMM_WG);
        }
    }

    // ================================================================ element-wise

    @Override
    public synchronized void binary(BinaryOp op, int[] shape, Buffer a, int[] aStrides, Buffer b, int[] bStrides, Buffer out) {
        int[] outStrides = contiguousStrides(shape);
        StridedLayout lay = StridedLayout.of(shape, aStrides, bStrides, outStrides);
        if (lay.count() == 0) return;
        int r = lay.rank(), k = Math.min(r, KERNEL_AXES);
        int[] hostAxes = range(0, r - k), kernelAxes = range(r - k, r);
        int[] n = padded(lay.sizes(), kernelAxes, 1);
        int[] as = padded(lay.strides()[0], kernelAxes, 0), bs = padded(lay.strides()[1], kernelAxes, 0);
        int count = Math.toIntExact((long) n[0] * n[1] * n[2] * n[3]);
        forEachHostIndex(lay, hostAxes, base -> launch("xbt_binary").i(op.ordinal()).i(count).divisor(n[1]).divisor(n[2]).divisor(n[3])
                .buf(a, base[0]).i(as[0]).i(as[1]).i(as[2]).i(as[3])
                .buf(b, base[1]).i(bs[0]).i(bs[1]).i(bs[2]).i(bs[3])
                .buf(out, base[2]).linear(count, PortableKernels.ELEMENTS_PER_ITEM));
    }

    @Override
    public synchronized void stridedCopy(int[] shape, Buffer src, int[] srcStrides, Buffer dst, int[] dstStrides, boolean accumulate) {
        StridedLayout lay = StridedLayout.of(shape, srcStrides, dstStrides);
        if (lay.count() == 0) return;
        int r = lay.rank();
        int[] ss = lay.strides()[0], ds = lay.strides()[1];
        // A destination axis of stride 0 is walked in order inside one work-item (no two work-items
        // write one element); the kernel takes one such axis and up to six others: the innermost
        // (coalesced accesses) and the largest of the rest, so that the host loops over few, small axes.
        int loopAxis = -1;
        for (int d = r - 1; d >= 0 && loopAxis < 0; d--) if (ds[d] == 0) loopAxis = d;
        int[] parallel = new int[r];
        int np = 0;
        for (int d = 0; d < r; d++) if (ds[d] != 0) parallel[np++] = d;
        int[] kernelAxes = largestAxes(lay.sizes(), Arrays.copyOf(parallel, np), COPY_KERNEL_AXES);
        int[] hostAxes = new int[r - kernelAxes.length - (loopAxis >= 0 ? 1 : 0)];
        int nh = 0;
        for (int d = 0; d < r; d++) {
            if (d != loopAxis && Arrays.binarySearch(kernelAxes, d) < 0) hostAxes[nh++] = d;
        }
        int[] n = padded(lay.sizes(), kernelAxes, 1, COPY_KERNEL_AXES);
        int[] sk = padded(ss, kernelAxes, 0, COPY_KERNEL_AXES), dk = padded(ds, kernelAxes, 0, COPY_KERNEL_AXES);
        int loop = loopAxis >= 0 ? lay.sizes()[loopAxis] : 1;
        int sl = loopAxis >= 0 ? ss[loopAxis] : 0, dl = loopAxis >= 0 ? ds[loopAxis] : 0;
        int count = Math.toIntExact((long) n[0] * n[1] * n[2] * n[3] * n[4] * n[5]);
        forEachHostIndex(lay, hostAxes, base -> launch("xbt_strided_copy").i(count)
                .divisor(n[1]).divisor(n[2]).divisor(n[3]).divisor(n[4]).divisor(n[5]).i(loop)
                .buf(src, base[0]).i(sk[0]).i(sk[1]).i(sk[2]).i(sk[3]).i(sk[4]).i(sk[5]).i(sl)
                .buf(dst, base[1]).i(dk[0]).i(dk[1]).i(dk[2]).i(dk[3]).i(dk[4]).i(dk[5]).i(dl)
                .flag(accumulate).linear(count, PortableKernels.ELEMENTS_PER_ITEM));
    }

    /**
     * At most {@code k} of {@code axes} (ascending): the last one, then the largest of the others,
     * returned ascending.
     */
    static int[] largestAxes(int[] sizes, int[] axes, int k) {
        if (axes.length <= k) return axes;
        Integer[] rest = new Integer[axes.length - 1];
        for (int i = 0; i < rest.length; i++) rest[i] = axes[i];
        Arrays.sort(rest, (x, y) -> Integer.compare(sizes[y], sizes[x]));
        int[] chosen = new int[k];
        for (int i = 0; i < k - 1; i++) chosen[i] = rest[i];
        chosen[k - 1] = axes[axes.length - 1];
        Arrays.sort(chosen);
        return chosen;
    }

    private static int[] contiguousStrides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            s[d] = acc;
            acc *= shape[d];
        }
        return s;
    }

    private static int[] range(int from, int to) {
        int[] r = new int[to - from];
        for (int i = 0; i < r.length; i++) r[i] = from + i;
        return r;
    }

    /** values at the given axes, padded in front to KERNEL_AXES entries with {@code pad}. */
    private static int[] padded(int[] values, int[] axes, int pad) {
        return padded(values, axes, pad, KERNEL_AXES);
    }

    /** values at the given axes, padded in front to {@code width} entries with {@code pad}. */
    private static int[] padded(int[] values, int[] axes, int pad, int width) {
        int[] out = new int[width];
        Arrays.fill(out, pad);
        for (int i = 0; i < axes.length; i++) out[width - axes.length + i] = values[axes[i]];
        return out;
    }

    private interface HostStep {
        void launch(long[] bases);
    }

    /** Calls {@code step} with each operand's element offset for every index over the host axes, in row-major order. */
    private static void forEachHostIndex(StridedLayout lay, int[] hostAxes, HostStep step) {
        int ops = lay.strides().length;
        int[] idx = new int[hostAxes.length];
        while (true) {
            long[] base = new long[ops];
            for (int h = 0; h < hostAxes.length; h++) {
                for (int o = 0; o < ops; o++) base[o] += (long) idx[h] * lay.strides()[o][hostAxes[h]];
            }
            step.launch(base);
            int h = hostAxes.length - 1;
            while (h >= 0 && ++idx[h] == lay.sizes()[hostAxes[h]]) idx[h--] = 0;
            if (h < 0) return;
        }
    }

    @Override
    public synchronized void unary(UnaryOp op, Buffer x, Buffer out) {
        int n = count(x);
        launch("xbt_unary").i(op.ordinal()).i(n).buf(x).buf(out).linear(n, PortableKernels.ELEMENTS_PER_ITEM);
    }

    @Override
    public synchronized void unaryBackward(UnaryOp op, Buffer x, Buffer gradOut, Buffer gradIn) {
        int n = count(x);
        launch("xbt_unary_backward").i(op.ordinal()).i(n).buf(x).buf(gradOut).buf(gradIn).linear(n, PortableKernels.ELEMENTS_PER_ITEM);
    }

    @Override
    public synchronized void affine(Buffer x, float scale, float shift, Buffer out) {
        int n = count(x);
        launch("xbt_affine").i(n).buf(x).f(scale).f(shift).buf(out).linear(n);
    }

    // ================================================================ reductions and data movement

    @Override
    public synchronized void reduce(ReduceOp op, Buffer x, int outer, int n, int inner, Buffer out) {
        if (inner == 1) {
            launch("xbt_reduce_rows").i(op.ordinal()).i(outer).i(n).buf(x).buf(out).groups(outer, rowWg(n));
        } else if (outer == 1 && inner < FEW_OUTPUTS && n >= 2 * COLUMN_CHUNK) {
            // A long axis and few outputs (a bias gradient): one work-item per output would leave a GPU
            // idle, so chunks of COLUMN_CHUNK rows are reduced first (x viewed as chunks x COLUMN_CHUNK x
            // inner, the ragged tail separately), then the chunk results.
            int chunks = n / COLUMN_CHUNK, tail = n - chunks * COLUMN_CHUNK, parts = chunks + (tail > 0 ? 1 : 0);
            try (Buffer partial = scratch((long) parts * inner)) {
                launch("xbt_reduce_cols").i(op.ordinal()).i(chunks).i(COLUMN_CHUNK).i(inner).buf(x).buf(partial)
                        .linear((long) chunks * inner);
                if (tail > 0) {
                    launch("xbt_reduce_cols").i(op.ordinal()).i(1).i(tail).i(inner).buf(x, (long) chunks * COLUMN_CHUNK * inner)
                            .buf(partial, (long) chunks * inner).linear(inner);
                }
                launch("xbt_reduce_cols").i(op.ordinal()).i(1).i(parts).i(inner).buf(partial).buf(out).linear(inner);
            }
        } else {
            launch("xbt_reduce_cols").i(op.ordinal()).i(outer).i(n).i(inner).buf(x).buf(out).linear((long) outer * inner);
        }
    }

    @Override
    public synchronized void reduceMaxBackward(Buffer x, Buffer max, Buffer gradOut, int outer, int n, int inner, Buffer gradIn) {
        launch("xbt_reduce_max_backward").i(outer).i(n).i(inner).buf(x).buf(max).buf(gradOut).buf(gradIn)
                .linear((long) outer * inner);
    }

    private static void checkRows(String op, int[] rows, long tableRows) {
        for (int r = 0; r < rows.length; r++) {
            if (rows[r] < 0 || rows[r] >= tableRows) {
                throw new EngineException(op + ": row index " + rows[r] + " at " + r + " is outside the table's " + tableRows + " rows");
            }
        }
    }

    @Override
    public synchronized void gatherRows(Buffer table, int rowLen, int[] rows, Buffer out) {
        if (rows.length == 0 || rowLen == 0) return;
        checkRows("gatherRows", rows, table.length() / rowLen);
        try (Buffer idx = uploadInts(rows)) {
            launch("xbt_gather_rows").i(rows.length).i(rowLen).buf(table).ptr(idx).buf(out).linear((long) rows.length * rowLen);
        }
    }

    @Override
    public synchronized void scatterAddRows(Buffer src, int rowLen, int[] rows, Buffer table) {
        if (rows.length == 0 || rowLen == 0) return;
        checkRows("scatterAddRows", rows, table.length() / rowLen);
        try (Buffer idx = uploadInts(rows)) {
            launch("xbt_scatter_add_rows").i(rows.length).i(rowLen).buf(src).ptr(idx).buf(table).linear(rowLen);
        }
    }

    // ================================================================ fused neural-network kernels

    @Override
    public synchronized void layerNorm(Buffer x, Buffer gamma, Buffer beta, int rows, int n, float eps,
                                       Buffer out, Buffer mean, Buffer rstd) {
        launch("xbt_layer_norm").i(rows).i(n).f(eps).buf(x).buf(gamma).buf(beta).buf(out).buf(orPlaceholder(mean))
                .buf(orPlaceholder(rstd)).groups(rows, rowWg(n));
    }

    @Override
    public synchronized void layerNormBackward(Buffer x, Buffer gamma, Buffer mean, Buffer rstd, Buffer gradOut, int rows, int n,
                                               Buffer gradX, Buffer gradGamma, Buffer gradBeta) {
        if (gradX != null) {
            launch("xbt_layer_norm_backward_x").i(rows).i(n).buf(x).buf(gamma).buf(mean).buf(rstd).buf(gradOut).buf(gradX)
                    .groups(rows, rowWg(n));
        }
        if ((gradGamma == null && gradBeta == null) || rows <= 0 || n <= 0) return;
        if (n >= FEW_OUTPUTS || rows < 2 * COLUMN_CHUNK) {
            layerNormParams(x, mean, rstd, gradOut, rows, n, rows, gradGamma, gradBeta);
            return;
        }
        // Few columns over many rows: per-chunk sums into zeroed scratch rows, then those rows summed
        // (a column reduction) and added to the gradients.
        int chunkRows = Math.max(COLUMN_CHUNK, PortableLaunch.ceilDiv(rows, PortableLaunch.MAX_GROUPS_YZ));
        int chunks = PortableLaunch.ceilDiv(rows, chunkRows);
        try (Buffer pg = gradGamma != null ? allocate((long) chunks * n) : null;
             Buffer pb = gradBeta != null ? allocate((long) chunks * n) : null) {
            layerNormParams(x, mean, rstd, gradOut, rows, n, chunkRows, pg, pb);
            for (Buffer[] partAndGrad : new Buffer[][] {{pg, gradGamma}, {pb, gradBeta}}) {
                if (partAndGrad[0] == null) continue;
                try (Buffer sum = scratch(n)) {
                    reduce(ReduceOp.SUM, partAndGrad[0], 1, chunks, n, sum);
                    binary(BinaryOp.ADD, new int[] {n}, partAndGrad[1], new int[] {1}, sum, new int[] {1}, partAndGrad[1]);
                }
            }
        }
    }

    /** gradGamma/gradBeta rows c = 0.. (chunks of chunkRows rows) += column sums; null skips an output. */
    private void layerNormParams(Buffer x, Buffer mean, Buffer rstd, Buffer gradOut, int rows, int n, int chunkRows,
                                 Buffer gradGamma, Buffer gradBeta) {
        launch("xbt_layer_norm_backward_params").i(rows).i(n).i(chunkRows).buf(x).buf(mean).buf(rstd).buf(gradOut)
                .flag(gradGamma != null).buf(orPlaceholder(gradGamma)).flag(gradBeta != null).buf(orPlaceholder(gradBeta))
                .run(PortableLaunch.ceilDiv(n, PortableLaunch.LINEAR_WG), PortableLaunch.ceilDiv(rows, chunkRows), 1,
                        PortableLaunch.LINEAR_WG, 1);
    }

    @Override
    public synchronized void softmax(Buffer x, int rows, int n, boolean log, Buffer out) {
        launch("xbt_softmax").i(rows).i(n).flag(log).buf(x).buf(out).groups(rows, rowWg(n));
    }

    @Override
    public synchronized void softmaxBackward(Buffer y, Buffer gradOut, int rows, int n, boolean log, Buffer gradIn) {
        launch("xbt_softmax_backward").i(rows).i(n).flag(log).buf(y).buf(gradOut).buf(gradIn).groups(rows, rowWg(n));
    }

    /** Work-items per attention row: each holds {@link PortableKernels#ATTENTION_SLICE} head dimensions. */
    static int attentionSlices(int d) {
        return Math.max(1, PortableLaunch.ceilDiv(d, PortableKernels.ATTENTION_SLICE));
    }

    private void checkHead(int d) {
        if (d > PortableKernels.ATTENTION_MAX_D) {
            throw new EngineException(name() + " attention: head size " + d + " exceeds the kernel's limit of " + PortableKernels.ATTENTION_MAX_D);
        }
    }

    @Override
    public synchronized void attention(int bh, int tq, int tk, int d, float scale, Buffer q, Buffer k, Buffer v,
                                       Buffer mask, int maskGroup, boolean causal, Buffer out, Buffer lse) {
        checkHead(d);
        int rowsPerGroup = PortableKernels.ATTENTION_ROWS, slices = attentionSlices(d);
        launch("xbt_attention_forward").i(bh).i(tq).i(tk).i(d).f(scale).buf(q).buf(k).buf(v)
                .flag(mask != null).buf(orPlaceholder(mask)).i(Math.max(1, maskGroup)).flag(causal).buf(out).buf(lse)
                .run(PortableLaunch.ceilDiv(tq, rowsPerGroup), bh, 1, slices, rowsPerGroup);
    }

    @Override
    public synchronized void attentionBackward(int bh, int tq, int tk, int d, float scale, Buffer q, Buffer k, Buffer v,
                                               Buffer mask, int maskGroup, boolean causal, Buffer out, Buffer lse, Buffer gradOut,
                                               Buffer gradQ, Buffer gradK, Buffer gradV) {
        checkHead(d);
        if (gradQ == null && gradK == null && gradV == null) return;
        Buffer m = orPlaceholder(mask);
        int group = Math.max(1, maskGroup), rowsPerGroup = PortableKernels.ATTENTION_ROWS, slices = attentionSlices(d);
        int rows = Math.toIntExact((long) bh * tq);
        try (Buffer delta = scratch(rows)) {
            launch("xbt_attention_delta").i(rows).i(d).buf(out).buf(gradOut).ptr(delta).linear(rows);
            if (gradQ != null) {
                launch("xbt_attention_backward_dq").i(bh).i(tq).i(tk).i(d).f(scale).buf(q).buf(k).buf(v)
                        .flag(mask != null).buf(m).i(group).flag(causal).buf(lse).ptr(delta).buf(gradOut).buf(gradQ)
                        .run(PortableLaunch.ceilDiv(tq, rowsPerGroup), bh, 1, slices, rowsPerGroup);
            }
            if (gradK != null || gradV != null) {
                launch("xbt_attention_backward_dkv").i(bh).i(tq).i(tk).i(d).f(scale).buf(q).buf(k).buf(v)
                        .flag(mask != null).buf(m).i(group).flag(causal).buf(lse).ptr(delta).buf(gradOut)
                        .flag(gradK != null).buf(orPlaceholder(gradK)).flag(gradV != null).buf(orPlaceholder(gradV))
                        .run(PortableLaunch.ceilDiv(tk, rowsPerGroup), bh, 1, slices, rowsPerGroup);
            }
        }
    }

    private static void checkTargets(int[] targets, int rows, int n) {
        if (targets.length < rows) throw new EngineException("crossEntropy: " + targets.length + " targets for " + rows + " rows");
        for (int r = 0; r < rows; r++) {
            if (targets[r] >= n) throw new EngineException("crossEntropy: target " + targets[r] + " of row " + r + " is outside " + n + " classes");
        }
    }

    @Override
    public synchronized void crossEntropy(Buffer logits, int rows, int n, int[] targets, Buffer loss, Buffer lse) {
        if (rows == 0) return;
        checkTargets(targets, rows, n);
        try (Buffer t = uploadInts(Arrays.copyOf(targets, rows))) {
            launch("xbt_cross_entropy").i(rows).i(n).buf(logits).ptr(t).buf(loss).buf(lse).groups(rows, rowWg(n));
        }
    }

    @Override
    public synchronized void crossEntropyBackward(Buffer logits, Buffer lse, int[] targets, Buffer gradLoss, int rows, int n,
                                                  Buffer gradLogits) {
        if (rows == 0) return;
        checkTargets(targets, rows, n);
        try (Buffer t = uploadInts(Arrays.copyOf(targets, rows))) {
            launch("xbt_cross_entropy_backward").i(rows).i(n).buf(logits).buf(lse).ptr(t).buf(gradLoss).buf(gradLogits)
                    .linear((long) rows * n);
        }
    }

    @Override
    public synchronized void dropout(Buffer x, float p, long seed, Buffer out) {
        int n = count(x);
        float keepScale = (float) (1.0 / (1.0 - p));
        launch("xbt_dropout").i(n).buf(x).f(p).f(keepScale).l(seed).buf(out).linear(n);
    }

    // ================================================================ read-backs and optimizer steps

    /** Work-items of a partial-sum launch over n elements. */
    private static int partialItems(int n) {
        return Math.max(1, Math.min((n + PARTIAL_CHUNK - 1) / PARTIAL_CHUNK, 1 << 16));
    }

    @Override
    public synchronized double sumOfSquares(Buffer x) {
        int n = count(x);
        if (n == 0) return 0;
        int items = partialItems(n);
        float[] pairs = new float[2 * items];
        try (Buffer partial = scratch(2L * items)) {
            launch("xbt_sum_squares_partial").i(n).i(items).buf(x).ptr(partial).linear(items);
            download(partial, pairs, 0);
        }
        double s = 0;
        for (int i = 0; i < items; i++) s += (double) pairs[2 * i] + (double) pairs[2 * i + 1];
        return s;
    }

    @Override
    public synchronized long countNaN(Buffer x) {
        int n = count(x);
        if (n == 0) return 0;
        int items = partialItems(n);
        int[] counts = new int[items];
        try (Buffer partial = scratch(items)) {
            launch("xbt_count_nan_partial").i(n).i(items).buf(x).ptr(partial).linear(items);
            readInts(partial, counts);
        }
        long c = 0;
        for (int v : counts) c += v;
        return c;
    }

    @Override
    public synchronized void adamw(Buffer param, Buffer grad, Buffer m, Buffer v, float lr, float beta1, float beta2, float eps,
                                   float weightDecay, float bias1, float bias2) {
        int n = count(param);
        launch("xbt_adamw").i(n).buf(param).buf(grad).buf(m).buf(v).f(lr).f(beta1).f(beta2).f(eps).f(weightDecay)
                .f(bias1).f(bias2).linear(n);
    }

    @Override
    public synchronized void sgd(Buffer param, Buffer grad, Buffer momentum, float lr, float mu, float weightDecay, boolean nesterov) {
        int n = count(param);
        launch("xbt_sgd").i(n).buf(param).buf(grad).buf(momentum).f(lr).f(mu).f(weightDecay).flag(nesterov).linear(n);
    }
}

package dev.xbt.engine;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.BinaryOp;
import dev.xbt.engine.backend.Buffer;
import dev.xbt.engine.backend.ReduceOp;
import dev.xbt.engine.backend.UnaryOp;

import java.util.Arrays;

/**
 * The tensor ops: arithmetic, reductions, shape and indexing ops, matrix products. Each op checks
 * its inputs, runs its kernel, and records its gradient rule right beside it. The fused neural
 * network ops live in {@link Nn}.
 */
public final class Ops {
    private Ops() {}

    // ================================================================ helpers

    static Backend sameBackend(String op, Tensor... ts) {
        Backend b = null;
        for (Tensor t : ts) {
            if (t == null) continue;
            if (b == null) b = t.backend;
            else if (t.backend != b) throw EngineException.of(op, "inputs live on different backends ("
                    + b.name() + ", " + t.backend.name() + ")", ts);
        }
        return b;
    }

    /** A zero-filled tensor: for results that are accumulated into or written in part. */
    static Tensor empty(Backend b, int... shape) {
        return Tensor.zeros(b, shape);
    }

    /**
     * A tensor with unspecified contents, for a result that the kernel called next writes in full
     * (a GPU backend then skips the zero-fill; see {@link Backend#allocateUninitialized}).
     */
    static Tensor output(Backend b, int... shape) {
        return new Tensor(b, b.allocateUninitialized(Shape.size(shape)), shape);
    }

    /** Records the op, after checking its result for NaN. */
    static Tensor done(String op, Tensor out, Tensor[] inputs, Tape.Backward rule) {
        NanGuard.check(op, out, inputs);
        return Tape.recordOp(op, out, inputs, rule);
    }

    // ================================================================ element-wise

    public static Tensor add(Tensor a, Tensor b) {
        return binary("add", BinaryOp.ADD, a, b);
    }

    public static Tensor sub(Tensor a, Tensor b) {
        return binary("sub", BinaryOp.SUB, a, b);
    }

    public static Tensor mul(Tensor a, Tensor b) {
        return binary("mul", BinaryOp.MUL, a, b);
    }

    public static Tensor div(Tensor a, Tensor b) {
        return binary("div", BinaryOp.DIV, a, b);
    }

    private static Tensor binary(String name, BinaryOp op, Tensor a, Tensor b) {
        Backend be = sameBackend(name, a, b);
        int[] shape = Shape.broadcast(a.shape(), b.shape());
        if (shape == null) throw EngineException.of(name, "shapes do not broadcast", a, b);
        Tensor out = output(be, shape);
        be.binary(op, shape, a.buffer, Shape.broadcastStrides(a.shape(), shape),
                b.buffer, Shape.broadcastStrides(b.shape(), shape), out.buffer);
        return done(name, out, new Tensor[] {a, b}, (g, needs) -> switch (op) {
            case ADD -> new Tensor[] {needs[0] ? sumTo(g, a.shape()) : null, needs[1] ? sumTo(g, b.shape()) : null};
            case SUB -> new Tensor[] {needs[0] ? sumTo(g, a.shape()) : null, needs[1] ? sumTo(neg(g), b.shape()) : null};
            case MUL -> new Tensor[] {needs[0] ? sumTo(mul(g, b), a.shape()) : null,
                    needs[1] ? sumTo(mul(g, a), b.shape()) : null};
            case DIV -> new Tensor[] {needs[0] ? sumTo(div(g, b), a.shape()) : null,
                    needs[1] ? sumTo(neg(div(mul(g, out), b)), b.shape()) : null};
        });
    }

    /** dst += src in place, same shapes; not recorded (used to accumulate gradients). */
    public static void addInto(Tensor dst, Tensor src) {
        if (!Arrays.equals(dst.shape(), src.shape())) throw EngineException.of("addInto", "shapes differ", dst, src);
        sameBackend("addInto", dst, src);
        int[] flat = {dst.size()};
        dst.backend.binary(BinaryOp.ADD, flat, dst.buffer, new int[] {1}, src.buffer, new int[] {1}, dst.buffer);
    }

    /** x · s. */
    public static Tensor scale(Tensor x, float s) {
        return affine(x, s, 0f);
    }

    /** x + s. */
    public static Tensor addScalar(Tensor x, float s) {
        return affine(x, 1f, s);
    }

    /** x · scale + shift. */
    public static Tensor affine(Tensor x, float scale, float shift) {
        Tensor out = output(x.backend, x.shape());
        x.backend.affine(x.buffer, scale, shift, out.buffer);
        return done("affine", out, new Tensor[] {x}, (g, needs) -> new Tensor[] {scale(g, scale)});
    }

    public static Tensor neg(Tensor x) { return unary("neg", UnaryOp.NEG, x); }

    public static Tensor exp(Tensor x) { return unary("exp", UnaryOp.EXP, x); }

    public static Tensor log(Tensor x) { return unary("log", UnaryOp.LOG, x); }

    public static Tensor sqrt(Tensor x) { return unary("sqrt", UnaryOp.SQRT, x); }

    public static Tensor rsqrt(Tensor x) { return unary("rsqrt", UnaryOp.RSQRT, x); }

    public static Tensor square(Tensor x) { return unary("square", UnaryOp.SQUARE, x); }

    public static Tensor reciprocal(Tensor x) { return unary("reciprocal", UnaryOp.RECIPROCAL, x); }

    public static Tensor abs(Tensor x) { return unary("abs", UnaryOp.ABS, x); }

    public static Tensor tanh(Tensor x) { return unary("tanh", UnaryOp.TANH, x); }

    public static Tensor sigmoid(Tensor x) { return unary("sigmoid", UnaryOp.SIGMOID, x); }

    public static Tensor relu(Tensor x) { return unary("relu", UnaryOp.RELU, x); }

    /** GELU with the exact erf, as torch.nn.GELU(). */
    public static Tensor gelu(Tensor x) { return unary("gelu", UnaryOp.GELU, x); }

    /** x·σ(1.702x), the activation of OpenAI's CLIP weights. */
    public static Tensor quickGelu(Tensor x) { return unary("quickGelu", UnaryOp.QUICK_GELU, x); }

    public static Tensor unary(String name, UnaryOp op, Tensor x) {
        Tensor out = output(x.backend, x.shape());
        x.backend.unary(op, x.buffer, out.buffer);
        return done(name, out, new Tensor[] {x}, (g, needs) -> {
            Tensor gi = output(x.backend, x.shape());
            x.backend.unaryBackward(op, x.buffer, g.buffer, gi.buffer);
            return new Tensor[] {gi};
        });
    }

    // ================================================================ reductions

    /** Sum of all elements, shape []. */
    public static Tensor sum(Tensor x) {
        return reshape(sum(reshape(x, x.size()), false, 0), new int[0]);
    }

    /** Mean of all elements, shape []. */
    public static Tensor mean(Tensor x) {
        return scale(sum(x), 1f / Math.max(1, x.size()));
    }

    /** Sum over the given axes. */
    public static Tensor sum(Tensor x, boolean keepDim, int... axes) {
        boolean[] reduce = axesMask("sum", x, axes);
        int[] shape = x.shape();
        Tensor cur = x;
        for (int a = shape.length - 1; a >= 0; a--) {
            if (!reduce[a]) continue;
            cur = reduceAxis(ReduceOp.SUM, cur, a);
        }
        if (!keepDim) cur = reshape(cur, dropAxes(shape, reduce));
        return cur;
    }

    /** Mean over the given axes. */
    public static Tensor mean(Tensor x, boolean keepDim, int... axes) {
        boolean[] reduce = axesMask("mean", x, axes);
        long count = 1;
        for (int a = 0; a < reduce.length; a++) if (reduce[a]) count *= x.shape()[a];
        return scale(sum(x, keepDim, axes), 1f / Math.max(1, count));
    }

    /** Maximum over one axis; the gradient goes to the first maximal element. */
    public static Tensor max(Tensor x, int axis, boolean keepDim) {
        int a = Shape.axis(axis, x.rank(), "max");
        if (x.shape()[a] == 0) throw EngineException.of("max", "empty axis " + axis, x);
        Tensor r = reduceAxis(ReduceOp.MAX, x, a);
        if (!keepDim) {
            boolean[] m = new boolean[x.rank()];
            m[a] = true;
            r = reshape(r, dropAxes(x.shape(), m));
        }
        return r;
    }

    /** Reduces one axis, keeping it as size 1. */
    private static Tensor reduceAxis(ReduceOp op, Tensor x, int axis) {
        int[] s = x.shape();
        int outer = Shape.prod(s, 0, axis), n = s[axis], inner = Shape.prod(s, axis + 1, s.length);
        int[] os = s.clone();
        os[axis] = 1;
        Tensor out = empty(x.backend, os);
        x.backend.reduce(op, x.buffer, outer, n, inner, out.buffer);
        String name = op == ReduceOp.SUM ? "sum" : "max";
        return done(name, out, new Tensor[] {x}, (g, needs) -> {
            if (op == ReduceOp.SUM) return new Tensor[] {expand(g, s)};
            Tensor gi = empty(x.backend, s);
            x.backend.reduceMaxBackward(x.buffer, out.buffer, g.buffer, outer, n, inner, gi.buffer);
            return new Tensor[] {gi};
        });
    }

    private static boolean[] axesMask(String op, Tensor x, int[] axes) {
        boolean[] m = new boolean[x.rank()];
        for (int a : axes) m[Shape.axis(a, x.rank(), op)] = true;
        return m;
    }

    private static int[] dropAxes(int[] shape, boolean[] drop) {
        int n = 0;
        for (boolean d : drop) if (!d) n++;
        int[] out = new int[n];
        for (int i = 0, j = 0; i < shape.length; i++) if (!drop[i]) out[j++] = shape[i];
        return out;
    }

    /** Broadcasts x to {@code shape} (a copy); its gradient sums back. */
    public static Tensor expand(Tensor x, int... shape) {
        int[] target = Shape.broadcast(x.shape(), shape);
        if (target == null || !Arrays.equals(target, shape)) {
            throw EngineException.shapes("expand", "cannot broadcast to the target", x.shape(), shape);
        }
        if (Arrays.equals(x.shape(), shape)) return x;
        Tensor out = output(x.backend, shape);
        x.backend.stridedCopy(shape, x.buffer, Shape.broadcastStrides(x.shape(), shape), out.buffer,
                Shape.strides(shape), false);
        int[] xs = x.shape();
        return done("expand", out, new Tensor[] {x}, (g, needs) -> new Tensor[] {sumTo(g, xs)});
    }

    /** Sums a broadcast gradient back to the shape of the operand that was broadcast. */
    static Tensor sumTo(Tensor g, int[] shape) {
        int[] gs = g.shape();
        if (Arrays.equals(gs, shape)) return g;
        int lead = gs.length - shape.length;
        Tensor cur = g;
        if (lead > 0) {
            int[] flat = new int[shape.length + 1];
            flat[0] = Shape.prod(gs, 0, lead);
            System.arraycopy(gs, lead, flat, 1, shape.length);
            cur = reshape(sum(reshape(g, flat), false, 0), Arrays.copyOfRange(gs, lead, gs.length));
        }
        int[] cs = cur.shape();
        for (int a = shape.length - 1; a >= 0; a--) {
            if (shape[a] == 1 && cs[a] != 1) cur = reduceAxis(ReduceOp.SUM, cur, a);
        }
        return reshape(cur, shape);
    }

    // ================================================================ shape ops

    /** A view with a new shape (one dim may be -1); no copy. */
    public static Tensor reshape(Tensor x, int... shape) {
        int[] s = shape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) throw EngineException.shapes("reshape", "more than one -1", x.shape(), shape);
                infer = i;
            } else if (s[i] < 0) {
                throw EngineException.shapes("reshape", "negative dimension", x.shape(), shape);
            } else {
                known *= s[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || x.size() % known != 0) throw EngineException.shapes("reshape", "cannot infer -1", x.shape(), shape);
            s[infer] = (int) (x.size() / known);
        }
        if (Shape.size(s) != x.size()) {
            throw EngineException.shapes("reshape", x.size() + " elements do not fit " + Shape.size(s), x.shape(), shape);
        }
        if (Arrays.equals(s, x.shape())) return x;
        Tensor out = Tensor.wrap(x.buffer, s);
        int[] xs = x.shape();
        return Tape.recordOp("reshape", out, new Tensor[] {x}, (g, needs) -> new Tensor[] {reshape(g, xs)});
    }

    /** Reorders the axes: output axis i is input axis perm[i]. */
    public static Tensor permute(Tensor x, int... perm) {
        int r = x.rank();
        if (perm.length != r) throw EngineException.of("permute", "permutation " + Arrays.toString(perm) + " has the wrong length", x);
        int[] xs = x.shape(), xst = Shape.strides(xs), os = new int[r], src = new int[r], inv = new int[r];
        boolean[] seen = new boolean[r];
        boolean identity = true;
        for (int i = 0; i < r; i++) {
            int p = Shape.axis(perm[i], r, "permute");
            if (seen[p]) throw EngineException.of("permute", "axis repeated in " + Arrays.toString(perm), x);
            seen[p] = true;
            os[i] = xs[p];
            src[i] = xst[p];
            inv[p] = i;
            identity &= p == i;
        }
        if (identity) return x;
        Tensor out = output(x.backend, os);
        x.backend.stridedCopy(os, x.buffer, src, out.buffer, Shape.strides(os), false);
        return done("permute", out, new Tensor[] {x}, (g, needs) -> new Tensor[] {permute(g, inv)});
    }

    /** Swaps two axes. */
    public static Tensor transpose(Tensor x, int a, int b) {
        int r = x.rank();
        int[] perm = new int[r];
        for (int i = 0; i < r; i++) perm[i] = i;
        int aa = Shape.axis(a, r, "transpose"), bb = Shape.axis(b, r, "transpose");
        perm[aa] = bb;
        perm[bb] = aa;
        return permute(x, perm);
    }

    /** Elements [start, end) along {@code axis}; a view when the slice is contiguous. */
    public static Tensor slice(Tensor x, int axis, int start, int end) {
        int a = Shape.axis(axis, x.rank(), "slice");
        int[] xs = x.shape();
        if (start < 0 || end > xs[a] || start > end) {
            throw EngineException.of("slice", "range [" + start + ", " + end + ") outside axis " + axis + " of size " + xs[a], x);
        }
        int[] os = xs.clone();
        os[a] = end - start;
        int[] st = Shape.strides(xs);
        long offset = (long) start * st[a];
        Tensor out;
        if (Shape.prod(xs, 0, a) == 1) {
            out = Tensor.wrap(x.buffer.slice(offset, Shape.size(os)), os);
        } else {
            out = output(x.backend, os);
            Buffer from = x.buffer.slice(offset, x.size() - offset);
            x.backend.stridedCopy(os, from, st, out.buffer, Shape.strides(os), false);
        }
        return Tape.recordOp("slice", out, new Tensor[] {x}, (g, needs) -> {
            Tensor gi = empty(x.backend, xs);
            x.backend.stridedCopy(os, g.buffer, Shape.strides(os), gi.buffer.slice(offset, x.size() - offset), st, true);
            return new Tensor[] {gi};
        });
    }

    /** Joins tensors along {@code axis}; all other dims must agree. */
    public static Tensor concat(int axis, Tensor... parts) {
        if (parts.length == 0) throw new EngineException("concat: no inputs");
        Backend be = sameBackend("concat", parts);
        int r = parts[0].rank();
        int a = Shape.axis(axis, r, "concat");
        int[] os = parts[0].shape();
        int total = 0;
        for (Tensor p : parts) {
            int[] ps = p.shape();
            if (ps.length != r) throw EngineException.of("concat", "ranks differ", parts);
            for (int i = 0; i < r; i++) {
                if (i != a && ps[i] != os[i]) throw EngineException.of("concat", "dims differ off axis " + axis, parts);
            }
            total += ps[a];
        }
        os[a] = total;
        Tensor out = output(be, os);
        int[] ost = Shape.strides(os);
        long[] offsets = new long[parts.length];
        long off = 0;
        for (int i = 0; i < parts.length; i++) {
            offsets[i] = off;
            int[] ps = parts[i].shape();
            if (parts[i].size() > 0) {
                be.stridedCopy(ps, parts[i].buffer, Shape.strides(ps), out.buffer.slice(off, out.size() - off), ost, false);
            }
            off += (long) ps[a] * ost[a];
        }
        return done("concat", out, parts, (g, needs) -> {
            Tensor[] gs = new Tensor[parts.length];
            int startIdx = 0;
            for (int i = 0; i < parts.length; i++) {
                int len = parts[i].shape()[a];
                if (needs[i]) gs[i] = slice(g, a, startIdx, startIdx + len);
                startIdx += len;
            }
            return gs;
        });
    }

    /** Stacks equally shaped tensors along a new leading axis. */
    public static Tensor stack(Tensor... parts) {
        for (Tensor p : parts) {
            if (!Arrays.equals(p.shape(), parts[0].shape())) throw EngineException.of("stack", "shapes differ", parts);
        }
        Tensor[] r = new Tensor[parts.length];
        for (int i = 0; i < parts.length; i++) {
            int[] s = parts[i].shape();
            int[] ns = new int[s.length + 1];
            ns[0] = 1;
            System.arraycopy(s, 0, ns, 1, s.length);
            r[i] = reshape(parts[i], ns);
        }
        return concat(0, r);
    }

    // ================================================================ indexing

    /**
     * Rows of {@code table} (first axis) picked by {@code rows}: out[i] = table[rows[i]]; an
     * embedding lookup when table is a [vocab, width] weight. Gradients add up per row.
     */
    public static Tensor gatherRows(Tensor table, int[] rows) {
        int[] ts = table.shape();
        if (ts.length < 1) throw EngineException.of("gatherRows", "table needs at least one axis", table);
        int n = ts[0];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || rows[i] >= n) {
                throw EngineException.of("gatherRows", "index " + rows[i] + " at position " + i + " outside [0, " + n + ")", table);
            }
        }
        int rowLen = Shape.prod(ts, 1, ts.length);
        int[] os = ts.clone();
        os[0] = rows.length;
        int[] idx = rows.clone();
        Tensor out = output(table.backend, os);
        table.backend.gatherRows(table.buffer, rowLen, idx, out.buffer);
        return done("gatherRows", out, new Tensor[] {table}, (g, needs) -> {
            Tensor gt = empty(table.backend, ts);
            table.backend.scatterAddRows(g.buffer, rowLen, idx, gt.buffer);
            return new Tensor[] {gt};
        });
    }

    /** Embedding lookup: ids of any shape → ids.shape + [width]. */
    public static Tensor embedding(Tensor table, int[] ids, int... idsShape) {
        if (table.rank() != 2) throw EngineException.of("embedding", "table must be [vocab, width]", table);
        if (Shape.size(idsShape) != ids.length) {
            throw new EngineException("embedding: " + ids.length + " ids do not fit shape " + Shape.str(idsShape));
        }
        int[] os = Arrays.copyOf(idsShape, idsShape.length + 1);
        os[idsShape.length] = table.dim(1);
        return reshape(gatherRows(table, ids), os);
    }

    /** x[b, positions[b], :] for x of shape [B, T, ...]: pooling at one position per row. */
    public static Tensor selectPerRow(Tensor x, int[] positions) {
        int[] xs = x.shape();
        if (xs.length < 2 || positions.length != xs[0]) {
            throw EngineException.of("selectPerRow", positions.length + " positions for the first axis", x);
        }
        int t = xs[1];
        int[] rows = new int[positions.length];
        for (int b = 0; b < positions.length; b++) {
            if (positions[b] < 0 || positions[b] >= t) {
                throw EngineException.of("selectPerRow", "position " + positions[b] + " of row " + b + " outside [0, " + t + ")", x);
            }
            rows[b] = b * t + positions[b];
        }
        int[] flat = Arrays.copyOfRange(xs, 1, xs.length);
        flat[0] = xs[0] * t;
        int[] os = new int[xs.length - 1];
        os[0] = xs[0];
        System.arraycopy(xs, 2, os, 1, xs.length - 2);
        return reshape(gatherRows(reshape(x, flat), rows), os);
    }

    // ================================================================ matrix products

    /** a · b. */
    public static Tensor matmul(Tensor a, Tensor b) {
        return matmul(a, b, false, false);
    }

    /**
     * op(a) · op(b) over the last two axes, op = transpose when asked. Leading axes: equal on both
     * sides, or b of rank 2 shared by every matrix of a (and vice versa). With b of rank 2 and a not
     * transposed, all rows of a go through one GEMM: the linear layer's case.
     */
    public static Tensor matmul(Tensor a, Tensor b, boolean transA, boolean transB) {
        sameBackend("matmul", a, b);
        if (a.rank() < 2 || b.rank() < 2) throw EngineException.of("matmul", "needs rank ≥ 2 on both sides", a, b);
        int[] as = a.shape(), bs = b.shape();
        int k = transA ? as[as.length - 2] : as[as.length - 1];
        int kb = transB ? bs[bs.length - 1] : bs[bs.length - 2];
        if (k != kb) {
            throw EngineException.of("matmul" + (transA ? "^T" : "") + (transB ? "·^T" : ""),
                    "inner dimensions differ (" + k + " vs " + kb + ")", a, b);
        }
        if (b.rank() == 2 && !transA && a.rank() > 2) {
            int m = as[as.length - 2];
            Tensor flat = reshape(a, -1, k);
            Tensor r = matmul(flat, b, false, transB);
            int[] os = as.clone();
            os[os.length - 1] = r.dim(1);
            os[os.length - 2] = m;
            return reshape(r, os);
        }
        int[] lead;
        long strideA, strideB;
        int batch;
        int[] aLead = Arrays.copyOf(as, as.length - 2), bLead = Arrays.copyOf(bs, bs.length - 2);
        if (Arrays.equals(aLead, bLead)) {
            lead = aLead;
        } else if (bLead.length == 0) {
            lead = aLead;
        } else if (aLead.length == 0) {
            lead = bLead;
        } else {
            throw EngineException.of("matmul", "batch dimensions differ", a, b);
        }
        batch = Shape.size(lead);
        int m = transA ? as[as.length - 1] : as[as.length - 2];
        int n = transB ? bs[bs.length - 2] : bs[bs.length - 1];
        strideA = aLead.length == 0 ? 0 : (long) m * k;
        strideB = bLead.length == 0 ? 0 : (long) k * n;
        int[] os = Arrays.copyOf(lead, lead.length + 2);
        os[lead.length] = m;
        os[lead.length + 1] = n;
        Tensor out = output(a.backend, os);
        if (out.size() > 0) {
            if (k == 0) a.backend.fill(out.buffer, 0f);
            else a.backend.gemm(batch, transA, transB, m, n, k, 1f, a.buffer, strideA, b.buffer, strideB, 0f, out.buffer, (long) m * n);
        }
        final long sA = strideA, sB = strideB;
        return done("matmul", out, new Tensor[] {a, b}, (g, needs) -> {
            Tensor ga = null, gb = null;
            if (needs[0]) {
                // C = op(A)·op(B): dA = dC·op(B)ᵀ, or op(B)·dCᵀ when A was used transposed.
                ga = transA ? bmm(b, g, transB, true, batch, sB, (long) m * n, k, m, n)
                        : bmm(g, b, false, !transB, batch, (long) m * n, sB, m, k, n);
                if (sA == 0 && batch > 1) ga = sum(ga, false, 0);
                else ga = reshape(ga, as);
            }
            if (needs[1]) {
                gb = transB ? bmm(g, a, true, transA, batch, (long) m * n, sA, n, k, m)
                        : bmm(a, g, !transA, false, batch, sA, (long) m * n, k, n, m);
                if (sB == 0 && batch > 1) gb = sum(gb, false, 0);
                else gb = reshape(gb, bs);
            }
            return new Tensor[] {ga, gb};
        });
    }

    /** Unrecorded batched GEMM into a fresh [batch, m, n] tensor (for gradient rules). */
    private static Tensor bmm(Tensor x, Tensor y, boolean tx, boolean ty, int batch, long sx, long sy, int m, int n, int k) {
        if (k == 0) return empty(x.backend, batch, m, n);
        Tensor out = output(x.backend, batch, m, n);
        if (out.size() == 0) return out;
        x.backend.gemm(batch, tx, ty, m, n, k, 1f, x.buffer, sx, y.buffer, sy, 0f, out.buffer, (long) m * n);
        return out;
    }
}

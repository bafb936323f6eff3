package dev.xbt.engine;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Backends;
import dev.xbt.engine.backend.Buffer;
import dev.xbt.engine.testing.ForwardingBackend;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tape: accumulation, frozen parameters, closed and consumed tapes, inference, views. */
class AutogradTest {
    private static final Backend F64 = Backends.get("scalar64");

    private static Tensor leaf(double... v) {
        return Tensor.of(F64, v, v.length).requiresGrad(true);
    }

    /** Counts the kernel calls that matter to these tests. */
    static final class CountingBackend extends ForwardingBackend {
        int gemms, copies, allocations;

        CountingBackend(Backend delegate) {
            super("counting", delegate);
        }

        @Override
        public void gemm(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha, Buffer a, long strideA,
                         Buffer b, long strideB, float beta, Buffer c, long strideC) {
            gemms++;
            super.gemm(batch, transA, transB, m, n, k, alpha, a, strideA, b, strideB, beta, c, strideC);
        }

        @Override
        public void stridedCopy(int[] shape, Buffer src, int[] srcStrides, Buffer dst, int[] dstStrides, boolean accumulate) {
            copies++;
            super.stridedCopy(shape, src, srcStrides, dst, dstStrides, accumulate);
        }

        @Override
        public void copy(Buffer src, Buffer dst) {
            copies++;
            super.copy(src, dst);
        }

        @Override
        public Buffer allocate(long n) {
            allocations++;
            return super.allocate(n);
        }

        void reset() {
            gemms = copies = allocations = 0;
        }
    }

    // ================================================================ accumulation

    @Test
    void diamondGraphAccumulatesBothPaths() {
        // y = 2x·eˣ + x: x reaches the output along three paths.
        double[] xs = {-0.5, 0.25, 1.5};
        Tensor x = leaf(xs);
        try (Tape tape = Tape.record()) {
            Tensor a = Ops.scale(x, 2f);
            Tensor b = Ops.exp(x);
            Tensor y = Ops.add(Ops.mul(a, b), x);
            tape.backward(Ops.sum(y));
        }
        double[] g = x.grad().toDoubleArray();
        for (int i = 0; i < xs.length; i++) {
            double e = Math.exp(xs[i]);
            assertEquals(2 * e + 2 * xs[i] * e + 1, g[i], 1e-12);
        }
    }

    @Test
    void intermediateUsedTwiceAccumulates() {
        // h = x², loss = Σ (h + h·h): dloss/dx = (1 + 2h)·2x.
        double[] xs = {0.5, -2, 3};
        Tensor x = leaf(xs);
        try (Tape tape = Tape.record()) {
            Tensor h = Ops.square(x);
            tape.backward(Ops.sum(Ops.add(h, Ops.mul(h, h))));
        }
        double[] g = x.grad().toDoubleArray();
        for (int i = 0; i < xs.length; i++) {
            double h = xs[i] * xs[i];
            assertEquals((1 + 2 * h) * 2 * xs[i], g[i], 1e-12);
        }
    }

    @Test
    void leafGradientsAddUpOverBackwardPassesUntilZeroed() {
        Tensor x = leaf(1, 2);
        for (int pass = 1; pass <= 3; pass++) {
            try (Tape tape = Tape.record()) {
                tape.backward(Ops.sum(Ops.scale(x, 3f)));
            }
            assertArrayEquals(new double[] {3 * pass, 3 * pass}, x.grad().toDoubleArray(), 0);
        }
        x.zeroGrad();
        assertNull(x.grad());
    }

    @Test
    void backwardWithAnExplicitOutputGradient() {
        Tensor x = leaf(1, 2, 3);
        try (Tape tape = Tape.record()) {
            Tensor y = Ops.square(x);
            tape.backward(y, Tensor.of(F64, new double[] {1, 10, 100}, 3));
        }
        assertArrayEquals(new double[] {2, 40, 600}, x.grad().toDoubleArray(), 0);
    }

    @Test
    void inputsThatNeedNoGradientGetNone() {
        Tensor x = leaf(1, 2);
        Tensor c = Tensor.of(F64, new double[] {5, 6}, 2);
        try (Tape tape = Tape.record()) {
            tape.backward(Ops.sum(Ops.mul(x, c)));
        }
        assertArrayEquals(new double[] {5, 6}, x.grad().toDoubleArray(), 0);
        assertNull(c.grad());
        assertFalse(c.requiresGrad());
    }

    @Test
    void lossOnANonDefaultBackendSeedsItsOwnBackend() {
        // Regression: backward(loss) used to seed the gradient on the thread's current backend.
        Tensor x = leaf(0.5, 1.5);
        try (Backends.Scope s = Backends.use(Backends.get("scalar")); Tape tape = Tape.record()) {
            Tensor w = Tensor.of(F64, new double[] {0.1, 0.2}, 2);
            tape.backward(Ops.sum(Ops.mul(Ops.exp(x), w)));
        }
        assertSame(F64, x.grad().backend());
        // float64 all the way: no float32 rounding in the gradient.
        assertEquals(0.1 * Math.exp(0.5), x.grad().toDoubleArray()[0], 1e-15);
        assertEquals(0.2 * Math.exp(1.5), x.grad().toDoubleArray()[1], 1e-15);
    }

    // ================================================================ frozen parameters

    @Test
    void frozenParameterGetsNoGradientAndSaysSo() {
        Parameter w = new Parameter("w", Tensor.of(F64, new double[] {1, 2, 3, 4, 5, 6}, 2, 3));
        Parameter b = new Parameter("b", Tensor.of(F64, new double[] {0.5, 0.5, 0.5}, 3)).freeze(true);
        Tensor x = Tensor.of(F64, new double[] {1, -1}, 1, 2);
        try (Tape tape = Tape.record()) {
            tape.backward(Ops.sum(Ops.add(Ops.matmul(x, w), b)));
        }
        assertNotNull(w.grad());
        assertTrue(b.frozen());
        assertFalse(b.requiresGrad());
        EngineException e = assertThrows(EngineException.class, b::grad);
        assertTrue(e.getMessage().contains("frozen") && e.getMessage().contains("b[3]"), e.getMessage());
        b.freeze(false);
        assertNull(b.grad(), "a frozen parameter must not have collected a gradient");
    }

    @Test
    void onlyFrozenInputsRecordNothing() {
        Parameter w = new Parameter("w", Tensor.of(F64, new double[] {1, 2}, 2)).freeze(true);
        try (Tape tape = Tape.record()) {
            Tensor y = Ops.exp(Ops.scale(w, 2f));
            assertEquals(0, tape.size());
            assertFalse(y.requiresGrad());
        }
    }

    @Test
    void frozenWeightSkipsTheWeightGradientGemm() {
        CountingBackend cb = new CountingBackend(F64);
        for (boolean frozen : new boolean[] {false, true}) {
            for (int[] xShape : new int[][] {{4, 3}, {2, 4, 3}}) {   // 2-D, and the batched linear-layer path
                Tensor x = Tensor.of(cb, new double[xShape.length == 2 ? 12 : 24], xShape).requiresGrad(true);
                Parameter w = new Parameter("w", Tensor.of(cb, new double[15], 3, 5)).freeze(frozen);
                try (Tape tape = Tape.record()) {
                    cb.reset();
                    Tensor y = Ops.matmul(x, w);
                    assertEquals(1, cb.gemms, "forward");
                    cb.reset();
                    tape.backward(y, Tensor.zeros(cb, y.shape()));
                    assertEquals(frozen ? 1 : 2, cb.gemms, "backward GEMMs with " + (frozen ? "a frozen" : "a trainable")
                            + " weight, input " + java.util.Arrays.toString(xShape));
                }
                assertNotNull(x.grad());
            }
        }
        // And the other way round: an input that needs no gradient costs no input-gradient GEMM.
        Tensor x = Tensor.of(cb, new double[12], 4, 3);
        Parameter w = new Parameter("w", Tensor.of(cb, new double[15], 3, 5));
        try (Tape tape = Tape.record()) {
            Tensor y = Ops.matmul(x, w);
            cb.reset();
            tape.backward(y, Tensor.zeros(cb, y.shape()));
            assertEquals(1, cb.gemms);
        }
    }

    @Test
    void unfreezingAPackedParameterKeepsItsGradientInTheFlatBuffer() {
        Parameter w = new Parameter("w", Tensor.of(F64, new double[] {1, 2, 3, 4}, 2, 2));
        ParameterSet set = ParameterSet.of(List.of(w));
        w.freeze(true);
        w.freeze(false);
        try (Tape tape = Tape.record()) {
            tape.backward(Ops.sum(Ops.scale(w, 3f)));
        }
        assertArrayEquals(new double[] {3, 3, 3, 3}, w.grad().toDoubleArray(), 0);
        double[] flat = new double[4];
        F64.downloadDoubles(set.grads(), flat);
        assertArrayEquals(new double[] {3, 3, 3, 3}, flat, 0, "the optimizer reads the flat gradient buffer");
    }

    // ================================================================ tape life cycle

    @Test
    void backwardAfterCloseThrows() {
        Tensor x = leaf(1, 2);
        Tape tape = Tape.record();
        Tensor loss = Ops.sum(Ops.square(x));
        tape.close();
        EngineException e = assertThrows(EngineException.class, () -> tape.backward(loss));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        EngineException e2 = assertThrows(EngineException.class, loss::backward);
        assertTrue(e2.getMessage().contains("closed"), e2.getMessage());
        assertEquals(0, tape.size());
        assertFalse(Tape.recording(), "closing must restore the previous (no) tape");
    }

    @Test
    void backwardTwiceThrows() {
        Tensor x = leaf(1, 2);
        try (Tape tape = Tape.record()) {
            Tensor loss = Ops.sum(Ops.square(x));
            tape.backward(loss);
            EngineException e = assertThrows(EngineException.class, () -> tape.backward(loss));
            assertTrue(e.getMessage().contains("already ran backward"), e.getMessage());
        }
        assertArrayEquals(new double[] {2, 4}, x.grad().toDoubleArray(), 0, "the failed second pass must add nothing");
    }

    @Test
    void tensorFromAClosedTapeUsedOnANewTapeThrowsClearly() {
        Tensor x = leaf(1, 2);
        Tensor h;
        try (Tape first = Tape.record()) {
            h = Ops.exp(x);
        }
        try (Tape second = Tape.record()) {
            Tensor loss = Ops.sum(Ops.mul(h, h));
            EngineException e = assertThrows(EngineException.class, () -> second.backward(loss));
            assertTrue(e.getMessage().contains("closed") && e.getMessage().contains("another tape"), e.getMessage());
        }
        // detach() is the way to use such a value as a constant.
        Tensor y = leaf(3, 4);
        try (Tape third = Tape.record()) {
            third.backward(Ops.sum(Ops.mul(h.detach(), y)));
        }
        assertArrayEquals(new double[] {Math.exp(1), Math.exp(2)}, y.grad().toDoubleArray(), 1e-15);
    }

    @Test
    void backwardOfATensorFromAnotherOpenTapeThrows() {
        Tensor x = leaf(1, 2);
        try (Tape outer = Tape.record()) {
            Tensor h = Ops.exp(x);
            try (Tape inner = Tape.record()) {
                Tensor loss = Ops.sum(h);
                assertEquals(1, outer.size(), "the outer tape holds only exp");
                assertTrue(inner.size() > 0, "sum of h records on the inner tape");
                assertThrows(EngineException.class, () -> outer.backward(loss));
            }
            assertTrue(Tape.recording(), "closing the inner tape must reactivate the outer one");
            Tensor loss = Ops.sum(h);
            outer.backward(loss);
        }
        assertEquals(Math.exp(1), x.grad().toDoubleArray()[0], 1e-15);
    }

    @Test
    void inferenceRecordsNothing() {
        Tensor x = leaf(1, 2);
        try (Tape tape = Tape.record()) {
            try (Tape.Region r = Tape.inference()) {
                assertFalse(Tape.recording());
                Tensor y = Ops.sum(Ops.exp(Ops.mul(x, x)));
                assertFalse(y.requiresGrad());
                assertEquals(0, tape.size());
            }
            assertTrue(Tape.recording());
            Ops.exp(x);
            assertEquals(1, tape.size());
        }
        // With no tape open nothing is recorded either.
        assertFalse(Tape.recording());
        Tensor y = Ops.exp(x);
        assertFalse(y.requiresGrad());
        EngineException e = assertThrows(EngineException.class, y::backward);
        assertTrue(e.getMessage().contains("not recorded"), e.getMessage());
    }

    @Test
    void backwardArgumentChecks() {
        Tensor x = leaf(1, 2);
        try (Tape tape = Tape.record()) {
            Tensor y = Ops.exp(x);
            EngineException notScalar = assertThrows(EngineException.class, () -> tape.backward(y));
            assertTrue(notScalar.getMessage().contains("one-element"), notScalar.getMessage());
            EngineException shape = assertThrows(EngineException.class, () -> tape.backward(y, Tensor.zeros(F64, 3)));
            assertTrue(shape.getMessage().contains("[2]") && shape.getMessage().contains("[3]"), shape.getMessage());
            EngineException other = assertThrows(EngineException.class,
                    () -> tape.backward(y, Tensor.zeros(Backends.get("scalar"), 2)));
            assertTrue(other.getMessage().contains("scalar"), other.getMessage());
            assertThrows(EngineException.class, () -> y.requiresGrad(true), "only leaves can be marked");
        }
    }

    // ================================================================ views

    @Test
    void reshapeAndLeadingSliceAreViewsOfTheSameStorage() {
        CountingBackend cb = new CountingBackend(F64);
        Tensor x = Tensor.of(cb, new double[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 3, 4);
        cb.reset();
        Tensor r = Ops.reshape(x, 2, 6);
        Tensor s = Ops.slice(x, 0, 1, 3);
        Tensor rs = Ops.slice(Ops.reshape(x, 1, 3, 4), 1, 1, 2);  // inner axis after a leading 1: still contiguous
        assertEquals(0, cb.copies + cb.allocations, "views must not copy or allocate");
        assertArrayEquals(new int[] {2, 4}, s.shape());
        assertArrayEquals(new float[] {4, 5, 6, 7, 8, 9, 10, 11}, s.toArray());
        assertArrayEquals(new float[] {4, 5, 6, 7}, rs.toArray());

        // Writing the base shows through every view.
        x.copyFrom(new float[] {100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111});
        assertEquals(106f, r.toArray()[6]);
        assertEquals(104f, s.toArray()[0]);
        assertEquals(107f, rs.toArray()[3]);

        // An inner-axis slice is a copy.
        cb.reset();
        Tensor c = Ops.slice(x, 1, 1, 3);
        assertTrue(cb.copies > 0 && cb.allocations > 0);
        x.copyFrom(new float[12]);
        assertArrayEquals(new float[] {101, 102, 105, 106, 109, 110}, c.toArray());
        assertArrayEquals(new float[8], s.toArray());
    }

    @Test
    void gradientsThroughViewsLandInTheRightPlaces() {
        Tensor x = leaf(1, 2, 3, 4, 5, 6);
        try (Tape tape = Tape.record()) {
            Tensor m = Ops.reshape(x, 3, 2);
            Tensor top = Ops.slice(m, 0, 0, 1);      // view
            Tensor right = Ops.slice(m, 1, 1, 2);    // copy
            tape.backward(Ops.add(Ops.scale(Ops.sum(top), 10f), Ops.sum(right)));
        }
        assertArrayEquals(new double[] {10, 11, 0, 1, 0, 1}, x.grad().toDoubleArray(), 0);
    }

    @Test
    void detachSharesValuesButNotHistory() {
        Tensor x = leaf(1, 2);
        try (Tape tape = Tape.record()) {
            Tensor y = Ops.exp(x);
            Tensor d = y.detach();
            assertFalse(d.requiresGrad());
            assertArrayEquals(y.toArray(), d.toArray());
            assertSame(y.buffer(), d.buffer());
        }
    }
}

package dev.xbt.engine;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Backends;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Bad input fails early with an {@link EngineException} that names the op and the shapes involved;
 * a NaN produced by an op stops the computation at that op. Never an ArrayIndexOutOfBounds from
 * deep inside a kernel.
 */
class BadInputTest {
    private static final Backend B = Backends.get("scalar");
    private Boolean nanGuardWas;

    @BeforeEach
    void enableNanGuard() {
        nanGuardWas = NanGuard.setting();
        NanGuard.setEnabled(true);
    }

    @AfterEach
    void restoreNanGuard() {
        NanGuard.restore(nanGuardWas);
    }

    private static Tensor t(int... shape) {
        float[] d = new float[Shape.size(shape)];
        for (int i = 0; i < d.length; i++) d[i] = 0.1f * (i % 7) - 0.2f;
        return Tensor.of(B, d, shape);
    }

    /** A call that must throw EngineException whose message holds every one of {@code mustName}. */
    private static Arguments bad(String what, Executable call, String... mustName) {
        return Arguments.of(what, call, mustName);
    }

    static Stream<Arguments> badCalls() {
        List<Arguments> a = new ArrayList<>();
        // ---- shape mismatches: op and shapes named
        a.add(bad("add no broadcast", () -> Ops.add(t(2, 3), t(4)), "add", "[2, 3]", "[4]"));
        a.add(bad("sub no broadcast", () -> Ops.sub(t(2, 3, 4), t(3, 3)), "sub", "[2, 3, 4]", "[3, 3]"));
        a.add(bad("mul no broadcast", () -> Ops.mul(t(5), t(4)), "mul", "[5]", "[4]"));
        a.add(bad("div no broadcast", () -> Ops.div(t(2, 1), t(3, 3)), "div", "[2, 1]", "[3, 3]"));
        a.add(bad("matmul inner dims", () -> Ops.matmul(t(2, 3), t(4, 5)), "matmul", "[2, 3]", "[4, 5]", "3 vs 4"));
        a.add(bad("matmul transposed inner dims", () -> Ops.matmul(t(3, 2), t(5, 4), true, true), "matmul", "[3, 2]", "[5, 4]"));
        a.add(bad("matmul rank 1", () -> Ops.matmul(t(3), t(3, 2)), "matmul", "[3]", "[3, 2]"));
        a.add(bad("matmul batch dims", () -> Ops.matmul(t(2, 3, 4), t(3, 4, 5)), "matmul", "[2, 3, 4]", "[3, 4, 5]", "batch"));
        a.add(bad("matmul batch ranks", () -> Ops.matmul(t(2, 3, 4), t(1, 2, 4, 5)), "matmul", "[2, 3, 4]", "[1, 2, 4, 5]"));
        a.add(bad("concat off-axis dims", () -> Ops.concat(0, t(2, 3), t(2, 4)), "concat", "[2, 3]", "[2, 4]"));
        a.add(bad("concat ranks", () -> Ops.concat(1, t(2, 3), t(2, 3, 1)), "concat", "[2, 3]", "[2, 3, 1]"));
        a.add(bad("concat nothing", () -> Ops.concat(0), "concat"));
        a.add(bad("concat axis", () -> Ops.concat(2, t(2, 3), t(2, 3)), "concat", "axis 2"));
        a.add(bad("stack shapes", () -> Ops.stack(t(2, 3), t(3, 2)), "stack", "[2, 3]", "[3, 2]"));
        a.add(bad("stack nothing", () -> Ops.stack(), "concat"));
        a.add(bad("layerNorm gain width", () -> Nn.layerNorm(t(4, 5), t(4), t(5), 1e-5f), "layerNorm", "[4, 5]", "[4]"));
        a.add(bad("layerNorm bias width", () -> Nn.layerNorm(t(4, 5), t(5), t(1, 5), 1e-5f), "layerNorm", "[1, 5]"));
        a.add(bad("layerNorm rank 0", () -> Nn.layerNorm(Tensor.of(B, new float[] {1}), t(1), t(1), 1e-5f), "layerNorm"));
        a.add(bad("attention head dims", () -> Nn.attention(t(2, 5, 4), t(2, 5, 3), t(2, 5, 3), null, false),
                "attention", "[2, 5, 4]", "[2, 5, 3]"));
        a.add(bad("attention k vs v", () -> Nn.attention(t(2, 5, 4), t(2, 6, 4), t(2, 5, 4), null, false),
                "attention", "[2, 6, 4]", "[2, 5, 4]"));
        a.add(bad("attention batch", () -> Nn.attention(t(2, 5, 4), t(3, 5, 4), t(3, 5, 4), null, false), "attention", "[3, 5, 4]"));
        a.add(bad("attention ranks", () -> Nn.attention(t(2, 5, 4), t(5, 4), t(5, 4), null, false), "attention", "[5, 4]"));
        a.add(bad("attention rank 1", () -> Nn.attention(t(4), t(4), t(4), null, false), "attention", "[4]"));
        a.add(bad("attention mask Tq Tk", () -> Nn.attention(t(2, 3, 5, 4), t(2, 3, 6, 4), t(2, 3, 6, 4), t(6, 5), false),
                "attention", "mask", "[6, 5]"));
        a.add(bad("attention mask batch", () -> Nn.attention(t(2, 3, 5, 4), t(2, 3, 5, 4), t(2, 3, 5, 4), t(3, 1, 5, 5), false),
                "attention", "mask", "[3, 1, 5, 5]"));
        // Per-head mask shared over the batch: the kernel cannot apply it, so it must be refused
        // (it used to be accepted and applied to the wrong heads).
        a.add(bad("attention mask [1,H,Tq,Tk]", () -> Nn.attention(t(2, 3, 5, 4), t(2, 3, 5, 4), t(2, 3, 5, 4), t(1, 3, 5, 5), false),
                "attention", "mask", "[1, 3, 5, 5]"));
        a.add(bad("attention mask rank 3 for rank 4", () -> Nn.attention(t(2, 3, 5, 4), t(2, 3, 5, 4), t(2, 3, 5, 4), t(2, 5, 5), false),
                "attention", "[2, 5, 5]"));
        a.add(bad("attention mask rank 1", () -> Nn.attention(t(5, 4), t(5, 4), t(5, 4), t(25), false), "attention", "[25]"));
        a.add(bad("crossEntropy rank", () -> Nn.crossEntropy(t(2, 3, 4), new int[] {0, 1}), "crossEntropy", "[2, 3, 4]"));
        a.add(bad("crossEntropy target count", () -> Nn.crossEntropy(t(3, 4), new int[] {0, 1}), "crossEntropy", "[3, 4]", "2 targets"));
        a.add(bad("crossEntropy target too large", () -> Nn.crossEntropy(t(3, 4), new int[] {0, 4, 1}), "crossEntropy", "[3, 4]", "target 4"));
        a.add(bad("crossEntropy target below -1", () -> Nn.crossEntropy(t(3, 4), new int[] {0, -2, 1}), "crossEntropy", "target -2"));
        a.add(bad("gatherRows index too large", () -> Ops.gatherRows(t(5, 3), new int[] {0, 7}), "gatherRows", "[5, 3]", "index 7"));
        a.add(bad("gatherRows negative index", () -> Ops.gatherRows(t(5, 3), new int[] {-1}), "gatherRows", "[5, 3]", "index -1"));
        a.add(bad("gatherRows rank 0", () -> Ops.gatherRows(Tensor.of(B, new float[] {1}), new int[] {0}), "gatherRows"));
        a.add(bad("embedding id out of range", () -> Ops.embedding(t(10, 4), new int[] {3, 10}, 2), "gatherRows", "[10, 4]", "index 10"));
        a.add(bad("embedding ids vs shape", () -> Ops.embedding(t(10, 4), new int[] {3, 1, 2}, 2, 2), "embedding", "[2, 2]"));
        a.add(bad("embedding table rank", () -> Ops.embedding(t(10), new int[] {3}, 1), "embedding", "[10]"));
        a.add(bad("selectPerRow position", () -> Ops.selectPerRow(t(2, 5, 3), new int[] {1, 5}), "selectPerRow", "[2, 5, 3]", "position 5"));
        a.add(bad("selectPerRow count", () -> Ops.selectPerRow(t(2, 5, 3), new int[] {1}), "selectPerRow", "[2, 5, 3]"));
        a.add(bad("selectPerRow rank 1", () -> Ops.selectPerRow(t(5), new int[] {1, 2, 3, 4, 0}), "selectPerRow", "[5]"));
        a.add(bad("mse shapes", () -> Nn.mse(t(3, 4), t(4, 3)), "mse", "[3, 4]", "[4, 3]"));
        a.add(bad("cosine shapes", () -> Nn.cosineSimilarity(t(3, 4), t(3, 5)), "[3, 4]", "[3, 5]"));
        // ---- axes, ranges and shapes
        a.add(bad("slice range", () -> Ops.slice(t(4, 5), 1, 2, 6), "slice", "[4, 5]", "[2, 6)"));
        a.add(bad("slice reversed", () -> Ops.slice(t(4, 5), 0, 3, 2), "slice", "[4, 5]"));
        a.add(bad("slice negative start", () -> Ops.slice(t(4, 5), 0, -1, 2), "slice", "[4, 5]"));
        a.add(bad("slice axis", () -> Ops.slice(t(4, 5), 2, 0, 1), "slice", "axis 2"));
        a.add(bad("reshape size", () -> Ops.reshape(t(4, 5), 3, 7), "reshape", "[4, 5]", "[3, 7]"));
        a.add(bad("reshape two -1", () -> Ops.reshape(t(4, 5), -1, -1), "reshape", "[4, 5]"));
        a.add(bad("reshape infer", () -> Ops.reshape(t(4, 5), 3, -1), "reshape", "[4, 5]", "[3, -1]"));
        a.add(bad("reshape negative", () -> Ops.reshape(t(4, 5), -2, -10), "reshape", "[4, 5]"));
        a.add(bad("permute length", () -> Ops.permute(t(2, 3, 4), 0, 1), "permute", "[2, 3, 4]"));
        a.add(bad("permute repeated", () -> Ops.permute(t(2, 3, 4), 0, 1, 1), "permute", "[2, 3, 4]", "repeated"));
        a.add(bad("permute axis", () -> Ops.permute(t(2, 3), 0, 2), "permute", "axis 2"));
        a.add(bad("transpose axis", () -> Ops.transpose(t(2, 3), 0, 3), "transpose", "axis 3"));
        a.add(bad("expand", () -> Ops.expand(t(3, 2), 3, 4), "expand", "[3, 2]", "[3, 4]"));
        a.add(bad("expand lower rank", () -> Ops.expand(t(2, 3, 4), 3, 4), "expand", "[2, 3, 4]", "[3, 4]"));
        a.add(bad("sum axis", () -> Ops.sum(t(2, 3), false, 2), "sum", "axis 2"));
        a.add(bad("sum axis of rank 0", () -> Ops.sum(Tensor.of(B, new float[] {1}), false, 0), "sum", "axis 0"));
        a.add(bad("mean axis", () -> Ops.mean(t(2, 3), true, -3), "mean", "axis -3"));
        a.add(bad("max axis", () -> Ops.max(t(2, 3), 5, false), "max", "axis 5"));
        a.add(bad("max empty axis", () -> Ops.max(t(2, 0), 1, false), "max", "[2, 0]"));
        a.add(bad("dropout p = 1", () -> Nn.dropout(t(3), 1f, new Rng(1), true), "dropout", "[3]"));
        a.add(bad("dropout p NaN", () -> Nn.dropout(t(3), Float.NaN, new Rng(1), true), "dropout"));
        a.add(bad("dim axis", () -> t(2, 3).dim(2), "dim", "axis 2"));
        a.add(bad("item of many", () -> t(2, 3).item(), "item", "[2, 3]"));
        a.add(bad("Tensor.of length", () -> Tensor.of(B, new float[5], 2, 3), "Tensor.of", "[2, 3]"));
        a.add(bad("negative dimension", () -> Tensor.zeros(B, 2, -3), "[2, -3]"));
        a.add(bad("copyFrom length", () -> t(2, 3).copyFrom(new float[5]), "copyFrom", "[2, 3]"));
        a.add(bad("copyFrom shape", () -> t(2, 3).copyFrom(t(3, 2)), "copyFrom", "[2, 3]", "[3, 2]"));
        a.add(bad("different backends", () -> Ops.add(t(2), Tensor.of(Backends.get("scalar64"), new float[2], 2)),
                "add", "scalar", "scalar64"));
        a.add(bad("unknown backend", () -> Backends.get("no-such-backend"), "no-such-backend"));
        return a.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badCalls")
    void badInputThrowsANamedEngineException(String what, Executable call, String[] mustName) {
        EngineException e;
        try {
            call.execute();
            fail(what + ": no exception");
            return;
        } catch (EngineException ee) {
            e = ee;
        } catch (Throwable other) {
            throw new AssertionError(what + ": threw " + other + " instead of an EngineException", other);
        }
        String m = e.getMessage();
        for (String s : mustName) assertTrue(m.contains(s), what + ": message lacks '" + s + "': " + m);
        // Recording on a tape must not change the diagnosis.
        try (Tape tape = Tape.record()) {
            EngineException again = assertThrows(EngineException.class, call);
            assertEquals(m, again.getMessage());
        }
    }

    // ================================================================ NaN

    static Stream<Arguments> nanCalls() {
        return Stream.of(
                Arguments.of("log", (Executable) () -> Ops.log(Tensor.of(B, new float[] {1, -1, 2}, 3))),
                Arguments.of("sqrt", (Executable) () -> Ops.sqrt(Tensor.of(B, new float[] {-1}, 1))),
                Arguments.of("rsqrt", (Executable) () -> Ops.rsqrt(Tensor.of(B, new float[] {4, -4}, 2))),
                Arguments.of("div", (Executable) () -> Ops.div(Tensor.of(B, new float[] {0}, 1), Tensor.of(B, new float[] {0}, 1))),
                Arguments.of("sub", (Executable) () -> Ops.sub(Tensor.of(B, new float[] {Float.POSITIVE_INFINITY}, 1),
                        Tensor.of(B, new float[] {Float.POSITIVE_INFINITY}, 1))),
                Arguments.of("mul", (Executable) () -> Ops.mul(Tensor.of(B, new float[] {0, 1}, 2), Tensor.of(B, new float[] {Float.POSITIVE_INFINITY, 1}, 2))),
                Arguments.of("matmul", (Executable) () -> Ops.matmul(Tensor.of(B, new float[] {Float.POSITIVE_INFINITY, 1}, 1, 2),
                        Tensor.of(B, new float[] {0, 1}, 2, 1))),
                Arguments.of("softmax", (Executable) () -> Nn.softmax(Tensor.of(B, new float[] {Float.POSITIVE_INFINITY, 1}, 1, 2))),
                Arguments.of("layerNorm", (Executable) () -> Nn.layerNorm(Tensor.of(B, new float[] {Float.POSITIVE_INFINITY, 1}, 1, 2),
                        Tensor.of(B, new float[] {1, 1}, 2), Tensor.of(B, new float[] {0, 0}, 2), 1e-5f)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("nanCalls")
    void nanStopsAtTheOpThatMadeIt(String op, Executable call) {
        EngineException e = assertThrows(EngineException.class, call);
        assertTrue(e.getMessage().startsWith(op + "("), "message must name " + op + ": " + e.getMessage());
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());
    }

    @Test
    void nanInABackwardRuleNamesTheRule() {
        // sqrt at 0 is fine forward (0) but its derivative is infinite; times a zero upstream
        // gradient that is 0·∞ = NaN in the backward pass.
        Tensor x = Tensor.of(B, new float[] {0, 1}, 2).requiresGrad(true);
        try (Tape tape = Tape.record()) {
            Tensor y = Ops.sqrt(x);
            EngineException e = assertThrows(EngineException.class, () -> tape.backward(y, Tensor.zeros(B, 2)));
            assertTrue(e.getMessage().startsWith("sqrt (backward)("), e.getMessage());
        }
    }

    @Test
    void nanGuardCanBeTurnedOff() {
        NanGuard.setEnabled(false);
        float[] r = Ops.log(Tensor.of(B, new float[] {-1}, 1)).toArray();
        assertTrue(Float.isNaN(r[0]));
    }

    @Test
    void nanGuardByDefaultChecksOnlyBackendsThatComputeAsCalled() {
        // A backend that queues work (a GPU) would wait after every op for the check's read-back.
        Backend queued = new dev.xbt.engine.testing.ForwardingBackend("queued", B) {
            @Override
            public boolean queuesWork() {
                return true;
            }
        };
        NanGuard.restore(null);
        assertThrows(NanGuard.NanException.class, () -> Ops.log(Tensor.of(B, new float[] {-1}, 1)));
        assertTrue(Float.isNaN(Ops.log(Tensor.of(queued, new float[] {-1}, 1)).toArray()[0]));
        NanGuard.setEnabled(true);
        assertThrows(NanGuard.NanException.class, () -> Ops.log(Tensor.of(queued, new float[] {-1}, 1)));
    }

    @Test
    void infinityIsNotNaN() {
        // log(0) = -inf is a legitimate value (e.g. a log-probability); only NaN is an error.
        assertEquals(Float.NEGATIVE_INFINITY, Ops.log(Tensor.of(B, new float[] {0}, 1)).toArray()[0]);
        assertEquals(Float.POSITIVE_INFINITY, Ops.reciprocal(Tensor.of(B, new float[] {0}, 1)).toArray()[0]);
    }

    @Test
    void badInputLeavesTheTapeUsable() {
        Tensor x = Tensor.of(B, new float[] {1, 2}, 2).requiresGrad(true);
        try (Tape tape = Tape.record()) {
            Tensor y = Ops.exp(x);
            assertThrows(EngineException.class, () -> Ops.add(y, t(3)));
            assertThrows(EngineException.class, () -> Ops.log(Ops.neg(y)));
            tape.backward(Ops.sum(y));
        }
        assertEquals((float) Math.exp(2), x.grad().toArray()[1], 1e-5);
    }
}

package dev.xbt.engine;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Backends;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Backward from a scalar loss seeds its gradient on the loss's backend, not on the current one. */
class TapeSeedBackendTest {
    @Test
    void backwardOnABackendOtherThanTheCurrentOne() {
        Backend current = Backends.current();
        Backend other = Backends.get(current.name().equals("scalar64") ? "scalar" : "scalar64");
        assertNotSame(current, other);
        Tensor x = Tensor.of(other, new float[] {1f, -2f, 3f}, 3).requiresGrad(true);
        try (Tape tape = Tape.record()) {
            tape.backward(Ops.sum(Ops.mul(x, x)));   // mul checks that both operands share a backend
        }
        assertSame(other, x.grad().backend());
        assertArrayEquals(new float[] {2f, -4f, 6f}, x.grad().toArray());
    }
}

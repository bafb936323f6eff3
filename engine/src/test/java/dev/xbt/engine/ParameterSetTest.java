package dev.xbt.engine;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Backends;
import dev.xbt.engine.optim.AdamW;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParameterSetTest {
    private final Backend be = Backends.get("scalar");

    private Parameter param(String name, float[] v, int... shape) {
        return new Parameter(name, Tensor.of(be, v, shape));
    }

    @Test
    void packsEachParameterOnceWithDecayedFirst() {
        Parameter bias = param("b", new float[] {1, 2}, 2);
        Parameter w = param("w", new float[] {3, 4, 5, 6}, 2, 2);
        ParameterSet set = ParameterSet.of(List.of(bias, w, bias));
        assertEquals(6, set.count());
        assertEquals(4, set.decayedCount());
        assertEquals(List.of(w, bias), set.parameters());
        assertArrayEquals(new float[] {3, 4, 5, 6}, w.toArray());
        assertArrayEquals(new float[] {1, 2}, bias.toArray());
    }

    @Test
    void stepRefusesAParameterFrozenAfterPacking() {
        Parameter w = param("w", new float[] {3, 4, 5, 6}, 2, 2);
        ParameterSet set = ParameterSet.of(List.of(w));
        AdamW opt = new AdamW(set);
        opt.step(1e-3f);
        w.freeze(true);
        EngineException e = assertThrows(EngineException.class, () -> opt.step(1e-3f));
        assertTrue(e.getMessage().contains("w[2, 2]") && e.getMessage().contains("frozen"), e.getMessage());
    }
}

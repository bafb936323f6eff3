package dev.xbt.engine;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.BackendProvider;
import dev.xbt.engine.backend.Backends;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The backend registry: discovery, lookup by name, and the per-thread current backend. */
class BackendsTest {

    @Test
    void referenceBackendsAreRegistered() {
        List<String> names = Backends.providers().stream().map(BackendProvider::name).toList();
        assertTrue(names.contains("scalar") && names.contains("scalar64"), names.toString());
        for (int i = 1; i < Backends.providers().size(); i++) {
            assertTrue(Backends.providers().get(i - 1).rank() >= Backends.providers().get(i).rank(), "providers not best first");
        }
        assertEquals("scalar", Backends.get("scalar").name());
        assertEquals("scalar64", Backends.get("scalar64").name());
        assertSame(Backends.get("scalar"), Backends.get("scalar"), "a backend is created once");
    }

    @Test
    void unknownBackendNamesTheKnownOnes() {
        EngineException e = assertThrows(EngineException.class, () -> Backends.get("tpu"));
        assertTrue(e.getMessage().contains("tpu") && e.getMessage().contains("scalar"), e.getMessage());
    }

    @Test
    void useScopesNestAndRestore() {
        Backend outer = Backends.current();
        Backend s = Backends.get("scalar"), s64 = Backends.get("scalar64");
        try (Backends.Scope a = Backends.use(s64)) {
            assertSame(s64, Backends.current());
            assertSame(s64, Tensor.zeros(2).backend());
            assertSame(s64, Tensor.of(new float[] {1}, 1).backend());
            try (Backends.Scope b = Backends.use(s)) {
                assertSame(s, Backends.current());
                assertSame(s, Tensor.full(2f, 3).backend());
            }
            assertSame(s64, Backends.current());
        }
        assertSame(outer, Backends.current());
    }

    @Test
    void defaultIsTheBestAvailableProvider() {
        String wanted = System.getProperty("xbt.backend", System.getenv("XBT_BACKEND"));
        if (wanted != null && !wanted.isBlank()) {
            assertEquals(wanted.trim(), Backends.defaultBackend().name());
            return;
        }
        BackendProvider best = Backends.providers().stream().filter(p -> p.unavailableReason().isEmpty()).findFirst().orElseThrow();
        assertEquals(best.name(), Backends.defaultBackend().name());
        assertTrue(!Backends.defaultBackend().name().equals("scalar64"), "the float64 backend must never be the default");
    }

    @Test
    void tensorsMoveBetweenBackends() {
        Backend s = Backends.get("scalar"), s64 = Backends.get("scalar64");
        Tensor a = Tensor.of(s, new float[] {1.5f, -2f, 3.25f}, 3);
        Tensor b = a.to(s64);
        assertSame(s64, b.backend());
        assertSame(a, a.to(s));
        assertEquals(-2f, b.toArray()[1]);
        Tensor c = Tensor.zeros(s64, 3);
        c.copyFrom(a);
        assertEquals(3.25, c.toDoubleArray()[2]);
    }
}

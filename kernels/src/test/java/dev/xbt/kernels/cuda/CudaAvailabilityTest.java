package dev.xbt.kernels.cuda;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.backend.BackendProvider;
import dev.xbt.engine.backend.Backends;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The provider is found, ranks above the CPU, and explains in one line why it is unavailable when it is. */
class CudaAvailabilityTest {
    @Test
    void providerIsRegisteredAndRankedAboveTheCpu() {
        BackendProvider cuda = Backends.providers().stream().filter(p -> p.name().equals("cuda")).findFirst().orElseThrow();
        assertEquals(300, cuda.rank());
        Backends.providers().stream().filter(p -> p.name().equals("cpu"))
                .forEach(cpu -> assertTrue(cuda.rank() > cpu.rank(), "cuda must outrank cpu"));
    }

    @Test
    void unavailableMeansOneLineReasonAndACleanError() {
        Optional<String> why = new CudaBackendProvider().unavailableReason();
        if (why.isEmpty()) return; // a GPU is here: the contract test covers it
        assertFalse(why.get().isBlank());
        assertFalse(why.get().contains("\n"), "reason must be one line: " + why.get());
        EngineException e = assertThrows(EngineException.class, () -> Backends.get("cuda"));
        assertTrue(e.getMessage().contains(why.get()), e.getMessage());
        // Without a driver, the reason names the missing library rather than a JNI loader trace.
        if (!new java.io.File("/dev/nvidiactl").exists()) assertTrue(why.get().contains("libcuda.so.1"), why.get());
    }
}

package dev.xbt.engine.cpu;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.BackendProvider;

import java.util.Optional;

/** Registers the vector CPU backend ("cpu", rank 100): always available on a JVM with jdk.incubator.vector. */
public final class VectorBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int rank() {
        return 100;
    }

    @Override
    public Optional<String> unavailableReason() {
        return Optional.empty();
    }

    @Override
    public Backend create() {
        return new VectorBackend();
    }
}

package dev.xbt.engine.cpu;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.BackendProvider;

import java.util.Optional;

/** Registers the scalar reference backend (rank 0: never the default while a faster one exists). */
public final class ScalarBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public int rank() {
        return 0;
    }

    @Override
    public Optional<String> unavailableReason() {
        return Optional.empty();
    }

    @Override
    public Backend create() {
        return new ScalarBackend();
    }
}

package dev.xbt.engine.cpu;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.BackendProvider;

import java.util.Optional;

/** Registers the float64 scalar backend, used by gradient checks; never a default. */
public final class Scalar64BackendProvider implements BackendProvider {
    @Override
    public String name() {
        return "scalar64";
    }

    @Override
    public int rank() {
        return -1;
    }

    @Override
    public Optional<String> unavailableReason() {
        return Optional.empty();
    }

    @Override
    public Backend create() {
        return new ScalarBackend(true);
    }
}

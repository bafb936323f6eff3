package dev.xbt.engine;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.testing.BackendContract;

/**
 * The backend contract for the Vector API backend "cpu" against the scalar reference. Skipped,
 * with the registry's reason, where no "cpu" backend is registered or it is unavailable.
 */
class CpuBackendContractTest extends BackendContract {
    @Override
    protected Backend backend() {
        return require("cpu");
    }
}

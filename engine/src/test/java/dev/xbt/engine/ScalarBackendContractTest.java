package dev.xbt.engine;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Backends;
import dev.xbt.engine.testing.BackendContract;

/**
 * The backend contract for the float64 reference "scalar64" against the float32 reference
 * "scalar" (the float32 reference against itself would prove nothing): storing float64 must not
 * change any result beyond float32 rounding.
 */
class ScalarBackendContractTest extends BackendContract {
    @Override
    protected Backend backend() {
        return Backends.get("scalar64");
    }

    /**
     * scalar64 is the single-threaded reference: it has no threading thresholds to cross, and one
     * 512×768·768×3072 product takes about 6 s on it.
     */
    @Override
    protected boolean largeCases() {
        return false;
    }
}

package dev.xbt.kernels.opencl;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.testing.BackendContract;

/**
 * The shared backend suite on the OpenCL backend (on CI: PoCL on the CPU) against the scalar
 * reference: every portable kernel is checked on every run. Skipped, with the reason, where no
 * OpenCL platform or device exists.
 */
class OpenClBackendContractTest extends BackendContract {
    @Override
    protected Backend backend() {
        return OpenClTesting.backend();
    }
}

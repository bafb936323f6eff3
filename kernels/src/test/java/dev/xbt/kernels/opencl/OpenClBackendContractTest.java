package dev.xbt.kernels.opencl;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.testing.BackendContract;

/**
 * The engine's backend contract on the OpenCL backend, against the scalar reference. On machines
 * without a GPU it runs on PoCL's CPU device (CI installs pocl-opencl-icd); skipped, with the one-line
 * reason, where no OpenCL platform is present.
 */
class OpenClBackendContractTest extends BackendContract {
    @Override
    protected Backend backend() {
        return require("opencl");
    }
}

package dev.xbt.kernels.cuda;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.testing.BackendContract;

/**
 * The engine's backend contract on the CUDA backend, against the scalar reference. Skipped, with the
 * one-line reason ("no libcuda.so.1 ..."), where no usable GPU is present.
 */
class CudaBackendContractTest extends BackendContract {
    @Override
    protected Backend backend() {
        return require("cuda");
    }
}

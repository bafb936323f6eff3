package dev.xbt.kernels.cuda;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.BackendProvider;

import java.util.Optional;

/** Registers the CUDA backend "cuda" (rank 300, above "opencl" and "cpu") where a usable GPU is present. */
public final class CudaBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int rank() {
        return 300;
    }

    @Override
    public Optional<String> unavailableReason() {
        return CudaDevice.probe();
    }

    @Override
    public Backend create() {
        return new CudaBackend(CudaDevice.get());
    }
}

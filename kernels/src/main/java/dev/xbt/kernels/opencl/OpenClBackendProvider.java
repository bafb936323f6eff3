package dev.xbt.kernels.opencl;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.BackendProvider;

import java.util.Optional;

/**
 * Registers the OpenCL backend "opencl". On a GPU it ranks 200 (above "cpu", below "cuda"); on a CPU
 * device (PoCL) it ranks 50, below the Vector API backend "cpu", which is faster there: it is then
 * chosen only by name ({@code -Dxbt.backend=opencl}), as the tests do.
 */
public final class OpenClBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public int rank() {
        return OpenClDevice.probe().isEmpty() && OpenClDevice.get().gpu() ? 200 : 50;
    }

    @Override
    public Optional<String> unavailableReason() {
        return OpenClDevice.probe();
    }

    @Override
    public Backend create() {
        return new OpenClBackend(OpenClDevice.get());
    }
}

package dev.xbt.kernels.opencl;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.BackendProvider;

import java.util.Optional;

/**
 * Registers the OpenCL backend "opencl". Rank 200 on a GPU (above the CPU backend); on a CPU
 * device such as PoCL rank 50, below the Vector API backend "cpu", which is faster there, so it
 * is used only when asked for by name ({@code -Dxbt.backend=opencl}).
 */
public final class OpenClBackendProvider implements BackendProvider {
    public static final int GPU_RANK = 200, CPU_RANK = 50;

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public int rank() {
        OpenClDevice d = OpenClDevice.probe().device();
        return d != null && d.gpu() ? GPU_RANK : CPU_RANK;
    }

    @Override
    public Optional<String> unavailableReason() {
        return Optional.ofNullable(OpenClDevice.probe().unavailableReason());
    }

    @Override
    public Backend create() {
        OpenClDevice d = OpenClDevice.probe().device();
        if (d == null) throw new IllegalStateException("opencl: " + OpenClDevice.probe().unavailableReason());
        return new OpenClBackend(d);
    }
}

package dev.xbt.engine.backend;

import java.util.Optional;

/**
 * Found through {@link java.util.ServiceLoader}: one per backend. The highest-ranked available
 * provider becomes the default; {@code -Dxbt.backend=NAME} picks one by name.
 */
public interface BackendProvider {
    String name();

    /** Higher wins: scalar 0, cpu 100, opencl 200, cuda 300. */
    int rank();

    /** Empty when usable here, else a one-line reason (e.g. "no libcuda.so.1"). */
    Optional<String> unavailableReason();

    /** Creates the backend; called at most once, and only when available. */
    Backend create();
}

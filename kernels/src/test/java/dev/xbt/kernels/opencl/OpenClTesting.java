package dev.xbt.kernels.opencl;

import dev.xbt.engine.backend.Backends;
import org.junit.jupiter.api.Assumptions;

import java.util.Optional;

/** The OpenCL backend for tests: skipped with the one-line reason where there is no OpenCL device. */
final class OpenClTesting {
    private OpenClTesting() {}

    /**
     * The registered "opencl" backend. Only a missing platform or device skips; once a device
     * exists, a failure to build the kernels or to start fails the test.
     */
    static OpenClBackend backend() {
        Optional<String> why = new OpenClBackendProvider().unavailableReason();
        Assumptions.assumeTrue(why.isEmpty(), () -> "OpenCL backend not available here: " + why.orElse(""));
        return (OpenClBackend) Backends.get("opencl");
    }
}

package dev.xbt.kernels.cuda;

import java.nio.file.Path;

/** Lets tests in other packages find nvcc the way {@link PtxUpToDateTest} does. */
public final class PtxUpToDateTestAccess {
    private PtxUpToDateTestAccess() {}

    public static Path nvcc() {
        return PtxUpToDateTest.nvcc();
    }
}

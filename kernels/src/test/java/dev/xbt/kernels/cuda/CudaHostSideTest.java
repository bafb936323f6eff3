package dev.xbt.kernels.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CUDA allocator's size classes, checked without a GPU (the kernels and launches: {@link CudaLaunchSignatureTest}). */
class CudaHostSideTest {
    @Test
    void allocationSizesRoundToReusableClasses() {
        assertEquals(512, CudaMemory.rounded(1));
        assertEquals(1024, CudaMemory.rounded(513));
        assertEquals(1 << 20, CudaMemory.rounded(1 << 20));
        // Above 1 MiB: quarter steps between powers of two, never less than asked.
        long prev = 0;
        for (long b = (1 << 20) + 1; b < (64L << 20); b += 997_331) {
            long r = CudaMemory.rounded(b);
            assertTrue(r >= b && r <= b * 1.25 + 512, b + " -> " + r);
            assertTrue(r >= prev);
            prev = r;
        }
        assertEquals(5L << 20, CudaMemory.rounded((4L << 20) + 1));
    }
}

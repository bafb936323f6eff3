package dev.xbt.kernels.cuda;

import jcuda.driver.CUdeviceptr;

/** A JCuda device pointer that also tells its raw address (kernel arguments and cuBLAS take it as a 64-bit value). */
final class DevicePtr extends CUdeviceptr {
    /** Base address once cuMemAlloc has filled this object in. */
    long address() {
        return getNativePointer() + getByteOffset();
    }
}

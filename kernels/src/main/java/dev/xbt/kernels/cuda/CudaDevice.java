package dev.xbt.kernels.cuda;

import dev.xbt.engine.EngineException;
import jcuda.CudaException;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;

/**
 * The GPU the backend runs on: device 0 (or {@code -Dxbt.cuda.device=N}), its primary context, made
 * current on every thread that calls in. {@link #probe} answers whether CUDA is usable here without
 * throwing: the one-line reason is what the backend registry shows.
 */
final class CudaDevice {
    /** The PTX is built for sm_80: older chips cannot run the tensor-core kernels (nor load the module). */
    static final int MIN_MAJOR = 8;

    final CUdevice device;
    final CUcontext context;
    final String name;
    final int major, minor, multiprocessors, driverVersion;
    final long totalMemory;
    private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> false);

    private static Optional<String> probed;
    private static CudaDevice instance;

    private CudaDevice(int ordinal) {
        cuInit(0);
        int[] count = new int[1];
        cuDeviceGetCount(count);
        if (count[0] == 0) throw new EngineException("no CUDA device");
        if (ordinal < 0 || ordinal >= count[0]) {
            throw new EngineException("xbt.cuda.device=" + ordinal + " but there are " + count[0] + " CUDA devices");
        }
        device = new CUdevice();
        cuDeviceGet(device, ordinal);
        byte[] nm = new byte[256];
        cuDeviceGetName(nm, nm.length, device);
        int len = 0;
        while (len < nm.length && nm[len] != 0) len++;
        name = new String(nm, 0, len, StandardCharsets.UTF_8);
        major = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        minor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        multiprocessors = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        long[] total = new long[1];
        cuDeviceTotalMem(total, device);
        totalMemory = total[0];
        int[] v = new int[1];
        cuDriverGetVersion(v);
        driverVersion = v[0];
        if (major < MIN_MAJOR) {
            throw new EngineException(name + " has compute capability " + major + "." + minor
                    + "; the CUDA kernels need 8.0 (sm_80) or newer");
        }
        context = new CUcontext();
        cuDevicePrimaryCtxRetain(context, device);
        makeCurrent();
    }

    private int attribute(int which) {
        int[] v = new int[1];
        cuDeviceGetAttribute(v, which, device);
        return v[0];
    }

    /** Binds the context to the calling thread (once per thread). */
    void makeCurrent() {
        if (!current.get()) {
            cuCtxSetCurrent(context);
            current.set(true);
        }
    }

    /** The device, initialised on first use; fails with the probe's reason. */
    static synchronized CudaDevice get() {
        Optional<String> why = probe();
        if (why.isPresent()) throw new EngineException("cuda: " + why.get());
        return instance;
    }

    /** Empty when a usable GPU is here, else why not, in one line. Cached. */
    static synchronized Optional<String> probe() {
        if (probed != null) return probed;
        // Look for the driver first, without JCuda: its natives would fail to load with a long message.
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup.libraryLookup("libcuda.so.1", arena);
        } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
            return probed = Optional.of("no libcuda.so.1 (no NVIDIA driver on this machine)");
        } catch (IllegalCallerException e) {
            return probed = Optional.of("native access is disabled (run java with --enable-native-access=ALL-UNNAMED)");
        }
        try {
            JCudaDriver.setExceptionsEnabled(true);
            int ordinal = Integer.getInteger("xbt.cuda.device", 0);
            instance = new CudaDevice(ordinal);
            return probed = Optional.empty();
        } catch (LinkageError e) {
            return probed = Optional.of("JCuda's driver binding did not load: " + firstLine(e));
        } catch (CudaException | EngineException e) {
            return probed = Optional.of(firstLine(e));
        }
    }

    static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.lines().findFirst().orElse(m).strip();
    }

    @Override
    public String toString() {
        return name + " (sm_" + major + minor + ", " + multiprocessors + " SMs, " + (totalMemory >> 20) + " MiB, driver "
                + driverVersion / 1000 + "." + driverVersion % 1000 / 10 + ")";
    }
}

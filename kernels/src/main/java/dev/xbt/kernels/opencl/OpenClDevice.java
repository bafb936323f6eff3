package dev.xbt.kernels.opencl;

import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.jocl.CL.CL_DEVICE_GLOBAL_MEM_SIZE;
import static org.jocl.CL.CL_DEVICE_LOCAL_MEM_SIZE;
import static org.jocl.CL.CL_DEVICE_MAX_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_DEVICE_NAME;
import static org.jocl.CL.CL_DEVICE_SINGLE_FP_CONFIG;
import static org.jocl.CL.CL_DEVICE_TYPE;
import static org.jocl.CL.CL_DEVICE_TYPE_ACCELERATOR;
import static org.jocl.CL.CL_DEVICE_TYPE_ALL;
import static org.jocl.CL.CL_DEVICE_TYPE_GPU;
import static org.jocl.CL.CL_DEVICE_VERSION;
import static org.jocl.CL.CL_DRIVER_VERSION;
import static org.jocl.CL.CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT;
import static org.jocl.CL.CL_PLATFORM_NAME;
import static org.jocl.CL.clGetDeviceIDs;
import static org.jocl.CL.clGetDeviceInfo;
import static org.jocl.CL.clGetPlatformIDs;
import static org.jocl.CL.clGetPlatformInfo;

/**
 * The OpenCL device the backend runs on, found once per JVM: a GPU before an accelerator before a
 * CPU (PoCL), or the first whose name contains {@code -Dxbt.opencl.device=TEXT}. When there is
 * none, {@link #probe} says why in one line.
 */
record OpenClDevice(cl_platform_id platform, cl_device_id device, String platformName, String name, String version,
                    String driver, boolean gpu, long globalMemBytes, long localMemBytes, long maxWorkGroup,
                    boolean correctlyRoundedDivideSqrt) {

    /** The device, or the reason there is none. */
    record Probe(OpenClDevice device, String unavailableReason) {}

    private static volatile Probe probe;

    /** Looks for a device on first call; later calls return the same answer. */
    static Probe probe() {
        Probe p = probe;
        if (p == null) {
            synchronized (OpenClDevice.class) {
                if (probe == null) probe = find(System.getProperty("xbt.opencl.device", ""));
                p = probe;
            }
        }
        return p;
    }

    /** "PoCL ... cpu" for messages and the harness. */
    String describe() {
        return name + " (" + platformName + ", " + version + ", driver " + driver + ", " + (gpu ? "GPU" : "CPU") + ")";
    }

    private static Probe find(String wanted) {
        try {
            CL.setExceptionsEnabled(true);
            int[] count = new int[1];
            try {
                clGetPlatformIDs(0, null, count);
            } catch (CLException e) {
                // The ICD loader answers CL_PLATFORM_NOT_FOUND_KHR when no vendor file is installed.
                return new Probe(null, "no OpenCL platform (" + e.getMessage() + "; is an ICD such as pocl-opencl-icd installed?)");
            }
            if (count[0] == 0) return new Probe(null, "no OpenCL platform (no ICD installed)");
            cl_platform_id[] platforms = new cl_platform_id[count[0]];
            clGetPlatformIDs(platforms.length, platforms, null);
            List<OpenClDevice> all = new ArrayList<>();
            for (cl_platform_id pl : platforms) {
                int[] n = new int[1];
                try {
                    clGetDeviceIDs(pl, CL_DEVICE_TYPE_ALL, 0, null, n);
                } catch (CLException e) {
                    continue; // CL_DEVICE_NOT_FOUND on this platform
                }
                cl_device_id[] ds = new cl_device_id[n[0]];
                clGetDeviceIDs(pl, CL_DEVICE_TYPE_ALL, ds.length, ds, null);
                for (cl_device_id d : ds) all.add(describe(pl, d));
            }
            if (all.isEmpty()) return new Probe(null, "no OpenCL device on " + platforms.length + " platform(s)");
            OpenClDevice best = null;
            for (OpenClDevice d : all) {
                if (!wanted.isBlank() && !d.name.toLowerCase(Locale.ROOT).contains(wanted.toLowerCase(Locale.ROOT))) continue;
                if (!d.version.startsWith("OpenCL 1.0") && !d.version.startsWith("OpenCL 1.1")
                        && (best == null || d.preference() > best.preference())) best = d;
            }
            if (best == null) {
                return new Probe(null, "no OpenCL 1.2+ device" + (wanted.isBlank() ? "" : " named like '" + wanted + "'")
                        + " among " + all.stream().map(d -> d.name + " [" + d.version + "]").toList());
            }
            return new Probe(best, null);
        } catch (LinkageError e) {
            return new Probe(null, "JOCL's native library did not load: " + e.getMessage().lines().findFirst().orElse(e.toString()));
        } catch (CLException e) {
            return new Probe(null, "OpenCL query failed: " + e.getMessage());
        }
    }

    /** GPUs first, then accelerators, then CPUs. */
    private int preference() {
        return gpu ? 2 : 0;
    }

    private static OpenClDevice describe(cl_platform_id pl, cl_device_id d) {
        long[] type = new long[1];
        clGetDeviceInfo(d, CL_DEVICE_TYPE, Sizeof.cl_ulong, Pointer.to(type), null);
        long[] fp = new long[1];
        clGetDeviceInfo(d, CL_DEVICE_SINGLE_FP_CONFIG, Sizeof.cl_ulong, Pointer.to(fp), null);
        boolean gpu = (type[0] & (CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR)) != 0;
        return new OpenClDevice(pl, d, platformString(pl, CL_PLATFORM_NAME), deviceString(d, CL_DEVICE_NAME),
                deviceString(d, CL_DEVICE_VERSION), deviceString(d, CL_DRIVER_VERSION), gpu,
                deviceLong(d, CL_DEVICE_GLOBAL_MEM_SIZE), deviceLong(d, CL_DEVICE_LOCAL_MEM_SIZE),
                deviceSize(d, CL_DEVICE_MAX_WORK_GROUP_SIZE), (fp[0] & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0);
    }

    private static String platformString(cl_platform_id p, int param) {
        long[] size = new long[1];
        clGetPlatformInfo(p, param, 0, null, size);
        byte[] b = new byte[(int) size[0]];
        clGetPlatformInfo(p, param, b.length, Pointer.to(b), null);
        return cString(b);
    }

    private static String deviceString(cl_device_id d, int param) {
        long[] size = new long[1];
        clGetDeviceInfo(d, param, 0, null, size);
        byte[] b = new byte[(int) size[0]];
        clGetDeviceInfo(d, param, b.length, Pointer.to(b), null);
        return cString(b);
    }

    private static long deviceLong(cl_device_id d, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(d, param, Sizeof.cl_ulong, Pointer.to(v), null);
        return v[0];
    }

    private static long deviceSize(cl_device_id d, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(d, param, Sizeof.size_t, Pointer.to(v), null);
        return v[0];
    }

    private static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, StandardCharsets.UTF_8).trim();
    }
}

package dev.xbt.kernels.opencl;

import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The OpenCL device this process uses: the first GPU of any platform, else the first device of any
 * other type (PoCL's CPU device on machines without a GPU). Probed once; {@code -Dxbt.opencl.device=cpu|gpu}
 * restricts the type.
 */
record OpenClDevice(cl_platform_id platform, cl_device_id device, String name, String platformName, boolean gpu,
                    boolean fp64) {

    private static volatile Object probed; // an OpenClDevice, or the String reason it is unavailable

    /** Empty when a usable device is present, else a one-line reason. */
    static Optional<String> probe() {
        Object p = probeOnce();
        return p instanceof String reason ? Optional.of(reason) : Optional.empty();
    }

    static OpenClDevice get() {
        Object p = probeOnce();
        if (p instanceof String reason) throw new IllegalStateException("OpenCL is unavailable: " + reason);
        return (OpenClDevice) p;
    }

    private static synchronized Object probeOnce() {
        if (probed == null) probed = find();
        return probed;
    }

    private static Object find() {
        try {
            CL.setExceptionsEnabled(true);
            int[] count = new int[1];
            try {
                CL.clGetPlatformIDs(0, null, count);
            } catch (RuntimeException e) {
                return "no OpenCL platform (install an ICD, e.g. sudo apt-get install pocl-opencl-icd)";
            }
            if (count[0] == 0) return "no OpenCL platform (install an ICD, e.g. sudo apt-get install pocl-opencl-icd)";
            cl_platform_id[] platforms = new cl_platform_id[count[0]];
            CL.clGetPlatformIDs(platforms.length, platforms, null);
            String want = System.getProperty("xbt.opencl.device", "any");
            OpenClDevice fallback = null;
            for (cl_platform_id platform : platforms) {
                int[] n = new int[1];
                try {
                    CL.clGetDeviceIDs(platform, CL.CL_DEVICE_TYPE_ALL, 0, null, n);
                } catch (RuntimeException e) {
                    continue; // a platform without devices reports CL_DEVICE_NOT_FOUND
                }
                cl_device_id[] devices = new cl_device_id[n[0]];
                CL.clGetDeviceIDs(platform, CL.CL_DEVICE_TYPE_ALL, devices.length, devices, null);
                for (cl_device_id d : devices) {
                    long[] type = new long[1];
                    CL.clGetDeviceInfo(d, CL.CL_DEVICE_TYPE, Sizeof.cl_long, Pointer.to(type), null);
                    boolean gpu = (type[0] & CL.CL_DEVICE_TYPE_GPU) != 0;
                    if (want.equals("gpu") && !gpu || want.equals("cpu") && gpu) continue;
                    OpenClDevice dev = new OpenClDevice(platform, d, info(d, CL.CL_DEVICE_NAME),
                            platformInfo(platform), gpu, info(d, CL.CL_DEVICE_EXTENSIONS).contains("cl_khr_fp64"));
                    if (!dev.fp64) continue; // the kernels accumulate row sums in double
                    if (gpu) return dev;
                    if (fallback == null) fallback = dev;
                }
            }
            return fallback != null ? fallback
                    : "no OpenCL device" + (want.equals("any") ? "" : " of type " + want) + " with double precision";
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            return "no OpenCL library (libOpenCL.so.1; install ocl-icd-libopencl1 and an ICD such as pocl-opencl-icd)";
        } catch (RuntimeException e) {
            return "OpenCL probe failed: " + e.getMessage();
        }
    }

    private static String info(cl_device_id d, int param) {
        long[] size = new long[1];
        CL.clGetDeviceInfo(d, param, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        CL.clGetDeviceInfo(d, param, buf.length, Pointer.to(buf), null);
        return cString(buf);
    }

    private static String platformInfo(cl_platform_id p) {
        long[] size = new long[1];
        CL.clGetPlatformInfo(p, CL.CL_PLATFORM_NAME, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        CL.clGetPlatformInfo(p, CL.CL_PLATFORM_NAME, buf.length, Pointer.to(buf), null);
        return cString(buf);
    }

    private static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, StandardCharsets.UTF_8).trim();
    }

    @Override
    public String toString() {
        return name + " (" + platformName + (gpu ? ", GPU" : ", CPU") + ")";
    }
}

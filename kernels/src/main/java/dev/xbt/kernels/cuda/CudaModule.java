package dev.xbt.kernels.cuda;

import dev.xbt.engine.EngineException;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;

/**
 * The PTX modules shipped as resources (built by scripts/build-cuda-ptx from kernels/src/main/cuda),
 * loaded once with cuModuleLoadData (the driver JIT-compiles them for the chip), and their functions,
 * each looked up once. {@link Launch} collects one launch's arguments in the order of the kernel's
 * parameters.
 */
final class CudaModule {
    static final String[] MODULES = {"ops", "gemm"};

    private final Map<String, CUfunction> functions = new HashMap<>();
    private final List<CUmodule> modules = new ArrayList<>();

    CudaModule() {
        for (String name : MODULES) {
            String resource = name + ".ptx";
            byte[] ptx;
            try (InputStream in = CudaModule.class.getResourceAsStream(resource)) {
                if (in == null) throw new EngineException("cuda: PTX resource " + resource + " is missing from the jar");
                byte[] body = in.readAllBytes();
                ptx = new byte[body.length + 1]; // cuModuleLoadData wants a NUL-terminated image
                System.arraycopy(body, 0, ptx, 0, body.length);
            } catch (IOException e) {
                throw new EngineException("cuda: cannot read " + resource + ": " + e.getMessage());
            }
            CUmodule m = new CUmodule();
            cuModuleLoadData(m, ptx);
            modules.add(m);
            for (String fn : entryPoints(new String(ptx, 0, ptx.length - 1, java.nio.charset.StandardCharsets.US_ASCII))) {
                CUfunction f = new CUfunction();
                cuModuleGetFunction(f, m, fn);
                functions.put(fn, f);
            }
        }
    }

    /** Names of the .entry functions of a PTX text. */
    static List<String> entryPoints(String ptx) {
        List<String> names = new ArrayList<>();
        for (String line : ptx.split("\n")) {
            String l = line.strip();
            int at = l.indexOf(".entry ");
            if (at < 0) continue;
            String rest = l.substring(at + 7).strip();
            int end = 0;
            while (end < rest.length() && (Character.isLetterOrDigit(rest.charAt(end)) || rest.charAt(end) == '_')) end++;
            names.add(rest.substring(0, end));
        }
        return names;
    }

    CUfunction function(String name) {
        CUfunction f = functions.get(name);
        if (f == null) throw new EngineException("cuda: no kernel " + name + " in the PTX modules");
        return f;
    }

    Launch launch(String kernel) {
        return new Launch(function(kernel));
    }

    /** One kernel launch: arguments in parameter order, then {@link #run}. */
    static final class Launch {
        private final CUfunction function;
        private final List<Pointer> args = new ArrayList<>(16);

        Launch(CUfunction function) {
            this.function = function;
        }

        Launch i(int v) {
            args.add(Pointer.to(new int[] {v}));
            return this;
        }

        Launch l(long v) {
            args.add(Pointer.to(new long[] {v}));
            return this;
        }

        Launch f(float v) {
            args.add(Pointer.to(new float[] {v}));
            return this;
        }

        /** A buffer's device address; null passes a null pointer (an output that is not wanted). */
        Launch p(CudaBuffer b) {
            return l(b == null ? 0L : b.address());
        }

        /** A struct passed by value, as its int fields in order. */
        Launch struct(int[] fields) {
            args.add(Pointer.to(fields));
            return this;
        }

        void run(CUstream stream, int gridX, int gridY, int gridZ, int block, int sharedBytes) {
            run(stream, gridX, gridY, gridZ, block, 1, sharedBytes);
        }

        void run(CUstream stream, int gridX, int gridY, int gridZ, int blockX, int blockY, int sharedBytes) {
            if (gridX <= 0 || gridY <= 0 || gridZ <= 0) return; // nothing to do
            cuLaunchKernel(function, gridX, gridY, gridZ, blockX, blockY, 1, sharedBytes, stream,
                    Pointer.to(args.toArray(new Pointer[0])), null);
        }
    }
}

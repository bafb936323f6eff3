package dev.xbt.kernels.cuda;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.backend.Buffer;
import dev.xbt.kernels.KernelSignature;
import dev.xbt.kernels.PortableKernels;
import dev.xbt.kernels.PortableLaunch;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;

/**
 * The PTX modules shipped as resources, built by scripts/build-cuda-ptx: one per portable source
 * ({@link PortableKernels#SOURCES}, NAME.cl to NAME.ptx) and one per CUDA-only source
 * (kernels/src/main/cuda/NAME.cu). Loaded once with cuModuleLoadData (the driver JIT-compiles them
 * for the chip), every function looked up once. {@link Launch} passes a launch's arguments to
 * cuLaunchKernel.
 */
final class CudaModule {
    /** The CUDA-only sources under kernels/src/main/cuda. */
    static final List<String> CUDA_ONLY_SOURCES = List.of("mma_gemm");

    /** Every PTX module's name, portable ones first. */
    static List<String> moduleNames() {
        List<String> names = new ArrayList<>();
        for (String s : PortableKernels.SOURCES) names.add(s.substring(0, s.length() - ".cl".length()));
        names.addAll(CUDA_ONLY_SOURCES);
        return names;
    }

    private final Map<String, CUfunction> functions = new HashMap<>();
    private final List<CUmodule> modules = new ArrayList<>();

    CudaModule() {
        for (String name : moduleNames()) {
            String text = ptx(name);
            byte[] body = text.getBytes(StandardCharsets.US_ASCII);
            byte[] image = Arrays.copyOf(body, body.length + 1); // cuModuleLoadData wants a NUL-terminated image
            CUmodule m = new CUmodule();
            cuModuleLoadData(m, image);
            modules.add(m);
            for (String fn : entryPoints(text)) {
                CUfunction f = new CUfunction();
                cuModuleGetFunction(f, m, fn);
                if (functions.put(fn, f) != null) throw new EngineException("cuda: kernel " + fn + " is in two PTX modules");
            }
        }
    }

    /** The text of module {@code name}'s PTX resource. */
    static String ptx(String name) {
        String resource = name + ".ptx";
        try (InputStream in = CudaModule.class.getResourceAsStream(resource)) {
            if (in == null) throw new EngineException("cuda: PTX resource " + resource + " is missing from the jar");
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new EngineException("cuda: cannot read " + resource + ": " + e.getMessage());
        }
    }

    /** Names of the .entry functions of a PTX text. */
    static List<String> entryPoints(String ptx) {
        return new ArrayList<>(PtxSignatures.parse(ptx).keySet());
    }

    /** A launch of the kernel on the stream, timed when {@code profile} is not null. */
    Launch launch(KernelSignature signature, CUstream stream, CudaProfile profile) {
        CUfunction f = functions.get(signature.name());
        if (f == null) throw new EngineException("cuda: no kernel " + signature.name() + " in the PTX modules");
        return new Launch(signature, f, stream, profile);
    }

    /** One kernel launch: each argument as a JCuda pointer to its value, in parameter order. */
    static final class Launch extends PortableLaunch {
        private final CUfunction function;
        private final CUstream stream;
        private final CudaProfile profile;
        private final List<Pointer> args = new ArrayList<>(24);

        Launch(KernelSignature signature, CUfunction function, CUstream stream, CudaProfile profile) {
            super(signature);
            this.function = function;
            this.stream = stream;
            this.profile = profile;
        }

        @Override
        protected void putInt(int v) {
            args.add(Pointer.to(new int[] {v}));
        }

        @Override
        protected void putFloat(float v) {
            args.add(Pointer.to(new float[] {v}));
        }

        @Override
        protected void putLong(long v) {
            args.add(Pointer.to(new long[] {v}));
        }

        @Override
        protected void putAddress(long deviceAddress) {
            putLong(deviceAddress);
        }

        /** The address of the buffer's element 0 and {@code extra} as the offset (element 0 already includes the slice's). */
        @Override
        protected void putBuffer(Buffer b, long extra) {
            putLong(CudaBackend.c(b).address());
            putInt(Math.toIntExact(extra));
        }

        @Override
        protected void putPointer(Buffer b) {
            putLong(CudaBackend.c(b).address());
        }

        @Override
        protected void submit(int gx, int gy, int gz, int lx, int ly) {
            if (profile != null) profile.begin(kernel());
            cuLaunchKernel(function, gx, gy, gz, lx, ly, 1, 0, stream, Pointer.to(args.toArray(new Pointer[0])), null);
            if (profile != null) profile.end();
        }
    }
}

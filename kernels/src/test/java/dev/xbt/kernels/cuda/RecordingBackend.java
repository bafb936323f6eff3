package dev.xbt.kernels.cuda;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Buffer;
import dev.xbt.kernels.KernelSignature;
import dev.xbt.kernels.PortableBackend;
import dev.xbt.kernels.PortableLaunch;

import java.util.ArrayList;
import java.util.List;

/**
 * The shared launch plan with no device: buffers are address ranges, and each launch is recorded
 * (kernel, the kind of every argument in order, geometry) instead of issued. Kernel names resolve
 * as in {@link CudaBackend}: its CUDA-only table, then the portable one. Reads return zeros.
 */
final class RecordingBackend extends PortableBackend {
    record Call(String kernel, List<KernelSignature.Arg> kinds, int[] groups, int[] local) {}

    final List<Call> calls = new ArrayList<>();
    private long nextAddress = 0x10000;

    final class FakeBuffer implements Buffer {
        final long address, length;

        FakeBuffer(long address, long length) {
            this.address = address;
            this.length = length;
        }

        @Override
        public long length() {
            return length;
        }

        @Override
        public Buffer slice(long off, long len) {
            if (off < 0 || len < 0 || off + len > length) throw new IndexOutOfBoundsException(off + "+" + len + " of " + length);
            return new FakeBuffer(address + 4 * off, len);
        }

        @Override
        public Backend backend() {
            return RecordingBackend.this;
        }

        @Override
        public void close() {}
    }

    @Override
    public String name() {
        return "recording";
    }

    @Override
    protected KernelSignature signature(String kernel) {
        KernelSignature s = CudaBackend.CUDA_ONLY.get(kernel);
        return s != null ? s : super.signature(kernel);
    }

    PortableLaunch launchOf(String kernel) {
        return launch(kernel);
    }

    @Override
    protected PortableLaunch launch(String kernel) {
        return new PortableLaunch(signature(kernel)) {
            private final List<KernelSignature.Arg> kinds = new ArrayList<>();

            @Override
            protected void putInt(int v) {
                kinds.add(KernelSignature.Arg.INT);
            }

            @Override
            protected void putFloat(float v) {
                kinds.add(KernelSignature.Arg.FLOAT);
            }

            @Override
            protected void putLong(long v) {
                kinds.add(KernelSignature.Arg.LONG);
            }

            @Override
            protected void putAddress(long deviceAddress) {
                kinds.add(KernelSignature.Arg.POINTER);
            }

            @Override
            protected void putBuffer(Buffer b, long extra) {
                FakeBuffer f = (FakeBuffer) b;
                if (extra < 0 || (f.length > 0 && extra >= f.length)) {
                    throw new IllegalStateException(kernel() + ": offset " + extra + " outside a buffer of " + f.length);
                }
                kinds.add(KernelSignature.Arg.POINTER);
                kinds.add(KernelSignature.Arg.INT);
            }

            @Override
            protected void putPointer(Buffer b) {
                kinds.add(KernelSignature.Arg.POINTER);
            }

            @Override
            protected void submit(int gx, int gy, int gz, int lx, int ly) {
                calls.add(new Call(kernel(), List.copyOf(kinds), new int[] {gx, gy, gz}, new int[] {lx, ly}));
            }
        };
    }

    @Override
    public Buffer allocate(long n) {
        FakeBuffer b = new FakeBuffer(nextAddress, n);
        nextAddress += 4 * Math.max(1, n) + 256;
        return b;
    }

    @Override
    protected Buffer allocateUnfilled(long n) {
        return allocate(n);
    }

    @Override
    public Buffer upload(float[] src, int off, int n) {
        return allocate(n);
    }

    @Override
    public void download(Buffer src, float[] dst, int dstOff) {}

    @Override
    protected Buffer uploadInts(int[] values) {
        return allocate(values.length);
    }

    @Override
    protected Buffer scratch(long n) {
        return allocate(n);
    }

    @Override
    protected void readInts(Buffer src, int[] dst) {}

    @Override
    protected Buffer placeholder() {
        return allocate(1);
    }
}

package dev.xbt.kernels;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.backend.Buffer;

/**
 * One kernel launch being put together: arguments in the kernel's order, each checked against its
 * {@link KernelSignature} as it is added, then the launch geometry. A backend supplies how an
 * argument reaches its device and how the launch is issued; a wrong argument kind, a missing or
 * extra argument, or a geometry outside what both OpenCL and CUDA accept fails here, on the host,
 * with the kernel's name, before anything reaches the device.
 *
 * <p>Geometry is counted in work-groups (CUDA blocks) and work-items per group (threads per block).
 */
public abstract class PortableLaunch {
    /** Work-items per group of the one-dimensional element-wise launches. */
    public static final int LINEAR_WG = 128;
    /** CUDA's limits, which every backend keeps to: block size, and grid y and z. */
    public static final int MAX_GROUP_ITEMS = 1024, MAX_GROUPS_YZ = 65535;

    protected final KernelSignature signature;
    private int next;

    protected PortableLaunch(KernelSignature signature) {
        this.signature = signature;
    }

    public final String kernel() {
        return signature.name();
    }

    private void expect(KernelSignature.Arg kind) {
        if (next >= signature.args().size()) {
            throw new IllegalStateException(kernel() + ": argument " + next + " (" + kind + ") passed, but the kernel takes "
                    + signature.args().size());
        }
        KernelSignature.Arg want = signature.args().get(next);
        if (want != kind) throw new IllegalStateException(kernel() + ": argument " + next + " must be " + want + ", not " + kind);
        next++;
    }

    public final PortableLaunch i(int v) {
        expect(KernelSignature.Arg.INT);
        putInt(v);
        return this;
    }

    public final PortableLaunch flag(boolean v) {
        return i(v ? 1 : 0);
    }

    public final PortableLaunch f(float v) {
        expect(KernelSignature.Arg.FLOAT);
        putFloat(v);
        return this;
    }

    public final PortableLaunch l(long v) {
        expect(KernelSignature.Arg.LONG);
        putLong(v);
        return this;
    }

    /** A float buffer: its device memory and its element offset (two parameters). */
    public final PortableLaunch buf(Buffer b) {
        return buf(b, 0);
    }

    /** A float buffer with {@code extra} elements added to its offset. */
    public final PortableLaunch buf(Buffer b, long extra) {
        expect(KernelSignature.Arg.POINTER);
        expect(KernelSignature.Arg.INT);
        putBuffer(b, extra);
        return this;
    }

    /** A bare pointer to element 0 of a buffer (index arrays, scratch): no offset parameter follows. */
    public final PortableLaunch ptr(Buffer b) {
        expect(KernelSignature.Arg.POINTER);
        putPointer(b);
        return this;
    }

    /** A raw device address where the kernel takes a bare pointer (backends with flat addresses only). */
    public final PortableLaunch address(long deviceAddress) {
        expect(KernelSignature.Arg.POINTER);
        putAddress(deviceAddress);
        return this;
    }

    /**
     * A divisor for the kernels' index arithmetic, as three ints: n, then the magic number and shift
     * with which (mulhi(i, magic) + i) >> shift is i / n for every 0 <= i < 2^31 (xbt_div in xbt_util.h).
     */
    public final PortableLaunch divisor(int n) {
        int[] ms = magic(n);
        return i(n).i(ms[0]).i(ms[1]);
    }

    /** The magic number (as the bits of an unsigned int) and shift of {@link #divisor}. */
    public static int[] magic(int n) {
        if (n < 1) throw new IllegalArgumentException("divisor " + n + " must be positive");
        int shift = 32 - Integer.numberOfLeadingZeros(n - 1); // ceil(log2 n)
        long magic = ((1L << 32) * ((1L << shift) - n)) / n + 1;
        return new int[] {(int) magic, shift};
    }

    /** One work-item per element of n, in groups of {@link #LINEAR_WG}. */
    public final void linear(long n) {
        if (n <= 0) return;
        run(ceilDiv(n, LINEAR_WG), 1, 1, LINEAR_WG, 1);
    }

    /** One work-item per {@code perItem} elements of n (the kernel strides over the launch), in groups of {@link #LINEAR_WG}. */
    public final void linear(long n, int perItem) {
        if (n <= 0) return;
        run(ceilDiv(n, (long) LINEAR_WG * perItem), 1, 1, LINEAR_WG, 1);
    }

    /** {@code groups} work-groups of {@code items} work-items. */
    public final void groups(long groups, int items) {
        if (groups <= 0) return;
        run(groups, 1, 1, items, 1);
    }

    /** Groups (gx, gy, gz) of (lx, ly) work-items; nothing runs when a group count is 0. */
    public final void run(long gx, long gy, long gz, int lx, int ly) {
        if (next != signature.args().size()) {
            throw new IllegalStateException(kernel() + ": " + next + " arguments passed, the kernel takes " + signature.args().size());
        }
        if (gx <= 0 || gy <= 0 || gz <= 0) return;
        if (gx > Integer.MAX_VALUE || gy > MAX_GROUPS_YZ || gz > MAX_GROUPS_YZ) {
            throw new EngineException(kernel() + ": " + gx + " x " + gy + " x " + gz + " work-groups exceed a launch's limits");
        }
        if (lx <= 0 || ly <= 0 || (long) lx * ly > MAX_GROUP_ITEMS) {
            throw new IllegalStateException(kernel() + ": work-groups of " + lx + " x " + ly + " items");
        }
        submit((int) gx, (int) gy, (int) gz, lx, ly);
    }

    public static int ceilDiv(long a, long b) {
        return Math.toIntExact((a + b - 1) / b);
    }

    protected abstract void putInt(int v);

    protected abstract void putFloat(float v);

    protected abstract void putLong(long v);

    /** The buffer's memory then its element offset plus {@code extra}, as an int. */
    protected abstract void putBuffer(Buffer b, long extra);

    /** The address of the buffer's element 0. */
    protected abstract void putPointer(Buffer b);

    /** A raw device address; only backends whose memory has flat addresses (CUDA) accept one. */
    protected void putAddress(long deviceAddress) {
        throw new UnsupportedOperationException(kernel() + ": this backend has no raw device addresses");
    }

    protected abstract void submit(int gx, int gy, int gz, int lx, int ly);
}

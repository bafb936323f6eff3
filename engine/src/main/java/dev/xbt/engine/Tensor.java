package dev.xbt.engine;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Backends;
import dev.xbt.engine.backend.Buffer;

import java.util.Arrays;

/**
 * A contiguous, row-major float32 tensor on one backend. Reshapes and leading-axis slices are views
 * that share the buffer; every other op writes a new tensor. A tensor produced while a {@link Tape}
 * records, from inputs that need gradients, remembers how it was made so that the tape can run
 * backward through it.
 */
public class Tensor {
    private final int[] shape;
    final Backend backend;
    Buffer buffer;
    /** The tape entry that produced this tensor, or null for leaves. */
    Tape.Node node;
    /** Gradient of a leaf that requires one; allocated on first accumulation. */
    Tensor grad;
    private boolean requiresGrad;

    protected Tensor(Backend backend, Buffer buffer, int[] shape) {
        this.backend = backend;
        this.buffer = buffer;
        this.shape = shape.clone();
        if (buffer.length() != Shape.size(shape)) throw new EngineException("buffer of " + buffer.length()
                + " elements does not fit shape " + Shape.str(shape));
    }

    // ---- creation ----

    /** Wraps an existing buffer (no copy). */
    public static Tensor wrap(Buffer buffer, int... shape) {
        return new Tensor(buffer.backend(), buffer, shape);
    }

    /** A tensor holding a copy of {@code data}, on the current backend. */
    public static Tensor of(float[] data, int... shape) {
        return of(Backends.current(), data, shape);
    }

    public static Tensor of(Backend backend, float[] data, int... shape) {
        int n = Shape.size(shape);
        if (data.length != n) throw new EngineException("Tensor.of: " + data.length + " values for shape "
                + Shape.str(shape) + " (" + n + " elements)");
        return new Tensor(backend, backend.upload(data, 0, n), shape);
    }

    /** A tensor from float64 values (kept exactly on a float64 backend, rounded elsewhere). */
    public static Tensor of(Backend backend, double[] data, int... shape) {
        int n = Shape.size(shape);
        if (data.length != n) throw new EngineException("Tensor.of: " + data.length + " values for shape "
                + Shape.str(shape) + " (" + n + " elements)");
        return new Tensor(backend, backend.uploadDoubles(data), shape);
    }

    public static Tensor scalar(float value) {
        return of(new float[] {value});
    }

    public static Tensor zeros(int... shape) {
        return zeros(Backends.current(), shape);
    }

    public static Tensor zeros(Backend backend, int... shape) {
        return new Tensor(backend, backend.allocate(Shape.size(shape)), shape);
    }

    public static Tensor full(float value, int... shape) {
        Tensor t = zeros(shape);
        t.backend.fill(t.buffer, value);
        return t;
    }

    /** Normal(0, std²) from {@code rng}, drawn on the host so every backend gets the same values. */
    public static Tensor randn(Rng rng, float std, int... shape) {
        float[] d = new float[Shape.size(shape)];
        for (int i = 0; i < d.length; i++) d[i] = (float) (rng.nextGaussian() * std);
        return of(d, shape);
    }

    /** Uniform(lo, hi) from {@code rng}. */
    public static Tensor uniform(Rng rng, float lo, float hi, int... shape) {
        float[] d = new float[Shape.size(shape)];
        for (int i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * rng.nextFloat();
        return of(d, shape);
    }

    // ---- facts ----

    public int[] shape() {
        return shape.clone();
    }

    public int dim(int axis) {
        return shape[Shape.axis(axis, shape.length, "dim")];
    }

    public int rank() {
        return shape.length;
    }

    public int size() {
        return (int) buffer.length();
    }

    public Backend backend() {
        return backend;
    }

    public Buffer buffer() {
        return buffer;
    }

    /** "name[2, 3]" for parameters, "[2, 3]" otherwise; used in error messages. */
    public String describe() {
        return Arrays.toString(shape);
    }

    @Override
    public String toString() {
        float[] d = toArray();
        StringBuilder sb = new StringBuilder("Tensor").append(describe()).append(' ');
        int shown = Math.min(d.length, 8);
        sb.append('[');
        for (int i = 0; i < shown; i++) sb.append(i > 0 ? ", " : "").append(d[i]);
        return sb.append(d.length > shown ? ", ...]" : "]").toString();
    }

    // ---- data ----

    /** A host copy of the elements (waits for pending kernels). */
    public float[] toArray() {
        float[] d = new float[size()];
        backend.download(buffer, d, 0);
        return d;
    }

    /** A host copy as float64 (exact on a float64 backend). */
    public double[] toDoubleArray() {
        double[] d = new double[size()];
        backend.downloadDoubles(buffer, d);
        return d;
    }

    /** The single value of a one-element tensor. */
    public float item() {
        if (size() != 1) throw EngineException.of("item", "needs exactly one element", this);
        return toArray()[0];
    }

    /** Overwrites the elements from the host (no gradient is recorded). */
    public void copyFrom(float[] data) {
        if (data.length != size()) throw EngineException.of("copyFrom", data.length + " values given", this);
        try (Buffer tmp = backend.upload(data, 0, data.length)) {
            backend.copy(tmp, buffer);
        }
    }

    /** Overwrites the elements from another tensor of the same shape (no gradient is recorded). */
    public void copyFrom(Tensor other) {
        if (!Arrays.equals(shape, other.shape)) throw EngineException.of("copyFrom", "shapes differ", this, other);
        if (other.backend == backend) backend.copy(other.buffer, buffer);
        else copyFrom(other.toArray());
    }

    /** This tensor's values on another backend (a leaf, no gradient link). */
    public Tensor to(Backend target) {
        return target == backend ? this : of(target, toArray(), shape);
    }

    /** A leaf with the same values that records no history. */
    public Tensor detach() {
        return new Tensor(backend, buffer, shape);
    }

    // ---- autograd ----

    /** Whether gradients flow into this tensor: trainable leaves and tensors recorded from them. */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Marks a leaf as needing a gradient (parameters do this themselves). */
    public Tensor requiresGrad(boolean value) {
        if (node != null) throw EngineException.of("requiresGrad", "only leaves can be marked; this tensor was computed", this);
        this.requiresGrad = value;
        return this;
    }

    void markRecorded(Tape.Node node) {
        this.node = node;
        this.requiresGrad = true;
    }

    /** The accumulated gradient of a leaf, or null before any backward pass reached it. */
    public Tensor grad() {
        return grad;
    }

    /** Drops the accumulated gradient (or zeroes it in place when it is a view of a flat buffer). */
    public void zeroGrad() {
        grad = null;
    }

    /** Adds g into this leaf's gradient. */
    void accumulateGrad(Tensor g) {
        if (grad == null) {
            grad = zeros(backend, shape);
        }
        Ops.addInto(grad, g);
    }

    /** Runs backward from this scalar through the tape that recorded it. */
    public void backward() {
        if (node == null) throw EngineException.of("backward", "tensor was not recorded on a tape", this);
        node.tape().backward(this);
    }

    /** Replaces the storage (used to move parameters into one flat buffer). */
    void rebind(Buffer newBuffer) {
        if (newBuffer.length() != buffer.length()) throw new IllegalArgumentException("length differs");
        this.buffer = newBuffer;
    }

    // ---- shortcuts to the common ops ----

    public Tensor add(Tensor o) { return Ops.add(this, o); }

    public Tensor sub(Tensor o) { return Ops.sub(this, o); }

    public Tensor mul(Tensor o) { return Ops.mul(this, o); }

    public Tensor div(Tensor o) { return Ops.div(this, o); }

    public Tensor mul(float s) { return Ops.scale(this, s); }

    public Tensor matmul(Tensor o) { return Ops.matmul(this, o); }

    public Tensor reshape(int... newShape) { return Ops.reshape(this, newShape); }

    public Tensor transpose(int a, int b) { return Ops.transpose(this, a, b); }

    public Tensor sum() { return Ops.sum(this); }

    public Tensor mean() { return Ops.mean(this); }
}

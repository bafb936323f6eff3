package dev.xbt.weights;

import java.util.Arrays;

/**
 * One header entry, validated: the tensor's name, dtype, shape (row-major, possibly rank 0) and its byte range
 * [begin, end) relative to the start of the data section (as written in {@code data_offsets}).
 */
public record TensorInfo(String name, Dtype dtype, long[] shape, long begin, long end) {
    public TensorInfo {
        shape = shape.clone();
    }

    /** A copy of the shape. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Product of the dims (1 for a rank-0 tensor); the header validation guarantees it fits in a long. */
    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    public long byteSize() {
        return end - begin;
    }

    /** The shape as ints, as the engine wants it; throws when a dim exceeds 2^31 − 1. */
    public int[] intShape() {
        int[] s = new int[shape.length];
        for (int i = 0; i < s.length; i++) {
            if (shape[i] > Integer.MAX_VALUE)
                throw new SafetensorsException("tensor '" + name + "': dim " + i + " of shape "
                        + Arrays.toString(shape) + " exceeds 2^31-1");
            s[i] = (int) shape[i];
        }
        return s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return (name.hashCode() * 31 + dtype.hashCode()) * 31 + Arrays.hashCode(shape) + Long.hashCode(begin);
    }

    @Override
    public String toString() {
        return name + ": " + dtype + Arrays.toString(shape) + " @ [" + begin + ", " + end + ")";
    }
}

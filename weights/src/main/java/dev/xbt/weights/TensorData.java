package dev.xbt.weights;

import java.util.Arrays;

/**
 * A float32 tensor to write: row-major values and their shape. The shape is copied; the data array is not (do
 * not change it while a write is under way).
 */
public record TensorData(float[] data, int[] shape) {
    public TensorData {
        if (data == null || shape == null) throw new IllegalArgumentException("TensorData: data and shape must be non-null");
        shape = shape.clone();
        boolean empty = false;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("TensorData: negative dim in shape " + Arrays.toString(shape));
            if (d == 0) empty = true;
        }
        long n = empty ? 0 : 1;
        if (!empty) for (int d : shape) n = Math.min(n * d, 1L << 31); // saturates: n * d < 2^62, never overflows
        if (n != data.length)
            throw new IllegalArgumentException("TensorData: shape " + Arrays.toString(shape) + " has "
                    + (n == 1L << 31 ? "more than 2^31-1" : String.valueOf(n)) + " elements but data has "
                    + data.length);
    }

    public static TensorData of(float[] data, int... shape) {
        return new TensorData(data, shape);
    }

    /** A rank-0 tensor holding one value. */
    public static TensorData scalar(float value) {
        return new TensorData(new float[] {value}, new int[0]);
    }

    /** A copy of the shape. */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorData t && Arrays.equals(data, t.data) && Arrays.equals(shape, t.shape);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(data) * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "TensorData" + Arrays.toString(shape);
    }
}

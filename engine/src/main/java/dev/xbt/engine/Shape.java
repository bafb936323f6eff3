package dev.xbt.engine;

import java.util.Arrays;

/** Helpers over shapes (int[]): sizes, strides, broadcasting, axis normalisation. */
public final class Shape {
    private Shape() {}

    /** Product of the dims; throws on negative dims or overflow past 2^31 − 1 elements. */
    public static int size(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new EngineException("negative dimension in shape " + Arrays.toString(shape));
            n *= d;
            if (n > Integer.MAX_VALUE) throw new EngineException("shape " + Arrays.toString(shape)
                    + " has more than 2^31-1 elements");
        }
        return (int) n;
    }

    /** Row-major strides of a contiguous tensor. */
    public static int[] strides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    /** Numpy broadcasting of two shapes, or null when they do not broadcast. */
    public static int[] broadcast(int[] a, int[] b) {
        int r = Math.max(a.length, b.length);
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
            int db = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
            if (da != db && da != 1 && db != 1) return null;
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** Strides for reading a tensor of {@code shape} as if it had {@code target} (0 on broadcast axes). */
    public static int[] broadcastStrides(int[] shape, int[] target) {
        int[] own = strides(shape);
        int[] s = new int[target.length];
        int off = target.length - shape.length;
        for (int i = 0; i < shape.length; i++) s[i + off] = shape[i] == 1 && target[i + off] != 1 ? 0 : own[i];
        return s;
    }

    /** Axis index with Python-style negative indexing; throws when out of range. */
    public static int axis(int axis, int rank, String op) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new EngineException(op + ": axis " + axis + " out of range for rank " + rank);
        return a;
    }

    /** Product of shape[from, to). */
    public static int prod(int[] shape, int from, int to) {
        int n = 1;
        for (int i = from; i < to; i++) n *= shape[i];
        return n;
    }

    public static String str(int[] shape) {
        return Arrays.toString(shape);
    }
}

package dev.xbt.kernels;

import java.util.Arrays;

/**
 * An index space over a shape with one stride vector per operand, simplified for a kernel launch:
 * size-1 axes dropped and neighbouring axes merged where every operand walks them contiguously
 * (so a [64,77,77] + [64,1,77] broadcast becomes two or three axes, and a contiguous copy one).
 *
 * @param sizes   the remaining axes, outermost first (empty for a single element)
 * @param strides strides[operand][axis], in elements
 */
public record StridedLayout(int[] sizes, int[][] strides) {

    /** Simplifies {@code shape} walked by each operand's {@code strides}. */
    public static StridedLayout of(int[] shape, int[]... strides) {
        int ops = strides.length;
        for (int[] s : strides) {
            if (s.length != shape.length) throw new IllegalArgumentException("strides " + Arrays.toString(s)
                    + " do not match shape " + Arrays.toString(shape));
        }
        int[] n = new int[shape.length];
        int[][] st = new int[ops][shape.length];
        int r = 0;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 1) continue;
            if (r > 0 && mergeable(st, r - 1, n[r - 1], strides, d, shape[d])) {
                // Outer axis r-1 steps exactly over the whole axis d: one axis of size n·shape[d].
                n[r - 1] *= shape[d];
                for (int o = 0; o < ops; o++) st[o][r - 1] = strides[o][d];
                continue;
            }
            n[r] = shape[d];
            for (int o = 0; o < ops; o++) st[o][r] = strides[o][d];
            r++;
        }
        int[][] cut = new int[ops][];
        for (int o = 0; o < ops; o++) cut[o] = Arrays.copyOf(st[o], r);
        return new StridedLayout(Arrays.copyOf(n, r), cut);
    }

    private static boolean mergeable(int[][] st, int outer, int outerSize, int[][] strides, int d, int size) {
        for (int o = 0; o < st.length; o++) {
            if ((long) st[o][outer] != (long) strides[o][d] * size) return false;
        }
        return true;
    }

    public int rank() {
        return sizes.length;
    }

    /** Number of index vectors. */
    public long count() {
        long c = 1;
        for (int s : sizes) c *= s;
        return c;
    }
}

/*
 * Reductions over one axis of x viewed as outer x n x inner, and the gradient of max.
 * xbt_reduce_rows (inner == 1): one work-group per row, LSIZE_X a power of two <= XBT_WG_MAX.
 * xbt_reduce_cols (inner > 1): one work-item per output element, walking the axis in order.
 * Sums are compensated (xbt_sum_add): a column of thousands of rows keeps float accuracy.
 */

KERNEL void xbt_reduce_rows(int op, int rows, int n, GLOBAL const float *x, int xOff, GLOBAL float *out, int outOff) {
    LOCAL float scratch[XBT_WG_MAX];
    int r = GROUP_X;
    GLOBAL const float *row = x + xOff + r * n;
    float acc = op == XBT_SUM ? 0.0f : -XBT_INF, comp = 0.0f;
    for (int j = LID_X; j < n; j += LSIZE_X) {
        float v = row[j];
        if (op == XBT_SUM) xbt_sum_add(&acc, &comp, v);
        else acc = xbt_max_nan(acc, v);
    }
    acc += comp;
    acc = op == XBT_SUM ? xbt_group_sum(acc, scratch) : xbt_group_max(acc, scratch);
    if (LID_X == 0) out[outOff + r] = acc;
}

KERNEL void xbt_reduce_cols(int op, int outer, int n, int inner, GLOBAL const float *x, int xOff,
                            GLOBAL float *out, int outOff) {
    int idx = GLOBAL_X;
    if (idx >= outer * inner) return;
    int o = idx / inner, i = idx - o * inner;
    GLOBAL const float *col = x + xOff + o * n * inner + i;
    float acc = op == XBT_SUM ? 0.0f : -XBT_INF, comp = 0.0f;
    for (int j = 0; j < n; j++) {
        float v = col[j * inner];
        if (op == XBT_SUM) xbt_sum_add(&acc, &comp, v);
        else acc = xbt_max_nan(acc, v);
    }
    out[outOff + idx] = acc + comp;
}

/* gradIn[o, j, i] = gradOut[o, i] at the first j where x equals max[o, i], else 0. */
KERNEL void xbt_reduce_max_backward(int outer, int n, int inner, GLOBAL const float *x, int xOff,
                                    GLOBAL const float *max, int maxOff, GLOBAL const float *gradOut, int gOff,
                                    GLOBAL float *gradIn, int giOff) {
    int idx = GLOBAL_X;
    if (idx >= outer * inner) return;
    int o = idx / inner, i = idx - o * inner;
    float m = max[maxOff + idx], g = gradOut[gOff + idx];
    int given = 0;
    for (int j = 0; j < n; j++) {
        int e = (o * n + j) * inner + i;
        int hit = !given && x[xOff + e] == m;
        gradIn[giOff + e] = hit ? g : 0.0f;
        given |= hit;
    }
}

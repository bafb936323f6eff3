/* Row gathers and scatters (embedding lookups and their gradients). rows holds row indices. */

/* out[r, j] = table[rows[r], j]: one work-item per output element (nrows * rowLen). */
KERNEL void xbt_gather_rows(int nrows, int rowLen, GLOBAL const float *table, int tOff, GLOBAL const int *rows,
                            GLOBAL float *out, int outOff) {
    int idx = GLOBAL_X;
    if (idx >= nrows * rowLen) return;
    int r = idx / rowLen, j = idx - r * rowLen;
    out[outOff + idx] = table[tOff + rows[r] * rowLen + j];
}

/* table[rows[r], j] += src[r, j]: one work-item per column j walks the rows in order, so repeated
 * rows add up without atomics and in the reference's order. */
KERNEL void xbt_scatter_add_rows(int nrows, int rowLen, GLOBAL const float *src, int sOff, GLOBAL const int *rows,
                                 GLOBAL float *table, int tOff) {
    int j = GLOBAL_X;
    if (j >= rowLen) return;
    for (int r = 0; r < nrows; r++) table[tOff + rows[r] * rowLen + j] += src[sOff + r * rowLen + j];
}

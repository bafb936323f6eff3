/*
 * Fused scaled dot-product attention, flash style: keys and values stream through local-memory
 * tiles and each query keeps an online softmax (running max, running sum, running output), so the
 * tq x tk score matrix is never stored. Heads are independent; q and out are bh x tq x d, k and v
 * bh x tk x d, the additive mask tq x tk per group of maskGroup heads. causal hides key j from
 * query i when j > i. d <= XBT_ATT_MAXD.
 *
 * Each row (a query; a key in dkv) is shared by ceil(d / XBT_ATT_SLICE) work-items, each holding
 * XBT_ATT_SLICE of its head dimensions in registers (fixed-size arrays, fully unrolled, so they
 * never spill to memory). A dot product over d is the sum of the work-items' partial dots, which
 * meet in local memory. Local tiles hold rows of dp = slices * XBT_ATT_SLICE floats, zero past d,
 * so that a slice is read as aligned float4s with no bounds test.
 *
 * Launch (forward, dq): local size (ceil(d / XBT_ATT_SLICE), XBT_ATT_BQ), groups (ceil(tq / XBT_ATT_BQ),
 * bh): x is the slice, y the query row. dkv: the same over keys, groups (ceil(tk / XBT_ATT_BQ), bh).
 * The backward pass is split so that no two work-items write the same gradient element: dq walks
 * the keys, dkv walks the queries (recomputing the scores, FlashAttention-2's scheme without atomics).
 */
#define XBT_ATT_BQ 32
#define XBT_ATT_BK 16
#define XBT_ATT_BKB 8
#define XBT_ATT_SLICE 16
#define XBT_ATT_MAXD 128
#define XBT_ATT_MAXS (XBT_ATT_MAXD / XBT_ATT_SLICE)

/* A row's slice: dimensions l0 .. l0 + XBT_ATT_SLICE - 1 of row x, zero past d. */
DEVICE void xbt_att_load(float *slice, GLOBAL const float *x, int l0, int d, int valid) {
    UNROLL
    for (int e = 0; e < XBT_ATT_SLICE; e++) slice[e] = (valid && l0 + e < d) ? x[l0 + e] : 0.0f;
}

/* Rows [r0, r0 + nr) of a bh-slice x (rows of d floats) into a local tile of rows of dp floats, zero past d. */
DEVICE void xbt_att_tile(LOCAL_PTR float *tile, GLOBAL const float *x, int r0, int nr, int d, int dp, int tid, int threads) {
    for (int e = tid; e < nr * dp; e += threads) {
        int row = e / dp, col = e - row * dp;
        tile[e] = col < d ? x[(r0 + row) * d + col] : 0.0f;
    }
}

/* The partial dot of a slice (registers) with the same dimensions of a local row (at the slice's start). */
DEVICE float xbt_att_dot(const float *slice, LOCAL_PTR const float *row) {
    float s = 0.0f;
    UNROLL
    for (int c = 0; c < XBT_ATT_SLICE / 4; c++) {
        float4 v = XBT_LOAD4(row, c);
        s += slice[4 * c] * v.x + slice[4 * c + 1] * v.y + slice[4 * c + 2] * v.z + slice[4 * c + 3] * v.w;
    }
    return s;
}

/* acc += w * (the slice's dimensions of a local row, at the slice's start). */
DEVICE void xbt_att_axpy(float *acc, float w, LOCAL_PTR const float *row) {
    UNROLL
    for (int c = 0; c < XBT_ATT_SLICE / 4; c++) {
        float4 v = XBT_LOAD4(row, c);
        acc[4 * c] += w * v.x;
        acc[4 * c + 1] += w * v.y;
        acc[4 * c + 2] += w * v.z;
        acc[4 * c + 3] += w * v.w;
    }
}

/* The sum of the slices' partial dots for one (row, tile entry). */
DEVICE float xbt_att_sum(LOCAL_PTR const float *parts, int slices) {
    float s = 0.0f;
    for (int t = 0; t < slices; t++) s += parts[t];
    return s;
}

/* The work-group layout of the three tiled kernels: LSIZE_Y rows (queries; keys in dkv) of head GROUP_Y, each
 * row's head dimensions split over LSIZE_X slices of XBT_ATT_SLICE held in registers. tid and threads number the
 * group for the cooperative tile loads, whose rows are dp floats (whole slices, zero past d). A row's partial dots
 * sit (cols + 1) * slices apart, cols being the tile's rows: the extra slot per row puts the rows of a warp in
 * different banks (without it, every row of a warp hit the same bank). */
#define XBT_ATT_GROUP_LAYOUT(cols) \
    int h = GROUP_Y, slices = LSIZE_X, sl = LID_X, r = LID_Y; \
    int tid = r * slices + sl, threads = slices * LSIZE_Y, l0 = sl * XBT_ATT_SLICE, dp = slices * XBT_ATT_SLICE; \
    int ps = ((cols) + 1) * slices

KERNEL void xbt_attention_forward(int bh, int tq, int tk, int d, float scale,
                                  GLOBAL const float *q, int qOff, GLOBAL const float *k, int kOff,
                                  GLOBAL const float *v, int vOff,
                                  int hasMask, GLOBAL const float *mask, int maskOff, int maskGroup, int causal,
                                  GLOBAL float *out, int outOff, GLOBAL float *lse, int lseOff) {
    LOCAL_FLOATS_ALIGNED(kt, XBT_ATT_BK * XBT_ATT_MAXD);
    LOCAL_FLOATS_ALIGNED(vt, XBT_ATT_BK * XBT_ATT_MAXD);
    LOCAL float part[XBT_ATT_BQ * (XBT_ATT_BK + 1) * XBT_ATT_MAXS];
    XBT_ATT_GROUP_LAYOUT(XBT_ATT_BK);
    int i = GROUP_X * LSIZE_Y + r;
    int active = i < tq;
    GLOBAL const float *kh = k + kOff + h * tk * d;
    GLOBAL const float *vh = v + vOff + h * tk * d;
    GLOBAL const float *maskRow = mask + maskOff + (h / maskGroup) * tq * tk + (active ? i : 0) * tk;
    float qr[XBT_ATT_SLICE], acc[XBT_ATT_SLICE], s[XBT_ATT_BK];
    xbt_att_load(qr, q + qOff + (h * tq + (active ? i : 0)) * d, l0, d, active);
    UNROLL
    for (int e = 0; e < XBT_ATT_SLICE; e++) acc[e] = 0.0f;
    float m = -XBT_INF, sum = 0.0f;
    /* Under a causal mask no query of this group sees keys past its last query. */
    int lastQuery = min(tq, (GROUP_X + 1) * LSIZE_Y) - 1;
    int kEnd = causal ? min(tk, lastQuery + 1) : tk;
    for (int j0 = 0; j0 < kEnd; j0 += XBT_ATT_BK) {
        int nk = min(XBT_ATT_BK, kEnd - j0);
        BARRIER();
        xbt_att_tile(kt, kh, j0, nk, d, dp, tid, threads);
        xbt_att_tile(vt, vh, j0, nk, d, dp, tid, threads);
        BARRIER();
        for (int jj = 0; jj < nk; jj++) part[r * ps + jj * slices + sl] = xbt_att_dot(qr, kt + jj * dp + l0);
        BARRIER();
        if (!active) continue;
        float tileMax = -XBT_INF;
        UNROLL
        for (int jj = 0; jj < XBT_ATT_BK; jj++) {
            float sc = -XBT_INF;
            int j = j0 + jj;
            if (jj < nk && !(causal && j > i)) {
                sc = xbt_att_sum(part + r * ps + jj * slices, slices) * scale;
                if (hasMask) sc += maskRow[j];
            }
            s[jj] = sc;
            tileMax = fmaxf(tileMax, sc);
        }
        float mNew = fmaxf(m, tileMax);
        if (mNew == -XBT_INF) continue; /* everything so far hidden */
        float corr = expf(m - mNew);
        sum *= corr;
        UNROLL
        for (int e = 0; e < XBT_ATT_SLICE; e++) acc[e] *= corr;
        UNROLL
        for (int jj = 0; jj < XBT_ATT_BK; jj++) {
            if (jj < nk) {
                float pj = expf(s[jj] - mNew);
                sum += pj;
                xbt_att_axpy(acc, pj, vt + jj * dp + l0);
            }
        }
        m = mNew;
    }
    if (!active) return;
    GLOBAL float *o = out + outOff + (h * tq + i) * d;
    UNROLL
    for (int e = 0; e < XBT_ATT_SLICE; e++) {
        if (l0 + e < d) o[l0 + e] = m == -XBT_INF ? 0.0f : acc[e] / sum;
    }
    if (sl == 0) lse[lseOff + h * tq + i] = m == -XBT_INF ? -XBT_INF : m + logf(sum);
}

/* delta[r] = sum over l of gradOut[r, l] * out[r, l], for the bh * tq rows: one work-item each. */
KERNEL void xbt_attention_delta(int rows, int d, GLOBAL const float *out, int outOff, GLOBAL const float *gradOut,
                                int gOff, GLOBAL float *delta) {
    int r = GLOBAL_X;
    if (r >= rows) return;
    float s = 0.0f;
    for (int l = 0; l < d; l++) s += gradOut[gOff + r * d + l] * out[outOff + r * d + l];
    delta[r] = s;
}

/* Softmax probability from a score and its row's log-sum-exp; 0 for hidden keys and empty rows. */
DEVICE float xbt_att_prob(float s, float l) {
    return (s == -XBT_INF || l == -XBT_INF) ? 0.0f : expf(s - l);
}

/* gradQ[i] = scale * sum over j of p_ij (dO_i . v_j - delta_i) k_j: the work-items of query i walk the keys. */
KERNEL void xbt_attention_backward_dq(int bh, int tq, int tk, int d, float scale,
                                      GLOBAL const float *q, int qOff, GLOBAL const float *k, int kOff,
                                      GLOBAL const float *v, int vOff,
                                      int hasMask, GLOBAL const float *mask, int maskOff, int maskGroup, int causal,
                                      GLOBAL const float *lse, int lseOff, GLOBAL const float *delta,
                                      GLOBAL const float *gradOut, int gOff, GLOBAL float *gradQ, int gqOff) {
    LOCAL_FLOATS_ALIGNED(kt, XBT_ATT_BKB * XBT_ATT_MAXD);
    LOCAL_FLOATS_ALIGNED(vt, XBT_ATT_BKB * XBT_ATT_MAXD);
    LOCAL float partS[XBT_ATT_BQ * (XBT_ATT_BKB + 1) * XBT_ATT_MAXS]; /* q . k */
    LOCAL float partP[XBT_ATT_BQ * (XBT_ATT_BKB + 1) * XBT_ATT_MAXS]; /* dO . v */
    XBT_ATT_GROUP_LAYOUT(XBT_ATT_BKB);
    int i = GROUP_X * LSIZE_Y + r;
    int active = i < tq;
    int row = h * tq + (active ? i : 0);
    GLOBAL const float *kh = k + kOff + h * tk * d;
    GLOBAL const float *vh = v + vOff + h * tk * d;
    GLOBAL const float *maskRow = mask + maskOff + (h / maskGroup) * tq * tk + (active ? i : 0) * tk;
    float qr[XBT_ATT_SLICE], dor[XBT_ATT_SLICE], dq[XBT_ATT_SLICE];
    xbt_att_load(qr, q + qOff + row * d, l0, d, active);
    xbt_att_load(dor, gradOut + gOff + row * d, l0, d, active);
    UNROLL
    for (int e = 0; e < XBT_ATT_SLICE; e++) dq[e] = 0.0f;
    float li = active ? lse[lseOff + row] : -XBT_INF;
    float di = active ? delta[row] : 0.0f;
    int lastQuery = min(tq, (GROUP_X + 1) * LSIZE_Y) - 1;
    int kEnd = causal ? min(tk, lastQuery + 1) : tk;
    for (int j0 = 0; j0 < kEnd; j0 += XBT_ATT_BKB) {
        int nk = min(XBT_ATT_BKB, kEnd - j0);
        BARRIER();
        xbt_att_tile(kt, kh, j0, nk, d, dp, tid, threads);
        xbt_att_tile(vt, vh, j0, nk, d, dp, tid, threads);
        BARRIER();
        for (int jj = 0; jj < nk; jj++) {
            int at = r * ps + jj * slices + sl;
            partS[at] = xbt_att_dot(qr, kt + jj * dp + l0);
            partP[at] = xbt_att_dot(dor, vt + jj * dp + l0);
        }
        BARRIER();
        if (!active || li == -XBT_INF) continue;
        for (int jj = 0; jj < nk; jj++) {
            int j = j0 + jj;
            if (causal && j > i) continue;
            int at = r * ps + jj * slices;
            float sc = xbt_att_sum(partS + at, slices) * scale;
            if (hasMask) sc += maskRow[j];
            float p = xbt_att_prob(sc, li);
            if (p == 0.0f) continue;
            float ds = scale * p * (xbt_att_sum(partP + at, slices) - di);
            xbt_att_axpy(dq, ds, kt + jj * dp + l0);
        }
    }
    if (!active) return;
    UNROLL
    for (int e = 0; e < XBT_ATT_SLICE; e++) if (l0 + e < d) gradQ[gqOff + row * d + l0 + e] = dq[e];
}

/* gradK[j] = scale * sum over i of p_ij (dO_i . v_j - delta_i) q_i and gradV[j] = sum over i of
 * p_ij dO_i: the work-items of key j walk the queries. A want flag of 0 skips that output. */
KERNEL void xbt_attention_backward_dkv(int bh, int tq, int tk, int d, float scale,
                                       GLOBAL const float *q, int qOff, GLOBAL const float *k, int kOff,
                                       GLOBAL const float *v, int vOff,
                                       int hasMask, GLOBAL const float *mask, int maskOff, int maskGroup, int causal,
                                       GLOBAL const float *lse, int lseOff, GLOBAL const float *delta,
                                       GLOBAL const float *gradOut, int gOff,
                                       int wantK, GLOBAL float *gradK, int gkOff, int wantV, GLOBAL float *gradV, int gvOff) {
    LOCAL_FLOATS_ALIGNED(qt, XBT_ATT_BKB * XBT_ATT_MAXD);
    LOCAL_FLOATS_ALIGNED(gt, XBT_ATT_BKB * XBT_ATT_MAXD);
    LOCAL float lt[XBT_ATT_BKB];
    LOCAL float dt[XBT_ATT_BKB];
    LOCAL float partS[XBT_ATT_BQ * (XBT_ATT_BKB + 1) * XBT_ATT_MAXS]; /* k . q */
    LOCAL float partP[XBT_ATT_BQ * (XBT_ATT_BKB + 1) * XBT_ATT_MAXS]; /* v . dO */
    XBT_ATT_GROUP_LAYOUT(XBT_ATT_BKB);
    int j = GROUP_X * LSIZE_Y + r;
    int active = j < tk;
    int row = h * tk + (active ? j : 0);
    GLOBAL const float *qh = q + qOff + h * tq * d;
    GLOBAL const float *gh = gradOut + gOff + h * tq * d;
    GLOBAL const float *maskHead = mask + maskOff + (h / maskGroup) * tq * tk;
    float kr[XBT_ATT_SLICE], vr[XBT_ATT_SLICE], dk[XBT_ATT_SLICE], dv[XBT_ATT_SLICE];
    xbt_att_load(kr, k + kOff + row * d, l0, d, active);
    xbt_att_load(vr, v + vOff + row * d, l0, d, active);
    UNROLL
    for (int e = 0; e < XBT_ATT_SLICE; e++) {
        dk[e] = 0.0f;
        dv[e] = 0.0f;
    }
    /* Under a causal mask queries before this group's first key see none of its keys. */
    int firstKey = GROUP_X * LSIZE_Y;
    int iStart = causal ? min(tq, firstKey) : 0;
    for (int i0 = iStart; i0 < tq; i0 += XBT_ATT_BKB) {
        int nq = min(XBT_ATT_BKB, tq - i0);
        BARRIER();
        xbt_att_tile(qt, qh, i0, nq, d, dp, tid, threads);
        xbt_att_tile(gt, gh, i0, nq, d, dp, tid, threads);
        for (int e = tid; e < nq; e += threads) {
            lt[e] = lse[lseOff + h * tq + i0 + e];
            dt[e] = delta[h * tq + i0 + e];
        }
        BARRIER();
        for (int ii = 0; ii < nq; ii++) {
            int at = r * ps + ii * slices + sl;
            partS[at] = xbt_att_dot(kr, qt + ii * dp + l0);
            partP[at] = xbt_att_dot(vr, gt + ii * dp + l0);
        }
        BARRIER();
        if (!active) continue;
        for (int ii = 0; ii < nq; ii++) {
            int i = i0 + ii;
            if ((causal && j > i) || lt[ii] == -XBT_INF) continue;
            int at = r * ps + ii * slices;
            float sc = xbt_att_sum(partS + at, slices) * scale;
            if (hasMask) sc += maskHead[i * tk + j];
            float p = xbt_att_prob(sc, lt[ii]);
            if (p == 0.0f) continue;
            float ds = scale * p * (xbt_att_sum(partP + at, slices) - dt[ii]);
            xbt_att_axpy(dv, p, gt + ii * dp + l0);
            xbt_att_axpy(dk, ds, qt + ii * dp + l0);
        }
    }
    if (!active) return;
    UNROLL
    for (int e = 0; e < XBT_ATT_SLICE; e++) {
        if (l0 + e < d) {
            if (wantK) gradK[gkOff + row * d + l0 + e] = dk[e];
            if (wantV) gradV[gvOff + row * d + l0 + e] = dv[e];
        }
    }
}

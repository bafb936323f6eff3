/*
 * Fused scaled dot-product attention, flash style: keys and values stream through local-memory
 * tiles of XBT_ATT_BK rows and each query keeps an online softmax (running max, running sum,
 * running output), so the tq x tk score matrix is never stored. Heads are independent; q and out
 * are bh x tq x d, k and v bh x tk x d, the additive mask tq x tk per group of maskGroup heads.
 * causal hides key j from query i when j > i. d <= XBT_ATT_MAXD.
 *
 * Launch (forward, dq): local size XBT_ATT_BQ, groups (ceil(tq / XBT_ATT_BQ), bh): one work-item per
 * query row. Launch (dkv): local size XBT_ATT_BQ, groups (ceil(tk / XBT_ATT_BQ), bh): one per key row.
 * The backward pass is split so that no two work-items write the same gradient element: dq walks
 * the keys, dkv walks the queries (recomputing the scores, FlashAttention-2's scheme without atomics).
 */
#define XBT_ATT_BQ 32
#define XBT_ATT_BK 16
#define XBT_ATT_MAXD 128

/* Score of query row qr (scaled) with key row kr of a local tile, after masks; -inf where hidden. */
DEVICE float xbt_att_score(const float *qr, LOCAL_PTR const float *kr, int d, float scale, int i, int j, int causal,
                           int hasMask, GLOBAL const float *maskRow) {
    if (causal && j > i) return -XBT_INF;
    float s = 0.0f;
    for (int l = 0; l < d; l++) s += qr[l] * kr[l];
    s *= scale;
    if (hasMask) s += maskRow[j];
    return s;
}

KERNEL void xbt_attention_forward(int bh, int tq, int tk, int d, float scale,
                                  GLOBAL const float *q, int qOff, GLOBAL const float *k, int kOff,
                                  GLOBAL const float *v, int vOff,
                                  int hasMask, GLOBAL const float *mask, int maskOff, int maskGroup, int causal,
                                  GLOBAL float *out, int outOff, GLOBAL float *lse, int lseOff) {
    LOCAL float kt[XBT_ATT_BK * XBT_ATT_MAXD];
    LOCAL float vt[XBT_ATT_BK * XBT_ATT_MAXD];
    int h = GROUP_Y;
    int i = GROUP_X * LSIZE_X + LID_X;
    int active = i < tq;
    GLOBAL const float *kh = k + kOff + h * tk * d;
    GLOBAL const float *vh = v + vOff + h * tk * d;
    GLOBAL const float *maskRow = mask + maskOff + (h / maskGroup) * tq * tk + (active ? i : 0) * tk;
    float qr[XBT_ATT_MAXD], acc[XBT_ATT_MAXD], s[XBT_ATT_BK];
    for (int l = 0; l < d; l++) {
        qr[l] = active ? q[qOff + (h * tq + i) * d + l] : 0.0f;
        acc[l] = 0.0f;
    }
    float m = -XBT_INF, sum = 0.0f;
    /* Under a causal mask no query of this group sees keys past its last query. */
    int lastQuery = min(tq, (GROUP_X + 1) * LSIZE_X) - 1;
    int kEnd = causal ? min(tk, lastQuery + 1) : tk;
    for (int j0 = 0; j0 < kEnd; j0 += XBT_ATT_BK) {
        int nk = min(XBT_ATT_BK, kEnd - j0);
        BARRIER();
        for (int e = LID_X; e < nk * d; e += LSIZE_X) {
            kt[e] = kh[j0 * d + e];
            vt[e] = vh[j0 * d + e];
        }
        BARRIER();
        if (!active) continue;
        float tileMax = -XBT_INF;
        for (int jj = 0; jj < nk; jj++) {
            s[jj] = xbt_att_score(qr, kt + jj * d, d, scale, i, j0 + jj, causal, hasMask, maskRow);
            tileMax = fmaxf(tileMax, s[jj]);
        }
        float mNew = fmaxf(m, tileMax);
        if (mNew == -XBT_INF) continue; /* everything so far hidden */
        float corr = expf(m - mNew);
        sum *= corr;
        for (int l = 0; l < d; l++) acc[l] *= corr;
        for (int jj = 0; jj < nk; jj++) {
            float pj = expf(s[jj] - mNew);
            sum += pj;
            for (int l = 0; l < d; l++) acc[l] += pj * vt[jj * d + l];
        }
        m = mNew;
    }
    if (!active) return;
    GLOBAL float *o = out + outOff + (h * tq + i) * d;
    if (m == -XBT_INF) {
        for (int l = 0; l < d; l++) o[l] = 0.0f;
        lse[lseOff + h * tq + i] = -XBT_INF;
    } else {
        for (int l = 0; l < d; l++) o[l] = acc[l] / sum;
        lse[lseOff + h * tq + i] = m + logf(sum);
    }
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

/* gradQ[i] = scale * sum over j of p_ij (dO_i . v_j - delta_i) k_j: one work-item per query. */
KERNEL void xbt_attention_backward_dq(int bh, int tq, int tk, int d, float scale,
                                      GLOBAL const float *q, int qOff, GLOBAL const float *k, int kOff,
                                      GLOBAL const float *v, int vOff,
                                      int hasMask, GLOBAL const float *mask, int maskOff, int maskGroup, int causal,
                                      GLOBAL const float *lse, int lseOff, GLOBAL const float *delta,
                                      GLOBAL const float *gradOut, int gOff, GLOBAL float *gradQ, int gqOff) {
    LOCAL float kt[XBT_ATT_BK * XBT_ATT_MAXD];
    LOCAL float vt[XBT_ATT_BK * XBT_ATT_MAXD];
    int h = GROUP_Y;
    int i = GROUP_X * LSIZE_X + LID_X;
    int active = i < tq;
    int row = h * tq + (active ? i : 0);
    GLOBAL const float *kh = k + kOff + h * tk * d;
    GLOBAL const float *vh = v + vOff + h * tk * d;
    GLOBAL const float *maskRow = mask + maskOff + (h / maskGroup) * tq * tk + (active ? i : 0) * tk;
    float qr[XBT_ATT_MAXD], dor[XBT_ATT_MAXD], dq[XBT_ATT_MAXD];
    for (int l = 0; l < d; l++) {
        qr[l] = active ? q[qOff + row * d + l] : 0.0f;
        dor[l] = active ? gradOut[gOff + row * d + l] : 0.0f;
        dq[l] = 0.0f;
    }
    float li = active ? lse[lseOff + row] : -XBT_INF;
    float di = active ? delta[row] : 0.0f;
    int lastQuery = min(tq, (GROUP_X + 1) * LSIZE_X) - 1;
    int kEnd = causal ? min(tk, lastQuery + 1) : tk;
    for (int j0 = 0; j0 < kEnd; j0 += XBT_ATT_BK) {
        int nk = min(XBT_ATT_BK, kEnd - j0);
        BARRIER();
        for (int e = LID_X; e < nk * d; e += LSIZE_X) {
            kt[e] = kh[j0 * d + e];
            vt[e] = vh[j0 * d + e];
        }
        BARRIER();
        if (!active || li == -XBT_INF) continue;
        for (int jj = 0; jj < nk; jj++) {
            float p = xbt_att_prob(xbt_att_score(qr, kt + jj * d, d, scale, i, j0 + jj, causal, hasMask, maskRow), li);
            if (p == 0.0f) continue;
            float dp = 0.0f;
            for (int l = 0; l < d; l++) dp += dor[l] * vt[jj * d + l];
            float ds = scale * p * (dp - di);
            for (int l = 0; l < d; l++) dq[l] += ds * kt[jj * d + l];
        }
    }
    if (!active) return;
    for (int l = 0; l < d; l++) gradQ[gqOff + row * d + l] = dq[l];
}

/* gradK[j] = scale * sum over i of p_ij (dO_i . v_j - delta_i) q_i and gradV[j] = sum over i of
 * p_ij dO_i: one work-item per key, queries streamed through local tiles. A want flag of 0 skips
 * that output. */
KERNEL void xbt_attention_backward_dkv(int bh, int tq, int tk, int d, float scale,
                                       GLOBAL const float *q, int qOff, GLOBAL const float *k, int kOff,
                                       GLOBAL const float *v, int vOff,
                                       int hasMask, GLOBAL const float *mask, int maskOff, int maskGroup, int causal,
                                       GLOBAL const float *lse, int lseOff, GLOBAL const float *delta,
                                       GLOBAL const float *gradOut, int gOff,
                                       int wantK, GLOBAL float *gradK, int gkOff, int wantV, GLOBAL float *gradV, int gvOff) {
    LOCAL float qt[XBT_ATT_BK * XBT_ATT_MAXD];
    LOCAL float gt[XBT_ATT_BK * XBT_ATT_MAXD];
    LOCAL float lt[XBT_ATT_BK];
    LOCAL float dt[XBT_ATT_BK];
    int h = GROUP_Y;
    int j = GROUP_X * LSIZE_X + LID_X;
    int active = j < tk;
    int row = h * tk + (active ? j : 0);
    GLOBAL const float *qh = q + qOff + h * tq * d;
    GLOBAL const float *gh = gradOut + gOff + h * tq * d;
    GLOBAL const float *maskHead = mask + maskOff + (h / maskGroup) * tq * tk;
    float kr[XBT_ATT_MAXD], vr[XBT_ATT_MAXD], dk[XBT_ATT_MAXD], dv[XBT_ATT_MAXD];
    for (int l = 0; l < d; l++) {
        kr[l] = active ? k[kOff + row * d + l] : 0.0f;
        vr[l] = active ? v[vOff + row * d + l] : 0.0f;
        dk[l] = 0.0f;
        dv[l] = 0.0f;
    }
    /* Under a causal mask queries before this group's first key see none of its keys. */
    int firstKey = GROUP_X * LSIZE_X;
    int iStart = causal ? min(tq, firstKey) : 0;
    for (int i0 = iStart; i0 < tq; i0 += XBT_ATT_BK) {
        int nq = min(XBT_ATT_BK, tq - i0);
        BARRIER();
        for (int e = LID_X; e < nq * d; e += LSIZE_X) {
            qt[e] = qh[i0 * d + e];
            gt[e] = gh[i0 * d + e];
        }
        for (int e = LID_X; e < nq; e += LSIZE_X) {
            lt[e] = lse[lseOff + h * tq + i0 + e];
            dt[e] = delta[h * tq + i0 + e];
        }
        BARRIER();
        if (!active) continue;
        for (int ii = 0; ii < nq; ii++) {
            int i = i0 + ii;
            if ((causal && j > i) || lt[ii] == -XBT_INF) continue;
            float s = 0.0f;
            for (int l = 0; l < d; l++) s += qt[ii * d + l] * kr[l];
            s *= scale;
            if (hasMask) s += maskHead[i * tk + j];
            float p = xbt_att_prob(s, lt[ii]);
            if (p == 0.0f) continue;
            float dp = 0.0f;
            for (int l = 0; l < d; l++) dp += gt[ii * d + l] * vr[l];
            float ds = scale * p * (dp - dt[ii]);
            for (int l = 0; l < d; l++) {
                dv[l] += p * gt[ii * d + l];
                dk[l] += ds * qt[ii * d + l];
            }
        }
    }
    if (!active) return;
    for (int l = 0; l < d; l++) {
        if (wantK) gradK[gkOff + row * d + l] = dk[l];
        if (wantV) gradV[gvOff + row * d + l] = dv[l];
    }
}

/*
 * Row kernels over the last axis of rows x n: layer norm, softmax, cross-entropy. One work-group
 * per row (GROUP_X), LSIZE_X a power of two <= XBT_WG_MAX; column kernels one work-item per column.
 */

/* out = (x - mean) * rstd * gamma + beta; saves mean and rstd per row. Two passes (mean, then
 * the centred variance) so that a large common offset does not cancel. */
KERNEL void xbt_layer_norm(int rows, int n, float eps, GLOBAL const float *x, int xOff,
                           GLOBAL const float *gamma, int gOff, GLOBAL const float *beta, int bOff,
                           GLOBAL float *out, int outOff, GLOBAL float *mean, int meanOff,
                           GLOBAL float *rstd, int rstdOff) {
    LOCAL float scratch[XBT_WG_MAX];
    int r = GROUP_X;
    GLOBAL const float *row = x + xOff + r * n;
    float s = 0.0f;
    for (int j = LID_X; j < n; j += LSIZE_X) s += row[j];
    float mu = xbt_group_sum(s, scratch) / (float) n;
    float v = 0.0f;
    for (int j = LID_X; j < n; j += LSIZE_X) {
        float d = row[j] - mu;
        v += d * d;
    }
    float rs = 1.0f / sqrtf(xbt_group_sum(v, scratch) / (float) n + eps);
    GLOBAL float *o = out + outOff + r * n;
    for (int j = LID_X; j < n; j += LSIZE_X) o[j] = (row[j] - mu) * rs * gamma[gOff + j] + beta[bOff + j];
    if (LID_X == 0) {
        mean[meanOff + r] = mu;
        rstd[rstdOff + r] = rs;
    }
}

/* gradX = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = gradOut * gamma. */
KERNEL void xbt_layer_norm_backward_x(int rows, int n, GLOBAL const float *x, int xOff, GLOBAL const float *gamma, int gOff,
                                      GLOBAL const float *mean, int meanOff, GLOBAL const float *rstd, int rstdOff,
                                      GLOBAL const float *gradOut, int goOff, GLOBAL float *gradX, int gxOff) {
    LOCAL float scratch[XBT_WG_MAX];
    int r = GROUP_X;
    GLOBAL const float *row = x + xOff + r * n;
    GLOBAL const float *go = gradOut + goOff + r * n;
    float mu = mean[meanOff + r], rs = rstd[rstdOff + r];
    float sd = 0.0f, sdx = 0.0f;
    for (int j = LID_X; j < n; j += LSIZE_X) {
        float xhat = (row[j] - mu) * rs;
        float dxhat = go[j] * gamma[gOff + j];
        sd += dxhat;
        sdx += dxhat * xhat;
    }
    float meanD = xbt_group_sum(sd, scratch) / (float) n;
    float meanDX = xbt_group_sum(sdx, scratch) / (float) n;
    GLOBAL float *gx = gradX + gxOff + r * n;
    for (int j = LID_X; j < n; j += LSIZE_X) {
        float xhat = (row[j] - mu) * rs;
        float dxhat = go[j] * gamma[gOff + j];
        gx[j] = rs * (dxhat - meanD - xhat * meanDX);
    }
}

/* Column sums over the rows of chunk c = GROUP_Y, [c * chunkRows, min(rows, (c + 1) * chunkRows)):
 * gradGamma[c * n + j] += sum of gradOut * xhat, gradBeta[c * n + j] += sum of gradOut. One
 * work-item per column j (GLOBAL_X); groups (ceil(n / LSIZE_X), chunks). With one chunk this adds
 * straight into the gradients; with several the host sums the chunk rows afterwards, so that a
 * GPU has chunks * n work-items instead of n walking every row. A want flag of 0 skips that output. */
KERNEL void xbt_layer_norm_backward_params(int rows, int n, int chunkRows, GLOBAL const float *x, int xOff,
                                           GLOBAL const float *mean, int meanOff, GLOBAL const float *rstd, int rstdOff,
                                           GLOBAL const float *gradOut, int goOff,
                                           int wantGamma, GLOBAL float *gradGamma, int ggOff,
                                           int wantBeta, GLOBAL float *gradBeta, int gbOff) {
    int j = GLOBAL_X, c = GROUP_Y;
    if (j >= n) return;
    int r0 = c * chunkRows, r1 = min(rows, r0 + chunkRows);
    float gg = 0.0f, ggc = 0.0f, gb = 0.0f, gbc = 0.0f;
    for (int r = r0; r < r1; r++) {
        float g = gradOut[goOff + r * n + j];
        xbt_sum_add(&gg, &ggc, g * ((x[xOff + r * n + j] - mean[meanOff + r]) * rstd[rstdOff + r]));
        xbt_sum_add(&gb, &gbc, g);
    }
    if (wantGamma) gradGamma[ggOff + c * n + j] += gg + ggc;
    if (wantBeta) gradBeta[gbOff + c * n + j] += gb + gbc;
}

/* log-sum-exp of one row, shared by the softmax and cross-entropy kernels. */
DEVICE float xbt_row_lse(GLOBAL const float *row, int n, LOCAL_PTR float *scratch) {
    float m = -XBT_INF;
    for (int j = LID_X; j < n; j += LSIZE_X) m = fmaxf(m, row[j]);
    m = xbt_group_max(m, scratch);
    float s = 0.0f;
    for (int j = LID_X; j < n; j += LSIZE_X) s += expf(row[j] - m);
    return m + logf(xbt_group_sum(s, scratch));
}

/* out = softmax(x) (logOut = 0) or log_softmax(x) (logOut = 1) per row. */
KERNEL void xbt_softmax(int rows, int n, int logOut, GLOBAL const float *x, int xOff, GLOBAL float *out, int outOff) {
    LOCAL float scratch[XBT_WG_MAX];
    int r = GROUP_X;
    GLOBAL const float *row = x + xOff + r * n;
    float lse = xbt_row_lse(row, n, scratch);
    GLOBAL float *o = out + outOff + r * n;
    for (int j = LID_X; j < n; j += LSIZE_X) {
        float v = row[j] - lse;
        o[j] = logOut ? v : expf(v);
    }
}

/* gradIn from the forward output y: y * (g - sum(g * y)), or g - exp(y) * sum(g) for log_softmax. */
KERNEL void xbt_softmax_backward(int rows, int n, int logOut, GLOBAL const float *y, int yOff, GLOBAL const float *gradOut,
                                 int gOff, GLOBAL float *gradIn, int giOff) {
    LOCAL float scratch[XBT_WG_MAX];
    int r = GROUP_X;
    GLOBAL const float *yr = y + yOff + r * n;
    GLOBAL const float *g = gradOut + gOff + r * n;
    float dot = 0.0f;
    for (int j = LID_X; j < n; j += LSIZE_X) dot += logOut ? g[j] : g[j] * yr[j];
    dot = xbt_group_sum(dot, scratch);
    GLOBAL float *o = gradIn + giOff + r * n;
    for (int j = LID_X; j < n; j += LSIZE_X) o[j] = logOut ? g[j] - expf(yr[j]) * dot : yr[j] * (g[j] - dot);
}

/* loss[r] = lse(logits[r]) - logits[r, targets[r]] (0 where targets[r] < 0); saves lse. */
KERNEL void xbt_cross_entropy(int rows, int n, GLOBAL const float *logits, int xOff, GLOBAL const int *targets,
                              GLOBAL float *loss, int lossOff, GLOBAL float *lse, int lseOff) {
    LOCAL float scratch[XBT_WG_MAX];
    int r = GROUP_X;
    GLOBAL const float *row = logits + xOff + r * n;
    float l = xbt_row_lse(row, n, scratch);
    if (LID_X == 0) {
        int t = targets[r];
        lse[lseOff + r] = l;
        loss[lossOff + r] = t < 0 ? 0.0f : l - row[t];
    }
}

/* gradLogits[r, j] = gradLoss[r] * (exp(logits[r, j] - lse[r]) - [j == targets[r]]); 0 where
 * targets[r] < 0. One work-item per element. */
KERNEL void xbt_cross_entropy_backward(int rows, int n, GLOBAL const float *logits, int xOff, GLOBAL const float *lse,
                                       int lseOff, GLOBAL const int *targets, GLOBAL const float *gradLoss, int glOff,
                                       GLOBAL float *gradLogits, int gOff) {
    int idx = GLOBAL_X;
    if (idx >= rows * n) return;
    int r = idx / n, j = idx - r * n;
    int t = targets[r];
    float g = t < 0 ? 0.0f : gradLoss[glOff + r];
    float p = expf(logits[xOff + idx] - lse[lseOff + r]) - (j == t ? 1.0f : 0.0f);
    gradLogits[gOff + idx] = g * p;
}

package dev.xbt.image;

/**
 * PIL's {@code Image.resize(size, Image.BICUBIC)} for 8-bit RGB, reproduced to the byte.
 *
 * <p>What PIL (libImaging's Resample.c, Pillow 9.x) does, and this class does the same way:
 * <ul>
 *   <li>Two separable passes, horizontal first, then vertical; a pass whose size does not change is skipped.
 *       The horizontal pass only computes the source rows the vertical pass will read.</li>
 *   <li>The kernel is the cubic convolution with {@code a = -0.5}, support 2. When shrinking, the kernel is
 *       stretched by the scale {@code in / out} (support {@code 2 * scale}), which is what makes it
 *       antialiased; when enlarging the scale is taken as 1.</li>
 *   <li>Output pixel {@code i} is centred at {@code (i + 0.5) * scale} in source coordinates; it reads the
 *       source pixels {@code (int)(centre - support + 0.5)} (at least 0) up to, not including,
 *       {@code (int)(centre + support + 0.5)} (at most the size); the weight of source pixel {@code j} is
 *       {@code kernel((j - centre + 0.5) / max(scale, 1))}, computed in double precision, and the weights of an
 *       output pixel are divided by their sum.</li>
 *   <li>The weights are then quantised to fixed point with 22 fraction bits ({@code PRECISION_BITS = 32 - 8 - 2}),
 *       rounding half away from zero; a pass sums {@code pixel * weight} in 32-bit integers starting from
 *       {@code 1 << 21} (the rounding half), shifts right by 22 (arithmetic) and clamps to 0..255. So each pass
 *       rounds its result to 8 bits, and the second pass reads the first pass's bytes.</li>
 * </ul>
 * The double-precision steps are written in the same order as PIL's C code (for instance the kernel argument is
 * multiplied by {@code 1 / max(scale, 1)} rather than divided by it), because Java's IEEE arithmetic then gives
 * the same weights bit for bit; the integer passes are exact, so the output bytes are identical.
 */
final class PilBicubic {
    /** Fixed-point fraction bits of the 8-bit passes (PIL's PRECISION_BITS). */
    static final int PRECISION_BITS = 32 - 8 - 2;
    private static final int HALF = 1 << (PRECISION_BITS - 1);

    private PilBicubic() {
    }

    /** The cubic convolution kernel with a = -0.5, in the form PIL evaluates it. */
    static double kernel(double x) {
        final double a = -0.5;
        if (x < 0.0) x = -x;
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    }

    /**
     * The fixed-point weights of one pass: output pixel {@code i} reads {@code count[i]} source pixels from
     * {@code first[i]} on, with the weights {@code weights[i * taps ...]}.
     */
    record Coefficients(int[] first, int[] count, int[] weights, int taps) {
    }

    /** The weights of resampling {@code inSize} pixels to {@code outSize} (the whole source, PIL's default box). */
    static Coefficients coefficients(int inSize, int outSize) {
        if (inSize <= 0 || outSize <= 0) {
            throw new IllegalArgumentException("resize: sizes must be positive, got " + inSize + " -> " + outSize);
        }
        // PIL passes the box as floats: in1 - in0 = (float) inSize - 0f.
        double scale = (double) (float) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = 2.0 * filterScale;
        int taps = (int) Math.ceil(support) * 2 + 1;
        double ss = 1.0 / filterScale;
        if ((long) outSize * taps > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("resize: " + inSize + " -> " + outSize + " needs too many weights");
        }
        int[] first = new int[outSize];
        int[] count = new int[outSize];
        int[] weights = new int[outSize * taps];
        double[] w = new double[taps];
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            int xmin = (int) (center - support + 0.5);
            if (xmin < 0) xmin = 0;
            int xmax = (int) (center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            int n = xmax - xmin;
            double ww = 0.0;
            for (int x = 0; x < n; x++) {
                double v = kernel((x + xmin - center + 0.5) * ss);
                w[x] = v;
                ww += v;
            }
            int base = xx * taps;
            for (int x = 0; x < n; x++) {
                double v = ww != 0.0 ? w[x] / ww : w[x];
                weights[base + x] = v < 0 ? (int) (-0.5 + v * (1 << PRECISION_BITS))
                        : (int) (0.5 + v * (1 << PRECISION_BITS));
            }
            first[xx] = xmin;
            count[xx] = n;
        }
        return new Coefficients(first, count, weights, taps);
    }

    private static byte clip8(int acc) {
        int v = acc >> PRECISION_BITS;
        return (byte) (v < 0 ? 0 : Math.min(v, 255));
    }

    /** {@code src} resized to {@code outW x outH} exactly as PIL's {@code resize((outW, outH), BICUBIC)}. */
    static RgbImage resize(RgbImage src, int outW, int outH) {
        return resizeWindow(src, outW, outH, 0, 0, outW, outH);
    }

    /**
     * The {@code winW x winH} pixels at ({@code x0}, {@code y0}) of {@code resize(src, outW, outH)}, computing
     * only those (and the intermediate rows they need). Every output pixel depends only on its own weights, so
     * the bytes are those of the full resize, cropped.
     */
    static RgbImage resizeWindow(RgbImage src, int outW, int outH, int x0, int y0, int winW, int winH) {
        int inW = src.width();
        int inH = src.height();
        if (outW <= 0 || outH <= 0) {
            throw new IllegalArgumentException("resize: target size " + outW + "x" + outH + " must be positive");
        }
        if (winW <= 0 || winH <= 0 || x0 < 0 || y0 < 0 || x0 > outW - winW || y0 > outH - winH) {
            throw new IllegalArgumentException("resize: window " + winW + "x" + winH + " at (" + x0 + ", " + y0
                    + ") is not inside " + outW + "x" + outH);
        }
        if ((long) winW * winH * 3 > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("resize: target size " + winW + "x" + winH + " is too large");
        }
        boolean horizontal = outW != inW;
        boolean vertical = outH != inH;

        // the rows of the intermediate picture, each winW pixels wide: source rows rowsFirst .. + rowsCount
        Coefficients cv = vertical ? coefficients(inH, outH) : null;
        int rowsFirst = y0;
        int rowsCount = winH;
        if (vertical) {
            rowsFirst = Integer.MAX_VALUE;
            int end = 0;
            for (int yy = y0; yy < y0 + winH; yy++) {
                rowsFirst = Math.min(rowsFirst, cv.first[yy]);
                end = Math.max(end, cv.first[yy] + cv.count[yy]);
            }
            rowsCount = end - rowsFirst;
        }
        byte[] rows;
        if (horizontal) {
            rows = horizontalPass(src.data(), inW, rowsFirst, rowsCount, coefficients(inW, outW), x0, winW);
        } else {
            rows = new byte[rowsCount * winW * 3];
            for (int r = 0; r < rowsCount; r++) {
                System.arraycopy(src.data(), ((rowsFirst + r) * inW + x0) * 3, rows, r * winW * 3, winW * 3);
            }
        }
        if (!vertical) return new RgbImage(winW, winH, rows);
        return new RgbImage(winW, winH, verticalPass(rows, winW, rowsFirst, cv, y0, winH));
    }

    /**
     * Output columns {@code x0 .. x0 + winW} of the source rows {@code rowFirst .. + rowCount}, as
     * {@code rowCount} rows of {@code winW} pixels.
     */
    private static byte[] horizontalPass(byte[] in, int inW, int rowFirst, int rowCount, Coefficients c, int x0,
                                         int winW) {
        byte[] out = new byte[rowCount * winW * 3];
        int[] first = c.first;
        int[] count = c.count;
        int[] k = c.weights;
        int taps = c.taps;
        int inStride = inW * 3;
        int outStride = winW * 3;
        int xEnd = x0 + winW;
        int r = 0;
        // two rows at a time: each weight is loaded once for six sums (the integer sums are exact, so the
        // order in which they are formed does not change the result)
        for (; r + 1 < rowCount; r += 2) {
            int row0 = (rowFirst + r) * inStride;
            int row1 = row0 + inStride;
            int o = r * outStride;
            for (int xx = x0; xx < xEnd; xx++) {
                int s0 = HALF, s1 = HALF, s2 = HALF, s3 = HALF, s4 = HALF, s5 = HALF;
                int q = first[xx] * 3;
                int kb = xx * taps;
                for (int x = 0, n = count[xx]; x < n; x++, q += 3) {
                    int w = k[kb + x];
                    s0 += (in[row0 + q] & 0xFF) * w;
                    s1 += (in[row0 + q + 1] & 0xFF) * w;
                    s2 += (in[row0 + q + 2] & 0xFF) * w;
                    s3 += (in[row1 + q] & 0xFF) * w;
                    s4 += (in[row1 + q + 1] & 0xFF) * w;
                    s5 += (in[row1 + q + 2] & 0xFF) * w;
                }
                out[o] = clip8(s0);
                out[o + 1] = clip8(s1);
                out[o + 2] = clip8(s2);
                out[o + outStride] = clip8(s3);
                out[o + outStride + 1] = clip8(s4);
                out[o + outStride + 2] = clip8(s5);
                o += 3;
            }
        }
        for (; r < rowCount; r++) {
            int row0 = (rowFirst + r) * inStride;
            int o = r * outStride;
            for (int xx = x0; xx < xEnd; xx++) {
                int s0 = HALF, s1 = HALF, s2 = HALF;
                int q = row0 + first[xx] * 3;
                int kb = xx * taps;
                for (int x = 0, n = count[xx]; x < n; x++, q += 3) {
                    int w = k[kb + x];
                    s0 += (in[q] & 0xFF) * w;
                    s1 += (in[q + 1] & 0xFF) * w;
                    s2 += (in[q + 2] & 0xFF) * w;
                }
                out[o++] = clip8(s0);
                out[o++] = clip8(s1);
                out[o++] = clip8(s2);
            }
        }
        return out;
    }

    /**
     * Output rows {@code y0 .. y0 + winH}; {@code rows} holds the intermediate rows from source row
     * {@code rowFirst} on, {@code width * 3} bytes each.
     */
    private static byte[] verticalPass(byte[] rows, int width, int rowFirst, Coefficients c, int y0, int winH) {
        int stride = width * 3;
        byte[] out = new byte[winH * stride];
        int[] acc = new int[stride];
        int[] k = c.weights;
        for (int yy = y0; yy < y0 + winH; yy++) {
            java.util.Arrays.fill(acc, HALF);
            int kb = yy * c.taps;
            int r0 = (c.first[yy] - rowFirst) * stride;
            for (int y = 0, n = c.count[yy]; y < n; y++) {
                int w = k[kb + y];
                int p = r0 + y * stride;
                for (int i = 0; i < stride; i++) acc[i] += (rows[p + i] & 0xFF) * w;
            }
            int o = (yy - y0) * stride;
            for (int i = 0; i < stride; i++) out[o + i] = clip8(acc[i]);
        }
        return out;
    }
}

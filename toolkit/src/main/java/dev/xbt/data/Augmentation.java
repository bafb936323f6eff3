package dev.xbt.data;

import dev.xbt.engine.Rng;
import dev.xbt.image.ClipPreprocess;
import dev.xbt.image.RgbImage;

/**
 * Training-time augmentation of {@link BatchLoader} crops; {@link #NONE} (the default) leaves them as they are.
 * It works on the cached {@code S×S} centre crop (not the original picture):
 * <ul>
 *   <li>random resized crop ({@code minScale < 1}): a window of {@code [minScale, 1]} of the crop's area, aspect
 *       ratio log-uniform in [3/4, 4/3], at a uniform position, resized back to {@code S×S} with PIL's bicubic;</li>
 *   <li>horizontal flip ({@code flip}): with probability 1/2. <b>It breaks captions that say left or right</b> —
 *       the {@code shapes} corpus's positions and relations ("to the left of") — so keep it off for such data.</li>
 * </ul>
 * Each picture's draws come from its own {@link Rng}, so batches are reproducible whatever the threads.
 *
 * @param minScale the smallest area fraction of the random crop, in (0, 1]; 1 turns it off
 * @param flip     whether to flip half of the pictures left to right
 */
public record Augmentation(double minScale, boolean flip) {
    /** No augmentation. */
    public static final Augmentation NONE = new Augmentation(1.0, false);

    public Augmentation {
        if (!(minScale > 0 && minScale <= 1)) throw new IllegalArgumentException("minScale must be in (0, 1], got " + minScale);
    }

    public boolean isNone() {
        return minScale >= 1 && !flip;
    }

    /** The augmented picture ({@code image} itself when nothing changes). */
    public RgbImage apply(RgbImage image, Rng rng) {
        if (isNone()) return image;
        int w = image.width();
        int h = image.height();
        RgbImage out = image;
        if (minScale < 1) {
            double area = w * (double) h * (minScale + (1 - minScale) * rng.nextDouble());
            double logR = Math.log(3.0 / 4) + (Math.log(4.0 / 3) - Math.log(3.0 / 4)) * rng.nextDouble();
            double ratio = Math.exp(logR);
            int cw = (int) Math.min(w, Math.max(1, Math.round(Math.sqrt(area * ratio))));
            int ch = (int) Math.min(h, Math.max(1, Math.round(Math.sqrt(area / ratio))));
            int x0 = rng.nextInt(w - cw + 1);
            int y0 = rng.nextInt(h - ch + 1);
            if (cw != w || ch != h) {
                byte[] src = image.data();
                byte[] win = new byte[cw * ch * 3];
                for (int y = 0; y < ch; y++) System.arraycopy(src, ((y0 + y) * w + x0) * 3, win, y * cw * 3, cw * 3);
                out = ClipPreprocess.resize(new RgbImage(cw, ch, win), w, h);
            }
        }
        if (flip && rng.nextInt(2) == 1) {
            byte[] src = out.data();
            byte[] dst = new byte[src.length];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int s = (y * w + x) * 3;
                    int d = (y * w + (w - 1 - x)) * 3;
                    dst[d] = src[s];
                    dst[d + 1] = src[s + 1];
                    dst[d + 2] = src[s + 2];
                }
            }
            out = new RgbImage(w, h, dst);
        }
        return out;
    }
}

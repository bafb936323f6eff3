package dev.xbt.data.sources;

import dev.xbt.image.ClipPreprocess;
import dev.xbt.image.ImageException;
import dev.xbt.image.ImageLoader;
import dev.xbt.image.RgbImage;

import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;

/**
 * Reads a picture and shrinks it to fit a square: the longest side becomes at most {@code maxSide} pixels (aspect
 * kept, never enlarged), with {@link ClipPreprocess#resize} (PIL's antialiased bicubic). Alpha is composited onto
 * white, as {@link ImageLoader} does. Pictures up to {@link #DIRECT_PIXELS} pixels are read with
 * {@link ImageLoader} (its checks and one-line errors); larger ones (clip art rendered at 16000 or 29700 pixels)
 * are decoded with ImageIO's source subsampling to about four times the target size first, so they never need
 * gigabytes. Failures are {@link ImageException}s with one-line messages. Thread-safe.
 */
final class Thumbnails {
    /** Pictures with more pixels than this are decoded subsampled. */
    static final long DIRECT_PIXELS = 16L << 20;
    /** Larger than this (a side) is refused even subsampled. */
    static final int MAX_SIDE = 200_000;

    private static final ImageLoader LOADER = new ImageLoader();

    private Thumbnails() {}

    /** {@code file} with its longest side at most {@code maxSide} pixels. */
    static RgbImage read(Path file, int maxSide) {
        return read(file, maxSide, DIRECT_PIXELS);
    }

    /** {@link #read(Path, int)} decoding pictures of more than {@code directPixels} pixels subsampled. */
    static RgbImage read(Path file, int maxSide, long directPixels) {
        int[] size = probe(file);
        RgbImage image = size != null && (long) size[0] * size[1] > directPixels
                ? readSubsampled(file, size[0], size[1], maxSide)
                : LOADER.read(file);
        return fit(image, maxSide);
    }

    /** {@code image} shrunk so its longest side is at most {@code maxSide}; itself when it already fits. */
    static RgbImage fit(RgbImage image, int maxSide) {
        int w = image.width();
        int h = image.height();
        int longest = Math.max(w, h);
        if (longest <= maxSide) return image;
        double scale = (double) maxSide / longest;
        int nw = Math.max(1, Math.min(maxSide, (int) Math.round(w * scale)));
        int nh = Math.max(1, Math.min(maxSide, (int) Math.round(h * scale)));
        return ClipPreprocess.resize(image, nw, nh);
    }

    /** Width and height from the header, or null when ImageIO cannot tell (the loader then says why). */
    private static int[] probe(Path file) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) return null;
            Iterator<ImageReader> it = ImageIO.getImageReaders(in);
            if (!it.hasNext()) return null;
            ImageReader r = it.next();
            try {
                r.setInput(in, true, true);
                return new int[] {r.getWidth(0), r.getHeight(0)};
            } finally {
                r.dispose();
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static RgbImage readSubsampled(Path file, int w, int h, int maxSide) {
        String name = file.toString();
        if (w <= 0 || h <= 0 || w > MAX_SIDE || h > MAX_SIDE) {
            throw new ImageException(name + ": picture of " + w + "x" + h + " pixels is out of range");
        }
        int step = Math.max(1, Math.max(w, h) / (maxSide * 4));
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> it = ImageIO.getImageReaders(in);
            if (!it.hasNext()) throw new ImageException(name + ": not an image");
            ImageReader r = it.next();
            try {
                r.setInput(in, true, true);
                ImageReadParam p = r.getDefaultReadParam();
                p.setSourceSubsampling(step, step, 0, 0);
                BufferedImage b = r.read(0, p);
                return ImageLoader.toRgb(b);
            } finally {
                r.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof ImageException ie) throw ie;
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new ImageException(name + ": corrupt or truncated " + w + "x" + h + " image (" + why + ")", e);
        } catch (OutOfMemoryError e) {
            throw new ImageException(name + ": not enough memory to decode the " + w + "x" + h + " picture", e);
        }
    }
}

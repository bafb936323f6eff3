package dev.xbt.image;

import java.util.Objects;

/**
 * An 8-bit RGB picture: {@code width x height} pixels, stored row by row with the three channels of a pixel next
 * to each other (HWC, {@code data[(y * width + x) * 3 + c]}, values 0..255 read as {@code b & 0xFF}), the layout
 * of a PIL "RGB" image and of {@code numpy.asarray(im)}.
 *
 * <p>{@link #data()} is the backing array, not a copy (pictures are large and pass through several steps);
 * treat it as read-only once the picture has been handed on.
 */
public final class RgbImage {
    private final int width;
    private final int height;
    private final byte[] data;

    /** Wraps {@code data} (HWC, {@code width * height * 3} bytes) without copying it. */
    public RgbImage(int width, int height, byte[] data) {
        Objects.requireNonNull(data, "data");
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("RgbImage: size " + width + "x" + height + " must be positive");
        }
        if ((long) width * height * 3 != data.length) {
            throw new IllegalArgumentException("RgbImage: " + data.length + " bytes for " + width + "x" + height
                    + " RGB (" + (long) width * height * 3 + " bytes)");
        }
        this.width = width;
        this.height = height;
        this.data = data;
    }

    /** A black picture. */
    public static RgbImage blank(int width, int height) {
        if (width <= 0 || height <= 0 || (long) width * height * 3 > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("RgbImage: cannot hold " + width + "x" + height + " RGB pixels");
        }
        return new RgbImage(width, height, new byte[width * height * 3]);
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** The backing array (HWC), not a copy. */
    public byte[] data() {
        return data;
    }

    /** Channel {@code c} (0 = R, 1 = G, 2 = B) of pixel ({@code x}, {@code y}), 0..255. */
    public int get(int x, int y, int c) {
        Objects.checkIndex(x, width);
        Objects.checkIndex(y, height);
        Objects.checkIndex(c, 3);
        return data[(y * width + x) * 3 + c] & 0xFF;
    }

    /** Pixel ({@code x}, {@code y}) as {@code 0xRRGGBB}. */
    public int rgb(int x, int y) {
        return get(x, y, 0) << 16 | get(x, y, 1) << 8 | get(x, y, 2);
    }

    @Override
    public String toString() {
        return "RgbImage[" + width + "x" + height + "]";
    }
}

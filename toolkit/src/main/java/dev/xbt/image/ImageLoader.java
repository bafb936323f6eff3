package dev.xbt.image;

import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.FileImageInputStream;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Reads PNG, JPEG, GIF (the first frame) and BMP files with {@code javax.imageio} and makes them 8-bit RGB
 * ({@link RgbImage}), the input of {@link ClipPreprocess}.
 *
 * <p>How each kind of picture becomes RGB:
 * <ul>
 *   <li>RGB: as decoded. Colour profiles (ICC, gAMA) are ignored, as PIL ignores them.</li>
 *   <li>Grey: R = G = B = the grey value (no gamma conversion: the samples are read directly, not through
 *       {@code BufferedImage.getRGB}, which would treat grey as linear and brighten it).</li>
 *   <li>Palette (GIF, palette PNG, palette BMP): each index is replaced by its palette colour.</li>
 *   <li>16 bits a channel (PNG): the high byte of each sample, {@code v >> 8}, which is what PIL keeps when it
 *       opens a 16-bit RGB(A) PNG. (PIL opens a 16-bit <em>grey</em> PNG as 32-bit "I" and its
 *       {@code convert("RGB")} clips values over 255; here grey is scaled like colour.) Samples of fewer than
 *       8 bits are scaled to 0..255 with rounding.</li>
 *   <li>Alpha (RGBA, grey+alpha, a transparent palette entry, PNG tRNS): <b>composited onto white</b>,
 *       {@code out = round((c * a + 255 * (255 - a)) / 255)}, which is byte for byte what PIL's
 *       {@code Image.alpha_composite(white, im.convert("RGBA")).convert("RGB")} gives. This differs from
 *       PIL's plain {@code convert("RGB")}, which OpenAI CLIP uses and which simply drops the alpha channel
 *       (leaving whatever colour the transparent pixels happen to hold, often black). We composite onto white
 *       on purpose, as the issue asks: transparent backgrounds of logos and product shots become white, as
 *       they are displayed, instead of an arbitrary colour.</li>
 * </ul>
 * A GIF is read as its first frame, at the frame's own size (PIL pads the first frame to the GIF's logical
 * screen when they differ, which is rare). EXIF orientation is not applied (neither does CLIP's pipeline).
 *
 * <p>Every failure is an {@link ImageException} whose one-line message names the file and the problem:
 * missing file, directory, empty file, unreadable file, not a supported image, corrupt header, truncated or
 * corrupt data, and pictures larger than the limits. The limits are checked from the header, before any
 * pixel is decoded, so a small file that claims to be 100000 x 100000 pixels (a decompression bomb) is refused
 * without allocating anything: by default at most {@value #DEFAULT_MAX_SIDE} pixels a side and
 * {@value #DEFAULT_MAX_PIXELS} pixels in all.
 *
 * <p>Instances are immutable and thread-safe; each call uses its own ImageIO reader.
 */
public final class ImageLoader {
    /** Default largest accepted width or height. */
    public static final int DEFAULT_MAX_SIDE = 20_000;
    /** Default largest accepted width x height (200 megapixels). */
    public static final long DEFAULT_MAX_PIXELS = 200_000_000L;

    private static final ImageLoader DEFAULT = new ImageLoader();
    private static final List<String> FORMATS = List.of("png", "jpeg", "gif", "bmp");

    private final int maxSide;
    private final long maxPixels;

    /** A loader with the default limits. */
    public ImageLoader() {
        this(DEFAULT_MAX_SIDE, DEFAULT_MAX_PIXELS);
    }

    /** A loader that refuses pictures wider or taller than {@code maxSide} or with more than {@code maxPixels}. */
    public ImageLoader(int maxSide, long maxPixels) {
        if (maxSide <= 0 || maxPixels <= 0) {
            throw new IllegalArgumentException("ImageLoader: limits must be positive, got side " + maxSide
                    + ", pixels " + maxPixels);
        }
        this.maxSide = maxSide;
        // an RgbImage holds at most 2^31 - 9 bytes
        this.maxPixels = Math.min(maxPixels, (Integer.MAX_VALUE - 8) / 3);
    }

    /** Reads {@code file} with the default limits. */
    public static RgbImage load(Path file) {
        return DEFAULT.read(file);
    }

    public int maxSide() {
        return maxSide;
    }

    public long maxPixels() {
        return maxPixels;
    }

    /** Reads {@code file} as RGB; throws {@link ImageException} with a one-line message when it cannot. */
    public RgbImage read(Path file) {
        Objects.requireNonNull(file, "file");
        String name = file.toString();
        if (Files.isDirectory(file)) throw ImageException.of(name, "is a directory, not an image file");
        if (!Files.exists(file)) throw ImageException.of(name, "no such file");
        long length;
        try {
            length = Files.size(file);
        } catch (IOException e) {
            throw ImageException.of(name, "cannot read the file (" + describe(e) + ")", e);
        }
        if (length == 0) throw ImageException.of(name, "empty file (0 bytes), not an image");
        if (!Files.isReadable(file)) throw ImageException.of(name, "cannot read the file (permission denied)");
        ImageInputStream in;
        try {
            in = new FileImageInputStream(file.toFile());
        } catch (IOException | SecurityException e) {
            throw ImageException.of(name, "cannot open the file (" + describe(e) + ")", e);
        }
        return decode(in, name);
    }

    /**
     * Reads a picture held in memory (an archive member, a download); {@code name} is what error messages
     * call it.
     */
    public RgbImage read(byte[] bytes, String name) {
        Objects.requireNonNull(bytes, "bytes");
        String source = name == null ? "<bytes>" : name;
        if (bytes.length == 0) throw ImageException.of(source, "empty file (0 bytes), not an image");
        return decode(new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes)), source);
    }

    private RgbImage decode(ImageInputStream in, String name) {
        ImageReader reader = null;
        try (in) {
            reader = readerFor(in, name);
            String format = formatOf(reader);
            reader.setInput(in, true, true);
            int width;
            int height;
            try {
                width = reader.getWidth(0);
                height = reader.getHeight(0);
            } catch (IOException | RuntimeException e) {
                throw ImageException.of(name, (isTruncation(e) ? "truncated " : "corrupt or truncated ") + format
                        + " header (" + describe(e) + ")", e);
            }
            checkSize(name, format, width, height);
            List<String> warnings = new ArrayList<>();
            reader.addIIOReadWarningListener(new IIOReadWarningListener() {
                @Override
                public void warningOccurred(ImageReader source, String warning) {
                    warnings.add(warning);
                }
            });
            BufferedImage image;
            try {
                ImageReadParam param = reader.getDefaultReadParam();
                image = reader.read(0, param);
            } catch (IOException | RuntimeException e) {
                String why = describe(e);
                if (why.toLowerCase(Locale.ROOT).contains("unsupported")) { // e.g. a CMYK JPEG
                    throw ImageException.of(name, "unsupported kind of " + format + " (" + why + ")", e);
                }
                throw ImageException.of(name, (isTruncation(e) ? "truncated " + format + " (the file ends early: "
                        : "corrupt or truncated " + format + " data (") + why + ")", e);
            } catch (OutOfMemoryError e) {
                throw ImageException.of(name, "not enough memory to decode the " + width + "x" + height + " "
                        + format, e);
            }
            for (String w : warnings) {
                // libjpeg reports a file that ends early as a warning and pads the picture with grey
                String lw = w.toLowerCase(Locale.ROOT);
                if (lw.contains("premature end") || lw.contains("truncated")) {
                    throw ImageException.of(name, "truncated " + format + " (the file ends early: " + oneLine(w)
                            + ")");
                }
            }
            if (image == null) throw ImageException.of(name, "the " + format + " decoder returned no picture");
            return toRgb(image, name);
        } catch (IOException e) { // closing the stream
            throw ImageException.of(name, "cannot read the file (" + describe(e) + ")", e);
        } finally {
            if (reader != null) reader.dispose();
        }
    }

    private static ImageReader readerFor(ImageInputStream in, String name) {
        Iterator<ImageReader> readers;
        try {
            readers = ImageIO.getImageReaders(in);
        } catch (RuntimeException e) {
            throw ImageException.of(name, "cannot read the file (" + describe(e) + ")", e);
        }
        String other = null;
        while (readers.hasNext()) {
            ImageReader r = readers.next();
            String f = formatOf(r);
            if (FORMATS.contains(f.toLowerCase(Locale.ROOT))) return r;
            if (other == null) other = f;
            r.dispose();
        }
        if (other != null) {
            throw ImageException.of(name, "unsupported image format " + other + " (PNG, JPEG, GIF or BMP only)");
        }
        throw ImageException.of(name, "not an image (no PNG, JPEG, GIF or BMP signature)");
    }

    private static String formatOf(ImageReader reader) {
        String f = null;
        try {
            f = reader.getFormatName();
        } catch (IOException ignored) {
            // fall back on the provider's name
        }
        ImageReaderSpi spi = reader.getOriginatingProvider();
        if (f == null && spi != null && spi.getFormatNames().length > 0) f = spi.getFormatNames()[0];
        return f == null ? "image" : f.toUpperCase(Locale.ROOT);
    }

    private void checkSize(String name, String format, int width, int height) {
        if (width <= 0 || height <= 0) {
            throw ImageException.of(name, "corrupt " + format + " header (size " + width + "x" + height + ")");
        }
        long pixels = (long) width * height;
        if (width > maxSide || height > maxSide || pixels > maxPixels) {
            throw ImageException.of(name, String.format(Locale.ROOT,
                    "%s of %dx%d pixels (%.1f megapixels) is over the limit of %d pixels a side and %.1f megapixels"
                            + "; refused before decoding (possible decompression bomb)",
                    format, width, height, pixels / 1e6, maxSide, maxPixels / 1e6));
        }
    }

    private static boolean isTruncation(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof EOFException) return true;
            String m = t.getMessage();
            if (m != null) {
                String lm = m.toLowerCase(Locale.ROOT);
                if (lm.contains("premature end") || lm.contains("end of file") || lm.contains("truncated")
                        || lm.contains("unexpected end") || lm.contains("eof")) {
                    return true;
                }
            }
            if (t.getCause() == t) break;
        }
        return false;
    }

    /** The messages of {@code e} and its causes (at most three, without repeats), on one line. */
    private static String describe(Throwable e) {
        List<String> parts = new ArrayList<>();
        for (Throwable t = e; t != null && parts.size() < 3; t = t.getCause() == t ? null : t.getCause()) {
            String m = t instanceof NoSuchFileException ? "no such file"
                    : t instanceof AccessDeniedException ? "permission denied" : t.getMessage();
            if ((m == null || m.isBlank()) && t instanceof EOFException) m = "unexpected end of file";
            if (m != null && !m.isBlank()) {
                m = oneLine(m);
                if (!parts.contains(m)) parts.add(m);
            }
        }
        return parts.isEmpty() ? e.getClass().getSimpleName() : String.join(": ", parts);
    }

    private static String oneLine(String s) {
        return ImageException.oneLine(s);
    }

    // ---- BufferedImage -> RGB -----------------------------------------------------------------------

    /**
     * Any decoded {@link BufferedImage} as RGB, by the rules in the class comment (alpha composited onto white).
     * Throws {@link ImageException} for colour models that are not grey, RGB or palette (CMYK, for instance).
     */
    public static RgbImage toRgb(BufferedImage image) {
        return toRgb(image, "image");
    }

    static RgbImage toRgb(BufferedImage image, String name) {
        int w = image.getWidth();
        int h = image.getHeight();
        if ((long) w * h * 3 > Integer.MAX_VALUE - 8) {
            throw ImageException.of(name, "picture of " + w + "x" + h + " pixels is too large");
        }
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        byte[] out = new byte[w * h * 3];
        if (cm instanceof IndexColorModel icm) {
            fromPalette(icm, raster, w, h, out);
        } else {
            fromComponents(cm, raster, w, h, out, name);
        }
        return new RgbImage(w, h, out);
    }

    /** Composites colour {@code c} with alpha {@code a} (both 0..255) onto white, rounding to nearest. */
    static int onWhite(int c, int a) {
        return (c * a + 255 * (255 - a) + 127) / 255;
    }

    private static void fromPalette(IndexColorModel icm, Raster raster, int w, int h, byte[] out) {
        int n = icm.getMapSize();
        byte[] lut = new byte[n * 3];
        for (int i = 0; i < n; i++) {
            int a = icm.getAlpha(i);
            lut[i * 3] = (byte) onWhite(icm.getRed(i), a);
            lut[i * 3 + 1] = (byte) onWhite(icm.getGreen(i), a);
            lut[i * 3 + 2] = (byte) onWhite(icm.getBlue(i), a);
        }
        int[] row = new int[w];
        int o = 0;
        for (int y = 0; y < h; y++) {
            raster.getSamples(raster.getMinX(), raster.getMinY() + y, w, 1, 0, row);
            for (int x = 0; x < w; x++) {
                int idx = row[x];
                if (idx >= 0 && idx < n) {
                    out[o] = lut[idx * 3];
                    out[o + 1] = lut[idx * 3 + 1];
                    out[o + 2] = lut[idx * 3 + 2];
                } // an index past the palette stays black
                o += 3;
            }
        }
    }

    private static void fromComponents(ColorModel cm, Raster raster, int w, int h, byte[] out, String name) {
        int colours = cm.getNumColorComponents();
        int bands = raster.getNumBands();
        boolean alpha = cm.hasAlpha();
        if ((colours != 1 && colours != 3) || bands != colours + (alpha ? 1 : 0)) {
            String space = switch (cm.getColorSpace().getType()) {
                case ColorSpace.TYPE_CMYK -> "CMYK, ";
                case ColorSpace.TYPE_YCbCr -> "YCbCr, ";
                default -> "";
            };
            throw ImageException.of(name, "unsupported colour model (" + space + colours + " colour components, "
                    + bands + " bands; grey, RGB and palette pictures only)");
        }
        int[] bits = new int[bands];
        for (int b = 0; b < bands; b++) bits[b] = cm.getComponentSize(b);
        boolean premultiplied = alpha && cm.isAlphaPremultiplied();
        if (!premultiplied && fromInterleavedBytes(raster, colours, alpha, bits, w, h, out)) return;
        int[] row = new int[w * bands];
        int o = 0;
        for (int y = 0; y < h; y++) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, row);
            for (int x = 0, p = 0; x < w; x++, p += bands) {
                int a = alpha ? to8(row[p + colours], bits[colours]) : 255;
                for (int c = 0; c < 3; c++) {
                    int b = colours == 1 ? 0 : c;
                    int v = to8(row[p + b], bits[b]);
                    if (alpha) v = premultiplied ? Math.min(255, v + 255 - a) : onWhite(v, a);
                    out[o++] = (byte) v;
                }
            }
        }
    }

    /**
     * The common case (JPEG, 24-bit BMP, 8-bit PNG): 8-bit samples interleaved in one byte array, read directly
     * instead of through {@link Raster#getPixels}. Returns false, doing nothing, for any other layout.
     */
    private static boolean fromInterleavedBytes(Raster raster, int colours, boolean alpha, int[] bits, int w, int h,
                                                byte[] out) {
        if (!(raster.getDataBuffer() instanceof DataBufferByte db) || db.getNumBanks() != 1
                || !(raster.getSampleModel() instanceof PixelInterleavedSampleModel sm)
                || raster.getParent() != null || raster.getMinX() != 0 || raster.getMinY() != 0
                || raster.getSampleModelTranslateX() != 0 || raster.getSampleModelTranslateY() != 0) {
            return false;
        }
        for (int b : bits) if (b != 8) return false;
        for (int b = 0; b < sm.getNumBands(); b++) if (sm.getSampleSize(b) != 8) return false;
        byte[] d = db.getData();
        int base = db.getOffset();
        int stride = sm.getScanlineStride();
        int step = sm.getPixelStride();
        int[] off = sm.getBandOffsets();
        int r = off[0];
        int g = off[colours == 1 ? 0 : 1];
        int bl = off[colours == 1 ? 0 : 2];
        int a = alpha ? off[colours] : 0;
        int o = 0;
        for (int y = 0; y < h; y++) {
            int p = base + y * stride;
            for (int x = 0; x < w; x++, p += step) {
                if (alpha) {
                    int av = d[p + a] & 0xFF;
                    out[o++] = (byte) onWhite(d[p + r] & 0xFF, av);
                    out[o++] = (byte) onWhite(d[p + g] & 0xFF, av);
                    out[o++] = (byte) onWhite(d[p + bl] & 0xFF, av);
                } else {
                    out[o++] = d[p + r];
                    out[o++] = d[p + g];
                    out[o++] = d[p + bl];
                }
            }
        }
        return true;
    }

    /** A sample of {@code bits} bits as 8 bits: the high byte when wider, scaled with rounding when narrower. */
    private static int to8(int v, int bits) {
        if (bits == 8) return v & 0xFF;
        if (bits > 8) return (v >>> (bits - 8)) & 0xFF;
        int max = (1 << bits) - 1;
        return (Math.min(v, max) * 255 + max / 2) / max;
    }
}

package dev.xbt.data;

import dev.xbt.image.RgbImage;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * A small PNG encoder for 8-bit RGB pictures: one IHDR, one IDAT, IEND; each row filtered with the PNG filter
 * (None, Sub, Up, Average, Paeth) whose output has the smallest sum of absolute values, the usual heuristic, or
 * with None throughout. The
 * bytes depend only on the pixels and the deflate level (and the JDK's zlib), so the same picture gives the same
 * file, with no timestamps or other chunks. Thread-safe (stateless).
 */
public final class PngEncoder {
    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

    /** One deflater a thread: making one allocates zlib's state, which costs more than compressing a small picture. */
    private static final ThreadLocal<Deflater> DEFLATERS = ThreadLocal.withInitial(Deflater::new);

    private PngEncoder() {}

    /** The PNG file of {@code image}, deflate level 6. */
    public static byte[] encode(RgbImage image) {
        return encode(image, 6);
    }

    /** The PNG file of {@code image} at deflate {@code level} (0-9), rows filtered adaptively. */
    public static byte[] encode(RgbImage image, int level) {
        return encode(image, level, true);
    }

    /**
     * The PNG file of {@code image} at deflate {@code level} (0-9); {@code adaptive} picks each row's filter by the
     * smallest sum of absolute values, otherwise every row has filter None (smaller and about three times faster
     * for flat, antialiased drawings such as {@link ShapesGenerator}'s; worse for photographs).
     */
    public static byte[] encode(RgbImage image, int level, boolean adaptive) {
        if (level < 0 || level > 9) throw new IllegalArgumentException("deflate level must be 0-9, got " + level);
        int w = image.width();
        int h = image.height();
        int stride = w * 3;
        byte[] px = image.data();
        byte[] raw = new byte[h * (stride + 1)];
        byte[][] cand = new byte[5][stride];
        for (int y = 0; y < h; y++) {
            int row = y * stride;
            int prev = row - stride;
            if (!adaptive) {
                System.arraycopy(px, row, raw, y * (stride + 1) + 1, stride); // filter byte 0: None
                continue;
            }
            for (int i = 0; i < stride; i++) {
                int x = px[row + i] & 0xFF;
                int a = i >= 3 ? px[row + i - 3] & 0xFF : 0;
                int b = y > 0 ? px[prev + i] & 0xFF : 0;
                int c = i >= 3 && y > 0 ? px[prev + i - 3] & 0xFF : 0;
                cand[0][i] = (byte) x;
                cand[1][i] = (byte) (x - a);
                cand[2][i] = (byte) (x - b);
                cand[3][i] = (byte) (x - ((a + b) >>> 1));
                cand[4][i] = (byte) (x - paeth(a, b, c));
            }
            long best = Long.MAX_VALUE;
            int bestF = 0;
            for (int f = 0; f < 5; f++) {
                byte[] cf = cand[f];
                long sum = 0;
                for (int i = 0; i < stride; i++) sum += Math.abs(cf[i]);
                if (sum < best) {
                    best = sum;
                    bestF = f;
                }
            }
            raw[y * (stride + 1)] = (byte) bestF;
            System.arraycopy(cand[bestF], 0, raw, y * (stride + 1) + 1, stride);
        }
        return file(w, h, 2, raw, level); // colour type 2: RGB
    }

    /**
     * The PNG file of an 8-bit grey picture (colour type 0) at deflate level 9, every row with the Up filter (the
     * first with None). {@code pixels}: {@code width * height} bytes, row by row, 0 black .. 255 white.
     */
    public static byte[] encodeGray(byte[] pixels, int width, int height) {
        if (width <= 0 || height <= 0 || (long) width * height != pixels.length) {
            throw new IllegalArgumentException("grey PNG: " + pixels.length + " bytes for " + width + "x" + height);
        }
        byte[] raw = new byte[height * (width + 1)];
        for (int y = 0; y < height; y++) {
            int o = y * (width + 1);
            raw[o] = (byte) (y == 0 ? 0 : 2);
            for (int x = 0; x < width; x++) {
                int v = pixels[y * width + x] & 0xFF;
                int up = y == 0 ? 0 : pixels[(y - 1) * width + x] & 0xFF;
                raw[o + 1 + x] = (byte) (v - up);
            }
        }
        return file(width, height, 0, raw, 9);
    }

    /** Signature, IHDR (8 bits a sample), one IDAT of the deflated filtered rows {@code raw}, IEND. */
    private static byte[] file(int w, int h, int colourType, byte[] raw, int level) {
        Deflater deflater = DEFLATERS.get();
        deflater.reset();
        deflater.setLevel(level);
        deflater.setInput(raw);
        deflater.finish();
        ByteArrayOutputStream zout = new ByteArrayOutputStream(raw.length / 2 + 64);
        byte[] buf = new byte[16384];
        while (!deflater.finished()) {
            int n = deflater.deflate(buf);
            zout.write(buf, 0, n);
        }
        byte[] z = zout.toByteArray();
        ByteArrayOutputStream out = new ByteArrayOutputStream(z.length + 64);
        out.writeBytes(SIGNATURE);
        byte[] ihdr = new byte[13];
        putInt(ihdr, 0, w);
        putInt(ihdr, 4, h);
        ihdr[8] = 8; // bit depth
        ihdr[9] = (byte) colourType;
        chunk(out, "IHDR", ihdr);
        chunk(out, "IDAT", z);
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static int paeth(int a, int b, int c) {
        int p = a + b - c;
        int pa = Math.abs(p - a);
        int pb = Math.abs(p - b);
        int pc = Math.abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] len = new byte[4];
        putInt(len, 0, data.length);
        out.writeBytes(len);
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.writeBytes(t);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        byte[] c = new byte[4];
        putInt(c, 0, (int) crc.getValue());
        out.writeBytes(c);
    }

    private static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }
}

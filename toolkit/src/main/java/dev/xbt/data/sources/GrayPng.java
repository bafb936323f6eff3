package dev.xbt.data.sources;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * A PNG file of an 8-bit grey picture (colour type 0): IHDR, one IDAT, IEND, every row with the Up filter (the
 * first with None); no other chunks, so the bytes depend only on the pixels. For Fashion-MNIST's 28x28 pictures.
 */
final class GrayPng {
    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

    private GrayPng() {}

    /** {@code pixels}: {@code width * height} bytes, row by row, 0 black .. 255 white. */
    static byte[] encode(byte[] pixels, int width, int height) {
        if (width <= 0 || height <= 0 || (long) width * height != pixels.length) {
            throw new IllegalArgumentException("GrayPng: " + pixels.length + " bytes for " + width + "x" + height);
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
        Deflater d = new Deflater(9);
        ByteArrayOutputStream z = new ByteArrayOutputStream(raw.length / 2 + 64);
        try {
            d.setInput(raw);
            d.finish();
            byte[] buf = new byte[4096];
            while (!d.finished()) z.write(buf, 0, d.deflate(buf));
        } finally {
            d.end();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(z.size() + 64);
        out.writeBytes(SIGNATURE);
        byte[] ihdr = new byte[13];
        putInt(ihdr, 0, width);
        putInt(ihdr, 4, height);
        ihdr[8] = 8; // bits a sample
        ihdr[9] = 0; // grey
        chunk(out, "IHDR", ihdr);
        chunk(out, "IDAT", z.toByteArray());
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
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

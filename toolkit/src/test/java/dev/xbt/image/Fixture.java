package dev.xbt.image;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Reads images/expected.bin.gz, written by src/test/python/make_image_fixture.py (the format is described
 * there and in images/README.md).
 */
final class Fixture {
    record Entry(String name, int dtype, int[] shape, byte[] data) {
        int size(int axis) {
            return shape[axis];
        }

        byte[] bytes() {
            if (dtype != 1) throw new IllegalStateException(name + " is not uint8");
            return data;
        }

        float[] floats() {
            if (dtype != 2) throw new IllegalStateException(name + " is not float32");
            float[] f = new float[data.length / 4];
            ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
            return f;
        }

        /** An HWC uint8 [h, w, 3] record as a picture. */
        RgbImage image() {
            if (shape.length != 3 || shape[2] != 3) throw new IllegalStateException(name + " is not [h, w, 3]");
            return new RgbImage(shape[1], shape[0], bytes());
        }
    }

    static final String DIR = "/images/";
    private static Map<String, Entry> entries;

    private Fixture() {
    }

    static synchronized Map<String, Entry> entries() {
        if (entries != null) return entries;
        Map<String, Entry> m = new LinkedHashMap<>();
        try (InputStream raw = Fixture.class.getResourceAsStream(DIR + "expected.bin.gz")) {
            if (raw == null) throw new IllegalStateException("missing test resource images/expected.bin.gz");
            DataInputStream in = new DataInputStream(new GZIPInputStream(raw));
            byte[] magic = in.readNBytes(8);
            if (!Arrays.equals(magic, "XBTIMGF1".getBytes(StandardCharsets.US_ASCII))) {
                throw new IllegalStateException("expected.bin: bad magic");
            }
            int count = u32(in);
            for (int r = 0; r < count; r++) {
                int nameLen = Short.toUnsignedInt(Short.reverseBytes(in.readShort()));
                String name = new String(in.readNBytes(nameLen), StandardCharsets.UTF_8);
                int dtype = in.readUnsignedByte();
                int ndim = in.readUnsignedByte();
                int[] shape = new int[ndim];
                long n = 1;
                for (int d = 0; d < ndim; d++) {
                    shape[d] = u32(in);
                    n *= shape[d];
                }
                int item = dtype == 1 ? 1 : dtype == 2 ? 4 : -1;
                if (item < 0) throw new IllegalStateException("expected.bin: unknown dtype " + dtype);
                byte[] data = new byte[Math.toIntExact(n * item)];
                in.readFully(data);
                m.put(name, new Entry(name, dtype, shape, data));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        entries = m;
        return m;
    }

    static Entry get(String name) {
        Entry e = entries().get(name);
        if (e == null) throw new IllegalStateException("expected.bin has no record " + name);
        return e;
    }

    private static int u32(DataInputStream in) throws IOException {
        return Integer.reverseBytes(in.readInt());
    }

    /** A fixture picture as a file on disk (the test resources are a folder when tests run from Maven). */
    static Path file(String name) {
        try {
            return Paths.get(Fixture.class.getResource(DIR + name).toURI());
        } catch (Exception e) {
            throw new IllegalStateException("missing test resource images/" + name, e);
        }
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] floatBytes(float[] f) {
        ByteBuffer b = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(f);
        return b.array();
    }

    /** The 32-bit hash of make_image_fixture.py's mix(). */
    static int mix(int i) {
        int h = i * 0x9E3779B1;
        h ^= h >>> 15;
        h *= 0x85EBCA77;
        h ^= h >>> 13;
        h *= 0xC2B2AE3D;
        h ^= h >>> 16;
        return h;
    }

    /** make_image_fixture.py's synthetic(w, h, mode). */
    static RgbImage synthetic(int w, int h, int mode) {
        byte[] d = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    int i = (y * w + x) * 3 + c;
                    int v = switch (mode) {
                        case 0 -> (x * 5 + y * 3 + c * 85 + (mix(i) >>> 26)) & 255;
                        case 1 -> mix(i) >>> 24;
                        default -> switch (c) {
                            case 0 -> x * 255 / Math.max(w - 1, 1);
                            case 1 -> y * 255 / Math.max(h - 1, 1);
                            default -> (x + y) * 255 / Math.max(w + h - 2, 1);
                        };
                    };
                    d[i] = (byte) v;
                }
            }
        }
        return new RgbImage(w, h, d);
    }

    /** {max |a - b|, count of differing bytes}. */
    static int[] diff(byte[] a, byte[] b) {
        if (a.length != b.length) throw new IllegalArgumentException(a.length + " vs " + b.length + " bytes");
        int max = 0;
        int count = 0;
        for (int i = 0; i < a.length; i++) {
            int d = Math.abs((a[i] & 0xFF) - (b[i] & 0xFF));
            if (d != 0) count++;
            max = Math.max(max, d);
        }
        return new int[] {max, count};
    }
}

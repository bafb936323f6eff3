package dev.xbt.weights;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Builds raw safetensors bytes by hand for tests (no padding, so headers can be anything). */
final class StBytes {
    private StBytes() {}

    static byte[] le64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    /** Length prefix (the header's real length) + header bytes + data bytes. */
    static byte[] file(byte[] header, byte[] data) {
        return concat(le64(header.length), header, data);
    }

    static byte[] file(String json, byte[] data) {
        return file(json.getBytes(StandardCharsets.UTF_8), data);
    }

    /** A header followed by {@code dataBytes} zero bytes. */
    static byte[] file(String json, int dataBytes) {
        return file(json, new byte[dataBytes]);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static byte[] f32(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return b.array();
    }

    /** One-tensor header: {"name":{"dtype":..,"shape":..,"data_offsets":[b,e]}}. */
    static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + ","
                + end + "]}";
    }
}

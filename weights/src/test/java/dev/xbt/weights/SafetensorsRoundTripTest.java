package dev.xbt.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.xbt.weights.StBytes.concat;
import static dev.xbt.weights.StBytes.entry;
import static dev.xbt.weights.StBytes.file;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class SafetensorsRoundTripTest {
    @TempDir
    Path dir;

    private static float[] sample(int n, int seed) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (Math.sin(0.37 * i + seed) * Math.pow(10, (i % 7) - 3));
        return v;
    }

    private static final float[] SPECIALS = {0f, -0f, 1f, -1f, Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE,
            -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 65504f, 65520f, 1e-8f,
            1f + 0x1p-8f, 1f + 3 * 0x1p-8f, 0.1f, 3.14159265f};

    private static Map<String, TensorData> tensors() {
        Map<String, TensorData> m = new LinkedHashMap<>();
        m.put("visual.proj", TensorData.of(sample(24, 1), 2, 3, 4));
        m.put("specials", TensorData.of(SPECIALS.clone(), SPECIALS.length));
        m.put("logit_scale", TensorData.scalar(4.6052f));
        m.put("empty", TensorData.of(new float[0], 0));
        m.put("empty.2d", TensorData.of(new float[0], 3, 0));
        m.put("a.bias", TensorData.of(sample(5, 2), 5));
        return m;
    }

    private static void assertBitsEqual(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++)
            assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(actual[i]),
                    what + "[" + i + "]: expected " + expected[i] + " got " + actual[i]);
    }

    @Test
    void f32RoundTripKeepsValuesShapesOrderAndMetadata() {
        Path p = dir.resolve("model.safetensors");
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("note", "ünïcödé \"quoted\"\n");
        Map<String, TensorData> t = tensors();
        SafetensorsWriter.write(p, t, meta);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.copyOf(t.keySet()), List.copyOf(f.names()));
            assertEquals(meta, f.metadata());
            assertEquals(List.copyOf(meta.keySet()), List.copyOf(f.metadata().keySet()));
            long expectedBytes = 0;
            for (var e : t.entrySet()) {
                TensorInfo info = f.info(e.getKey());
                assertEquals(Dtype.F32, info.dtype());
                assertArrayEquals(e.getValue().shape(), info.intShape());
                assertEquals(e.getValue().data().length, info.elementCount());
                assertEquals(expectedBytes, info.begin(), "tensors are packed in order");
                expectedBytes = info.end();
                assertBitsEqual(e.getValue().data(), f.readFloats(e.getKey()), e.getKey());
            }
            assertEquals(expectedBytes, f.dataBytes());
            assertEquals(0, f.dataStart() % 8, "header padded to a multiple of 8");
            assertEquals(0, f.info("logit_scale").rank());
            assertArrayEquals(new long[] {3, 0}, f.info("empty.2d").shape());
            assertEquals(0, f.readFloats("empty").length);
        }
    }

    @Test
    void f16RoundTripRoundsToNearestEven() {
        Path p = dir.resolve("half.safetensors");
        SafetensorsWriter.write(p, tensors(), null, Dtype.F16);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertTrue(f.metadata().isEmpty());
            for (var e : tensors().entrySet()) {
                assertEquals(Dtype.F16, f.info(e.getKey()).dtype());
                float[] src = e.getValue().data();
                float[] expected = new float[src.length];
                for (int i = 0; i < src.length; i++) expected[i] = Float.float16ToFloat(Float.floatToFloat16(src[i]));
                assertBitsEqual(expected, f.readFloats(e.getKey()), e.getKey());
            }
            float[] s = f.readFloats("specials");
            assertEquals(65504f, s[11]);
            assertEquals(Float.POSITIVE_INFINITY, s[12], "65520 rounds up to infinity in F16");
            assertEquals(1f + 0x1p-8f, s[14], "1 + 2^-8 is exact in F16");
        }
    }

    @Test
    void bf16RoundTripRoundsToNearestEven() {
        Path p = dir.resolve("bf16.safetensors");
        SafetensorsWriter.write(p, tensors(), Map.of("dtype", "bf16"), Dtype.BF16);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            float[] s = f.readFloats("specials");
            assertEquals(1f, s[14], "1 + 2^-8 is a tie in BF16 and rounds to even (1)");
            assertEquals(1f + 0x1p-6f, s[15], "1 + 3*2^-8 is a tie and rounds to even (1 + 2^-6)");
            assertTrue(Float.isNaN(s[10]));
            assertEquals(Float.POSITIVE_INFINITY, s[8]);
            assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(s[1]));
            assertEquals(Float.POSITIVE_INFINITY, s[6], "FLOAT_MAX rounds to infinity in BF16");
            for (var e : tensors().entrySet()) {
                float[] src = e.getValue().data();
                float[] expected = new float[src.length];
                for (int i = 0; i < src.length; i++) expected[i] = Float.intBitsToFloat(SafetensorsWriter.toBf16(src[i]) << 16);
                assertBitsEqual(expected, f.readFloats(e.getKey()), e.getKey());
            }
        }
    }

    @Test
    void bf16ConversionMatchesExactRoundingOnManyPatterns() {
        // Compare with an independent definition: the nearest BF16 value, ties to the even mantissa.
        for (long bits = 0; bits <= 0xFFFF_FFFFL; bits += 997) {
            int x = (int) bits;
            float v = Float.intBitsToFloat(x);
            if (Float.isNaN(v)) {
                short h = SafetensorsWriter.toBf16(v);
                if (!Float.isNaN(Float.intBitsToFloat(h << 16)) || (x < 0) != (h < 0))
                    fail("NaN " + Integer.toHexString(x) + " became " + Integer.toHexString(h & 0xFFFF));
                continue;
            }
            int expect;
            if ((x & 0xFFFF) == 0) expect = x >>> 16;
            else {
                int lo = x & 0xFFFF0000, hi = lo + 0x10000;
                double down = Float.intBitsToFloat(lo);
                double up = (hi & 0x7FFFFFFF) == 0x7F800000 ? Math.copySign(0x1p128, v) : Float.intBitsToFloat(hi);
                double dDown = Math.abs(v - down), dUp = Math.abs(up - v);
                if (dDown < dUp) expect = lo >>> 16;
                else if (dUp < dDown) expect = hi >>> 16;
                else expect = ((lo >>> 16) & 1) == 0 ? lo >>> 16 : hi >>> 16;
            }
            int got = SafetensorsWriter.toBf16(v) & 0xFFFF;
            if (got != (expect & 0xFFFF))
                fail(Integer.toHexString(x) + ": expected " + Integer.toHexString(expect & 0xFFFF) + " got " + Integer.toHexString(got));
        }
    }

    @Test
    void emptyFileOfTensorsRoundTrips() {
        Path p = dir.resolve("none.safetensors");
        SafetensorsWriter.write(p, Map.of(), Map.of("only", "metadata"));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertTrue(f.names().isEmpty());
            assertEquals(0, f.dataBytes());
            assertEquals(Map.of("only", "metadata"), f.metadata());
        }
    }

    @Test
    void writerOutputHeaderIsCompactJsonPaddedWithSpaces() throws IOException {
        Path p = dir.resolve("h.safetensors");
        Map<String, TensorData> t = new LinkedHashMap<>();
        t.put("b", TensorData.of(new float[] {1, 2}, 2));
        t.put("a", TensorData.scalar(3));
        SafetensorsWriter.write(p, t, Map.of("k", "v"));
        byte[] bytes = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertEquals("{\"__metadata__\":{\"k\":\"v\"},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12]}}", header.stripTrailing());
        assertTrue(header.substring(header.stripTrailing().length()).chars().allMatch(c -> c == ' '));
        assertEquals(8 + n + 12, bytes.length);
    }

    @Test
    void overwritingReplacesTheFileAndLeavesNoTemporaryFiles() throws IOException {
        Path p = dir.resolve("m.safetensors");
        SafetensorsWriter.write(p, Map.of("x", TensorData.of(new float[] {1, 2, 3}, 3)), null);
        SafetensorsWriter.write(p, Map.of("y", TensorData.scalar(5)), null);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.of("y"), List.copyOf(f.names()));
            assertEquals(5f, f.readFloats("y")[0]);
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(p), s.toList());
        }
    }

    @Test
    void readsIntegerAndDoubleDtypesAsFloats() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(-1L);                       // U64 max: 18446744073709551615 -> 1.8446744e19
        b.putLong(Long.MIN_VALUE);            // I64
        b.putDouble(0.1);                     // F64
        b.putInt(-1);                         // U32 4294967295
        b.putInt(-7);                         // I32
        b.putShort((short) -1);               // U16 65535
        b.putShort((short) -2);               // I16
        b.put((byte) -1);                     // U8 255
        b.put((byte) -3);                     // I8
        b.put((byte) 0).put((byte) 2);        // BOOL false, true (any non-zero)
        b.put((byte) 0x38);                   // F8_E4M3: listed but not decodable
        int used = b.position();
        String json = "{" + String.join(",",
                entry("u64", "U64", "[1]", 0, 8), entry("i64", "I64", "[1]", 8, 16), entry("f64", "F64", "[1]", 16, 24),
                entry("u32", "U32", "[1]", 24, 28), entry("i32", "I32", "[1]", 28, 32),
                entry("u16", "U16", "[1]", 32, 34), entry("i16", "I16", "[1]", 34, 36),
                entry("u8", "U8", "[1]", 36, 37), entry("i8", "I8", "[1]", 37, 38), entry("flags", "BOOL", "[2]", 38, 40),
                entry("fp8", "F8_E4M3", "[1]", 40, 41)) + "}";
        byte[] data = new byte[used];
        b.flip().get(data);
        Path p = dir.resolve("ints.safetensors");
        Files.write(p, file(json, data));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(0x1p64f, f.readFloats("u64")[0]);
            assertEquals(-0x1p63f, f.readFloats("i64")[0]);
            assertEquals(0.1f, f.readFloats("f64")[0]);
            assertEquals(4294967295f, f.readFloats("u32")[0]);
            assertEquals(-7f, f.readFloats("i32")[0]);
            assertEquals(65535f, f.readFloats("u16")[0]);
            assertEquals(-2f, f.readFloats("i16")[0]);
            assertEquals(255f, f.readFloats("u8")[0]);
            assertEquals(-3f, f.readFloats("i8")[0]);
            assertArrayEquals(new float[] {0f, 1f}, f.readFloats("flags"));
            assertEquals(Dtype.F8_E4M3, f.info("fp8").dtype());
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> f.readFloats("fp8"));
            assertTrue(e.getMessage().contains("readFloats cannot decode dtype F8_E4M3"), e.getMessage());
            assertEquals((byte) 0x38, f.segment("fp8").get(ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void unsignedLongConversionRoundsCorrectly() throws IOException {
        long[] values = {0x8000_0000_0000_0001L, 0x8000_0080_0000_0000L, 0x8000_0080_0000_0001L, 0xFFFF_FF7F_FFFF_FFFFL};
        ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) b.putLong(v);
        Path p = dir.resolve("u64.safetensors");
        Files.write(p, file("{" + entry("u", "U64", "[" + values.length + "]", 0, 8L * values.length) + "}", b.array()));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            float[] got = f.readFloats("u");
            for (int i = 0; i < values.length; i++) {
                float expected = new java.math.BigDecimal(Long.toUnsignedString(values[i])).floatValue();
                assertEquals(expected, got[i], Long.toUnsignedString(values[i]));
            }
        }
    }

    @Test
    void headerOrderIsKeptEvenWhenDataIsLaidOutDifferently() throws IOException {
        String json = "{" + entry("z", "F32", "[1]", 4, 8) + "," + entry("a", "F32", "[1]", 0, 4) + "}";
        Path p = dir.resolve("order.safetensors");
        Files.write(p, file(json, StBytes.f32(1f, 2f)));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.of("z", "a"), List.copyOf(f.names()));
            assertEquals(2f, f.readFloats("z")[0]);
            assertEquals(1f, f.readFloats("a")[0]);
        }
    }

    @Test
    void acceptsPaddingAndLeadingWhitespaceInTheHeader() throws IOException {
        Path p = dir.resolve("pad.safetensors");
        Files.write(p, file("{" + entry("w", "F16", "[2]", 0, 4) + "}       \n ",
                concat(new byte[] {0x00, 0x3C}, new byte[] {0x00, (byte) 0xC0})));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(new float[] {1f, -2f}, f.readFloats("w"));
        }
    }

    @Test
    void unknownNameAndClosedFileGiveClearErrors() {
        Path p = dir.resolve("c.safetensors");
        SafetensorsWriter.write(p, tensors(), null);
        SafetensorsFile f = SafetensorsFile.open(p);
        SafetensorsException missing = assertThrows(SafetensorsException.class, () -> f.readFloats("visual.projj"));
        assertTrue(missing.getMessage().contains("no tensor named 'visual.projj'"), missing.getMessage());
        assertTrue(missing.getMessage().contains("'visual.proj'"), "lists the available names: " + missing.getMessage());
        MemorySegment seg = f.segment("a.bias");
        assertEquals(20, seg.byteSize());
        assertTrue(seg.isReadOnly());
        f.close();
        f.close(); // idempotent
        SafetensorsException closed = assertThrows(SafetensorsException.class, () -> f.readFloats("a.bias"));
        assertTrue(closed.getMessage().endsWith("file is closed"), closed.getMessage());
        assertThrows(IllegalStateException.class, () -> seg.get(ValueLayout.JAVA_BYTE, 0));
        assertFalse(f.names().isEmpty(), "the header stays readable after close");
    }

    @Test
    void writerRejectsBadInputBeforeTouchingTheDisk() {
        Path p = dir.resolve("bad.safetensors");
        assertThrows(IllegalArgumentException.class, () -> TensorData.of(new float[3], 2, 2));
        assertThrows(IllegalArgumentException.class, () -> TensorData.of(new float[0], -1));
        assertThrows(IllegalArgumentException.class, () -> TensorData.of(new float[1], 65536, 65536));
        assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.write(p, Map.of("__metadata__", TensorData.scalar(1)), null));
        assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.write(p, Map.of("x", TensorData.scalar(1)), null, Dtype.F64));
        Map<String, String> nullValue = new LinkedHashMap<>();
        nullValue.put("k", null);
        assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.write(p, Map.of("x", TensorData.scalar(1)), nullValue));
        assertFalse(Files.exists(p));
    }
}

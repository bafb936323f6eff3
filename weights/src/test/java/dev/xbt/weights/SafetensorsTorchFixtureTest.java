package dev.xbt.weights;

import org.junit.jupiter.api.Test;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reads {@code torch_fixture.safetensors}, written from PyTorch tensors by
 * {@code src/test/python/make_safetensors_fixture.py}: F16 and BF16 values must equal torch's own widening of
 * them, and our writer's F32 → F16/BF16 rounding must pick the same values torch picked.
 */
class SafetensorsTorchFixtureTest {
    private static Path fixture() throws URISyntaxException {
        var url = SafetensorsTorchFixtureTest.class.getResource("/safetensors/torch_fixture.safetensors");
        assertNotNull(url, "fixture on the test classpath");
        return Path.of(url.toURI());
    }

    private static void assertBitsEqual(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++)
            assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(actual[i]),
                    what + "[" + i + "]: expected " + expected[i] + " got " + actual[i]);
    }

    @Test
    void headerOrderDtypesShapesAndMetadata() throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(fixture())) {
            assertEquals(List.of("text.matrix", "source", "source.f16", "source.f16_as_f32", "source.bf16",
                    "source.bf16_as_f32", "cube.bf16", "cube.bf16_as_f32", "scalar", "empty", "empty2d.f16", "counts",
                    "flags", "bytes", "doubles"), List.copyOf(f.names()));
            assertEquals(Map.of("format", "pt", "generator", "make_safetensors_fixture.py"), f.metadata());
            assertEquals(Dtype.F16, f.info("source.f16").dtype());
            assertEquals(Dtype.BF16, f.info("cube.bf16").dtype());
            assertArrayEquals(new int[] {2, 3, 4}, f.info("cube.bf16").intShape());
            assertArrayEquals(new int[0], f.info("scalar").intShape());
            assertArrayEquals(new int[] {2, 0}, f.info("empty2d.f16").intShape());
            assertEquals(0, f.info("counts").begin(), "the data section is laid out in another order than the header");
        }
    }

    @Test
    void f32ValuesAndSmallDtypes() throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(fixture())) {
            float[] m = f.readFloats("text.matrix");
            for (int i = 0; i < 12; i++) assertEquals(i * 0.25f - 1f, m[i]);
            assertArrayEquals(new float[] {3.25f}, f.readFloats("scalar"));
            assertEquals(0, f.readFloats("empty").length);
            assertEquals(0, f.readFloats("empty2d.f16").length);
            assertArrayEquals(new float[] {-3f, 0f, 7f, (float) (1L << 40), -0x1p53f}, f.readFloats("counts"));
            assertArrayEquals(new float[] {1f, 0f, 0f, 1f}, f.readFloats("flags"));
            assertArrayEquals(new float[] {0f, 127f, 255f}, f.readFloats("bytes"));
            assertArrayEquals(new float[] {0.1f, Float.NEGATIVE_INFINITY, 2.5f}, f.readFloats("doubles"));
            float[] src = f.readFloats("source");
            assertEquals(63, src.length);
            assertEquals((float) (Math.sin(0.3) * 1e-4), src[0]);
            assertTrue(Float.isNaN(src[60]));
            assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(src[57]));
        }
    }

    @Test
    void halfAndBfloatMatchTorch() throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(fixture())) {
            assertBitsEqual(f.readFloats("source.f16_as_f32"), f.readFloats("source.f16"), "source.f16");
            assertBitsEqual(f.readFloats("source.bf16_as_f32"), f.readFloats("source.bf16"), "source.bf16");
            assertBitsEqual(f.readFloats("cube.bf16_as_f32"), f.readFloats("cube.bf16"), "cube.bf16");
            float[] bf = f.readFloats("source.bf16");
            assertEquals(1f, bf[48], "torch rounds the tie 1 + 2^-8 to even");
            assertEquals(1f + 0x1p-6f, bf[49], "torch rounds the tie 1 + 3*2^-8 to even");
            float[] h = f.readFloats("source.f16");
            assertEquals(65504f, h[52]);
            assertEquals(Float.POSITIVE_INFINITY, h[54], "65520 overflows F16");
        }
    }

    @Test
    void ourRoundingPicksTorchsValues() throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(fixture())) {
            float[] src = f.readFloats("source");
            var f16 = f.segment("source.f16");
            var bf16 = f.segment("source.bf16");
            for (int i = 0; i < src.length; i++) {
                short torchHalf = f16.get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED
                        .withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 2L * i);
                short torchBf = bf16.get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED
                        .withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 2L * i);
                if (Float.isNaN(src[i])) {
                    assertTrue(Float.isNaN(Float.float16ToFloat(torchHalf)));
                    assertTrue(Float.isNaN(Float.intBitsToFloat(SafetensorsWriter.toBf16(src[i]) << 16)));
                    continue;
                }
                assertEquals(torchHalf, Float.floatToFloat16(src[i]), "F16 of source[" + i + "] = " + src[i]);
                assertEquals(torchBf, SafetensorsWriter.toBf16(src[i]), "BF16 of source[" + i + "] = " + src[i]);
            }
        }
    }
}

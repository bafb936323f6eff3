package dev.xbt.image;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Decoding, resizing, cropping and normalising against what PIL 9.4 and torchvision made of the fixtures. */
class PilParityTest {
    static final List<String> LOSSLESS = List.of("rgba_97x61.png", "gray_300x40.png", "la_20x50.png",
            "palette_31x200.gif", "rgb_45x33.bmp", "rgb16_40x30.png");
    static final String JPEG = "photo_97x61.jpg";
    static final List<String> ALL = List.of("rgba_97x61.png", "gray_300x40.png", "la_20x50.png",
            "palette_31x200.gif", "rgb_45x33.bmp", "rgb16_40x30.png", JPEG);

    /** Lossless formats decode (and composite onto white) to exactly PIL's bytes. */
    @TestFactory
    List<DynamicTest> decodesLikePil() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String f : LOSSLESS) {
            tests.add(DynamicTest.dynamicTest(f, () -> {
                RgbImage im = ImageLoader.load(Fixture.file(f));
                Fixture.Entry want = Fixture.get(f + "/rgb");
                assertEquals(want.size(1), im.width(), "width");
                assertEquals(want.size(0), im.height(), "height");
                int[] d = Fixture.diff(want.bytes(), im.data());
                assertEquals(0, d[1], f + ": " + d[1] + " bytes differ from PIL, max " + d[0]);
            }));
        }
        return tests;
    }

    /** ImageIO's libjpeg and PIL's libjpeg-turbo may round differently; they must stay close. */
    @Test
    void jpegDecodesCloseToPil() {
        RgbImage im = ImageLoader.load(Fixture.file(JPEG));
        Fixture.Entry want = Fixture.get(JPEG + "/rgb");
        assertEquals(want.size(1), im.width());
        assertEquals(want.size(0), im.height());
        int[] d = Fixture.diff(want.bytes(), im.data());
        System.out.printf("JPEG decode vs PIL: max diff %d, %d of %d values differ%n", d[0], d[1], im.data().length);
        assertTrue(d[0] <= 2, "JPEG decode differs from PIL by up to " + d[0]);
        assertTrue(d[1] <= im.data().length / 20, d[1] + " JPEG values differ from PIL");
    }

    /** Resize, crop and tensor from PIL's own RGB bytes (for the JPEG too): identical bytes, floats within 1e-6. */
    @TestFactory
    List<DynamicTest> resizeCropNormaliseLikeTorchvision() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String f : ALL) {
            tests.add(DynamicTest.dynamicTest(f, () -> {
                RgbImage rgb = Fixture.get(f + "/rgb").image();
                for (int size : new int[] {32, 48}) {
                    RgbImage resized = ClipPreprocess.resizeShortestSide(rgb, size);
                    if (size == 32) {
                        Fixture.Entry want = Fixture.get(f + "/resize32");
                        assertEquals(want.size(1), resized.width(), "resized width");
                        assertEquals(want.size(0), resized.height(), "resized height");
                        int[] d = Fixture.diff(want.bytes(), resized.data());
                        assertEquals(0, d[1], f + " resize32: " + d[1] + " bytes differ from PIL, max " + d[0]);
                    } else {
                        assertEquals(hex(Fixture.get(f + "/resize48.sha256").bytes()),
                                hex(Fixture.sha256(resized.data())), f + " resize48");
                    }
                    RgbImage crop = ClipPreprocess.centerCrop(resized, size, size);
                    assertArrayEquals(Fixture.get(f + "/crop" + size).bytes(), crop.data(), f + " crop" + size);
                }
                float[] want = Fixture.get(f + "/tensor32").floats();
                float[] got = new ClipPreprocess(32).apply(rgb);
                assertEquals(want.length, got.length);
                int bitwise = 0;
                for (int i = 0; i < want.length; i++) {
                    assertEquals(want[i], got[i], 1e-6f, f + " tensor32[" + i + "]");
                    if (Float.floatToRawIntBits(want[i]) == Float.floatToRawIntBits(got[i])) bitwise++;
                }
                assertEquals(want.length, bitwise, f + ": tensor not bit-identical to torchvision's");
            }));
        }
        return tests;
    }

    private static final Pattern SYNTHETIC = Pattern.compile("synthetic/(\\d+)x(\\d+)/m(\\d)/s(\\d+)/resize\\.sha256");

    /** Computed pictures, up to 1920x1080 and 224 to 336 pixels: SHA-256 of resize, crop and tensor bytes. */
    @TestFactory
    List<DynamicTest> syntheticPicturesMatchByHash() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : Fixture.entries().keySet()) {
            Matcher m = SYNTHETIC.matcher(name);
            if (!m.matches()) continue;
            int w = Integer.parseInt(m.group(1));
            int h = Integer.parseInt(m.group(2));
            int mode = Integer.parseInt(m.group(3));
            int size = Integer.parseInt(m.group(4));
            String base = name.substring(0, name.length() - "resize.sha256".length());
            tests.add(DynamicTest.dynamicTest(base, () -> {
                RgbImage src = Fixture.synthetic(w, h, mode);
                ClipPreprocess pre = new ClipPreprocess(size);
                RgbImage resized = pre.resizeShortestSide(src);
                assertEquals(hex(Fixture.get(base + "resize.sha256").bytes()), hex(Fixture.sha256(resized.data())),
                        base + "resize");
                RgbImage crop = pre.centerCrop(resized);
                assertEquals(hex(Fixture.get(base + "crop.sha256").bytes()), hex(Fixture.sha256(crop.data())),
                        base + "crop");
                assertEquals(hex(Fixture.get(base + "tensor.sha256").bytes()),
                        hex(Fixture.sha256(Fixture.floatBytes(pre.apply(src)))), base + "tensor");
            }));
        }
        assertTrue(tests.size() >= 10, "synthetic cases in expected.bin: " + tests.size());
        return tests;
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}

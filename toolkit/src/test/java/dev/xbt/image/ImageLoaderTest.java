package dev.xbt.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageLoaderTest {
    @TempDir
    Path dir;

    // ---- conversion to RGB ------------------------------------------------------------------------

    @Test
    void alphaIsCompositedOntoWhite() throws IOException {
        BufferedImage im = new BufferedImage(4, 1, BufferedImage.TYPE_INT_ARGB);
        im.setRGB(0, 0, 0x00_10_20_30); // fully transparent: white whatever the colour
        im.setRGB(1, 0, 0xFF_10_20_30); // opaque: the colour
        im.setRGB(2, 0, 0x80_00_00_00); // half-transparent black: mid grey
        im.setRGB(3, 0, 0x40_FF_00_80);
        Path f = dir.resolve("alpha.png");
        ImageIO.write(im, "png", f.toFile());
        RgbImage rgb = ImageLoader.load(f);
        assertEquals(0xFFFFFF, rgb.rgb(0, 0));
        assertEquals(0x102030, rgb.rgb(1, 0));
        int grey = (255 * (255 - 128) + 127) / 255; // 255 * 127 / 255 = 127
        assertEquals(grey << 16 | grey << 8 | grey, rgb.rgb(2, 0));
        assertEquals(255, rgb.get(3, 0, 0));
        assertEquals((255 * (255 - 0x40) + 127) / 255, rgb.get(3, 0, 1));
        assertEquals((0x80 * 0x40 + 255 * (255 - 0x40) + 127) / 255, rgb.get(3, 0, 2));
    }

    @Test
    void compositingMatchesPilAlphaCompositeFormula() {
        // (c * a + 255 * (255 - a) + 127) / 255 equals PIL's alpha_composite onto opaque white for all c, a
        // (checked exhaustively against PIL 9.4 when this was written); spot-check its ends and symmetry here.
        for (int c = 0; c < 256; c++) {
            assertEquals(255, ImageLoader.onWhite(c, 0));
            assertEquals(c, ImageLoader.onWhite(c, 255));
        }
        assertEquals(255, ImageLoader.onWhite(255, 77));
    }

    @Test
    void everyInMemoryLayoutGivesTheSameBytes() {
        int w = 13;
        int h = 7;
        int[] types = {BufferedImage.TYPE_INT_ARGB, BufferedImage.TYPE_4BYTE_ABGR, BufferedImage.TYPE_INT_RGB,
                BufferedImage.TYPE_3BYTE_BGR, BufferedImage.TYPE_INT_BGR};
        RgbImage[] got = new RgbImage[types.length];
        for (int t = 0; t < types.length; t++) {
            BufferedImage im = new BufferedImage(w, h, types[t]);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int argb = Fixture.mix(y * w + x);
                    if (types[t] != BufferedImage.TYPE_INT_ARGB && types[t] != BufferedImage.TYPE_4BYTE_ABGR) {
                        argb |= 0xFF000000;
                    }
                    im.setRGB(x, y, argb);
                }
            }
            got[t] = ImageLoader.toRgb(im);
        }
        assertArrayEquals(got[0].data(), got[1].data(), "packed vs interleaved ARGB");
        assertArrayEquals(got[2].data(), got[3].data(), "packed vs interleaved RGB");
        assertArrayEquals(got[2].data(), got[4].data(), "RGB vs BGR");
        int argb = Fixture.mix(5);
        int a = argb >>> 24;
        assertEquals(ImageLoader.onWhite(argb >> 16 & 0xFF, a), got[0].get(5, 0, 0));
        assertEquals(ImageLoader.onWhite(argb & 0xFF, a), got[0].get(5, 0, 2));
        assertEquals(argb & 0xFFFFFF, got[2].rgb(5, 0));

        BufferedImage rgb565 = new BufferedImage(1, 1, BufferedImage.TYPE_USHORT_565_RGB);
        rgb565.getRaster().setPixel(0, 0, new int[] {31, 32, 1}); // 5, 6, 5 bits
        RgbImage r = ImageLoader.toRgb(rgb565);
        assertEquals(255, r.get(0, 0, 0));
        assertEquals((32 * 255 + 31) / 63, r.get(0, 0, 1));
        assertEquals((255 + 15) / 31, r.get(0, 0, 2));
    }

    @Test
    void greyAndSixteenBitBecomeRgbWithoutGammaChanges() throws IOException {
        BufferedImage g8 = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_GRAY);
        g8.getRaster().setPixels(0, 0, 3, 1, new int[] {0, 100, 255});
        Path f8 = dir.resolve("g8.png");
        ImageIO.write(g8, "png", f8.toFile());
        RgbImage r8 = ImageLoader.load(f8);
        assertEquals(0x646464, r8.rgb(1, 0)); // 100, not getRGB's linear-to-sRGB 170-ish
        assertEquals(0xFFFFFF, r8.rgb(2, 0));

        BufferedImage g16 = new BufferedImage(3, 1, BufferedImage.TYPE_USHORT_GRAY);
        g16.getRaster().setPixels(0, 0, 3, 1, new int[] {0x00FF, 0x1234, 0xFFFF});
        Path f16 = dir.resolve("g16.png");
        ImageIO.write(g16, "png", f16.toFile());
        RgbImage r16 = ImageLoader.load(f16);
        assertEquals(0x000000, r16.rgb(0, 0)); // high byte
        assertEquals(0x121212, r16.rgb(1, 0));
        assertEquals(0xFFFFFF, r16.rgb(2, 0));
    }

    @Test
    void palettePicturesUseTheirPalette() throws IOException {
        BufferedImage p = new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_INDEXED);
        p.setRGB(0, 0, 0xFF0000);
        p.setRGB(1, 1, 0x0000FF);
        Path f = dir.resolve("p.bmp");
        assertTrue(ImageIO.write(p, "bmp", f.toFile()));
        RgbImage rgb = ImageLoader.load(f);
        assertEquals(p.getRGB(0, 0) & 0xFFFFFF, rgb.rgb(0, 0));
        assertEquals(p.getRGB(1, 1) & 0xFFFFFF, rgb.rgb(1, 1));
    }

    @Test
    void readsFromMemoryToo() throws IOException {
        byte[] png = Files.readAllBytes(Fixture.file("gray_300x40.png"));
        RgbImage a = new ImageLoader().read(png, "member.png");
        RgbImage b = ImageLoader.load(Fixture.file("gray_300x40.png"));
        assertTrue(Arrays.equals(a.data(), b.data()));
    }

    // ---- bad input: each case its own one-line message ---------------------------------------------

    private ImageException fails(Path file) {
        ImageException e = assertThrows(ImageException.class, () -> ImageLoader.load(file));
        String m = e.getMessage();
        assertNotNull(m);
        assertFalse(m.contains("\n") || m.contains("\r"), "one line: " + m);
        assertTrue(m.startsWith(file.toString() + ": "), "names the file: " + m);
        return e;
    }

    @Test
    void eachBadInputHasItsOwnMessage() throws IOException {
        Set<String> problems = new HashSet<>();

        Path missing = dir.resolve("missing.png");
        assertTrue(problem(fails(missing), missing, problems).contains("no such file"));

        assertTrue(problem(fails(dir), dir, problems).contains("is a directory"));

        Path empty = Files.write(dir.resolve("empty.jpg"), new byte[0]);
        assertTrue(problem(fails(empty), empty, problems).contains("empty file"));

        Path text = Files.writeString(dir.resolve("notes.png"), "this is not an image, only some text\n");
        assertTrue(problem(fails(text), text, problems).contains("not an image"));

        byte[] png = Files.readAllBytes(Fixture.file("rgba_97x61.png"));
        Path truncated = Files.write(dir.resolve("truncated.png"), Arrays.copyOf(png, png.length / 2));
        String t = problem(fails(truncated), truncated, problems);
        assertTrue(t.contains("truncated PNG"), t);

        byte[] jpg = Files.readAllBytes(Fixture.file("photo_97x61.jpg"));
        Path truncatedJpeg = Files.write(dir.resolve("truncated.jpg"), Arrays.copyOf(jpg, jpg.length / 2));
        String tj = problem(fails(truncatedJpeg), truncatedJpeg, problems);
        assertTrue(tj.contains("truncated JPEG"), tj);

        Path bomb = Files.write(dir.resolve("bomb.png"), pngHeaderOnly(30_000, 30_000));
        String b = problem(fails(bomb), bomb, problems);
        assertTrue(b.contains("30000x30000") && b.contains("before decoding"), b);

        Path wide = Files.write(dir.resolve("wide.png"), pngHeaderOnly(15_000, 15_000)); // 225 MP, sides allowed
        String w = problem(fails(wide), wide, problems);
        assertTrue(w.contains("225.0 megapixels"), w);

        byte[] corrupt = Arrays.copyOf(png, png.length);
        for (int i = 60; i < corrupt.length - 20; i++) corrupt[i] ^= 0x5A; // garbage after the header chunk
        Path bad = Files.write(dir.resolve("corrupt.png"), corrupt);
        String c = problem(fails(bad), bad, problems);
        assertTrue(c.contains("PNG"), c);

        BufferedImage small = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
        Path tiff = dir.resolve("picture.tif");
        assertTrue(ImageIO.write(small, "tiff", tiff.toFile()));
        assertTrue(problem(fails(tiff), tiff, problems).contains("unsupported image format"));

        assertEquals(10, problems.size(), "distinct problems: " + problems);
    }

    private static String problem(ImageException e, Path file, Set<String> problems) {
        String p = e.getMessage().substring(file.toString().length() + 2);
        problems.add(p.replaceAll("\\(.*", "").strip());
        return p;
    }

    @Test
    void limitsAreConfigurable() throws IOException {
        Path f = Fixture.file("gray_300x40.png");
        ImageException e = assertThrows(ImageException.class, () -> new ImageLoader(100, 1_000_000).read(f));
        assertTrue(e.getMessage().contains("300x40"), e.getMessage());
        assertEquals(300, new ImageLoader(300, 12_000).read(f).width());
        assertThrows(ImageException.class, () -> new ImageLoader(300, 11_999).read(f));
    }

    /** A PNG whose header claims {@code w x h} pixels, with a few bytes of (deflated) data. */
    static byte[] pngHeaderOnly(int w, int h) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) 2)
                .put((byte) 0).put((byte) 0).put((byte) 0).array());
        Deflater d = new Deflater();
        d.setInput(new byte[4096]);
        d.finish();
        byte[] z = new byte[256];
        int n = d.deflate(z);
        chunk(out, "IDAT", Arrays.copyOf(z, n));
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws IOException {
        out.write(ByteBuffer.allocate(4).putInt(data.length).array());
        byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        out.write(t);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
}

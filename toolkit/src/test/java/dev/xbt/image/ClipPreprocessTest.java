package dev.xbt.image;

import dev.xbt.engine.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClipPreprocessTest {
    @TempDir
    Path dir;

    @Test
    void defaultsAreOpenAis() {
        ClipPreprocess p = new ClipPreprocess();
        assertEquals(224, p.size());
        assertArrayEquals(new float[] {0.48145466f, 0.4578275f, 0.40821073f}, p.mean());
        assertArrayEquals(new float[] {0.26862954f, 0.26130258f, 0.27577711f}, p.std());
        assertEquals(3 * 224 * 224, p.apply(RgbImage.blank(10, 20)).length);
    }

    @Test
    void shortestSideLikeTorchvision() {
        assertArrayEquals(new int[] {298, 224}, ClipPreprocess.shortestSideSize(640, 480, 224)); // int(298.67)
        assertArrayEquals(new int[] {224, 298}, ClipPreprocess.shortestSideSize(480, 640, 224));
        assertArrayEquals(new int[] {224, 224}, ClipPreprocess.shortestSideSize(50, 50, 224));
        assertArrayEquals(new int[] {48, 309}, ClipPreprocess.shortestSideSize(31, 200, 48)); // int(309.677)
        assertArrayEquals(new int[] {3200, 32}, ClipPreprocess.shortestSideSize(1000, 10, 32));
        RgbImage same = RgbImage.blank(224, 300);
        assertSame(same, ClipPreprocess.resizeShortestSide(same, 224));
    }

    @Test
    void centerCropRoundsHalfToEvenAndPadsLikeTorchvision() {
        RgbImage src = ramp(7, 5); // pixel value = x + 10 * y
        // (7 - 4) / 2 = 1.5 -> 2 ; (5 - 4) / 2 = 0.5 -> 0 (Python's round)
        RgbImage c = ClipPreprocess.centerCrop(src, 4, 4);
        assertEquals(2, c.get(0, 0, 0));
        assertEquals(2 + 10 * 3, c.get(0, 3, 0));
        RgbImage c2 = ClipPreprocess.centerCrop(ramp(9, 9), 4, 4); // 2.5 -> 2
        assertEquals(2 + 10 * 2, c2.get(0, 0, 0));
        // larger than the picture: black border, (9 - 7) // 2 = 1 column before
        RgbImage padded = ClipPreprocess.centerCrop(src, 9, 5);
        assertEquals(0, padded.get(0, 2, 1));
        assertEquals(0 + 10 * 2, padded.get(1, 2, 1));
        assertEquals(6 + 10 * 2, padded.get(7, 2, 1));
        assertEquals(0, padded.get(8, 2, 1));
    }

    private static RgbImage ramp(int w, int h) {
        byte[] d = new byte[w * h * 3];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) Arrays.fill(d, (y * w + x) * 3, (y * w + x) * 3 + 3,
                (byte) (x + 10 * y));
        return new RgbImage(w, h, d);
    }

    @Test
    void fusedResizeAndCropEqualsTheTwoSteps() {
        java.util.Random rnd = new java.util.Random(3);
        for (int t = 0; t < 200; t++) {
            int w = 1 + rnd.nextInt(t < 100 ? 40 : 400);
            int h = 1 + rnd.nextInt(t < 100 ? 40 : 400);
            int size = 1 + rnd.nextInt(t % 2 == 0 ? 64 : 256);
            RgbImage src = Fixture.synthetic(w, h, t % 3);
            ClipPreprocess p = new ClipPreprocess(size);
            RgbImage twoSteps = p.centerCrop(p.resizeShortestSide(src));
            assertArrayEquals(twoSteps.data(), p.resizeAndCrop(src).data(), w + "x" + h + " -> " + size);
        }
    }

    @Test
    void normalisesChannelByChannelIntoChw() {
        byte[] d = {(byte) 255, 0, (byte) 128, 0, (byte) 255, 1};
        float[] t = new ClipPreprocess(1).normalize(new RgbImage(2, 1, d));
        float[] m = ClipPreprocess.openaiMean();
        float[] s = ClipPreprocess.openaiStd();
        assertEquals((1f - m[0]) / s[0], t[0]); // R of pixel 0
        assertEquals((0f - m[0]) / s[0], t[1]); // R of pixel 1
        assertEquals((0f - m[1]) / s[1], t[2]);
        assertEquals((1f - m[1]) / s[1], t[3]);
        assertEquals((128 / 255f - m[2]) / s[2], t[4]);
        assertEquals((1 / 255f - m[2]) / s[2], t[5]);
    }

    private static List<RgbImage> pictures() {
        List<RgbImage> list = new ArrayList<>();
        int[][] sizes = {{97, 61}, {300, 40}, {31, 200}, {64, 64}, {33, 33}, {640, 480}, {5, 9}, {120, 121}, {48, 50}};
        for (int i = 0; i < sizes.length; i++) list.add(Fixture.synthetic(sizes[i][0], sizes[i][1], i % 3));
        return list;
    }

    @Test
    void batchIsInListOrderWhateverTheThreads() {
        List<RgbImage> pics = pictures();
        ClipPreprocess p = new ClipPreprocess(48);
        float[] expected = new float[pics.size() * p.imageLength()];
        for (int i = 0; i < pics.size(); i++) {
            System.arraycopy(p.apply(pics.get(i)), 0, expected, i * p.imageLength(), p.imageLength());
        }
        for (int threads : new int[] {1, 2, 3, 8}) {
            for (int rep = 0; rep < 3; rep++) {
                assertArrayEquals(expected, p.withThreads(threads).batch(pics), "threads " + threads);
            }
        }
        Tensor t = p.withThreads(4).batchTensor(pics);
        assertArrayEquals(new int[] {pics.size(), 3, 48, 48}, t.shape());
        assertEquals(0, p.batch(List.of()).length);
    }

    @Test
    void batchFilesDecodesInParallelInOrderAndReportsTheFirstBadFile() throws IOException {
        List<Path> files = new ArrayList<>();
        for (String f : PilParityTest.ALL) files.add(Fixture.file(f));
        ClipPreprocess p = new ClipPreprocess(32).withThreads(4);
        float[] all = p.batchFiles(files);
        for (int i = 0; i < files.size(); i++) {
            float[] one = p.apply(ImageLoader.load(files.get(i)));
            assertArrayEquals(one, Arrays.copyOfRange(all, i * one.length, (i + 1) * one.length), files.get(i).toString());
        }
        assertArrayEquals(all, p.withThreads(1).batchFiles(files));

        Path empty = Files.write(dir.resolve("empty.png"), new byte[0]);
        Path missing = dir.resolve("missing.gif");
        List<Path> bad = new ArrayList<>(files);
        bad.add(2, empty);
        bad.add(5, missing);
        for (int threads : new int[] {1, 4}) {
            ImageException e = assertThrows(ImageException.class, () -> p.withThreads(threads).batchFiles(bad));
            assertTrue(e.getMessage().startsWith(empty + ": empty file"), e.getMessage());
        }
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new ClipPreprocess(0));
        assertThrows(IllegalArgumentException.class, () -> new ClipPreprocess(224, new float[2], new float[3]));
        assertThrows(IllegalArgumentException.class,
                () -> new ClipPreprocess(224, new float[3], new float[] {1, 0, 1}));
        assertThrows(IllegalArgumentException.class, () -> new ClipPreprocess().withThreads(0));
        assertThrows(IllegalArgumentException.class, () -> new RgbImage(2, 2, new byte[11]));
    }

    /** Not a benchmark (see the report for numbers); prints a rough rate so that regressions show in the log. */
    @Test
    void preprocessing640x480IsQuick() {
        RgbImage pic = Fixture.synthetic(640, 480, 0);
        ClipPreprocess p = new ClipPreprocess(224);
        float[] out = new float[p.imageLength()];
        for (int i = 0; i < 50; i++) p.apply(pic, out, 0);
        int n = 200;
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) p.apply(pic, out, 0);
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("640x480 -> 224 preprocessing, one thread: %.0f images/s (%.2f ms each)%n", n / s,
                1e3 * s / n);
        assertTrue(s / n < 0.5, "one 640x480 picture took " + s / n + " s");
    }
}

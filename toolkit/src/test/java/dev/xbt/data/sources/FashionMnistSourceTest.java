package dev.xbt.data.sources;

import dev.xbt.data.DataSourceException;
import dev.xbt.data.ImportReport;
import dev.xbt.data.Manifest;
import dev.xbt.data.ManifestEntry;
import dev.xbt.data.ManifestWriter;
import dev.xbt.data.PrepareOptions;
import dev.xbt.data.Splits;
import dev.xbt.image.ImageLoader;
import dev.xbt.image.RgbImage;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FashionMnistSourceTest {
    @TempDir
    Path tmp;

    /** Gzipped IDX: {@code 0x801} labels or {@code 0x803} 28x28 images. */
    static byte[] idx(int magic, int n, byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(new GZIPOutputStream(bytes))) {
            out.writeInt(magic);
            out.writeInt(n);
            if (magic == 0x803) {
                out.writeInt(28);
                out.writeInt(28);
            }
            out.write(data);
        }
        return bytes.toByteArray();
    }

    /** Picture {@code i}: pixel (x, y) = (i * 7 + x + y * 28) & 0xFF. */
    static byte[] pixels(int first, int n) {
        byte[] d = new byte[n * 784];
        for (int i = 0; i < n; i++) for (int p = 0; p < 784; p++) d[i * 784 + p] = (byte) ((first + i) * 7 + p);
        return d;
    }

    static void fakePackage(Path root, int nTrain, int nTest, byte[] trainLabels) throws IOException {
        Path d = root.resolve("usr/share/datasets/fashion-mnist");
        Files.createDirectories(d);
        Files.write(d.resolve("train-images-idx3-ubyte.gz"), idx(0x803, nTrain, pixels(0, nTrain)));
        Files.write(d.resolve("train-labels-idx1-ubyte.gz"), idx(0x801, nTrain, trainLabels));
        byte[] testLabels = new byte[nTest];
        for (int i = 0; i < nTest; i++) testLabels[i] = (byte) (9 - i % 10);
        Files.write(d.resolve("t10k-images-idx3-ubyte.gz"), idx(0x803, nTest, pixels(1000, nTest)));
        Files.write(d.resolve("t10k-labels-idx1-ubyte.gz"), idx(0x801, nTest, testLabels));
    }

    static ImportReport prepare(Path root, Path out, PrepareOptions opts) throws IOException {
        try (ManifestWriter w = ManifestWriter.create(out, "fashion-mnist", false)) {
            new FashionMnistSource(root).prepare(w, opts);
            return w.finish();
        }
    }

    @Test
    void importsAFakePackage() throws IOException {
        Path root = tmp.resolve("root");
        byte[] labels = new byte[24];
        for (int i = 0; i < labels.length; i++) labels[i] = (byte) (i % 10);
        labels[5] = 12; // not a class
        fakePackage(root, 24, 4, labels);
        Path out = tmp.resolve("ds");
        ImportReport r = prepare(root, out, PrepareOptions.defaults().withThreads(2));
        assertEquals(27, r.images());
        assertEquals(1, r.skipped());
        assertEquals("train-00005", r.skips().getFirst().item());
        assertTrue(r.skips().getFirst().reason().contains("label 12"), r.skips().toString());
        Manifest m = Manifest.read(out);
        assertEquals(java.util.Map.of(Splits.TRAIN, 21, Splits.VAL, 2, Splits.TEST, 4), m.splitCounts());
        assertEquals(Splits.VAL, m.byId("train-00011").orElseThrow().split());
        assertEquals(Splits.VAL, m.byId("train-00023").orElseThrow().split());
        ManifestEntry e = m.byId("train-00009").orElseThrow();
        assertEquals("images/train/00009.png", e.image());
        assertEquals(FashionMnistSource.TEMPLATES.size(), e.captions().size());
        assertEquals("a photo of an ankle boot", e.captions().getFirst());
        assertTrue(e.captions().contains("an ankle boot on a dark background"), e.captions().toString());
        assertEquals("Ankle boot", e.meta().get("class"));
        assertEquals("9", e.meta().get("label"));
        assertEquals("a photo of an ankle boot", m.byId("test-00000").orElseThrow().captions().getFirst());
        // a 28x28 grey PNG with the pixels as they are
        BufferedImage b = ImageIO.read(out.resolve(e.image()).toFile());
        assertEquals(BufferedImage.TYPE_BYTE_GRAY, b.getType());
        RgbImage img = ImageLoader.load(out.resolve(e.image()));
        assertEquals(28, img.width());
        byte[] expected = pixels(9, 1);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) assertEquals(expected[y * 28 + x] & 0xFF, img.get(x, y, 1), x + "," + y);
        }
    }

    @Test
    void countKeepsTheProportions() throws IOException {
        Path root = tmp.resolve("root");
        fakePackage(root, 24, 4, new byte[24]);
        ImportReport r = prepare(root, tmp.resolve("seven"), PrepareOptions.defaults().withCount(7));
        assertEquals(7, r.images());
        Manifest m = Manifest.read(tmp.resolve("seven"));
        assertEquals(6, m.entries().stream().filter(x -> x.id().startsWith("train-")).count());
        assertEquals(1, m.split(Splits.TEST).size());
        assertArrayEquals(new int[] {60_000, 10_000}, FashionMnistSource.counts(70_000));
        assertArrayEquals(new int[] {171, 29}, FashionMnistSource.counts(200));
        assertArrayEquals(new int[] {60_000, 10_000}, FashionMnistSource.counts(1_000_000));
    }

    @Test
    void missingOrDamagedPackage() throws IOException {
        Path root = tmp.resolve("empty");
        Files.createDirectories(root);
        DataSourceException e = assertThrows(DataSourceException.class, () -> prepare(root, tmp.resolve("x"), PrepareOptions.defaults()));
        assertTrue(e.getMessage().startsWith("fashion-mnist: needs the Debian package dataset-fashion-mnist"), e.getMessage());
        assertTrue(e.getMessage().endsWith("install it with: sudo apt-get install dataset-fashion-mnist"), e.getMessage());

        Path bad = tmp.resolve("bad");
        fakePackage(bad, 24, 4, new byte[24]);
        Path images = bad.resolve("usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
        byte[] whole = Files.readAllBytes(images);
        Files.write(images, java.util.Arrays.copyOf(whole, whole.length / 2));
        DataSourceException d = assertThrows(DataSourceException.class, () -> prepare(bad, tmp.resolve("y"), PrepareOptions.defaults()));
        assertTrue(d.getMessage().contains("train-images-idx3-ubyte.gz"), d.getMessage());
        assertTrue(d.getMessage().endsWith("sudo apt-get install --reinstall dataset-fashion-mnist"), d.getMessage());
    }

    @Test
    void realPackage() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")),
                "dataset-fashion-mnist is not installed (sudo apt-get install dataset-fashion-mnist)");
        Path out = tmp.resolve("real");
        try (ManifestWriter w = ManifestWriter.create(out, "fashion-mnist", false)) {
            new FashionMnistSource().prepare(w, PrepareOptions.defaults().withCount(200));
            w.finish();
        }
        Manifest m = Manifest.read(out);
        assertEquals(200, m.size());
        assertEquals(29, m.split(Splits.TEST).size());
        assertTrue(m.split(Splits.VAL).size() > 0);
        // the first training picture of Fashion-MNIST is an ankle boot
        assertEquals(List.of("9", "Ankle boot"), List.of(m.entry(0).meta().get("label"), m.entry(0).meta().get("class")));
        assertEquals(28, ImageLoader.load(m.dir().resolve(m.entry(0).image())).width());
    }
}

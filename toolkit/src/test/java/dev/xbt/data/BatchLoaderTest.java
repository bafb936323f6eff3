package dev.xbt.data;

import dev.xbt.engine.Rng;
import dev.xbt.image.ClipPreprocess;
import dev.xbt.image.ImageLoader;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The image cache and the batch loader on a small shapes data set with one corrupt image. */
class BatchLoaderTest {
    @TempDir
    Path dir;
    Path ds;
    Manifest manifest;

    @BeforeEach
    void makeDataSet() throws IOException {
        ds = dir.resolve("shapes");
        try (ManifestWriter w = ManifestWriter.create(ds, "shapes", false)) {
            DataSources.get("shapes").prepare(w, PrepareOptions.defaults().withCount(60).withThreads(2));
        }
        manifest = Manifest.read(ds);
        // damage one image after the import: the cache must skip it, not stop
        Path bad = manifest.imagePath(manifest.entry(5));
        byte[] b = Files.readAllBytes(bad);
        Files.write(bad, Arrays.copyOf(b, b.length / 2));
    }

    @Test
    void aFractionKeepsASeededSubsetOfTheUsableImagesInManifestOrder() {
        ClipPreprocess pre = new ClipPreprocess(16);
        List<Integer> all = new ArrayList<>(), half = new ArrayList<>(), again = new ArrayList<>(),
                other = new ArrayList<>();
        try (BatchLoader l = BatchLoader.open(manifest, null, pre)) {
            for (int i = 0; i < l.size(); i++) all.add(l.entryIndex(i));
        }
        assertEquals(59, all.size()); // the damaged image is not usable
        for (var pair : List.of(java.util.Map.entry(half, 0L), java.util.Map.entry(again, 0L), java.util.Map.entry(other, 1L))) {
            try (BatchLoader l = BatchLoader.open(manifest, null, pre)) {
                l.keepFraction(0.5, pair.getValue());
                for (int i = 0; i < l.size(); i++) pair.getKey().add(l.entryIndex(i));
                assertEquals(l.size(), l.allCaptions().size());
            }
        }
        assertEquals(30, half.size()); // round(59 / 2)
        assertTrue(all.containsAll(half));
        assertEquals(half.stream().sorted().toList(), half);
        assertEquals(half, again);
        assertNotEquals(half, other);
        try (BatchLoader l = BatchLoader.open(manifest, null, pre)) {
            assertEquals(59, l.keepFraction(1.0, 3).size());
            assertEquals(1, l.keepFraction(0.001, 3).size());
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> l.keepFraction(0, 3));
            assertTrue(e.getMessage().contains("fraction must be in (0, 1]"), e.getMessage());
        }
    }

    @Test
    void theCacheIsBuiltOnceReusedAndRebuiltWhenStale() throws IOException {
        ClipPreprocess pre = new ClipPreprocess(32);
        try (ImageCache c = ImageCache.open(manifest, pre)) {
            assertTrue(c.built());
            assertEquals("no cache yet", c.buildReason());
            assertEquals(1, c.skipped());
            assertFalse(c.usable(5));
            assertEquals(manifest.entry(5).id(), c.skips().getFirst().item());
            assertTrue(c.skips().getFirst().reason().contains("truncated"), c.skips().getFirst().reason());
            assertArrayEquals(pre.resizeAndCrop(ImageLoader.load(manifest.imagePath(manifest.entry(3)))).data(), c.image(3).data());
            assertEquals(ds.toAbsolutePath().resolve(".cache/images-32.xbtc"), c.file());
        }
        long len = Files.size(ds.resolve(".cache/images-32.xbtc"));
        assertTrue(len >= 60L * 32 * 32 * 3 && len < 60L * 32 * 32 * 3 + 12_000, "uint8 crops: " + len);
        try (ImageCache c = ImageCache.open(manifest, pre)) {
            assertFalse(c.built());
            assertNull(c.buildReason());
            assertEquals(1, c.skipped()); // still reported when reused
        }
        // another preprocessing recipe for the same size: rebuilt
        try (ImageCache c = ImageCache.open(manifest, 32, 2, new ImageLoader(), ds.resolve(".cache"), Progress.NONE,
                ImageCache.recipe(32) + " (changed)")) {
            assertTrue(c.built());
            assertEquals("the preprocessing changed", c.buildReason());
        }
        try (ImageCache c = ImageCache.open(manifest, pre)) {
            assertEquals("the preprocessing changed", c.buildReason());
        }
        // another size is another file
        try (ImageCache c = ImageCache.open(manifest, new ClipPreprocess(24))) {
            assertTrue(c.built());
            assertEquals(24, c.image(0).width());
        }
        // an image replaced: rebuilt
        Path img = manifest.imagePath(manifest.entry(7));
        Files.write(img, Files.readAllBytes(manifest.imagePath(manifest.entry(8))));
        Files.setLastModifiedTime(img, FileTime.fromMillis(Files.getLastModifiedTime(img).toMillis() + 5000));
        try (ImageCache c = ImageCache.open(manifest, pre)) {
            assertEquals("the data set changed", c.buildReason());
            assertArrayEquals(c.image(8).data(), c.image(7).data());
        }
        // a damaged cache file: rebuilt
        Path file = ds.resolve(".cache/images-32.xbtc");
        Files.write(file, Arrays.copyOf(Files.readAllBytes(file), 5000));
        try (ImageCache c = ImageCache.open(manifest, pre)) {
            assertTrue(c.built(), "damaged");
        }
        try (var s = Files.list(ds.resolve(".cache"))) {
            assertEquals(Set.of("images-32.xbtc", "images-24.xbtc"), new HashSet<>(s.map(p -> p.getFileName().toString()).toList()));
        }
    }

    @Test
    void batchesAreDeterministicForASeedAndCoverTheSplit() {
        ClipPreprocess pre = new ClipPreprocess(32);
        try (BatchLoader all = BatchLoader.open(manifest, null, pre)) {
            assertEquals(59, all.size());
            assertEquals(1, all.skipped());
            List<Epoch> a = epoch(all, new Rng(42), 16, true, false);
            List<Epoch> b = epoch(all, new Rng(42), 16, true, false);
            List<Epoch> c = epoch(all, new Rng(43), 16, true, false);
            assertEquals(4, a.size());
            assertEquals(11, a.getLast().indices().length);
            for (int i = 0; i < a.size(); i++) {
                assertArrayEquals(a.get(i).indices(), b.get(i).indices());
                assertEquals(a.get(i).captions(), b.get(i).captions());
                assertArrayEquals(a.get(i).pixels(), b.get(i).pixels());
            }
            assertFalse(Arrays.equals(a.getFirst().indices(), c.getFirst().indices()));
            Set<Integer> seen = new HashSet<>();
            for (Epoch e : a) {
                for (int k = 0; k < e.indices().length; k++) {
                    int i = e.indices()[k];
                    assertTrue(seen.add(i), "each image once an epoch");
                    assertTrue(all.captions(i).contains(e.captions().get(k)));
                    assertFalse(all.entry(i).id().equals(manifest.entry(5).id()), "the corrupt image is left out");
                    // pixels: exactly ClipPreprocess.apply of the image
                    float[] expect = pre.apply(ImageLoader.load(manifest.imagePath(all.entry(i))));
                    float[] got = Arrays.copyOfRange(e.pixels(), k * expect.length, (k + 1) * expect.length);
                    assertArrayEquals(expect, got);
                }
            }
            assertEquals(59, seen.size());
            // the rng is left in the same state whatever is consumed
            Rng r1 = new Rng(7), r2 = new Rng(7);
            try (BatchLoader.Batches bs = all.epoch(r1, 8, true, true)) {
                assertEquals(7, bs.count());
                bs.next();
            }
            epoch(all, r2, 8, true, true);
            assertEquals(r2.state(), r1.state());
            // in order, dropLast
            List<Epoch> ordered = epoch(all, new Rng(1), 20, false, true);
            assertEquals(2, ordered.size());
            assertArrayEquals(java.util.stream.IntStream.range(0, 20).toArray(), ordered.getFirst().indices());
            assertArrayEquals(all.pixels(ordered.get(1).indices()), ordered.get(1).pixels());
        }
    }

    @Test
    void splitsAndCaptionsForEvaluation() {
        try (BatchLoader val = BatchLoader.open(manifest, Splits.TRAIN, new ClipPreprocess(32))) {
            List<ManifestEntry> train = manifest.split(Splits.TRAIN);
            boolean corruptInTrain = manifest.entry(5).split().equals(Splits.TRAIN);
            assertEquals(train.size() - (corruptInTrain ? 1 : 0), val.size());
            assertEquals(val.size(), val.allCaptions().size());
            for (int i = 0; i < val.size(); i++) {
                assertEquals(Splits.TRAIN, val.entry(i).split());
                assertEquals(val.entry(i).captions(), val.allCaptions().get(i));
            }
            var t = val.images(0, 1);
            assertArrayEquals(new int[] {2, 3, 32, 32}, t.shape());
        }
    }

    @Test
    void augmentationIsReproducibleAndChangesPixels() {
        try (BatchLoader l = BatchLoader.open(manifest, null, new ClipPreprocess(32))) {
            l.augmentation(new Augmentation(0.5, true)).threads(3).prefetch(1);
            List<Epoch> a = epoch(l, new Rng(5), 10, false, false);
            l.threads(1);
            List<Epoch> b = epoch(l, new Rng(5), 10, false, false);
            l.augmentation(Augmentation.NONE);
            List<Epoch> plain = epoch(l, new Rng(5), 10, false, false);
            for (int i = 0; i < a.size(); i++) {
                assertArrayEquals(a.get(i).pixels(), b.get(i).pixels());
                assertEquals(a.get(i).captions(), plain.get(i).captions());
                assertNotEquals(Arrays.hashCode(a.get(i).pixels()), Arrays.hashCode(plain.get(i).pixels()));
            }
        }
    }

    record Epoch(int[] indices, List<String> captions, float[] pixels) {}

    static List<Epoch> epoch(BatchLoader l, Rng rng, int b, boolean shuffle, boolean dropLast) {
        List<Epoch> out = new ArrayList<>();
        try (BatchLoader.Batches bs = l.epoch(rng, b, shuffle, dropLast)) {
            for (BatchLoader.Batch batch : bs) {
                assertArrayEquals(new int[] {batch.size(), 3, 32, 32}, batch.images().shape());
                out.add(new Epoch(batch.indices(), batch.captions(), batch.images().toArray()));
            }
        }
        return out;
    }
}

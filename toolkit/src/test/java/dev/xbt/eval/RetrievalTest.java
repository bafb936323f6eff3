package dev.xbt.eval;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Recall and first-hit ranks on a set small enough to rank by hand. Three images (the unit vectors e0, e1, e2) and
 * five captions; caption→image: 0, 0, 1, 2, 2. The scores are the captions' coordinates, so each ranking below can be
 * read off the table:
 * <pre>
 *            e0   e1   e2     owner
 *   c0       0    1    0      image 0
 *   c1      .6    0   .8      image 0
 *   c2      .8   .6    0      image 1
 *   c3       0    0    1      image 2
 *   c4      .6   .8    0      image 2
 * </pre>
 */
class RetrievalTest {
    static final float[] IMAGES = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    static final float[] CAPTIONS = {0, 1, 0, .6f, 0, .8f, .8f, .6f, 0, 0, 0, 1, .6f, .8f, 0};
    static final int[] OWNER = {0, 0, 1, 2, 2};

    static EncodedSet set() {
        return new EncodedSet(IMAGES, CAPTIONS, OWNER, 3);
    }

    @Test
    void imageToTextFindsAnyOwnCaptionAndTiesCountAgainst() {
        Ranks r = Retrieval.evaluate(set());
        // Image 0 (column e0): own captions score 0 and .6, best .6; c2 (.8) beats it and c4 (.6) ties -> rank 2.
        // Image 1: own c2 scores .6; c0 (1) and c4 (.8) are ahead -> rank 2.
        // Image 2: own c3 scores 1; nobody else reaches 1 -> rank 0.
        assertArrayEquals(new int[] {2, 2, 0}, r.imageToText());
        assertEquals(1 / 3.0, r.recall(Direction.IMAGE_TO_TEXT, 1), 1e-12);
        assertEquals(1 / 3.0, r.recall(Direction.IMAGE_TO_TEXT, 2), 1e-12);
        assertEquals(1.0, r.recall(Direction.IMAGE_TO_TEXT, 3), 1e-12);
    }

    @Test
    void textToImageRanksTheOneOwnImage() {
        Ranks r = Retrieval.evaluate(set());
        // c0: own image 0 scores 0; e1 (1) and the tie e2 (0) are ahead -> 2.  c1: own .6; e2 (.8) -> 1.
        // c2: own e1 .6; e0 (.8) -> 1.  c3: own e2 1 -> 0.  c4: own e2 scores 0; e0 and e1 ahead -> 2.
        assertArrayEquals(new int[] {2, 1, 1, 0, 2}, r.textToImage());
        assertEquals(0.2, r.recall(Direction.TEXT_TO_IMAGE, 1), 1e-12);
        assertEquals(0.6, r.recall(Direction.TEXT_TO_IMAGE, 2), 1e-12);
        assertEquals(1.0, r.recall(Direction.TEXT_TO_IMAGE, 5), 1e-12);
        // rsum in percent: i2t 33.3 + 100 + 100, t2i 20 + 100 + 100.
        assertEquals(100 / 3.0 + 200 + 20 + 200, r.rsum(), 1e-9);
    }

    @Test
    void queriesOfOneSetAgainstTheGalleryOfAnother() {
        // Swap the first two image embeddings on the query side only: image 0 now asks with e1, image 1 with e0.
        EncodedSet queries = new EncodedSet(new float[] {0, 1, 0, 1, 0, 0, 0, 0, 1}, CAPTIONS, OWNER, 3);
        Ranks r = Retrieval.evaluate(queries, set());
        // Image 0 asks e1: own c0 scores 1, nothing else reaches 1.  Image 1 asks e0: own c2 .8 is the maximum.
        assertArrayEquals(new int[] {0, 0, 0}, r.imageToText());
        assertArrayEquals(new int[] {2, 1, 1, 0, 2}, r.textToImage());
    }

    @Test
    void allEqualScoresAreMissesNotHits() {
        EncodedSet flat = new EncodedSet(new float[] {1, 0, 1, 0}, new float[] {1, 0, 1, 0}, new int[] {0, 1}, 2);
        Ranks r = Retrieval.evaluate(flat);
        assertArrayEquals(new int[] {1, 1}, r.imageToText());
        assertArrayEquals(new int[] {1, 1}, r.textToImage());
        assertEquals(0, r.recall(Direction.IMAGE_TO_TEXT, 1));
    }

    @Test
    void chunksGiveTheSameRanksAsOneProduct() {
        // More queries than one chunk: the chunk boundary must not shift any row.
        int n = Retrieval.CHUNK + 37, d = 4;
        float[] img = new float[n * d], cap = new float[n * d];
        int[] owner = new int[n];
        java.util.Random rnd = new java.util.Random(3);
        for (int i = 0; i < n * d; i++) {
            img[i] = (float) rnd.nextGaussian();
            cap[i] = img[i] + 0.8f * (float) rnd.nextGaussian();
        }
        for (int i = 0; i < n; i++) owner[i] = i;
        Ranks r = Retrieval.evaluate(new EncodedSet(img, cap, owner, d));
        for (int q = 0; q < n; q += 29) {
            double own = dot(img, q, cap, q, d);
            int rank = 0;
            for (int c = 0; c < n; c++) if (c != q && dot(img, q, cap, c, d) >= own) rank++;
            assertEquals(rank, r.imageToText()[q], "query " + q);
        }
    }

    private static double dot(float[] a, int i, float[] b, int j, int d) {
        float s = 0;
        for (int k = 0; k < d; k++) s += a[i * d + k] * b[j * d + k];
        return s;
    }

    @Test
    void foldsRankEachQueryWithinItsOwnGallery() {
        // Two folds of the three images: [image 0] with c0, c1, and [images 1, 2] with c2, c3, c4.
        Ranks r = Retrieval.evaluate(set(), set(), 2);
        // Fold 0 has one image and only its own captions: every query ranks 0.
        // Fold 1, image 1 (e1): own c2 scores .6, c4 (.8) is ahead, c3 (0) is not -> 1; image 2 (e2): own c3 1 -> 0.
        // c2: own e1 .6 against e2 0 -> 0; c3: own e2 1 -> 0; c4: own e2 scores 0, e1 .8 is ahead -> 1.
        assertArrayEquals(new int[] {0, 1, 0}, r.imageToText());
        assertArrayEquals(new int[] {0, 0, 0, 0, 1}, r.textToImage());
        assertArrayEquals(Retrieval.evaluate(set()).imageToText(), Retrieval.evaluate(set(), set(), 1).imageToText());
    }

    @Test
    void foldsMatchABruteForceRankingOfEachFold() {
        // Captions in shuffled order (not grouped by image) and folds of unequal size: 23 images in 4 folds.
        int n = 23, d = 5;
        java.util.Random rnd = new java.util.Random(11);
        float[] img = new float[n * d];
        for (int i = 0; i < img.length; i++) img[i] = (float) rnd.nextGaussian();
        int m = 3 * n;
        int[] owner = new int[m];
        float[] cap = new float[m * d];
        for (int c = 0; c < m; c++) {
            owner[c] = rnd.nextInt(n);
            for (int k = 0; k < d; k++) cap[c * d + k] = img[owner[c] * d + k] + 1.5f * (float) rnd.nextGaussian();
        }
        for (int i = 0; i < n; i++) owner[i] = i; // every image owns at least one caption
        EncodedSet s = new EncodedSet(img, cap, owner, d);
        int folds = 4;
        Ranks r = Retrieval.evaluate(s, s, folds);
        int[] fold = new int[n];
        for (int f = 0; f < folds; f++) for (int i = n * f / folds; i < n * (f + 1) / folds; i++) fold[i] = f;
        for (int q = 0; q < n; q++) {
            double best = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < m; c++) if (owner[c] == q) best = Math.max(best, dot(img, q, cap, c, d));
            int rank = 0;
            for (int c = 0; c < m; c++) if (owner[c] != q && fold[owner[c]] == fold[q] && dot(img, q, cap, c, d) >= best) rank++;
            assertEquals(rank, r.imageToText()[q], "image " + q);
        }
        for (int c = 0; c < m; c++) {
            double own = dot(img, owner[c], cap, c, d);
            int rank = 0;
            for (int j = 0; j < n; j++) if (j != owner[c] && fold[j] == fold[owner[c]] && dot(img, j, cap, c, d) >= own) rank++;
            assertEquals(rank, r.textToImage()[c], "caption " + c);
        }
    }

    @Test
    void foldCountsOutsideOneToTheImagesAreRefused() {
        for (int folds : new int[] {0, 4}) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> Retrieval.evaluate(set(), set(), folds))
                    .getMessage().contains(folds + " folds of 3 images"));
        }
    }

    @Test
    void mismatchedSetsAreRefused() {
        EncodedSet other = new EncodedSet(IMAGES, new float[] {1, 0, 0}, new int[] {0}, 3);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Retrieval.evaluate(set(), other))
                .getMessage().contains("different items"));
        EncodedSet wide = new EncodedSet(new float[12], new float[20], OWNER, 4);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Retrieval.evaluate(set(), wide))
                .getMessage().contains("width"));
        assertThrows(IllegalArgumentException.class, () -> new EncodedSet(IMAGES, CAPTIONS, new int[] {0, 0, 1, 2, 3}, 3));
        float[] nan = IMAGES.clone();
        nan[4] = Float.NaN;
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Retrieval.evaluate(new EncodedSet(nan, CAPTIONS, OWNER, 3)))
                .getMessage().contains("non-finite"));
    }
}

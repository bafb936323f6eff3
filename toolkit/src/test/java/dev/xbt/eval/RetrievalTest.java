package dev.xbt.eval;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RetrievalTest {
    /**
     * Worked by hand: images on the unit axes e1, e2, e3; captions 0,1 of image 0, caption 2 of image 1, caption 3 of
     * image 2. Similarities are plain dot products of the 3-d rows below.
     */
    @Test
    void ranksAndRecallsOfAHandWorkedExample() {
        float[][] images = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
        float[][] texts = {
                {0.6f, 0.8f, 0},   // caption of image 0, closer to image 1: its image ranks 2nd -> rank 1
                {0.8f, 0.6f, 0},   // caption of image 0, best on image 0 -> rank 0
                {0, 0.28f, 0.96f}, // caption of image 1, best on image 2 -> rank 1
                {0, 0, 1}};        // caption of image 2 -> rank 0
        int[] owner = {0, 0, 1, 2};
        Retrieval.Result r = Retrieval.evaluate(images, texts, owner);
        assertArrayEquals(new int[] {1, 0, 1, 0}, r.textToImageRanks());
        // Image 0: best own caption (1) scores 0.8; caption 2 and 3 score 0 -> rank 0.
        // Image 1: own caption 2 scores 0.28; captions 0 (0.8) and 1 (0.6) beat it -> rank 2.
        // Image 2: own caption 3 scores 1; caption 2 scores 0.96 -> rank 0.
        assertArrayEquals(new int[] {0, 2, 0}, r.imageToTextRanks());
        assertArrayEquals(new double[] {50, 100, 100}, r.textToImage(), 1e-9);
        assertArrayEquals(new double[] {200.0 / 3, 100, 100}, r.imageToText(), 1e-9);
        assertEquals(200.0 / 3 + 200 + 50 + 200, r.rsum(), 1e-9);
    }

    @Test
    void tiesCountAgainstTheQuery() {
        float[][] images = {{1, 0}, {1, 0}};
        int[] ranks = Retrieval.evaluate(images, new float[][] {{1, 0}}, new int[] {0}).textToImageRanks();
        assertArrayEquals(new int[] {1}, ranks);
    }

    @Test
    void badOwnersAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Retrieval.evaluate(new float[][] {{1}}, new float[][] {{1}}, new int[] {3}));
    }

    @Test
    void reportFlagsGapClosedAndFlips() {
        // 2 images, 2 captions (one each). old/old: i2t ranks {0,1}, t2i {0,1}; new/new all 0; method: {1,0} and {0,0}.
        CompatReport rep = new CompatReport("toy", 2, 2)
                .add(new CompatReport.Row(CompatReport.OLD_OLD, "old", "old", new int[] {0, 1}, new int[] {0, 1}))
                .add(new CompatReport.Row(CompatReport.NEW_NEW, "new", "new", new int[] {0, 0}, new int[] {0, 0}))
                .add(new CompatReport.Row("m", "new", "old", new int[] {1, 0}, new int[] {0, 0}));
        // i2t R@1 50 = old 50: not compatible; t2i R@1 100 > 50: gap closed 1.
        assertEquals(false, rep.compatible("m"));
        double[] gap = rep.gapClosed("m");
        assertEquals(0, gap[0], 1e-12);
        assertEquals(1, gap[3], 1e-12);
        var json = rep.toJson();
        assertEquals(false, json.at("/compatibility/m/cells/i2t_R@1").asBoolean());
        assertEquals(true, json.at("/compatibility/m/cells/t2i_R@1").asBoolean());
        assertEquals(0.5, json.at("/compatibility/m/flips_R@1/i2t_negative").asDouble(), 1e-12);
        assertEquals(0.5, json.at("/compatibility/m/flips_R@1/i2t_positive").asDouble(), 1e-12);
        assertEquals(0.5, json.at("/compatibility/m/flips_R@1/t2i_positive").asDouble(), 1e-12);
        assertEquals(50.0, json.at("/rows/0/i2t/R@1").asDouble(), 1e-12);
    }
}

package dev.xbt.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.xbt.eval.CompatibilityReport.Cell;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.xbt.eval.Direction.IMAGE_TO_TEXT;
import static dev.xbt.eval.Direction.TEXT_TO_IMAGE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Flags, gap closed, flips and the gate on ranks written down by hand (4 image queries, 5 caption queries).
 * <pre>
 *              i2t ranks      R@1  R@5  R@10    t2i ranks        R@1  R@5  R@10
 *   old->old   0 3 1 0        .50  1    1       0 0 2 6 1        .40  .80  1
 *   new->new   0 0 0 0        1    1    1       0 0 0 1 0        .80  1    1
 *   A          0 0 2 0        .75  1    1       0 1 0 0 1        .60  1    1
 *   same       (old's ranks)                                     (incompatible where old is not perfect)
 *   worse      1 1 1 1        0    1    1       (old's ranks)
 * </pre>
 */
class CompatibilityReportTest {
    static final Ranks OLD = new Ranks(new int[] {0, 3, 1, 0}, new int[] {0, 0, 2, 6, 1});
    static final Ranks NEW = new Ranks(new int[] {0, 0, 0, 0}, new int[] {0, 0, 0, 1, 0});
    static final Ranks A = new Ranks(new int[] {0, 0, 2, 0}, new int[] {0, 1, 0, 0, 1});
    static final Ranks WORSE = new Ranks(new int[] {1, 1, 1, 1}, OLD.textToImage());

    static CompatibilityReport report() {
        return new CompatibilityReport("toy", OLD, NEW, List.of(new CompatibilityReport.Method("A", "new", A),
                new CompatibilityReport.Method("same", "new+old", OLD), new CompatibilityReport.Method("worse", "new", WORSE)));
    }

    @Test
    void compatibilityFlagsPerCell() {
        CompatibilityReport r = report();
        // A is above old->old at every R@1 and at t2i R@5; the other cells are saturated (1 and 1).
        assertEquals(List.of(), r.incompatibleCells("A"));
        assertEquals(List.of(new Cell(IMAGE_TO_TEXT, 1), new Cell(TEXT_TO_IMAGE, 1), new Cell(TEXT_TO_IMAGE, 5)),
                r.incompatibleCells("same"));
        assertFalse(r.compatible("worse", new Cell(IMAGE_TO_TEXT, 1)));
        assertTrue(r.compatible("worse", new Cell(IMAGE_TO_TEXT, 5)), "1 = 1 where old->old is already perfect");
    }

    @Test
    void gapClosed() {
        CompatibilityReport r = report();
        assertEquals(0.5, r.gapClosed("A", new Cell(IMAGE_TO_TEXT, 1)), 1e-12);   // (.75 - .5) / (1 - .5)
        assertEquals(0.5, r.gapClosed("A", new Cell(TEXT_TO_IMAGE, 1)), 1e-12);   // (.6 - .4) / (.8 - .4)
        assertEquals(1.0, r.gapClosed("A", new Cell(TEXT_TO_IMAGE, 5)), 1e-12);   // (1 - .8) / (1 - .8)
        assertTrue(Double.isNaN(r.gapClosed("A", new Cell(IMAGE_TO_TEXT, 5))));  // new->new = old->old
        assertEquals(0.0, r.gapClosed("same", new Cell(IMAGE_TO_TEXT, 1)), 1e-12);
        assertEquals(-1.0, r.gapClosed("worse", new Cell(IMAGE_TO_TEXT, 1)), 1e-12); // (0 - .5) / .5
    }

    @Test
    void flips() {
        CompatibilityReport r = report();
        // i2t at R@1: old hits {0, 3}, A hits {0, 1, 3}: one positive flip (query 1) of 4.
        assertEquals(new CompatibilityReport.Flips(0.25, 0), r.flips("A", new Cell(IMAGE_TO_TEXT, 1)));
        // t2i at R@1: old hits {0, 1}, A hits {0, 2, 3}: positive 2 and 3, negative 1, of 5.
        assertEquals(new CompatibilityReport.Flips(0.4, 0.2), r.flips("A", new Cell(TEXT_TO_IMAGE, 1)));
        // t2i at R@5: old hits {0, 1, 2, 4}, A hits all: positive 3.
        assertEquals(new CompatibilityReport.Flips(0.2, 0), r.flips("A", new Cell(TEXT_TO_IMAGE, 5)));
        assertEquals(new CompatibilityReport.Flips(0, 0.5), r.flips("worse", new Cell(IMAGE_TO_TEXT, 1)));
    }

    @Test
    void gateDecision() {
        CompatibilityReport r = report();
        assertEquals(0, r.gate("A"));
        assertEquals(CompatibilityReport.GATE_FAILED, r.gate("same"));
        assertEquals(3, r.gate("worse"));
        assertTrue(r.gateMessage("same").contains("3 of 6 cells"), r.gateMessage("same"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> r.gate("nope"));
        assertTrue(e.getMessage().contains("unknown method 'nope'") && e.getMessage().contains("A"), e.getMessage());
    }

    @Test
    void tableAndJson(@TempDir Path dir) throws Exception {
        CompatibilityReport r = report().put("seconds", Map.of("total", 1.5));
        String t = r.table();
        assertTrue(t.startsWith("toy: 4 images, 5 captions"), t);
        // The columns of README's demo table: recalls in percent, rsum, compat, the smallest gap closed.
        assertTrue(t.contains("old/old           old/old     |  50.0 100.0 100.0   |  40.0  80.0 100.0   |  470.0 |"), t);
        assertTrue(t.contains("A                 new/old     |  75.0 100.0 100.0   |  60.0 100.0 100.0   |  535.0 | yes    0.50"), t);
        assertTrue(t.contains("same              new+old/old |") && t.contains("| NO     0.00"), t);
        Path file = dir.resolve("report.json");
        r.write(file);
        JsonNode j = new ObjectMapper().readTree(file.toFile());
        assertEquals("toy", j.at("/dataset/name").asText());
        assertEquals(4, j.at("/dataset/images").asInt());
        assertEquals(5, j.at("/dataset/captions").asInt());
        assertEquals(2 + 3, j.get("rows").size());
        assertEquals("old/old", j.at("/rows/0/method").asText());
        assertEquals(50.0, j.at("/rows/0/i2t/R@1").asDouble());
        assertEquals(80.0, j.at("/rows/1/t2i/R@1").asDouble());
        assertEquals("new+old", j.at("/rows/3/query_model").asText());
        assertEquals("old", j.at("/rows/3/gallery_model").asText());
        JsonNode a = j.at("/compatibility/A");
        assertTrue(a.get("all").asBoolean());
        assertTrue(a.at("/cells/t2i_R@5").asBoolean());
        assertTrue(a.at("/gap_closed/i2t_R@5").isNull());
        assertEquals(0.5, a.at("/gap_closed/t2i_R@1").asDouble(), 1e-12);
        assertEquals(2, a.at("/gap_closed_90/t2i_R@1").size());
        assertTrue(a.at("/gap_closed_90/i2t_R@5").isNull());
        assertEquals(0.4, a.at("/flips_R@1/t2i_positive").asDouble(), 1e-12);
        assertEquals(0.2, a.at("/flips_R@1/t2i_negative").asDouble(), 1e-12);
        assertEquals(0.25, a.at("/flips_R@1/i2t_positive").asDouble(), 1e-12);
        assertFalse(j.at("/compatibility/same/all").asBoolean());
        assertFalse(j.at("/compatibility/same/cells/i2t_R@1").asBoolean());
        assertEquals("[\"i2t_R@1\",\"t2i_R@1\",\"t2i_R@5\"]", j.at("/compatibility/same/incompatible_cells").toString());
        assertEquals(1.5, j.at("/seconds/total").asDouble());
    }

    /** Ranks of {@code q} queries where a query hits at R@1 with probability {@code p} (rank 0, else rank 20). */
    private static int[] ranks(java.util.Random rnd, int q, double p) {
        int[] r = new int[q];
        for (int i = 0; i < q; i++) r[i] = rnd.nextDouble() < p ? 0 : 20;
        return r;
    }

    private static int[] repeated(int[] r, int times) {
        int[] out = new int[r.length * times];
        for (int t = 0; t < times; t++) System.arraycopy(r, 0, out, t * r.length, r.length);
        return out;
    }

    @Test
    void theGapClosedIntervalIsABootstrapOverTheQueries() {
        java.util.Random rnd = new java.util.Random(5);
        int q = 2000;
        int[] i2t = ranks(rnd, 500, 0.5);
        int[] o = ranks(rnd, q, 0.60), n = ranks(rnd, q, 0.72), m = ranks(rnd, q, 0.64);
        CompatibilityReport r = new CompatibilityReport("synthetic", new Ranks(i2t, o), new Ranks(i2t, n), List.of(
                new CompatibilityReport.Method("m", "new", new Ranks(i2t, m)),
                new CompatibilityReport.Method("same", "new", new Ranks(i2t, o))));
        Cell t2i1 = new Cell(TEXT_TO_IMAGE, 1);
        double g = r.gapClosed("m", t2i1);
        double[] iv = r.gapClosedInterval("m", t2i1);
        assertTrue(iv[0] < g && g < iv[1], g + " in " + iv[0] + ".." + iv[1]);
        // Against the delta method: g = (M - O) / (N - O) of the three hit rates, its variance the gradient through the
        // per-query covariance of (m, o, n) over q; a 90 % interval is 2 x 1.645 standard errors wide.
        double[][] x = new double[q][];
        for (int i = 0; i < q; i++) x[i] = new double[] {m[i] == 0 ? 1 : 0, o[i] == 0 ? 1 : 0, n[i] == 0 ? 1 : 0};
        double[] mean = new double[3];
        for (double[] v : x) for (int j = 0; j < 3; j++) mean[j] += v[j] / q;
        double a = mean[0] - mean[1], b = mean[2] - mean[1];
        double[] grad = {1 / b, (a - b) / (b * b), -a / (b * b)};
        double var = 0;
        for (double[] v : x) {
            double dot = 0;
            for (int j = 0; j < 3; j++) dot += grad[j] * (v[j] - mean[j]);
            var += dot * dot / q;
        }
        double delta = 2 * 1.645 * Math.sqrt(var / q);
        assertTrue((iv[1] - iv[0]) / delta > 0.8 && (iv[1] - iv[0]) / delta < 1.25, "bootstrap " + (iv[1] - iv[0]) + ", delta method " + delta);
        assertEquals(iv[0], r.gapClosedInterval("m", t2i1)[0], "the same every time");
        // A method that ranks like old/old closes exactly nothing in every resample.
        double[] none = r.gapClosedInterval("same", t2i1);
        assertEquals(0.0, none[0]);
        assertEquals(0.0, none[1]);
        // Where new/new ranks exactly like old/old (image->text here), the gap is undefined in every resample.
        assertTrue(Double.isNaN(r.gapClosedInterval("m", new Cell(IMAGE_TO_TEXT, 1))[0]));
        // Four times the queries (the same ones, four times): the interval is about half as wide (1/sqrt(4)).
        CompatibilityReport big = new CompatibilityReport("synthetic x4", new Ranks(i2t, repeated(o, 4)),
                new Ranks(i2t, repeated(n, 4)), List.of(new CompatibilityReport.Method("m", "new", new Ranks(i2t, repeated(m, 4)))));
        double[] iv4 = big.gapClosedInterval("m", t2i1);
        double ratio = (iv4[1] - iv4[0]) / (iv[1] - iv[0]);
        assertTrue(ratio > 0.35 && ratio < 0.65, "width ratio " + ratio);
        assertTrue(r.weakestCell("m").startsWith(String.format(java.util.Locale.ROOT,
                "m: weakest cell text->image R@1, gap closed %.2f (90 %% bootstrap interval over the queries %.2f to %.2f)", g, iv[0], iv[1])),
                r.weakestCell("m"));
    }

    @Test
    void rowsOfOtherQueriesAreRefused() {
        Ranks shorter = new Ranks(new int[] {0, 0, 0}, NEW.textToImage());
        assertThrows(IllegalArgumentException.class, () -> new CompatibilityReport("toy", OLD, NEW,
                List.of(new CompatibilityReport.Method("x", "new", shorter))));
        assertThrows(IllegalArgumentException.class, () -> new CompatibilityReport("toy", OLD, NEW,
                List.of(new CompatibilityReport.Method(CompatibilityReport.OLD_OLD, "new", A))));
        assertThrows(IllegalArgumentException.class, () -> new CompatibilityReport("toy", OLD, NEW,
                List.of(new CompatibilityReport.Method("A", "new", A), new CompatibilityReport.Method("A", "new", A))));
    }
}

package dev.xbt.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.xbt.eval.CompatibilityReport.Cell;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
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
        Map<String, Ranks> m = new LinkedHashMap<>();
        m.put("A", A);
        m.put("same", OLD);
        m.put("worse", WORSE);
        return new CompatibilityReport(OLD, NEW, m);
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
        CompatibilityReport r = report();
        String t = r.table();
        assertTrue(t.contains("old->old") && t.contains("new->new") && t.contains("worse"), t);
        assertTrue(t.contains("75.00+") && t.contains("50.00-"), t);
        Path file = dir.resolve("report.json");
        r.write(file);
        JsonNode j = new ObjectMapper().readTree(file.toFile());
        assertEquals(0.5, j.get("old_old").get("i2t_r1").asDouble());
        JsonNode a = j.get("methods").get("A");
        assertTrue(a.get("compatible").asBoolean());
        assertTrue(a.get("cells").get("i2t_r5").get("gap_closed").isNull());
        assertEquals(0.4, a.get("cells").get("t2i_r1").get("flips_positive").asDouble(), 1e-12);
        assertEquals("[\"i2t_r1\",\"t2i_r1\",\"t2i_r5\"]", j.get("methods").get("same").get("incompatible_cells").toString());
    }

    @Test
    void rowsOfOtherQueriesAreRefused() {
        Ranks shorter = new Ranks(new int[] {0, 0, 0}, NEW.textToImage());
        assertThrows(IllegalArgumentException.class, () -> new CompatibilityReport(OLD, NEW, Map.of("x", shorter)));
        assertThrows(IllegalArgumentException.class, () -> new CompatibilityReport(OLD, NEW, Map.of("old->old", A)));
    }
}

package dev.xbt.eval;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The pipeline's compatibility table (eval-compat, demo) on a hand-worked example. */
class CompatReportTest {
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

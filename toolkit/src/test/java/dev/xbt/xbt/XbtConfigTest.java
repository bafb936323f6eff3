package dev.xbt.xbt;

import dev.xbt.train.TrainConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class XbtConfigTest {
    @Test
    void theReportIsOnDataDirUnlessEvalDataNamesAnotherSetAndFoldsAreAtLeastOne() {
        TrainConfig c = XbtConfig.schema().defaults().withOverride("data.dir=some/corpus");
        assertEquals("some/corpus", XbtConfig.evalData(c));
        assertEquals("held/out", XbtConfig.evalData(c.withOverride("eval.data=held/out")));
        assertEquals(1, c.getInt("eval.folds"));
        var e = assertThrows(IllegalArgumentException.class, () -> XbtConfig.validate(c.withOverride("eval.folds=0")));
        assertTrue(e.getMessage().contains("eval.folds"), e.getMessage());
    }

    @Test
    void emaDecayMustBeBelowOne() {
        TrainConfig c = XbtConfig.schema().defaults();
        assertEquals(0.0, c.getDouble("stage1.ema_decay"), "off by default");
        assertEquals(0.0, c.getDouble("stage2.ema_decay"), "off by default");
        assertDoesNotThrow(() -> XbtConfig.validate(c.withOverride("stage1.ema_decay=0.999").withOverride("stage2.ema_decay=0.99")));
        for (String bad : new String[] {"stage1.ema_decay=1", "stage2.ema_decay=-0.5"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> XbtConfig.validate(c.withOverride(bad)));
            assertEquals("config field '" + bad.substring(0, bad.indexOf('=')) + "' must be in [0, 1), got "
                    + Double.parseDouble(bad.substring(bad.indexOf('=') + 1)), e.getMessage());
        }
    }
}

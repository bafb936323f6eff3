package dev.xbt.train;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainProgressTest {
    @Test
    void terminalRedrawsOneLinePlainOutputLogsEveryNSteps() {
        ByteArrayOutputStream term = new ByteArrayOutputStream();
        TrainProgress t = new TrainProgress(new PrintStream(term, true, StandardCharsets.UTF_8), true, 5);
        for (int s = 1; s <= 10; s++) t.update(s, 10, 2.0, 150, 10 - s);
        String tt = term.toString(StandardCharsets.UTF_8);
        assertTrue(tt.startsWith("\r[##"), tt);
        assertTrue(tt.contains("step 10/10 loss 2.0000 (avg 2.0000) 150 samples/s ETA 0s"), tt);
        assertTrue(tt.contains("[########################] step 10/10"), tt);
        assertTrue(tt.endsWith("\n"), "the last draw ends the line");

        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        TrainProgress p = new TrainProgress(new PrintStream(plain, true, StandardCharsets.UTF_8), false, 5);
        for (int s = 1; s <= 12; s++) p.update(s, 12, 1.5, 99, 12 - s);
        String pt = plain.toString(StandardCharsets.UTF_8);
        assertEquals(3, pt.lines().count(), pt); // steps 5, 10 and the last, 12
        assertFalse(pt.contains("\r"), pt);
        assertTrue(pt.lines().toList().get(2).startsWith("step 12/12 loss 1.5000"), pt);
    }

    @Test
    void durations() {
        assertEquals("45s", TrainProgress.duration(45.2));
        assertEquals("3m12s", TrainProgress.duration(192));
        assertEquals("1h02m", TrainProgress.duration(3720));
        assertEquals("?", TrainProgress.duration(Double.NaN));
    }
}

package dev.xbt.data;

import dev.xbt.train.TrainProgress;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConsoleLineTest {
    @Test
    void redrawsAtMostTenTimesASecondAndEndsTheLineBeforeOrdinaryOutput() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ConsoleLine line = ConsoleLine.on(new PrintStream(b, true, StandardCharsets.UTF_8));
        line.draw("a", false);
        line.draw("b", false); // within 0.1 s of "a": skipped
        line.draw("c", true);  // forced
        line.println("log");
        line.close();          // nothing open: nothing written
        line.println("more");
        assertEquals("\ra\u001B[K\rc\u001B[K\nlog\nmore\n", b.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n"));
    }

    @Test
    void aDataDisplayAndATrainingDisplayOnOneStreamShareTheStatusLine() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(b, true, StandardCharsets.UTF_8);
        assertSame(ConsoleLine.on(out), ConsoleLine.on(out));
        TrainProgress training = new TrainProgress(out, true, 1);
        Progress data = Progress.console(out, true);
        training.update(1, 10, 2.0, 100, 9);
        data.log("cache ready"); // must start on a line of its own, below the training bar
        String text = b.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n");
        assertTrue(text.endsWith("\u001B[K\ncache ready\n"), text);
    }
}

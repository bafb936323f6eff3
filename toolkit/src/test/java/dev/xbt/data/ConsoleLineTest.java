package dev.xbt.data;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ConsoleLineTest {
    @Test
    void redrawsAtMostTenTimesASecondAndEndsTheLineBeforeOrdinaryOutput() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ConsoleLine line = new ConsoleLine(new PrintStream(b, true, StandardCharsets.UTF_8));
        line.draw("a", false);
        line.draw("b", false); // within 0.1 s of "a": skipped
        line.draw("c", true);  // forced
        line.println("log");
        line.close();          // nothing open: nothing written
        line.println("more");
        assertEquals("\ra\u001B[K\rc\u001B[K\nlog\nmore\n", b.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n"));
    }
}

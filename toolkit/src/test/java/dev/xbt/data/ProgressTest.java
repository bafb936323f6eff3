package dev.xbt.data;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressTest {
    static String run(boolean terminal) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Progress p = Progress.console(new PrintStream(b, true, StandardCharsets.UTF_8), terminal);
        for (int i = 0; i <= 1000; i++) p.update("job", i, 1000);
        p.log("done");
        return b.toString(StandardCharsets.UTF_8);
    }

    @Test
    void oneRedrawnLineOnATerminalTenPlainLinesOtherwise() {
        String term = run(true);
        assertTrue(term.startsWith("\rjob: ") && term.contains("\rjob: 1000/1000 (100%)"), term);
        assertEquals(2, term.chars().filter(c -> c == '\n').count(), term); // the progress line, then "done"
        String plain = run(false);
        assertEquals(12, plain.lines().count(), plain); // 10%, 20%, ... 100%, and 0.1% at the start, then "done"
        assertTrue(plain.lines().noneMatch(l -> l.contains("\r")), plain);
    }
}

package dev.xbt.xbt;

import dev.xbt.engine.Rng;
import dev.xbt.weights.ModelContract;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PsiTest {
    static final ModelContract OLD = new ModelContract("old-m", 4, "l2", "", "");
    static final ModelContract NEW = new ModelContract("new-m", 6, "l2", "", "");

    @Test
    void outputsUnitRowsOfTheOldDimensionAndRoundTrips(@TempDir Path dir) {
        Psi p = new Psi(6, 16, 4, new Rng(1));
        float[] x = PipelineBaselinesTest.randomRows(5, 6, new Rng(2));
        float[] y = p.apply(x, 5);
        assertEquals(20, y.length);
        for (int i = 0; i < 5; i++) {
            double s = 0;
            for (int k = 0; k < 4; k++) s += y[i * 4 + k] * y[i * 4 + k];
            assertEquals(1, s, 1e-5);
        }
        Path f = dir.resolve("psi.safetensors");
        p.save(f, OLD, NEW);
        Psi.Loaded l = Psi.load(f);
        assertEquals(OLD, l.oldContract().orElseThrow());
        assertEquals(NEW, l.newContract().orElseThrow());
        assertArrayEquals(y, l.projection().apply(x, 5), 0f);
        assertArrayEquals(y, p.copy().apply(x, 5), 0f);
        Psi.checkChain(l, f, OLD, 4, NEW, 6);
    }

    @Test
    void refusesModelsItWasNotTrainedFor(@TempDir Path dir) {
        Path f = dir.resolve("psi.safetensors");
        new Psi(6, 8, 4, new Rng(1)).save(f, OLD, NEW);
        Psi.Loaded l = Psi.load(f);
        ModelContract other = new ModelContract("other-m", 4, "l2", "", "");
        var e = assertThrows(IllegalArgumentException.class, () -> Psi.checkChain(l, f, other, 4, NEW, 6));
        assertTrue(e.getMessage().contains("old-m") && e.getMessage().contains("other-m"), e.getMessage());
        var d = assertThrows(IllegalArgumentException.class, () -> Psi.checkChain(l, f, OLD, 4, NEW, 8));
        assertTrue(d.getMessage().contains("maps 6-d to 4-d"), d.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Psi.load(dir.resolve("none.safetensors")));
    }
}

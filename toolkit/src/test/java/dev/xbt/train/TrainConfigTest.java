package dev.xbt.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainConfigTest {
    @TempDir
    Path dir;

    private static TrainConfig.Schema schema() {
        return new TrainConfig.Schema()
                .add("model.width", 64, "width")
                .add("model.name", "m", "name")
                .add("train.steps", 100L, "steps")
                .add("train.lr", 1e-3, "rate")
                .add("train.flag", false, "flag");
    }

    private Path yaml(String text) throws Exception {
        Path f = dir.resolve("c.yaml");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void fileThenOverridesInOrder() throws Exception {
        Path f = yaml("model:\n  width: 32\ntrain: {lr: 1e-4, flag: true}\n");
        TrainConfig c = TrainConfig.load(schema(), f, List.of("train.steps=7", "model.width=48", "train.lr=2.5e-3"));
        assertEquals(48, c.getInt("model.width"));
        assertEquals(7L, c.getLong("train.steps"));
        assertEquals(2.5e-3, c.getDouble("train.lr"));
        assertTrue(c.getBoolean("train.flag"));
        assertEquals("m", c.getString("model.name"));
        // YAML 1.1 reads "1e-4" as a string; a number field takes it as the number it means.
        assertEquals(1e-4, TrainConfig.load(schema(), f, List.of()).getDouble("train.lr"));
    }

    @Test
    void yamlRoundTripsAndDifferencesNameFields() {
        TrainConfig c = TrainConfig.load(schema(), null, List.of("model.width=8", "train.lr=0.5"));
        TrainConfig back = TrainConfig.fromYaml(schema(), c.toYaml(), "round trip");
        assertEquals(c, back);
        assertEquals(List.of("model.width: 8 → 64", "train.lr: 0.5 → 0.001"), c.differences(schema().defaults()));
    }

    @Test
    void errorsNameTheField() throws Exception {
        var e = assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.load(schema(), null, List.of("model.widht=3")));
        assertTrue(e.getMessage().contains("unknown field 'model.widht'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.load(schema(), null, List.of("width=3")));
        assertTrue(e.getMessage().contains("did you mean model.width"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.load(schema(), null, List.of("train.steps=many")));
        assertTrue(e.getMessage().contains("'train.steps' needs an integer, got 'many'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.load(schema(), null, List.of("train.steps")));
        assertTrue(e.getMessage().contains("FIELD=VALUE"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.load(schema(), null, List.of("train.lr=nan")));
        assertTrue(e.getMessage().contains("'train.lr' needs a number"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.load(schema(), null, List.of("train.flag=yes please")));
        assertTrue(e.getMessage().contains("'train.flag' needs true or false"), e.getMessage());
        Path f = yaml("model:\n  width: 32\n  depth: 3\n");
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.load(schema(), f, List.of()));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("'model.depth'"), e.getMessage());
        Path g = yaml("model:\n  width: [1, 2]\n");
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.load(schema(), g, List.of()));
        assertTrue(e.getMessage().contains("'model.width' needs an integer, got a list"), e.getMessage());
        Path h = yaml("model: {width: 3\n");
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.load(schema(), h, List.of()));
        assertTrue(e.getMessage().contains("not valid YAML"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.load(schema(), null, List.of("model.width=-2")).intAtLeast("model.width", 1));
        assertTrue(e.getMessage().contains("'model.width' must be at least 1, got -2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.load(schema(), null, List.of("train.lr=0")).doubleIn("train.lr", 0, true, 1));
        assertTrue(e.getMessage().contains("'train.lr' must be in (0.0, 1.0], got 0.0"), e.getMessage());
    }
}

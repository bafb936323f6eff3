package dev.xbt.data;

import dev.xbt.engine.Rng;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShapesGeneratorTest {
    @Test
    void theSameSeedGivesTheSameSamplesAndAnotherSeedOthers() {
        ShapesGenerator a = new ShapesGenerator(0), b = new ShapesGenerator(0), c = new ShapesGenerator(1);
        int differ = 0;
        for (int i = 0; i < 40; i++) {
            ShapesGenerator.Sample x = a.sample(i), y = b.sample(i), z = c.sample(i);
            assertEquals(x.scene(), y.scene());
            assertEquals(x.captions(), y.captions());
            assertArrayEquals(x.png(), y.png());
            if (!java.util.Arrays.equals(x.png(), z.png())) differ++;
            assertEquals(x.scene(), a.scene(i));
        }
        assertTrue(differ >= 39, "seed 1 should give other pictures: " + differ);
    }

    /** Every caption names each shape's colour and kind, and no colour or kind the picture does not have. */
    @Test
    void captionsDescribeTheScene() {
        ShapesGenerator gen = new ShapesGenerator(3);
        Set<String> colourWords = new HashSet<>();
        for (ShapesGenerator.Colour c : ShapesGenerator.Colour.values()) colourWords.add(c.word());
        Set<String> kindWords = new HashSet<>();
        for (ShapesGenerator.Kind k : ShapesGenerator.Kind.values()) kindWords.add(k.word());
        int[] perCount = new int[4];
        Set<String> allCaptions = new HashSet<>();
        for (int i = 0; i < 500; i++) {
            ShapesGenerator.Sample s = gen.sample(i);
            List<ShapesGenerator.Item> items = s.scene().items();
            perCount[items.size()]++;
            assertTrue(s.captions().size() >= 3 && s.captions().size() <= 5, s.captions().toString());
            assertEquals(s.captions().size(), new HashSet<>(s.captions()).size(), "distinct captions");
            var bg = s.scene().background();
            for (String caption : s.captions()) {
                allCaptions.add(caption);
                String text = " " + caption.replaceAll("[,;:()]", " ") + " ";
                for (ShapesGenerator.Item it : items) {
                    assertTrue(text.contains(" " + it.colour().word() + " " + it.kind().word() + " ")
                                    || text.contains(" " + it.colour().word() + " " + it.kind().word() + "s "),
                            caption + " should name " + it.describe() + " / " + s.scene().describe());
                }
                // the background's colour words are not shape colours of the caption
                String rest = text.replace(" " + bg.first().words() + " ", " ");
                if (bg.second() != null) rest = rest.replace(" " + bg.second().words() + " ", " ");
                Set<String> expectColours = new HashSet<>(), expectKinds = new HashSet<>();
                for (ShapesGenerator.Item it : items) {
                    expectColours.add(it.colour().word());
                    expectKinds.add(it.kind().word());
                }
                for (String w : rest.strip().split("\\s+")) {
                    if (colourWords.contains(w)) assertTrue(expectColours.contains(w), caption + ": " + w + " / " + s.scene().describe());
                    if (kindWords.contains(w)) assertTrue(expectKinds.contains(w), caption + ": " + w);
                }
                for (ShapesGenerator.Item it : items) {
                    // sizes are right when named
                    String other = it.size() == ShapesGenerator.Size.SMALL ? "(large|big)" : "(small|little)";
                    assertFalse(text.matches(".* " + other + " " + it.colour().word() + " " + it.kind().word() + " .*"), caption);
                }
            }
            // a relation, where one is stated between two named shapes, is true
            for (ShapesGenerator.Item a : items) {
                for (ShapesGenerator.Item b : items) {
                    if (a == b) continue;
                    String an = a.colour().word() + " " + a.kind().word(), bn = b.colour().word() + " " + b.kind().word();
                    for (String caption : s.captions()) {
                        if (a.row() >= b.row()) assertFalse(caption.matches(".*" + an + " (above|over) (an?|the) (small |little |large |big )?" + bn + ".*"), caption);
                        if (a.col() >= b.col()) assertFalse(caption.matches(".*" + an + " (to the )?left of (an?|the) (small |little |large |big )?" + bn + ".*"), caption);
                    }
                }
            }
        }
        for (int n = 1; n <= 3; n++) assertTrue(perCount[n] > 100, "pictures with " + n + " shapes: " + perCount[n]);
        assertTrue(allCaptions.size() > 1400, "captions should rarely repeat: " + allCaptions.size());
    }

    /** {@code -Dxbt.sheet=FILE} writes a contact sheet of the first 64 pictures (3x) for a look at them. */
    @Test
    void contactSheetOnRequest() throws IOException {
        String sheetFile = System.getProperty("xbt.sheet");
        if (sheetFile == null) return;
        ShapesGenerator gen = new ShapesGenerator(0);
        int k = 8, sc = 3, side = ShapesGenerator.SIZE * sc;
        byte[] sheet = new byte[k * side * k * side * 3];
        for (int i = 0; i < k * k; i++) {
            var img = gen.sample(i).image();
            for (int y = 0; y < side; y++) for (int x = 0; x < side; x++) for (int c = 0; c < 3; c++)
                sheet[(((i / k) * side + y) * k * side + (i % k) * side + x) * 3 + c] = (byte) img.get(x / sc, y / sc, c);
        }
        Files.write(Path.of(sheetFile), PngEncoder.encode(new dev.xbt.image.RgbImage(k * side, k * side, sheet)));
        for (int i = 0; i < 2; i++) {
            ShapesGenerator.Sample s = gen.sample(i);
            System.out.println(s.id() + ": " + s.scene().describe());
            s.captions().forEach(c -> System.out.println("  " + c));
        }
    }
}

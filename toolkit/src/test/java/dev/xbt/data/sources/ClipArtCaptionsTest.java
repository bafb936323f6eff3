package dev.xbt.data.sources;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClipArtCaptionsTest {
    static SvgMetadata md(String title, String desc, List<String> subjects, String... agents) {
        return new SvgMetadata(title, desc, subjects, List.of(agents));
    }

    static List<String> caps(String stem, SvgMetadata md) {
        return ClipArtCaptions.captions(stem, md, ClipArtCaptions.Counts.NONE).captions();
    }

    @Test
    void titleDescriptionAndKeywords() {
        assertEquals(List.of("bat", "a clip art of mammal, bat, animal"),
                caps("bat_orlando_karam_", md("bat", "", List.of("mammal", "bat", "", "hash", "animal"), "Orlando Karam")));
        assertEquals(List.of("Extremadura", "Extremadura: a simple map of extremadura, enjoy it!", "a clip art of map, spain"),
                caps("extremadura_01", md("Extremadura", "a simple map of extremadura, enjoy it!", List.of("map", "spain"))));
        // a description that starts with the title stands alone; one that repeats it is dropped
        assertEquals(List.of("Bacon", "Bacon strips, fried"), caps("bacon_01", md("Bacon", "Bacon strips, fried.", List.of())));
        assertEquals(List.of("Ice Cream Cone"), caps("cone1", md("Ice Cream Cone", "ice cream cone", List.of())));
    }

    @Test
    void titlesThatAreFileNamesAreDropped() {
        // glued to digits, whatever the file is called
        assertEquals(List.of("a clip art of people, smiley"),
                caps("smiley120", md("Clipart by Nicu Buculei - smiley111", "", List.of("", "people", "smiley"), "Nicu Buculei")));
        assertEquals(List.of("a clip art of ice cream"), caps("glace_4", md("glace_4_bw", "", List.of("ice_cream"))));
        assertEquals(List.of("a clip art of frog"), caps("frog", md("frog.svg", "", List.of("frog"))));
        // written like a file name and equal to the stem modulo case, underscores and digits
        assertEquals(List.of("a clip art of flag"), caps("russian_federation_02", md("Russian_Federation", "", List.of("flag"))));
        // written like a file name but not this file's: made readable
        assertEquals(List.of("arki arrow down"), caps("arki_arrow_down_jean_vic_", md("arki_arrow_down", "", List.of())));
        // a plain word equal to the stem is a real title (Debian named the files after the titles)
        assertEquals(List.of("Rooster"), caps("rooster_01", md("Rooster", "", List.of())));
        assertTrue(ClipArtCaptions.isFileName("Layer_1", "anything"));
        assertTrue(ClipArtCaptions.isFileName("image.PNG", "x"));
        assertFalse(ClipArtCaptions.isFileName("Dog 03 Drawn With Straight Lines", "dog_03_drawn_with_strai_01"));
    }

    @Test
    void authorsNamesAreDropped() {
        SvgMetadata m = md("Architetto Francesco Rollandin", "", List.of("architetto francesco rollandin", "animal"),
                "Architetto Francesco Rollandin", "Open Clip Art Library");
        assertEquals(List.of("a clip art of animal"), caps("architetto_francesco_ro_01", m));
        assertEquals(List.of("a clip art of tools"), caps("x", md("Open Clip Art Library", "", List.of("tools"), "Someone",
                "Open Clip Art Library")));
        assertEquals(List.of("a clip art of penguin"), caps("ralf", md("ralf@ark.in-berlin.de", "ralf@ark.in-berlin.de",
                List.of("penguin"), "ralf@ark.in-berlin.de")));
    }

    @Test
    void boilerplateIsDropped() {
        for (String t : List.of("Part of the Flat Icon Collection (Wed Aug 25 23:23:49 2004)", "Lemon SVG theme",
                "SVG Gradient Collection by Alan Horkan, 2004.", "Various Cliparts", "untitled", "Drawing", "Layer 1",
                "blueberry - iconset", "R16 sibmission")) {
            ClipArtCaptions.Result r = ClipArtCaptions.captions("x", md(t, "EPS converted from  http://aiga.org", List.of()), ClipArtCaptions.Counts.NONE);
            assertFalse(r.ok(), t);
            assertTrue(r.reason().startsWith("no usable caption (title: boilerplate; description: boilerplate"), r.reason());
        }
        assertEquals(List.of("Moon"), caps("moon", md("Moon", "contact: someone@example.org", List.of("hash", "0x935a874", "1234"))));
        assertEquals(List.of("5 port hub"), caps("hub", md("5 port hub", "Derived from Andrew Fitzsimons scanner", List.of())));
    }

    @Test
    void sharedAndTemplateTitles() {
        ClipArtCaptions.Counts counts = new ClipArtCaptions.Counts(Map.of(ClipArtCaptions.key("gramastar"), 1375,
                ClipArtCaptions.key("piggybank"), 8), Map.of(ClipArtCaptions.key("UK roadsigns"), 29));
        ClipArtCaptions.Result stars = ClipArtCaptions.captions("star_89pt36step", md("gramastar", "",
                List.of("stars", "shapes", "magick", "geometry")), counts);
        assertEquals(List.of("a clip art of stars, shapes, geometry"), stars.captions());
        // "Clipart by NAME - piggybank" on a die, copied from a template: dropped; on the piggy bank: kept
        assertEquals(List.of("a clip art of game"), ClipArtCaptions.captions("dice",
                md("Clipart by Nicu Buculei - piggybank", "", List.of("game")), counts).captions());
        assertEquals(List.of("piggybank"), ClipArtCaptions.captions("piggybank_nicu",
                md("Clipart by Nicu Buculei - piggybank", "", List.of()), counts).captions());
        assertEquals(List.of("United States - Ohio"), ClipArtCaptions.captions("ohio",
                md("Clipart by Rob Davenport - United States - Ohio", "", List.of()), counts).captions());
        // a description that many pictures share names their collection
        assertEquals(List.of("a clip art of roadsign"), ClipArtCaptions.captions("no_cycles",
                md("no_cycles", "UK roadsigns", List.of("roadsign")), counts).captions());
    }

    @Test
    void longDescriptionsAreCut() {
        String d = "The Semaphore flag signaling system is an alphabet signalling system. It works by the waving of a"
                + " pair of hand-held flags in a particular pattern, and sailors used it for centuries at sea and ashore.";
        List<String> c = caps("x", md("Semaphore", d, List.of()));
        assertEquals("Semaphore: The Semaphore flag signaling system is an alphabet signalling system", c.get(1));
        String words = "word ".repeat(60).strip();
        String cut = ClipArtCaptions.shorten(words, 160);
        assertTrue(cut.length() <= 160 && cut.endsWith("word"), cut);
    }

    @Test
    void spreadKeepsAtMostKEvenly() {
        assertArrayEquals(new boolean[] {true, true, true}, ClipArtCaptions.spread(3, 5));
        boolean[] k = ClipArtCaptions.spread(10, 5);
        assertArrayEquals(new boolean[] {true, false, true, false, true, false, true, false, true, false}, k);
        int kept = 0;
        for (boolean b : ClipArtCaptions.spread(1375, 20)) if (b) kept++;
        assertEquals(20, kept);
    }

    @Test
    void svgMetadataIsReadWithNamespaces() throws IOException {
        String svg = """
                <?xml version="1.0" encoding="UTF-8"?>
                <!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 20010904//EN" "http://www.w3.org/TR/2001/REC-SVG-20010904/DTD/svg10.dtd" [
                  <!ENTITY ns_svg "http://www.w3.org/2000/svg">
                ]>
                <svg xmlns="&ns_svg;" xmlns:r="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
                     xmlns:d="http://purl.org/dc/elements/1.1/" xmlns:cc="http://web.resource.org/cc/">
                  <metadata><r:RDF><cc:Work r:about="">
                    <d:title>  two
                      dead frogs </d:title>
                    <d:description>nothing more</d:description>
                    <d:subject><r:Bag><r:li>frog</r:li><r:li> swamp </r:li></r:Bag></d:subject>
                    <d:publisher><cc:Agent><d:title>Open Clip Art Library</d:title></cc:Agent></d:publisher>
                    <d:creator><cc:Agent><d:title>Lumen Design Studio</d:title></cc:Agent></d:creator>
                  </cc:Work></r:RDF></metadata>
                  <path d="M 0 0 L 10 10" this is not well-formed but is never read
                </svg>
                """;
        SvgMetadata m = SvgMetadata.read(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)), "frogs.svg");
        assertEquals("two dead frogs", m.title());
        assertEquals("nothing more", m.description());
        assertEquals(List.of("frog", "swamp"), m.subjects());
        assertEquals("Lumen Design Studio", m.creator());
        assertEquals(List.of("Lumen Design Studio", "Open Clip Art Library"), m.agents());
        // plain-text subjects are split at commas
        String plain = "<svg xmlns='http://www.w3.org/2000/svg' xmlns:dc='http://purl.org/dc/elements/1.1/'"
                + " xmlns:cc='http://web.resource.org/cc/'><metadata><cc:Work><dc:subject>cat, animal</dc:subject>"
                + "</cc:Work></metadata></svg>";
        assertEquals(List.of("cat", "animal"), SvgMetadata.read(new ByteArrayInputStream(plain.getBytes(StandardCharsets.UTF_8)),
                "p.svg").subjects());
        IOException bad = assertThrows(IOException.class, () -> SvgMetadata.read(
                new ByteArrayInputStream("<svg><metadata>".getBytes(StandardCharsets.UTF_8)), "bad.svg"));
        assertTrue(bad.getMessage().startsWith("bad.svg: malformed SVG"), bad.getMessage());
        assertFalse(bad.getMessage().contains("\n"));
    }

    @Test
    void externalEntitiesAreNeverRead(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws IOException {
        java.nio.file.Path secret = dir.resolve("secret.txt");
        java.nio.file.Files.writeString(secret, "TOP-SECRET");
        String svg = "<?xml version='1.0'?><!DOCTYPE svg [<!ENTITY xxe SYSTEM '" + secret.toUri() + "'>"
                + "<!ENTITY % p SYSTEM '" + secret.toUri() + "'> %p;]>"
                + "<svg xmlns='http://www.w3.org/2000/svg' xmlns:dc='http://purl.org/dc/elements/1.1/'"
                + " xmlns:cc='http://web.resource.org/cc/'><metadata><cc:Work><dc:title>a &xxe; b</dc:title>"
                + "</cc:Work></metadata></svg>";
        SvgMetadata m;
        try {
            m = SvgMetadata.read(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)), "xxe.svg");
        } catch (IOException refused) {
            assertFalse(refused.getMessage().contains("TOP-SECRET"), refused.getMessage());
            return;
        }
        assertFalse(m.title().contains("TOP-SECRET"), m.title());
    }

    @Test
    void escapedEntitiesAndMojibakeAreRepaired() {
        assertEquals("Croissant (B & W)", SvgMetadata.clean("Croissant (B &amp; W)"));
        assertEquals("Gelato all'italiana", SvgMetadata.clean("Gelato all&#39;italiana"));
        assertEquals("L\u00e9zard", SvgMetadata.clean("L&Atilde;&copy;zard"));
        assertEquals("Baden-W\u00fcrttemberg", SvgMetadata.clean("Baden-W&uuml;rttemberg"));
        assertEquals("Miguel S\u00e1nchez", SvgMetadata.clean("Miguel S\u00c3\u00a1nchez"));
        assertEquals("\u00c3 la carte", SvgMetadata.clean("\u00c3 la carte")); // not UTF-8: left alone
    }

    @Test
    void keyIgnoresCaseDigitsAndSeparators() {
        assertEquals("redapple", ClipArtCaptions.key("Red_Apple-01"));
        assertNull(ClipArtCaptions.titleProblem(ClipArtCaptions.cleanTitle("\"Teddy bear.\""), "x",
                md("", "", List.of()), Map.of()));
        assertEquals("Teddy bear", ClipArtCaptions.cleanTitle("\"Teddy bear.\"").text());
    }
}

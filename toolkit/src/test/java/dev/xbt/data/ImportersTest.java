package dev.xbt.data;

import dev.xbt.image.ImageLoader;
import dev.xbt.image.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code folder:} and {@code karpathy:} on tiny generated inputs. */
class ImportersTest {
    @TempDir
    Path dir;

    static void png(Path file, int seed) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, PngEncoder.encode(ManifestTest.picture(seed)));
    }

    static void jpeg(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        BufferedImage img = new BufferedImage(10, 8, BufferedImage.TYPE_INT_RGB);
        img.setRGB(2, 3, 0xFF0000);
        ImageIO.write(img, "jpg", file.toFile());
    }

    @Test
    void folderLayoutsAreMerged() throws IOException {
        Path src = dir.resolve("src");
        png(src.resolve("a.png"), 1);
        Files.writeString(src.resolve("a.txt"), "a red thing\n\n  another caption of a \n");
        jpeg(src.resolve("sub/b.JPG"));
        Files.writeString(src.resolve("sub/b.txt"), "b from text\n");
        png(src.resolve("c.png"), 3);
        png(src.resolve("d.png"), 4);
        png(src.resolve("nocaption.png"), 5);
        Files.write(src.resolve("broken.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        Files.writeString(src.resolve("broken.txt"), "a broken picture");
        png(src.resolve(".hidden/e.png"), 6);
        Files.writeString(src.resolve(".hidden/e.txt"), "hidden");
        Files.writeString(src.resolve("captions.jsonl"), """
                {"image": "c.png", "caption": "c one", "split": "test"}
                {"image": "c.png", "captions": ["c two", "c three"]}
                {"image": "a.png", "caption": "a from jsonl"}
                {"image": "missing.png", "caption": "nothing there"}
                {"image": "../escape.png", "caption": "outside"}
                """);
        Files.writeString(src.resolve("captions.csv"), "image,caption,split\r\n"
                + "d.png,\"d, with a comma and \"\"quotes\"\"\",val\r\n"
                + "d.png,\"d on\ntwo lines\",\r\n"
                + "sub/b.JPG,b from csv,restval\r\n");
        Path out = dir.resolve("out");
        Cli.Run r = Cli.run("data", "prepare", "folder:" + src, "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        Manifest m = Manifest.read(out);
        assertEquals(List.of("a.png", "c.png", "d.png", "sub/b.JPG"), m.entries().stream().map(ManifestEntry::id).toList());
        assertEquals(List.of("a red thing", "another caption of a", "a from jsonl"), m.byId("a.png").orElseThrow().captions());
        assertEquals(List.of("c one", "c two", "c three"), m.byId("c.png").orElseThrow().captions());
        assertEquals(Splits.TEST, m.byId("c.png").orElseThrow().split());
        assertEquals(List.of("d, with a comma and \"quotes\"", "d on two lines"), m.byId("d.png").orElseThrow().captions());
        assertEquals(Splits.VAL, m.byId("d.png").orElseThrow().split());
        ManifestEntry b = m.byId("sub/b.JPG").orElseThrow();
        assertEquals(List.of("b from text", "b from csv"), b.captions());
        assertEquals(Splits.TRAIN, b.split()); // restval
        assertEquals(Splits.assign("a.png"), m.byId("a.png").orElseThrow().split());
        assertEquals("images/sub/b.JPG", b.image());
        assertArrayEquals(Files.readAllBytes(src.resolve("sub/b.JPG")), Files.readAllBytes(m.imagePath(b)));
        ImportReport.Skip[] skips = readSkips(out);
        Map<String, String> why = java.util.Arrays.stream(skips).collect(Collectors.toMap(ImportReport.Skip::item, ImportReport.Skip::reason, (x, y) -> x));
        assertEquals(4, skips.length, List.of(skips).toString());
        assertTrue(why.get("nocaption.png").contains("no caption"), why.toString());
        assertTrue(why.get("broken.png").contains("broken.png"), why.toString()); // the decoder's reason
        assertTrue(why.get("missing.png").contains("missing image"), why.toString());
        assertTrue(why.get("captions.jsonl:5").contains("escapes"), why.toString());
        assertTrue(r.out().contains("4 skipped"), r.out());
    }

    static ImportReport.Skip[] readSkips(Path out) throws IOException {
        var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.resolve(ManifestWriter.REPORT_FILE).toFile());
        assertEquals(node.get("skips").size(), node.get("skipped").asInt());
        ImportReport.Skip[] s = new ImportReport.Skip[node.get("skips").size()];
        for (int i = 0; i < s.length; i++) s[i] = new ImportReport.Skip(node.get("skips").get(i).get("item").asText(),
                node.get("skips").get(i).get("reason").asText());
        return s;
    }

    @Test
    void folderWithoutCaptionsSaysWhichLayoutsItAccepts() throws IOException {
        Path src = dir.resolve("src");
        png(src.resolve("a.png"), 1);
        Cli.Run r = Cli.run("data", "prepare", "folder:" + src, "--out", dir.resolve("out").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("NAME.txt") && r.err().contains("captions.jsonl"), r.err());
    }

    @Test
    void karpathySplitFile() throws IOException {
        Path images = dir.resolve("coco");
        png(images.resolve("val2014/COCO_val2014_1.jpg"), 1); // a PNG named .jpg decodes all the same
        png(images.resolve("train2014/COCO_train2014_2.jpg"), 2);
        png(images.resolve("COCO_val2014_3.jpg"), 3);          // found without its filepath
        Path json = dir.resolve("dataset_coco.json");
        Files.writeString(json, """
                {"images": [
                  {"filepath": "val2014", "filename": "COCO_val2014_1.jpg", "split": "test", "imgid": 0,
                   "sentences": [{"raw": "A man riding a bike.", "tokens": ["a", "man"]}, {"raw": "Someone on a bicycle."}]},
                  {"filepath": "train2014", "filename": "COCO_train2014_2.jpg", "split": "restval",
                   "sentences": [{"tokens": ["two", "dogs"]}]},
                  {"filepath": "val2014", "filename": "COCO_val2014_3.jpg", "split": "val", "sentences": [{"raw": "A cat."}]},
                  {"filepath": "val2014", "filename": "COCO_val2014_4.jpg", "split": "val", "sentences": [{"raw": "Gone."}]}
                ], "dataset": "coco"}
                """);
        Path out = dir.resolve("out");
        Cli.Run r = Cli.run("data", "prepare", "karpathy:" + json, "--images", images.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        Manifest m = Manifest.read(out);
        assertEquals(List.of(
                new ManifestEntry("COCO_val2014_1", "images/val2014/COCO_val2014_1.jpg", List.of("A man riding a bike.", "Someone on a bicycle."), Splits.TEST),
                new ManifestEntry("COCO_train2014_2", "images/train2014/COCO_train2014_2.jpg", List.of("two dogs"), Splits.TRAIN),
                new ManifestEntry("COCO_val2014_3", "images/val2014/COCO_val2014_3.jpg", List.of("A cat."), Splits.VAL)), m.entries());
        ImportReport.Skip[] skips = readSkips(out);
        assertEquals(1, skips.length);
        assertTrue(skips[0].reason().contains("missing image"), skips[0].toString());
        RgbImage back = new ImageLoader().read(m.imagePath(m.entry(0)));
        assertArrayEquals(ManifestTest.picture(1).data(), back.data());

        Cli.Run noImages = Cli.run("data", "prepare", "karpathy:" + json, "--out", dir.resolve("o2").toString());
        assertEquals(2, noImages.code());
        assertTrue(noImages.err().contains("--images"), noImages.err());
        Files.writeString(dir.resolve("bad.json"), "{\"images\": [ {\"filename\": ");
        Cli.Run bad = Cli.run("data", "prepare", "karpathy:" + dir.resolve("bad.json"), "--images", images.toString(),
                "--out", dir.resolve("o3").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("invalid JSON"), bad.err());
        assertTrue(!Files.exists(dir.resolve("o3/manifest.jsonl")));
    }
}

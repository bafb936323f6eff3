package dev.xbt.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TextCorpusTest {
    @TempDir
    Path dir;

    @Test
    void captionsAreDeduplicatedInAStableOrderWithExtraText() throws IOException {
        Files.writeString(dir.resolve("manifest.jsonl"), """
                {"id": "1", "image": "1.png", "captions": ["b caption", "a  caption"], "split": "train"}
                {"id": "2", "image": "2.png", "captions": ["a caption", "c caption"], "split": "val"}
                {"id": "3", "image": "3.png", "captions": ["d caption"], "split": "train"}
                """);
        Manifest m = Manifest.read(dir);
        assertEquals(List.of("b caption", "a caption", "c caption", "d caption"), TextCorpus.of(m).texts());
        assertEquals(List.of("b caption", "a caption", "d caption"), TextCorpus.of(m, Splits.TRAIN).texts());
        TextSource extra = new TextSource() {
            @Override
            public String name() {
                return "extra";
            }

            @Override
            public String description() {
                return "test";
            }

            @Override
            public List<String> texts() {
                return List.of("z gloss", "b caption", " ", "y gloss");
            }
        };
        assertEquals(List.of("c caption", "z gloss", "b caption", "y gloss"),
                TextCorpus.builder().add(m, Splits.VAL).add(extra).build().texts().subList(1, 5));
    }
}

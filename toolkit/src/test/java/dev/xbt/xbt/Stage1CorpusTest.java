package dev.xbt.xbt;

import dev.xbt.data.Splits;
import dev.xbt.data.TextCorpus;
import dev.xbt.data.sources.WordNetSource;
import dev.xbt.train.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The text of stage 1: the training captions, then {@code stage1.extra_text}. */
class Stage1CorpusTest {
    @TempDir
    Path dir;

    private TrainConfig config(String... overrides) throws IOException {
        Files.writeString(dir.resolve("manifest.jsonl"), """
                {"id": "1", "image": "1.png", "captions": ["a red cat", "a  blue dog"], "split": "train"}
                {"id": "2", "image": "2.png", "captions": ["a green tree"], "split": "val"}
                {"id": "3", "image": "3.png", "captions": ["cat: feline mammal", "a red cat"], "split": "train"}
                """);
        List<String> o = new ArrayList<>(List.of("data.dir=" + dir, "stage1.batch_size=2"));
        o.addAll(List.of(overrides));
        return TrainConfig.load(XbtConfig.schema(), null, o);
    }

    private static final List<String> CAPTIONS = List.of("a red cat", "a blue dog", "cat: feline mammal");

    @Test
    void withoutExtraTextTheCorpusIsTheTrainingCaptions() throws IOException {
        TrainConfig c = config();
        XbtConfig.validate(c);
        assertEquals(CAPTIONS, ProjectionPretraining.captions(c));
        assertEquals(CAPTIONS, ProjectionPretraining.corpus(c));
    }

    @Test
    void wordNetGlossesFollowTheCaptionsWhichKeepTheirRows() throws IOException {
        assumeTrue(Files.isRegularFile(Path.of("/usr/share/wordnet/data.noun")), "wordnet-base is not installed");
        TrainConfig c = config("stage1.extra_text=wordnet", "stage1.extra_text_limit=40");
        XbtConfig.validate(c);
        List<String> corpus = ProjectionPretraining.corpus(c);
        // Worked out independently: the captions, then 40 glosses spread evenly, repeats dropped.
        LinkedHashSet<String> expected = new LinkedHashSet<>(CAPTIONS);
        List<String> glosses = new WordNetSource().texts();
        for (int i = 0; i < 40; i++) expected.add(glosses.get((int) ((long) i * glosses.size() / 40)));
        assertEquals(new ArrayList<>(expected), corpus);
        assertTrue(corpus.size() > CAPTIONS.size() + 30, "the corpus gains the glosses: " + corpus.size());
        assertEquals(CAPTIONS, corpus.subList(0, CAPTIONS.size()));
        assertEquals(CAPTIONS, ProjectionPretraining.captions(c), "stage 2's captions are unchanged");
        // No limit: every gloss (nouns and adjectives run to tens of thousands).
        TrainConfig all = config("stage1.extra_text=wordnet");
        assertEquals(CAPTIONS.size() + TextCorpus.builder().addAll(glosses).build().size()
                - (int) CAPTIONS.stream().filter(glosses::contains).count(), ProjectionPretraining.corpus(all).size());
    }

    @Test
    void anUnknownSourceIsAnErrorNamingTheField() throws IOException {
        TrainConfig c = config("stage1.extra_text=wordnet, nosuchtext");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> XbtConfig.validate(c));
        assertTrue(e.getMessage().contains("stage1.extra_text") && e.getMessage().contains("nosuchtext")
                && e.getMessage().contains("wordnet"), e.getMessage());
        IllegalArgumentException limit = assertThrows(IllegalArgumentException.class,
                () -> XbtConfig.validate(config("stage1.extra_text_limit=-1")));
        assertTrue(limit.getMessage().contains("stage1.extra_text_limit"), limit.getMessage());
        assertEquals(Splits.TRAIN, c.getString("data.split"));
    }
}

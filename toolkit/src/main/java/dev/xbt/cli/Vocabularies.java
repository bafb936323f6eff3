package dev.xbt.cli;

import dev.xbt.text.ClipTokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Finds and loads the tokenizer vocabulary a command was given, or the default one. */
final class Vocabularies {
    private Vocabularies() {}

    static final String HELP = "Vocabulary: a CLIP merges file (bpe_simple_vocab_16e6.txt.gz or a merges .txt), "
            + "or a Hugging Face vocab.json with merges.txt beside it. Default: $XBT_CLIP_VOCAB, else "
            + "OpenAI's merges in ../shared/clip/ beside the repository when present.";

    /** The tokenizer for {@code vocab}, or for the default vocabulary when vocab is null. */
    static ClipTokenizer load(Path vocab) {
        Path file = vocab != null ? vocab : defaultVocabulary();
        if (!Files.exists(file)) throw new IllegalArgumentException("vocabulary " + file + " does not exist");
        if (file.getFileName().toString().endsWith(".json")) {
            Path merges = file.resolveSibling("merges.txt");
            if (!Files.exists(merges)) throw new IllegalArgumentException(file + " is a vocab.json but " + merges + " is missing");
            return ClipTokenizer.fromHuggingFace(file, merges);
        }
        return ClipTokenizer.fromMergesGz(file);
    }

    private static Path defaultVocabulary() {
        List<Path> tried = new ArrayList<>();
        String env = System.getenv("XBT_CLIP_VOCAB");
        if (env != null && !env.isBlank()) return Path.of(env);
        String home = System.getenv("XBT_HOME");
        for (Path base : home == null ? List.of(Path.of(".")) : List.of(Path.of(home), Path.of("."))) {
            Path p = base.resolve("../shared/clip/bpe_simple_vocab_16e6.txt.gz").normalize();
            if (Files.exists(p)) return p;
            tried.add(p);
        }
        throw new IllegalArgumentException("no vocabulary given and none found (tried $XBT_CLIP_VOCAB, "
                + tried.stream().map(Path::toString).toList() + "): pass --vocab FILE");
    }
}

package dev.xbt.cli;

import dev.xbt.text.ClipTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** {@code xbt tokenize}: CLIP token ids of each text, one JSON array a line. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Print each text's CLIP token ids as a JSON array, one line per text: start token, "
                + "content, end token; with --context, padded with 0 or truncated keeping the end token.",
                Vocabularies.HELP})
final class TokenizeCommand implements Runnable {
    @Option(names = "--vocab", paramLabel = "FILE", description = "Merges file or vocab.json (see above).")
    Path vocab;

    @Option(names = "--context", paramLabel = "N", description = "Pad or truncate every row to N tokens (CLIP uses 77).")
    Integer context;

    @Parameters(arity = "1..*", paramLabel = "TEXT", description = "Texts to tokenize.")
    List<String> texts;

    @Override
    public void run() {
        ClipTokenizer tok = Vocabularies.load(vocab);
        for (String t : texts) {
            int[] ids;
            if (context != null) {
                if (context < 2) throw new IllegalArgumentException("--context must be at least 2, got " + context);
                ids = tok.tokenize(t, context);
            } else {
                int[] content = tok.encode(t);
                ids = new int[content.length + 2];
                ids[0] = tok.startId();
                System.arraycopy(content, 0, ids, 1, content.length);
                ids[ids.length - 1] = tok.endId();
            }
            System.out.println(Arrays.toString(ids).replace(" ", ""));
        }
    }
}

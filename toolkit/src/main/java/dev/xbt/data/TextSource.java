package dev.xbt.data;

import java.io.IOException;
import java.util.List;

/**
 * Extra text for a {@link TextCorpus}, beyond a data set's captions: dictionary glosses (WordNet), phrase lists.
 * Listed in {@link DataSources#textSources()} and chosen by name.
 */
public interface TextSource {
    /** The name on the command line ({@code "wordnet"}). */
    String name();

    /** One line for the help. */
    String description();

    /** The texts, in a fixed order (the corpus removes repeats and blanks). */
    List<String> texts() throws IOException;
}

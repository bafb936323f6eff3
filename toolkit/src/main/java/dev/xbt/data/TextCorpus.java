package dev.xbt.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * Text for text-only training (the projection, the tokenizer): the captions of a data set, optionally of one
 * split, plus any {@link TextSource}s, with white space normalised (runs become one space, ends stripped), blanks
 * dropped and repeats removed. The order is stable: the manifest's entries in file order, each entry's captions in
 * order, then each extra source's texts in order, each text where it first appears.
 *
 * <pre>{@code
 * List<String> texts = TextCorpus.builder().add(manifest, Splits.TRAIN).add(DataSources.textSource("wordnet")).texts();
 * }</pre>
 */
public final class TextCorpus {
    private final List<String> texts;

    private TextCorpus(List<String> texts) {
        this.texts = Collections.unmodifiableList(texts);
    }

    /** All captions of all splits. */
    public static TextCorpus of(Manifest manifest) {
        return builder().add(manifest, null).build();
    }

    /** The captions of one split ({@code null}: all). */
    public static TextCorpus of(Manifest manifest, String split) {
        return builder().add(manifest, split).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The texts, deduplicated, in the stable order of the class comment. */
    public List<String> texts() {
        return texts;
    }

    public int size() {
        return texts.size();
    }

    /**
     * At most {@code limit} of {@code texts}, spread evenly over the list (every {@code size / limit}-th, from the
     * first), so a small sample still covers the whole list rather than its beginning; {@code limit < 0}: all.
     */
    public static List<String> evenly(List<String> texts, int limit) {
        if (limit < 0 || texts.size() <= limit) return texts;
        List<String> some = new ArrayList<>(limit);
        for (int i = 0; i < limit; i++) some.add(texts.get((int) ((long) i * texts.size() / limit)));
        return some;
    }

    /** Collects texts; {@link #build()} makes the corpus. */
    public static final class Builder {
        private final LinkedHashSet<String> texts = new LinkedHashSet<>();

        /** The captions of {@code manifest}'s entries of {@code split} (null: all splits), in file order. */
        public Builder add(Manifest manifest, String split) {
            Objects.requireNonNull(manifest, "manifest");
            if (split != null) Splits.check(split);
            for (ManifestEntry e : manifest.entries()) {
                if (split == null || e.split().equals(split)) addAll(e.captions());
            }
            return this;
        }

        /** The texts of {@code source}. */
        public Builder add(TextSource source) {
            return add(source, -1);
        }

        /** At most {@code limit} texts of {@code source}, spread {@link #evenly} ({@code limit < 0}: all). */
        public Builder add(TextSource source, int limit) {
            try {
                return addAll(evenly(source.texts(), limit));
            } catch (IOException e) {
                throw new UncheckedIOException(source.name() + ": " + e.getMessage(), e);
            }
        }

        public Builder addAll(Iterable<String> more) {
            for (String t : more) add(t);
            return this;
        }

        public Builder add(String text) {
            if (text == null) return this;
            String t = text.replaceAll("\\s+", " ").strip();
            if (!t.isEmpty()) texts.add(t);
            return this;
        }

        public TextCorpus build() {
            return new TextCorpus(new ArrayList<>(texts));
        }
    }
}

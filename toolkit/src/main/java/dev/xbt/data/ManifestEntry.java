package dev.xbt.data;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One image of a data set: one line of {@code manifest.jsonl}.
 *
 * @param id       unique within the manifest, non-blank
 * @param image    the image file, relative to the manifest's folder, with {@code /} between folders; never absolute
 *                 and never through {@code ..}
 * @param captions one or more non-blank captions
 * @param split    {@code train}, {@code val} or {@code test} (see {@link Splits}); never null: an entry read without
 *                 one has the split {@link Splits#assign} gives its id
 * @param meta     free-form text attributes (licence, author, source file, ...), written as the {@code "meta"} object;
 *                 empty for most data sets
 */
public record ManifestEntry(String id, String image, List<String> captions, String split, Map<String, String> meta) {
    public ManifestEntry {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(captions, "captions");
        Objects.requireNonNull(split, "split");
        if (id.isBlank()) throw new IllegalArgumentException("empty id");
        String why = Manifest.checkImagePath(image);
        if (why != null) throw new IllegalArgumentException(why);
        if (captions.isEmpty()) throw new IllegalArgumentException("no captions for " + Splits.quote(id));
        for (String c : captions) {
            if (c == null || c.isBlank()) throw new IllegalArgumentException("empty caption for " + Splits.quote(id));
        }
        Splits.check(split);
        captions = List.copyOf(captions);
        meta = meta == null || meta.isEmpty() ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(meta));
    }

    /** An entry with a split of its own and no meta. */
    public ManifestEntry(String id, String image, List<String> captions, String split) {
        this(id, image, captions, split, Map.of());
    }

    /** An entry whose split is assigned from its id ({@link Splits#assign}). */
    public static ManifestEntry of(String id, String image, List<String> captions) {
        return new ManifestEntry(id, image, captions, Splits.assign(id), Map.of());
    }

    /** An entry with {@code split}, or the assigned split when {@code split} is null. */
    public static ManifestEntry of(String id, String image, List<String> captions, String split) {
        return new ManifestEntry(id, image, captions, split == null ? Splits.assign(id) : split, Map.of());
    }

    /** This entry with other meta. */
    public ManifestEntry withMeta(Map<String, String> meta) {
        return new ManifestEntry(id, image, captions, split, meta);
    }
}

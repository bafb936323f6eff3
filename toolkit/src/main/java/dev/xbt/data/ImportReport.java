package dev.xbt.data;

import java.util.List;
import java.util.Map;

/**
 * What an import wrote, as {@code import-report.json} beside the manifest.
 *
 * @param source   the source's name ({@code "shapes"}, {@code "folder"}, ...)
 * @param images   entries written
 * @param captions captions in those entries
 * @param splits   entries per split (train, val, test)
 * @param skipped  items not imported (corrupt or missing images, items without captions, duplicate ids, ...)
 * @param skips    the skipped items with their reasons, in the order met (at most {@link #MAX_LISTED})
 * @param notes    free-form facts the source recorded (seed, licence, package version, ...)
 */
public record ImportReport(String source, int images, int captions, Map<String, Integer> splits, int skipped,
                           List<Skip> skips, Map<String, String> notes) {
    /** The most skipped items listed one by one; {@link #skipped()} counts them all. */
    public static final int MAX_LISTED = 10_000;

    /** One item not imported, and why. */
    public record Skip(String item, String reason) {}

    public ImportReport {
        splits = Map.copyOf(splits);
        skips = List.copyOf(skips);
        notes = Map.copyOf(notes);
    }
}

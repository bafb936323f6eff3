package dev.xbt.data;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The options of one {@code xbt data prepare} run, as a {@link DataSource} sees them. Build them from
 * {@link #defaults()} with the {@code with...} methods, so that adding an option later breaks no caller.
 *
 * @param argument what followed {@code SOURCE:} on the command line ({@code "photos"} of {@code folder:photos}),
 *                 or null
 * @param images   {@code --images DIR}: where the source's image files are (Karpathy splits), or null
 * @param count    {@code --count N}: how many images to make or import, or -1 for the source's default (all of
 *                 them for imports; {@link ShapesGenerator#DEFAULT_COUNT} for shapes)
 * @param seed     {@code --seed S}: for sources that generate or sample
 * @param threads  worker threads, at least 1
 * @param verify   decode every image while importing, skipping the ones that do not decode (default true)
 * @param link     hard-link image files instead of copying them where the file system allows (default false)
 * @param progress where to report progress and log lines
 */
public record PrepareOptions(String argument, Path images, int count, long seed, int threads, boolean verify,
                             boolean link, Progress progress) {
    public PrepareOptions {
        if (count < -1) throw new IllegalArgumentException("count must be positive (or -1 for the default), got " + count);
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        Objects.requireNonNull(progress, "progress");
    }

    /** No argument, no images folder, default count, seed 0, all cores, verify on, copy, no progress. */
    public static PrepareOptions defaults() {
        return new PrepareOptions(null, null, -1, 0, Math.max(1, Runtime.getRuntime().availableProcessors()), true,
                false, Progress.NONE);
    }

    public PrepareOptions withArgument(String argument) {
        return new PrepareOptions(argument, images, count, seed, threads, verify, link, progress);
    }

    public PrepareOptions withImages(Path images) {
        return new PrepareOptions(argument, images, count, seed, threads, verify, link, progress);
    }

    public PrepareOptions withCount(int count) {
        return new PrepareOptions(argument, images, count, seed, threads, verify, link, progress);
    }

    public PrepareOptions withSeed(long seed) {
        return new PrepareOptions(argument, images, count, seed, threads, verify, link, progress);
    }

    public PrepareOptions withThreads(int threads) {
        return new PrepareOptions(argument, images, count, seed, threads, verify, link, progress);
    }

    public PrepareOptions withVerify(boolean verify) {
        return new PrepareOptions(argument, images, count, seed, threads, verify, link, progress);
    }

    public PrepareOptions withLink(boolean link) {
        return new PrepareOptions(argument, images, count, seed, threads, verify, link, progress);
    }

    public PrepareOptions withProgress(Progress progress) {
        return new PrepareOptions(argument, images, count, seed, threads, verify, link, progress);
    }

    /** {@link #count()}, or {@code fallback} when it is -1. */
    public int countOr(int fallback) {
        return count < 0 ? fallback : count;
    }

    /** The argument, or a {@link DataSourceException} showing {@code usage} when there is none. */
    public String requireArgument(String usage) {
        if (argument == null || argument.isBlank()) throw new DataSourceException("missing argument: use " + usage);
        return argument;
    }
}

package dev.xbt.data;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The one list of {@link DataSource}s ({@code xbt data prepare NAME[:ARGUMENT]}) and {@link TextSource}s. To add a
 * source, put an instance in {@link #SOURCES} (or {@link #TEXT_SOURCES}).
 */
public final class DataSources {
    private static final List<DataSource> SOURCES = List.of(
            // built in
            new ShapesSource(),
            new FolderSource(),
            new KarpathySource(),
            // from Debian packages (dev.xbt.data.sources)
            new dev.xbt.data.sources.OpenClipartSource(),
            new dev.xbt.data.sources.TuxPaintSource(),
            new dev.xbt.data.sources.FashionMnistSource()
    );

    private static final List<TextSource> TEXT_SOURCES = List.of(
            new dev.xbt.data.sources.WordNetSource(),
            new dev.xbt.data.sources.WordNetSource().lemmas()
    );

    private DataSources() {}

    /** Every source, in a fixed order. */
    public static List<DataSource> all() {
        return SOURCES;
    }

    /** Every extra-text source, in a fixed order. */
    public static List<TextSource> textSources() {
        return TEXT_SOURCES;
    }

    /** The source called {@code name}, or a {@link DataSourceException} listing the sources. */
    public static DataSource get(String name) {
        for (DataSource s : SOURCES) if (s.name().equals(name)) return s;
        throw new DataSourceException("unknown data source " + Splits.quote(name) + "; the sources are: "
                + SOURCES.stream().map(DataSource::usage).collect(Collectors.joining(", ")));
    }

    /** The text source called {@code name}, or a {@link DataSourceException} listing them. */
    public static TextSource textSource(String name) {
        for (TextSource s : TEXT_SOURCES) if (s.name().equals(name)) return s;
        throw new DataSourceException("unknown text source " + Splits.quote(name) + "; the text sources are: "
                + TEXT_SOURCES.stream().map(TextSource::name).collect(Collectors.joining(", ")));
    }

    /** A command line's {@code NAME[:ARGUMENT]}. */
    public record Spec(String name, String argument) {
        /** Splits at the first {@code :}; the name is lower-cased, the argument kept as it is (null when absent). */
        public static Spec parse(String spec) {
            if (spec == null || spec.isBlank()) throw new DataSourceException("missing data source name");
            int colon = spec.indexOf(':');
            String name = (colon < 0 ? spec : spec.substring(0, colon)).strip().toLowerCase(Locale.ROOT);
            String arg = colon < 0 ? null : spec.substring(colon + 1);
            return new Spec(name, arg);
        }
    }
}

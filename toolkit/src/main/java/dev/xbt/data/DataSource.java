package dev.xbt.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * An importer: turns some source of images and captions into a data set by calling a {@link ManifestWriter}'s
 * {@code add...} methods. Sources are listed in {@link DataSources} and chosen by name on the command line:
 * {@code xbt data prepare NAME[:ARGUMENT] --out DIR}.
 *
 * <p>A source does not finish or close the writer (the caller publishes the manifest when {@link #prepare}
 * returns, and discards it when it throws). Items that cannot be imported are {@link ManifestWriter#skip skipped}
 * with a reason; problems that stop the whole import (a missing package or input file) are thrown as
 * {@link DataSourceException}s with one-line messages that say what to do; {@link DebianPackages#require} makes
 * the message for a missing Debian package. Honour {@link PrepareOptions#count()} (-1: everything), report
 * progress through {@link PrepareOptions#progress()}, and keep the order of entries independent of thread
 * scheduling so an import is reproducible.
 */
public interface DataSource {
    /** The name on the command line ({@code "shapes"}, {@code "folder"}, {@code "openclipart"}). */
    String name();

    /** One line for {@code xbt data sources} and the help. */
    String description();

    /** How it is written on the command line ({@code "folder:DIR"}); the name by default. */
    default String usage() {
        return name();
    }

    /**
     * The files or folders this source reads for {@code opts} (none by default). The command line refuses an
     * output folder inside one of them, or one of them inside the output folder, before anything is written.
     */
    default List<Path> inputs(PrepareOptions opts) {
        return List.of();
    }

    /** Adds this source's images to {@code out}. */
    void prepare(ManifestWriter out, PrepareOptions opts) throws IOException;
}

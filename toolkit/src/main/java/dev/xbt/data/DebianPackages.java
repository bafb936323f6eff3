package dev.xbt.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

/** Checks for the Debian packages that some {@link DataSource}s read their files from. */
public final class DebianPackages {
    private DebianPackages() {}

    /**
     * The first of {@code paths} that exists; when none does, a {@link DataSourceException} that names the package
     * and the exact command to install it:
     * {@code "openclipart: needs the Debian package openclipart-png (no /usr/share/openclipart/png); install it
     * with: sudo apt-get install openclipart-png"}.
     */
    public static Path require(String source, String debianPackage, Path... paths) {
        for (Path p : paths) if (Files.exists(p)) return p;
        String where = Arrays.stream(paths).map(Path::toString).collect(Collectors.joining(", "));
        throw new DataSourceException(missingMessage(source, debianPackage, where));
    }

    /** The message of {@link #require} for a package whose files ({@code where}) are missing. */
    public static String missingMessage(String source, String debianPackage, String where) {
        return source + ": needs the Debian package " + debianPackage + (where.isEmpty() ? "" : " (no " + where + ")")
                + "; install it with: " + installCommand(debianPackage);
    }

    /** {@code "sudo apt-get install PACKAGE"}. */
    public static String installCommand(String debianPackage) {
        return "sudo apt-get install " + debianPackage;
    }
}

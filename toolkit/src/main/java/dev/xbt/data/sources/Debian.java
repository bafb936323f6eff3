package dev.xbt.data.sources;

import dev.xbt.data.DataSourceException;
import dev.xbt.data.DebianPackages;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Checks for the Debian packages a source reads, all at once, and finds their versions. */
final class Debian {
    private Debian() {}

    /** A package and a path it installs (under the source's root). */
    record Need(String debianPackage, Path path) {}

    /**
     * Does nothing when every {@code needs} path exists; otherwise throws a {@link DataSourceException} naming the
     * missing packages and the one command that installs them all: {@code "openclipart: needs the Debian packages
     * openclipart-png, openclipart-svg (no /usr/share/openclipart/png, /usr/share/openclipart/svg); install them
     * with: sudo apt-get install openclipart-png openclipart-svg"}. One missing package gives
     * {@link DebianPackages#missingMessage}'s sentence.
     */
    static void require(String source, Need... needs) {
        List<String> packages = new ArrayList<>();
        List<String> paths = new ArrayList<>();
        for (Need n : needs) {
            if (Files.exists(n.path())) continue;
            if (!packages.contains(n.debianPackage())) packages.add(n.debianPackage());
            paths.add(n.path().toString());
        }
        if (packages.isEmpty()) return;
        if (packages.size() == 1) {
            throw new DataSourceException(DebianPackages.missingMessage(source, packages.getFirst(), String.join(", ", paths)));
        }
        throw new DataSourceException(source + ": needs the Debian packages " + String.join(", ", packages) + " (no "
                + String.join(", ", paths) + "); install them with: "
                + DebianPackages.installCommand(String.join(" ", packages)));
    }

    /** {@code "PACKAGE VERSION"} from {@code root/var/lib/dpkg/status}, or just the package when it is not known. */
    static String describe(Path root, String debianPackage) {
        String v = version(root, debianPackage);
        return v == null ? debianPackage : debianPackage + " " + v;
    }

    /** The installed version of {@code debianPackage} per dpkg's status file under {@code root}, or null. */
    static String version(Path root, String debianPackage) {
        Path status = root.resolve("var/lib/dpkg/status");
        if (!Files.isRegularFile(status)) return null;
        try (BufferedReader r = Files.newBufferedReader(status, StandardCharsets.UTF_8)) {
            boolean mine = false;
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isEmpty()) {
                    mine = false;
                } else if (line.startsWith("Package: ")) {
                    mine = line.substring(9).strip().equals(debianPackage);
                } else if (mine && line.startsWith("Version: ")) {
                    return line.substring(9).strip();
                }
            }
        } catch (IOException | RuntimeException e) {
            return null; // only for the report
        }
        return null;
    }
}

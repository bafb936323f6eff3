package dev.xbt.data;

/**
 * A data source that cannot be imported: a missing Debian package, a missing or malformed input file, a bad
 * argument. The message is one line and says what to do where it can ({@code "... install it with: sudo apt-get
 * install openclipart-png"}).
 */
public class DataSourceException extends RuntimeException {
    public DataSourceException(String message) {
        super(ManifestException.oneLine(message));
    }

    public DataSourceException(String message, Throwable cause) {
        super(ManifestException.oneLine(message), cause);
    }
}

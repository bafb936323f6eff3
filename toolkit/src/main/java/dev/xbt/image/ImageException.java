package dev.xbt.image;

/**
 * An image that cannot be used: a missing, empty, unreadable, truncated or corrupt file, a file that is not a
 * supported image, or one too large to decode safely. The message is always one line that names the file and
 * the problem ({@code "photos/cat.png: truncated PNG (the file ends early)"}); the decoder's own exception, when
 * there is one, is kept as the cause for {@code --debug}.
 */
public class ImageException extends RuntimeException {
    public ImageException(String message) {
        super(oneLine(message));
    }

    public ImageException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /** {@code "<source>: <problem>"}. */
    static ImageException of(String source, String problem) {
        return new ImageException(source + ": " + problem);
    }

    static ImageException of(String source, String problem, Throwable cause) {
        return new ImageException(source + ": " + problem, cause);
    }

    /** Collapses line breaks and runs of white space, so that a decoder's message cannot break the line. */
    static String oneLine(String s) {
        if (s == null) return "image error";
        return s.replaceAll("\\s+", " ").strip();
    }
}

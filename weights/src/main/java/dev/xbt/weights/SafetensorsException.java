package dev.xbt.weights;

/**
 * Every problem reading or writing a safetensors file: a malformed or foreign file, a missing tensor, a dtype
 * that cannot be decoded, an I/O failure. The message is one line and starts with the file's path.
 */
public class SafetensorsException extends RuntimeException {
    public SafetensorsException(String message) {
        super(message);
    }

    public SafetensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}

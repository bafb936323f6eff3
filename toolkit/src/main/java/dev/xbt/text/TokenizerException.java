package dev.xbt.text;

/** A tokenizer file that is missing, truncated or malformed, or an id outside the vocabulary. */
public final class TokenizerException extends RuntimeException {
    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}

package dev.xbt.engine.backend;

/**
 * A range of float32 elements in one backend's memory. Slices share storage with their parent;
 * closing releases the storage once nothing else holds it (a no-op for heap memory).
 */
public interface Buffer extends AutoCloseable {
    /** Elements in this range. */
    long length();

    /** A view of [offset, offset + length) of this range; no copy. */
    Buffer slice(long offset, long length);

    Backend backend();

    @Override
    default void close() {}
}

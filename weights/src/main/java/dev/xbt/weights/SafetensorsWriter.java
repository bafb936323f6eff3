package dev.xbt.weights;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes safetensors files atomically: the bytes go to a hidden temporary file in the target's directory, which is
 * fsynced and then renamed over the target ({@code ATOMIC_MOVE}, {@code REPLACE_EXISTING}). On any failure the
 * temporary file is deleted and an existing target is left as it was.
 *
 * <p>Layout: tensors in the map's iteration order, packed one after the other from data offset 0; the header is
 * compact JSON ({@code __metadata__} first when there is any metadata, then the tensors in order, each with
 * dtype, shape, data_offsets), padded with spaces so the data section starts at a multiple of 8. Values are
 * stored as F32, or rounded to F16 or BF16 (round to nearest even; NaN stays NaN).
 *
 * <p>Input mistakes (reserved or null names, null metadata, an unsupported storage dtype) are
 * {@link IllegalArgumentException}s raised before anything is written; I/O failures are
 * {@link SafetensorsException}s naming the target.
 */
public final class SafetensorsWriter {
    private static final JsonFactory JSON = JsonFactory.builder().build();
    private static final int BUFFER_BYTES = 1 << 20;

    private SafetensorsWriter() {}

    /** Test seam: called after each tensor's bytes have been handed to the channel. */
    interface Observer {
        void afterTensor(String name) throws IOException;
    }

    /** Writes the tensors as F32. {@code metadata} may be null or empty (then no {@code __metadata__} entry). */
    public static void write(Path target, Map<String, TensorData> tensors, Map<String, String> metadata) {
        write(target, tensors, metadata, Dtype.F32);
    }

    /** Writes the tensors stored as {@code storage}: F32, F16 or BF16. */
    public static void write(Path target, Map<String, TensorData> tensors, Map<String, String> metadata, Dtype storage) {
        write(target, tensors, metadata, storage, name -> {});
    }

    static void write(Path target, Map<String, TensorData> tensors, Map<String, String> metadata, Dtype storage,
                      Observer observer) {
        if (target == null || tensors == null || storage == null)
            throw new IllegalArgumentException("SafetensorsWriter: target, tensors and storage must be non-null");
        if (storage != Dtype.F32 && storage != Dtype.F16 && storage != Dtype.BF16)
            throw new IllegalArgumentException("SafetensorsWriter: storage dtype must be F32, F16 or BF16, not " + storage);
        byte[] header = header(tensors, metadata == null ? Map.of() : metadata, storage);

        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        if (dir == null || absolute.getFileName() == null)
            throw new IllegalArgumentException("SafetensorsWriter: target " + target + " is not a file path");
        if (!Files.isDirectory(dir))
            throw new SafetensorsException(target + ": cannot write: directory " + dir + " does not exist");
        Path tmp = dir.resolve("." + absolute.getFileName() + "."
                + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()) + ".tmp");
        boolean created = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                created = true;
                ByteBuffer buf = ByteBuffer.allocate(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
                buf.putLong(header.length);
                for (int i = 0; i < header.length; ) {
                    int m = Math.min(buf.remaining(), header.length - i);
                    buf.put(header, i, m);
                    i += m;
                    if (!buf.hasRemaining()) drain(ch, buf);
                }
                int width = storage.bits() / 8;
                for (Map.Entry<String, TensorData> e : tensors.entrySet()) {
                    for (float v : e.getValue().data()) {
                        if (buf.remaining() < width) drain(ch, buf);
                        switch (storage) {
                            case F32 -> buf.putFloat(v);
                            case F16 -> buf.putShort(Float.floatToFloat16(v));
                            default -> buf.putShort(toBf16(v));
                        }
                    }
                    drain(ch, buf);
                    observer.afterTensor(e.getKey());
                }
                drain(ch, buf);
                ch.force(true);
            }
            Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException | Error e) {
            try {
                if (created) Files.deleteIfExists(tmp);
            } catch (IOException | RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            if (e instanceof Error err) throw err;
            String why = e instanceof NoSuchFileException ? "no such file " + e.getMessage() : String.valueOf(e);
            throw new SafetensorsException(target + ": cannot write: " + why.replaceAll("\\s+", " "), e);
        }
        // Make the rename itself durable; not every platform lets a directory be opened, so this is best effort.
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | RuntimeException ignored) {
            // The data itself is already on disk.
        }
    }

    /** float32 → bfloat16 bits, rounding to nearest even; NaNs become a quiet NaN with the same sign. */
    static short toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) return (short) ((bits >>> 16) | 0x0040);
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    private static void drain(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) ch.write(buf);
        buf.clear();
    }

    /** The header JSON padded with spaces to a multiple of 8 bytes; validates names and metadata on the way. */
    private static byte[] header(Map<String, TensorData> tensors, Map<String, String> metadata, Dtype storage) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            if (!metadata.isEmpty()) {
                g.writeObjectFieldStart("__metadata__");
                for (Map.Entry<String, String> e : metadata.entrySet()) {
                    if (e.getKey() == null || e.getValue() == null)
                        throw new IllegalArgumentException("SafetensorsWriter: metadata keys and values must be non-null");
                    g.writeStringField(e.getKey(), e.getValue());
                }
                g.writeEndObject();
            }
            long offset = 0;
            long width = storage.bits() / 8;
            for (Map.Entry<String, TensorData> e : tensors.entrySet()) {
                String name = e.getKey();
                TensorData t = e.getValue();
                if (name == null || t == null)
                    throw new IllegalArgumentException("SafetensorsWriter: tensor names and data must be non-null");
                if (name.equals("__metadata__"))
                    throw new IllegalArgumentException("SafetensorsWriter: '__metadata__' is reserved, not a tensor name");
                g.writeObjectFieldStart(name);
                g.writeStringField("dtype", storage.name());
                g.writeArrayFieldStart("shape");
                for (int d : t.shape()) g.writeNumber(d);
                g.writeEndArray();
                long end = offset + width * t.data().length;
                g.writeArrayFieldStart("data_offsets");
                g.writeNumber(offset);
                g.writeNumber(end);
                g.writeEndArray();
                g.writeEndObject();
                offset = end;
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException("JSON generation into memory failed", e);
        }
        while (out.size() % 8 != 0) out.write(' ');
        return out.toByteArray();
    }
}

package dev.xbt.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static dev.xbt.weights.StBytes.entry;
import static dev.xbt.weights.StBytes.f32;
import static dev.xbt.weights.StBytes.le64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A file past 2 GiB (sparse on disk, so it costs no space): offsets beyond 2^31 must work, and a tensor of more
 * than 2^31 − 1 elements is refused by readFloats with a clear message.
 */
class SafetensorsLargeFileTest {
    @TempDir
    Path dir;

    @Test
    void offsetsBeyondTwoGibibytesAndOversizedTensors() throws IOException {
        long big = 1L << 31; // U8 elements = bytes
        String json = "{" + entry("big", "U8", "[" + big + "]", 0, big) + ","
                + entry("tail", "F32", "[3]", big, big + 12) + "}";
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        Path p = dir.resolve("large.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.write(le64(header.length));
            raf.write(header);
            long dataStart = 8 + header.length;
            raf.setLength(dataStart + big + 12);
            raf.seek(dataStart + big);
            raf.write(f32(1.5f, -2.25f, 1e30f));
        }
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(big + 12, f.dataBytes());
            assertArrayEquals(new float[] {1.5f, -2.25f, 1e30f}, f.readFloats("tail"));
            assertEquals(big, f.segment("big").byteSize());
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> f.readFloats("big"));
            assertTrue(e.getMessage().contains("'big' has 2147483648 elements, more than a Java float[] can hold"),
                    e.getMessage());
            assertThrows(SafetensorsException.class, () -> f.info("big").intShape());
        }
    }
}

package dev.xbt.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** A failed write leaves the previous file byte-for-byte intact and no temporary file behind. */
class SafetensorsWriterFailureTest {
    @TempDir
    Path dir;

    private static Map<String, TensorData> twoTensors() {
        Map<String, TensorData> m = new LinkedHashMap<>();
        m.put("first", TensorData.of(new float[4096], 64, 64));
        m.put("second", TensorData.of(new float[] {1, 2, 3}, 3));
        return m;
    }

    private List<Path> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void exceptionMidWriteKeepsTheOldFileAndRemovesTheTemporary() throws IOException {
        Path target = dir.resolve("model.safetensors");
        SafetensorsWriter.write(target, Map.of("old", TensorData.of(new float[] {9, 8}, 2)), Map.of("v", "1"));
        byte[] before = Files.readAllBytes(target);

        IOException boom = new IOException("simulated disk failure");
        SafetensorsException e = assertThrows(SafetensorsException.class,
                () -> SafetensorsWriter.write(target, twoTensors(), null, Dtype.F32, name -> {
                    if (name.equals("first")) throw boom;
                }));
        assertSame(boom, e.getCause());
        assertTrue(e.getMessage().startsWith(target + ": cannot write: "), e.getMessage());
        assertTrue(e.getMessage().contains("simulated disk failure"), e.getMessage());

        assertArrayEquals(before, Files.readAllBytes(target));
        assertEquals(List.of(target), listing(), "no temporary file left behind");
        try (SafetensorsFile f = SafetensorsFile.open(target)) {
            assertArrayEquals(new float[] {9, 8}, f.readFloats("old"));
        }
    }

    @Test
    void runtimeExceptionMidWriteAlsoCleansUp() throws IOException {
        Path target = dir.resolve("fresh.safetensors");
        assertThrows(SafetensorsException.class,
                () -> SafetensorsWriter.write(target, twoTensors(), null, Dtype.BF16, name -> {
                    throw new IllegalStateException("interrupted");
                }));
        assertFalse(Files.exists(target), "no target appears when there was none");
        assertEquals(List.of(), listing());
    }

    @Test
    void failedRenameLeavesNoTemporary() throws IOException {
        // The target is a non-empty directory: the final move cannot replace it.
        Path target = dir.resolve("occupied.safetensors");
        Files.createDirectory(target);
        Files.writeString(target.resolve("keep.txt"), "keep");
        SafetensorsException e = assertThrows(SafetensorsException.class,
                () -> SafetensorsWriter.write(target, twoTensors(), null));
        assertTrue(e.getMessage().startsWith(target + ": cannot write: "), e.getMessage());
        assertEquals(List.of(target), listing());
        assertEquals("keep", Files.readString(target.resolve("keep.txt")));
    }

    @Test
    void missingDirectoryIsReported() {
        Path target = dir.resolve("no/such/dir/model.safetensors");
        SafetensorsException e = assertThrows(SafetensorsException.class,
                () -> SafetensorsWriter.write(target, twoTensors(), null));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void readOnlyDirectoryKeepsTheOldFile() throws IOException {
        Path ro = Files.createDirectory(dir.resolve("ro"));
        Path target = ro.resolve("model.safetensors");
        SafetensorsWriter.write(target, Map.of("old", TensorData.scalar(1)), null);
        byte[] before = Files.readAllBytes(target);
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            assumeFalse(Files.isWritable(ro), "running as root: directory permissions are not enforced");
            SafetensorsException e = assertThrows(SafetensorsException.class,
                    () -> SafetensorsWriter.write(target, twoTensors(), null));
            assertTrue(e.getMessage().startsWith(target + ": cannot write: "), e.getMessage());
            assertArrayEquals(before, Files.readAllBytes(target));
            try (Stream<Path> s = Files.list(ro)) {
                assertEquals(List.of(target), s.toList());
            }
        } finally {
            Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }
}

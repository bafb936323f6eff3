package dev.xbt.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.xbt.weights.StBytes.ascii;
import static dev.xbt.weights.StBytes.concat;
import static dev.xbt.weights.StBytes.entry;
import static dev.xbt.weights.StBytes.f32;
import static dev.xbt.weights.StBytes.file;
import static dev.xbt.weights.StBytes.le64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Feeds malformed and foreign files to {@link SafetensorsFile#open}: each must be refused with its own one-line
 * message that names the file, carries a substring distinctive to that case, and differs from every other case's.
 */
class SafetensorsMalformedTest {
    @TempDir
    Path dir;

    private record Case(String label, byte[] bytes, String expect) {}

    private static final String W4 = entry("w", "F32", "[1]", 0, 4); // a valid one-float entry

    private static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        // ---- truncation and the length prefix
        c.add(new Case("empty file", new byte[0], "file is empty"));
        c.add(new Case("shorter than 8 bytes", new byte[] {1, 2, 3}, "file is only 3 bytes"));
        c.add(new Case("header cut off", concat(le64(100), ascii("{\"w\":{\"dtype\"")), "truncated inside the header"));
        c.add(new Case("data section cut off",
                file("{" + entry("w", "F32", "[4]", 0, 16) + "}", 8), "header describes 16 bytes of tensor data"));
        c.add(new Case("header length larger than file",
                concat(le64(200_000_000L), ascii("{\"w\":{}}")), "exceeds the 100000000-byte limit"));
        c.add(new Case("header length near 2^64", concat(le64(0xFFFF_FFFF_FFFF_FFF0L), ascii("{}")), "absurd value"));
        c.add(new Case("header length zero", le64(0), "header length is 0"));
        c.add(new Case("blank header", file("        ", 0), "only whitespace"));
        // ---- foreign files
        c.add(new Case("git lfs pointer", ascii("""
                version https://git-lfs.github.com/spec/v1
                oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393
                size 605143520
                """), "git lfs pull"));
        c.add(new Case("pytorch zip checkpoint",
                concat(ascii("PK\u0003\u0004"), new byte[] {0x14, 0, 0, 0, 8, 0}, ascii("archive/data.pkl")),
                "zip archive"));
        c.add(new Case("pytorch pickle checkpoint",
                concat(new byte[] {(byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9}),
                "Python pickle (protocol 2)"));
        c.add(new Case("html error page", ascii("<!DOCTYPE html><html><body>Not Found</body></html>"), "HTML page"));
        c.add(new Case("gguf file", concat(ascii("GGUF"), new byte[] {3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), "GGUF file"));
        // ---- header text and JSON shape
        c.add(new Case("invalid utf-8",
                file(concat(ascii("{\"w"), new byte[] {(byte) 0xC3, 0x28}, ascii("\":{}}")), new byte[0]),
                "not valid UTF-8"));
        c.add(new Case("invalid json", file("{\"w\":{\"dtype\":\"F32\",}}", 0), "not valid JSON"));
        c.add(new Case("json array instead of object", file("[1,2]", 0), "header JSON is an array, not an object"));
        c.add(new Case("json after the object", file("{}{}", 0), "more JSON after its top-level object"));
        c.add(new Case("entry not an object", file("{\"w\":[1,2]}", 0), "entry is an array"));
        c.add(new Case("entry null", file("{\"w\":null}", 0), "entry is null"));
        c.add(new Case("duplicate tensor name", file("{" + W4 + "," + W4 + "}", 4), "appears twice in the header"));
        c.add(new Case("duplicate field", file("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],"
                + "\"data_offsets\":[0,4]}}", 4), "field 'dtype' appears twice"));
        c.add(new Case("missing dtype", file("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                "missing field \"dtype\""));
        c.add(new Case("missing data_offsets", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4),
                "missing field \"data_offsets\""));
        c.add(new Case("extra field", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],"
                + "\"foo\":1}}", 4), "unexpected field 'foo'"));
        // ---- dtype
        c.add(new Case("unknown dtype", file("{" + entry("w", "F33", "[1]", 0, 4) + "}", 4), "unknown dtype 'F33'"));
        c.add(new Case("dtype not a string", file("{\"w\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                "dtype is an integer"));
        c.add(new Case("sub-byte dtype, odd count", file("{" + entry("w", "F4", "[3]", 0, 2) + "}", 2),
                "does not fill a whole number of bytes"));
        // ---- shape
        c.add(new Case("negative dim", file("{" + entry("w", "F32", "[-1,2]", 0, 8) + "}", 8),
                "shape has a negative entry -1"));
        c.add(new Case("fractional dim", file("{" + entry("w", "F32", "[2.5]", 0, 8) + "}", 8),
                "shape has a non-integer entry 2.5"));
        c.add(new Case("string dim", file("{" + entry("w", "F32", "[\"2\"]", 0, 8) + "}", 8),
                "shape has an entry that is a string"));
        c.add(new Case("shape not a list", file("{" + entry("w", "F32", "\"2x2\"", 0, 16) + "}", 16),
                "shape is a string"));
        c.add(new Case("overflowing shape product",
                file("{" + entry("w", "F32", "[4294967296,4294967296]", 0, 4) + "}", 4),
                "more elements than fit in 64 bits"));
        c.add(new Case("overflowing byte size",
                file("{" + entry("w", "F64", "[4611686018427387904]", 0, 4) + "}", 4),
                "byte size that overflows 64 bits"));
        c.add(new Case("dim beyond 64 bits",
                file("{" + entry("w", "F32", "[99999999999999999999999]", 0, 4) + "}", 4),
                "shape has an entry too large for 64 bits"));
        // ---- data_offsets
        c.add(new Case("reversed offsets", file("{" + entry("w", "F32", "[0]", 8, 4) + "}", 8), "are reversed"));
        c.add(new Case("negative offset", file("{" + entry("w", "F32", "[1]", -4, 0) + "}", 4),
                "data_offsets has a negative entry -4"));
        c.add(new Case("fractional offset", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.0]}}", 4),
                "data_offsets has a non-integer entry 4.0"));
        c.add(new Case("three offsets", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8),
                "data_offsets has 3 entries"));
        c.add(new Case("byte-size mismatch", file("{" + entry("w", "F32", "[3]", 0, 8) + "}", 8),
                "span 8 bytes but F32 [3] needs 12"));
        c.add(new Case("offsets past end", file("{" + W4 + "," + entry("b", "F32", "[1]", 100, 104) + "}", 8),
                "run past the end of the 8-byte data section"));
        c.add(new Case("overlapping ranges", file("{" + entry("a", "F32", "[2]", 0, 8) + ","
                + entry("b", "F32", "[2]", 4, 12) + "}", 12), "[0, 8) and 'b' [4, 12) overlap"));
        c.add(new Case("gap between tensors", file("{" + entry("a", "F32", "[1]", 0, 4) + ","
                + entry("b", "F32", "[1]", 8, 12) + "}", 12), "unused bytes [4, 8) between tensors"));
        c.add(new Case("trailing bytes", file("{" + W4 + "}", f32(1, 2)), "4 trailing bytes after the last tensor"));
        // ---- __metadata__
        c.add(new Case("metadata not an object", file("{\"__metadata__\":[\"a\"]," + W4 + "}", 4),
                "__metadata__ is an array"));
        c.add(new Case("non-string metadata value", file("{\"__metadata__\":{\"epoch\":3}," + W4 + "}", 4),
                "value for key 'epoch' is an integer"));
        c.add(new Case("duplicate metadata key", file("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}," + W4 + "}", 4),
                "__metadata__ key 'a' appears twice"));
        c.add(new Case("two metadata objects", file("{\"__metadata__\":{},\"__metadata__\":{}}", 0),
                "two __metadata__ entries"));
        return c;
    }

    @Test
    void everyMalformedFileIsRefusedWithItsOwnMessage() throws IOException {
        List<Case> cases = cases();
        assertTrue(cases.size() >= 20, "at least 20 cases");
        Map<String, String> problemToLabel = new HashMap<>();
        List<String> messages = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            Path p = dir.resolve("case" + i + ".safetensors");
            Files.write(p, c.bytes());
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> {
                try (SafetensorsFile f = SafetensorsFile.open(p)) {
                    fail(c.label() + ": accepted, " + f.names());
                }
            }, c.label());
            String msg = e.getMessage();
            assertNotNull(msg, c.label());
            assertTrue(msg.startsWith(p + ": "), c.label() + ": message should start with the path: " + msg);
            assertFalse(msg.contains("\n") || msg.contains("\r"), c.label() + ": message should be one line: " + msg);
            assertTrue(msg.contains(c.expect()), c.label() + ": expected '" + c.expect() + "' in: " + msg);
            String problem = msg.substring(p.toString().length() + 2);
            String clash = problemToLabel.put(problem, c.label());
            assertEquals(null, clash, "cases '" + clash + "' and '" + c.label() + "' give the same message: " + problem);
            messages.add(problem);
        }
        // Each case's distinctive substring must not turn up in any other case's message.
        for (int i = 0; i < cases.size(); i++)
            for (int j = 0; j < cases.size(); j++)
                if (i != j)
                    assertFalse(messages.get(j).contains(cases.get(i).expect()), "'" + cases.get(i).expect()
                            + "' (case " + cases.get(i).label() + ") also matches case " + cases.get(j).label()
                            + ": " + messages.get(j));
    }

    @Test
    void lfsPointerMessageSaysWhatItIs() throws IOException {
        Path p = dir.resolve("model.safetensors");
        Files.writeString(p, "version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 12\n");
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(p));
        assertTrue(e.getMessage().contains("Git LFS pointer"), e.getMessage());
        assertTrue(e.getMessage().contains("`git lfs pull`"), e.getMessage());
    }

    @Test
    void pytorchCheckpointsAreNamedAsSuch() throws IOException {
        Path zip = dir.resolve("pytorch_model.bin");
        Files.write(zip, concat(ascii("PK\u0003\u0004"), new byte[40]));
        assertTrue(assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(zip)).getMessage()
                .contains("PyTorch checkpoint"));
        Path pickle = dir.resolve("old.pt");
        Files.write(pickle, concat(new byte[] {(byte) 0x80, 0x04, (byte) 0x95}, new byte[40]));
        assertTrue(assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(pickle)).getMessage()
                .contains("PyTorch checkpoint"));
    }

    @Test
    void headerLengthWhoseLowByteLooksLikePickleIsStillSafetensors() throws IOException {
        // A header of 0x280 = 640 bytes starts the file with 0x80 0x02, the pickle magic; it must still load.
        StringBuilder json = new StringBuilder("{" + W4 + "}");
        while (json.length() < 640) json.append(' ');
        Path p = dir.resolve("pickle-lookalike.safetensors");
        Files.write(p, file(json.toString(), f32(7f)));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(7f, f.readFloats("w")[0]);
        }
    }

    @Test
    void pickleLookalikeWithLeadingWhitespaceInTheHeaderIsStillSafetensors() throws IOException {
        StringBuilder json = new StringBuilder("  \n{" + W4 + "}");
        while (json.length() < 0x380) json.append(' ');
        Path p = dir.resolve("pickle-lookalike-2.safetensors");
        Files.write(p, file(json.toString(), f32(8f))); // starts 0x80 0x03: pickle protocol 3's magic
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(8f, f.readFloats("w")[0]);
        }
    }

    @Test
    void missingFileAndDirectoryAreReported() {
        Path missing = dir.resolve("nope.safetensors");
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(missing));
        assertEquals(missing + ": no such file", e.getMessage());
        SafetensorsException d = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(dir));
        assertTrue(d.getMessage().startsWith(dir + ": "), d.getMessage());
    }
}

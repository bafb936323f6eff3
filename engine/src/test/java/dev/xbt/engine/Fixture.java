package dev.xbt.engine;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads an XBTFIX01 reference fixture, written by engine/src/test/python/make_block_fixture.py.
 *
 * <pre>
 *   8 bytes   magic "XBTFIX01" (ASCII)
 *   4 bytes   header length L, little-endian uint32
 *   L bytes   UTF-8 JSON: {"meta": {...}, "tensors": {"name": {"offset": N, "shape": [...]}, ...}}
 *             offset N counts bytes from the start of the data section
 *   rest      data: little-endian float32, row-major, the tensors back to back
 * </pre>
 *
 * The meta object is returned as parsed JSON: {@code Map<String, Object>}, {@code List<Object>},
 * {@code String}, {@code Double}, {@code Boolean} or null.
 */
public final class Fixture {
    public static final String MAGIC = "XBTFIX01";

    /** One stored tensor: its shape and its float32 values. */
    public record Entry(int[] shape, float[] data) {}

    private final Map<String, Entry> tensors;
    private final Map<String, Object> meta;

    private Fixture(Map<String, Entry> tensors, Map<String, Object> meta) {
        this.tensors = tensors;
        this.meta = meta;
    }

    /** Loads a fixture from the test class path, e.g. "/fixtures/clip_block.xbtfix". */
    public static Fixture load(String resource) {
        try (InputStream in = Fixture.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("fixture " + resource + " is not on the test class path");
            return parse(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    public static Fixture parse(byte[] bytes) {
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 12 || !MAGIC.equals(new String(bytes, 0, 8, StandardCharsets.US_ASCII))) {
            throw new IllegalArgumentException("not an " + MAGIC + " fixture");
        }
        long headerLen = Integer.toUnsignedLong(bb.getInt(8));
        if (12 + headerLen > bytes.length) throw new IllegalArgumentException("header runs past the end of the file");
        String json = new String(bytes, 12, (int) headerLen, StandardCharsets.UTF_8);
        Map<String, Object> header = (Map<String, Object>) new Json(json).document();
        int dataStart = 12 + (int) headerLen;
        Map<String, Entry> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : ((Map<String, Object>) header.get("tensors")).entrySet()) {
            Map<String, Object> desc = (Map<String, Object>) e.getValue();
            List<Object> dims = (List<Object>) desc.get("shape");
            int[] shape = new int[dims.size()];
            long n = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = ((Double) dims.get(i)).intValue();
                n *= shape[i];
            }
            long off = ((Double) desc.get("offset")).longValue();
            if (off < 0 || off % 4 != 0 || dataStart + off + 4 * n > bytes.length) {
                throw new IllegalArgumentException("tensor " + e.getKey() + " lies outside the data section");
            }
            float[] data = new float[(int) n];
            for (int i = 0; i < n; i++) data[i] = bb.getFloat(dataStart + (int) off + 4 * i);
            tensors.put(e.getKey(), new Entry(shape, data));
        }
        Object meta = header.get("meta");
        return new Fixture(tensors, meta == null ? Map.of() : (Map<String, Object>) meta);
    }

    public Entry entry(String name) {
        Entry e = tensors.get(name);
        if (e == null) throw new IllegalArgumentException("fixture has no tensor '" + name + "'");
        return e;
    }

    public float[] data(String name) {
        return entry(name).data();
    }

    public int[] shape(String name) {
        return entry(name).shape().clone();
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    public Map<String, Object> meta() {
        return meta;
    }

    /** A meta value by a dotted path, e.g. "cases.text.seq". */
    @SuppressWarnings("unchecked")
    public Object meta(String path) {
        Object cur = meta;
        for (String part : path.split("\\.")) {
            if (!(cur instanceof Map<?, ?> m) || !m.containsKey(part)) {
                throw new IllegalArgumentException("fixture meta has no '" + path + "'");
            }
            cur = ((Map<String, Object>) m).get(part);
        }
        return cur;
    }

    public double metaNumber(String path) {
        return (Double) meta(path);
    }

    @Override
    public String toString() {
        return "Fixture" + tensors.keySet();
    }

    /** A small strict JSON parser; numbers come back as Double. */
    private static final class Json {
        private final String s;
        private int i;

        Json(String s) {
            this.s = s;
        }

        Object document() {
            Object v = value();
            ws();
            if (i != s.length()) throw error("trailing characters");
            return v;
        }

        private Object value() {
            ws();
            if (i >= s.length()) throw error("unexpected end");
            char c = s.charAt(i);
            switch (c) {
                case '{': return object();
                case '[': return array();
                case '"': return string();
                case 't': return literal("true", Boolean.TRUE);
                case 'f': return literal("false", Boolean.FALSE);
                case 'n': return literal("null", null);
                default: return number();
            }
        }

        private Map<String, Object> object() {
            Map<String, Object> m = new LinkedHashMap<>();
            i++;
            ws();
            if (peek() == '}') {
                i++;
                return m;
            }
            while (true) {
                ws();
                if (peek() != '"') throw error("expected a key");
                String k = string();
                ws();
                expect(':');
                m.put(k, value());
                ws();
                char c = next();
                if (c == '}') return m;
                if (c != ',') throw error("expected ',' or '}'");
            }
        }

        private List<Object> array() {
            List<Object> l = new ArrayList<>();
            i++;
            ws();
            if (peek() == ']') {
                i++;
                return l;
            }
            while (true) {
                l.add(value());
                ws();
                char c = next();
                if (c == ']') return l;
                if (c != ',') throw error("expected ',' or ']'");
            }
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = next();
                if (c == '"') return b.toString();
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = next();
                switch (e) {
                    case '"', '\\', '/' -> b.append(e);
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        if (i + 4 > s.length()) throw error("short \\u escape");
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> throw error("bad escape \\" + e);
                }
            }
        }

        private Double number() {
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
            if (start == i) throw error("unexpected character '" + s.charAt(i) + "'");
            return Double.parseDouble(s.substring(start, i));
        }

        private Object literal(String word, Object v) {
            if (!s.startsWith(word, i)) throw error("bad literal");
            i += word.length();
            return v;
        }

        private void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
        }

        private char peek() {
            return i < s.length() ? s.charAt(i) : '\0';
        }

        private char next() {
            if (i >= s.length()) throw error("unexpected end");
            return s.charAt(i++);
        }

        private void expect(char c) {
            if (next() != c) throw error("expected '" + c + "'");
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException("fixture header JSON: " + what + " at character " + i);
        }
    }

    static String str(int[] shape) {
        return Arrays.toString(shape);
    }
}

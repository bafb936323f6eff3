package dev.xbt.weights;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;

/**
 * A safetensors file, memory-mapped read-only and fully validated by {@link #open}.
 *
 * <p>Layout: an 8-byte little-endian unsigned header length N, N bytes of UTF-8 JSON (possibly padded with
 * trailing spaces), then the data section. The JSON maps each tensor name to {@code {"dtype", "shape",
 * "data_offsets": [begin, end]}} with offsets relative to the data section, plus an optional {@code __metadata__}
 * object of string to string.
 *
 * <p>{@code open} checks everything before returning, as strictly as the reference implementation: exactly the
 * three fields per entry, a known dtype, non-negative integer dims whose byte size fits in a long and equals
 * end − begin, ranges inside the data section that neither overlap nor leave gaps, and a data section that ends
 * exactly at the last tensor (no trailing bytes). It also names common wrong inputs (Git LFS pointers, PyTorch
 * zip and pickle checkpoints, GGUF, NumPy, HDF5, HTML pages). Every failure is a one-line
 * {@link SafetensorsException} that starts with the file's path.
 *
 * <p>Files over 2 GiB are fine: the whole file is one {@link MemorySegment} mapped in a shared arena, so an
 * open file may be read from several threads at once. Segments handed out by {@link #segment} and reads in
 * progress become invalid at {@link #close}.
 */
public final class SafetensorsFile implements AutoCloseable, TensorSource {
    /** The reference implementation's cap on the header length; larger values mean a corrupt or foreign file. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    /** The longest Java array the readers will allocate (the VM refuses a few elements short of 2^31 − 1). */
    public static final int MAX_ARRAY_ELEMENTS = Integer.MAX_VALUE - 8;

    private static final String METADATA_KEY = "__metadata__";
    private static final JsonFactory JSON = JsonFactory.builder().build();
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int CHUNK = 1 << 16;

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapped;
    private final long dataStart;
    private final long dataBytes;
    private final Map<String, String> metadata;
    private final Map<String, TensorInfo> tensors;
    private volatile boolean closed;

    private SafetensorsFile(Path path, Arena arena, MemorySegment mapped, long dataStart, long dataBytes,
                            Map<String, String> metadata, Map<String, TensorInfo> tensors) {
        this.path = path;
        this.arena = arena;
        this.mapped = mapped;
        this.dataStart = dataStart;
        this.dataBytes = dataBytes;
        this.metadata = metadata;
        this.tensors = tensors;
    }

    /** Opens, validates and maps {@code path}; throws {@link SafetensorsException} on any problem. */
    public static SafetensorsFile open(Path path) {
        String where = String.valueOf(path);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size == 0) throw fail(where, "file is empty (0 bytes), not a safetensors file");
            byte[] prefix = readFully(ch, 0, (int) Math.min(size, 64));
            long n = size >= 8 ? ByteBuffer.wrap(prefix, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong() : 0;
            boolean plausible = size > 8 && n >= 0 && n <= Math.min(MAX_HEADER_BYTES, size - 8) && jsonObjectAt8(prefix);
            if (!plausible) {
                String foreign = recognizeForeign(prefix, size);
                if (foreign != null) throw fail(where, foreign);
            }
            if (size < 8)
                throw fail(where, "file is only " + size + " bytes; a safetensors file starts with an 8-byte header length");
            if (n < 0)
                throw fail(where, "header length field reads " + Long.toUnsignedString(n)
                        + " (unsigned 64-bit), an absurd value: not a safetensors file, or a corrupt one");
            if (n > MAX_HEADER_BYTES)
                throw fail(where, "header length " + n + " exceeds the " + MAX_HEADER_BYTES
                        + "-byte limit: not a safetensors file, or a corrupt one");
            if (n > size - 8)
                throw fail(where, "file truncated inside the header: header length is " + n + " bytes but only "
                        + (size - 8) + " bytes follow the length field");
            if (n == 0) throw fail(where, "header length is 0; even a file without tensors needs the header '{}'");

            Header header = parseHeader(where, decodeUtf8(where, readFully(ch, 8, (int) n)));
            long dataStart = 8 + n;
            long dataBytes = size - dataStart;
            checkRanges(where, header.tensors, dataBytes);

            Arena arena = Arena.ofShared();
            try {
                MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                return new SafetensorsFile(path, arena, mapped, dataStart, dataBytes,
                        Collections.unmodifiableMap(header.metadata), Collections.unmodifiableMap(header.tensors));
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        } catch (NoSuchFileException e) {
            throw new SafetensorsException(where + ": no such file", e);
        } catch (AccessDeniedException e) {
            throw new SafetensorsException(where + ": permission denied", e);
        } catch (IOException e) {
            throw new SafetensorsException(where + ": cannot read: " + oneLine(String.valueOf(e)), e);
        }
    }

    public Path path() {
        return path;
    }

    /** The {@code __metadata__} entries in header order; empty when the header has none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Tensor names in header order. */
    public Set<String> names() {
        return tensors.keySet();
    }

    /** All entries in header order. */
    public Collection<TensorInfo> tensors() {
        return tensors.values();
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The entry for {@code name}; throws {@link SafetensorsException} when there is none. */
    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            StringJoiner some = new StringJoiner(", ");
            int shown = 0;
            for (String k : tensors.keySet()) {
                if (shown++ == 8) {
                    some.add("...");
                    break;
                }
                some.add(quote(k));
            }
            throw fail(path.toString(), "no tensor named " + quote(name) + " (the file has " + tensors.size()
                    + " tensors: " + some + ")");
        }
        return t;
    }

    /** Size of the data section in bytes (file size − 8 − header length). */
    public long dataBytes() {
        return dataBytes;
    }

    /** Absolute file offset where the data section starts (8 + header length). */
    public long dataStart() {
        return dataStart;
    }

    @Override
    public int[] shape(String name) {
        return info(name).intShape();
    }

    @Override
    public float[] read(String name) {
        return readFloats(name);
    }

    /**
     * The tensor's values as float32, row-major. F32 is copied as is; F16 and BF16 are widened exactly; F64 is
     * rounded to float; BOOL gives 0/1 and the integer types (U8, I8, I16, U16, I32, U32, I64, U64) are converted
     * to the nearest float. The 8/6/4-bit float formats and C64 are refused (read their bytes with
     * {@link #segment}). Tensors of more than {@link #MAX_ARRAY_ELEMENTS} elements are refused.
     */
    public float[] readFloats(String name) {
        TensorInfo t = info(name);
        if (!t.dtype().decodableAsFloat())
            throw fail(path.toString(), "tensor " + quote(name) + ": readFloats cannot decode dtype " + t.dtype()
                    + " (supported: F32, F16, BF16, F64, BOOL and the integer types); use segment() for the raw bytes");
        long count = t.elementCount();
        if (count > MAX_ARRAY_ELEMENTS)
            throw fail(path.toString(), "tensor " + quote(name) + " has " + count
                    + " elements, more than a Java float[] can hold (" + MAX_ARRAY_ELEMENTS + ")");
        MemorySegment src = slice(t);
        int n = (int) count;
        float[] out = new float[n];
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(src, F32_LE, 0, out, 0, n);
            case F16, BF16, I16, U16 -> {
                short[] buf = new short[Math.min(n, CHUNK)];
                for (int i = 0; i < n; i += buf.length) {
                    int m = Math.min(buf.length, n - i);
                    MemorySegment.copy(src, I16_LE, 2L * i, buf, 0, m);
                    switch (t.dtype()) {
                        case F16 -> { for (int j = 0; j < m; j++) out[i + j] = Float.float16ToFloat(buf[j]); }
                        case BF16 -> { for (int j = 0; j < m; j++) out[i + j] = Float.intBitsToFloat(buf[j] << 16); }
                        case I16 -> { for (int j = 0; j < m; j++) out[i + j] = buf[j]; }
                        default -> { for (int j = 0; j < m; j++) out[i + j] = buf[j] & 0xFFFF; }
                    }
                }
            }
            case F64 -> {
                double[] buf = new double[Math.min(n, CHUNK)];
                for (int i = 0; i < n; i += buf.length) {
                    int m = Math.min(buf.length, n - i);
                    MemorySegment.copy(src, F64_LE, 8L * i, buf, 0, m);
                    for (int j = 0; j < m; j++) out[i + j] = (float) buf[j];
                }
            }
            case I32, U32 -> {
                int[] buf = new int[Math.min(n, CHUNK)];
                boolean unsigned = t.dtype() == Dtype.U32;
                for (int i = 0; i < n; i += buf.length) {
                    int m = Math.min(buf.length, n - i);
                    MemorySegment.copy(src, I32_LE, 4L * i, buf, 0, m);
                    for (int j = 0; j < m; j++) out[i + j] = unsigned ? (float) Integer.toUnsignedLong(buf[j]) : buf[j];
                }
            }
            case I64, U64 -> {
                long[] buf = new long[Math.min(n, CHUNK)];
                boolean unsigned = t.dtype() == Dtype.U64;
                for (int i = 0; i < n; i += buf.length) {
                    int m = Math.min(buf.length, n - i);
                    MemorySegment.copy(src, I64_LE, 8L * i, buf, 0, m);
                    for (int j = 0; j < m; j++) out[i + j] = unsigned ? unsignedToFloat(buf[j]) : buf[j];
                }
            }
            case U8, I8, BOOL -> {
                byte[] buf = new byte[Math.min(n, CHUNK)];
                for (int i = 0; i < n; i += buf.length) {
                    int m = Math.min(buf.length, n - i);
                    MemorySegment.copy(src, ValueLayout.JAVA_BYTE, i, buf, 0, m);
                    switch (t.dtype()) {
                        case U8 -> { for (int j = 0; j < m; j++) out[i + j] = buf[j] & 0xFF; }
                        case I8 -> { for (int j = 0; j < m; j++) out[i + j] = buf[j]; }
                        default -> { for (int j = 0; j < m; j++) out[i + j] = buf[j] != 0 ? 1f : 0f; }
                    }
                }
            }
            default -> throw new AssertionError(t.dtype());
        }
        return out;
    }

    /**
     * The tensor's raw little-endian bytes as a read-only slice of the mapping (no copy). Valid only until
     * {@link #close}; using it afterwards throws {@link IllegalStateException}.
     */
    public MemorySegment segment(String name) {
        return slice(info(name)).asReadOnly();
    }

    /** Unmaps the file. Idempotent. Segments from {@link #segment} become unusable. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        arena.close();
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors, " + dataBytes + " data bytes]";
    }

    private MemorySegment slice(TensorInfo t) {
        if (closed) throw fail(path.toString(), "file is closed");
        return mapped.asSlice(dataStart + t.begin(), t.byteSize());
    }

    private static float unsignedToFloat(long v) {
        if (v >= 0) return v;
        // Halve (keeping the lost bit as a sticky bit so the rounding stays correct), convert, double.
        return ((v >>> 1) | (v & 1)) * 2f;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Recognizing wrong inputs.

    /** A message naming what the file is when its first bytes give away a known non-safetensors format. */
    private static String recognizeForeign(byte[] p, long size) {
        if (startsWith(p, "version https://git-lfs.github.com/spec/") || startsWith(p, "version https://git-lfs"))
            return "this is a Git LFS pointer file (" + size + " bytes), not the tensor data; run `git lfs pull` "
                    + "in its repository to download the real file";
        if (startsWith(p, "PK\u0003\u0004"))
            return "this is a zip archive, most likely a PyTorch checkpoint saved by torch.save (.pt/.pth/.bin), "
                    + "not safetensors; convert it with safetensors.torch.save_file";
        if (p.length >= 2 && (p[0] & 0xFF) == 0x80 && p[1] >= 2 && p[1] <= 5)
            return "this is a Python pickle (protocol " + p[1] + "), most likely a legacy PyTorch checkpoint "
                    + "(torch.save), not safetensors; convert it with safetensors.torch.save_file";
        if (startsWith(p, "GGUF")) return "this is a GGUF file (llama.cpp format), not safetensors";
        if (startsWith(p, "\u0093NUMPY")) return "this is a NumPy .npy array file, not safetensors";
        if (startsWith(p, "\u0089HDF\r\n")) return "this is an HDF5 file (e.g. Keras .h5), not safetensors";
        String head = new String(p, StandardCharsets.ISO_8859_1).stripLeading().toLowerCase(java.util.Locale.ROOT);
        if (head.startsWith("<!doctype html") || head.startsWith("<html"))
            return "this is an HTML page (a failed or redirected download?), not safetensors";
        return null;
    }

    /** Whether the header (bytes from offset 8) starts, after any JSON whitespace, with '{'. */
    private static boolean jsonObjectAt8(byte[] p) {
        for (int i = 8; i < p.length; i++) {
            if (p[i] == '{') return true;
            if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') return false;
        }
        return false;
    }

    private static boolean startsWith(byte[] p, String magic) {
        if (p.length < magic.length()) return false;
        for (int i = 0; i < magic.length(); i++) if ((p[i] & 0xFF) != magic.charAt(i)) return false;
        return true;
    }

    // ---------------------------------------------------------------------------------------------------------
    // The header.

    private record Header(Map<String, String> metadata, LinkedHashMap<String, TensorInfo> tensors) {}

    private static String decodeUtf8(String where, byte[] bytes) {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = dec.decode(in, out, true);
        if (!r.isError()) r = dec.flush(out);
        if (r.isError())
            throw fail(where, "header is not valid UTF-8 (bad byte 0x"
                    + String.format("%02x", bytes[in.position()] & 0xFF) + " at header offset " + in.position() + ")");
        return out.flip().toString();
    }

    private static Header parseHeader(String where, String json) {
        Map<String, String> metadata = new LinkedHashMap<>();
        LinkedHashMap<String, TensorInfo> tensors = new LinkedHashMap<>();
        try (JsonParser p = JSON.createParser(json)) {
            JsonToken t = p.nextToken();
            if (t == null) throw fail(where, "header holds no JSON, only whitespace");
            if (t != JsonToken.START_OBJECT) throw fail(where, "header JSON is " + describe(t) + ", not an object");
            boolean sawMetadata = false;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken v = p.nextToken();
                if (key.equals(METADATA_KEY)) {
                    if (sawMetadata) throw fail(where, "the header has two " + METADATA_KEY + " entries");
                    sawMetadata = true;
                    parseMetadata(where, p, v, metadata);
                } else {
                    if (tensors.containsKey(key))
                        throw fail(where, "tensor name " + quote(key) + " appears twice in the header");
                    tensors.put(key, parseEntry(where, p, v, key));
                }
            }
            if (p.nextToken() != null) throw fail(where, "header has more JSON after its top-level object");
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            throw new SafetensorsException(where + ": header is not valid JSON: " + oneLine(e.getOriginalMessage())
                    + (loc == null ? "" : " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")"), e);
        } catch (IOException e) {
            throw new SafetensorsException(where + ": cannot parse header: " + oneLine(String.valueOf(e)), e);
        }
        return new Header(metadata, tensors);
    }

    private static void parseMetadata(String where, JsonParser p, JsonToken t, Map<String, String> out) throws IOException {
        if (t != JsonToken.START_OBJECT)
            throw fail(where, METADATA_KEY + " is " + describe(t) + ", expected an object of string to string");
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken v = p.nextToken();
            if (v != JsonToken.VALUE_STRING)
                throw fail(where, METADATA_KEY + " value for key " + quote(key) + " is " + describe(v)
                        + ", expected a string");
            if (out.containsKey(key)) throw fail(where, METADATA_KEY + " key " + quote(key) + " appears twice");
            out.put(key, p.getText());
        }
    }

    private static TensorInfo parseEntry(String where, JsonParser p, JsonToken t, String name) throws IOException {
        String tensor = "tensor " + quote(name) + ": ";
        if (t != JsonToken.START_OBJECT)
            throw fail(where, tensor + "entry is " + describe(t) + ", expected an object with dtype, shape and data_offsets");
        String dtypeName = null;
        long[] shape = null;
        long[] offsets = null;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken v = p.nextToken();
            boolean dup;
            switch (field) {
                case "dtype" -> {
                    dup = dtypeName != null;
                    if (v != JsonToken.VALUE_STRING)
                        throw fail(where, tensor + "dtype is " + describe(v) + ", expected a string such as \"F32\"");
                    dtypeName = p.getText();
                }
                case "shape" -> {
                    dup = shape != null;
                    shape = readNonNegativeInts(where, p, v, tensor + "shape");
                }
                case "data_offsets" -> {
                    dup = offsets != null;
                    offsets = readNonNegativeInts(where, p, v, tensor + "data_offsets");
                }
                default -> throw fail(where, tensor + "unexpected field " + quote(field)
                        + " (an entry has exactly dtype, shape and data_offsets)");
            }
            if (dup) throw fail(where, tensor + "field " + quote(field) + " appears twice");
        }
        if (dtypeName == null) throw fail(where, tensor + "missing field \"dtype\"");
        if (shape == null) throw fail(where, tensor + "missing field \"shape\"");
        if (offsets == null) throw fail(where, tensor + "missing field \"data_offsets\"");

        Dtype dtype = Dtype.fromHeader(dtypeName);
        if (dtype == null) throw fail(where, tensor + "unknown dtype " + quote(dtypeName) + " (known: "
                + Arrays.toString(Dtype.values()).replaceAll("[\\[\\]]", "") + ")");
        if (offsets.length != 2)
            throw fail(where, tensor + "data_offsets has " + offsets.length + " entries, expected [begin, end]");
        long begin = offsets[0], end = offsets[1];
        if (begin > end)
            throw fail(where, tensor + "data_offsets [" + begin + ", " + end + "] are reversed (begin > end)");
        long elements = 1;
        boolean empty = false;
        for (long d : shape) empty |= d == 0;
        long bits;
        try {
            if (empty) elements = 0;
            else for (long d : shape) elements = Math.multiplyExact(elements, d);
        } catch (ArithmeticException e) {
            throw fail(where, tensor + "shape " + Arrays.toString(shape) + " has more elements than fit in 64 bits");
        }
        try {
            bits = Math.multiplyExact(elements, (long) dtype.bits());
        } catch (ArithmeticException e) {
            throw fail(where, tensor + "shape " + Arrays.toString(shape) + " of " + dtype
                    + " has a byte size that overflows 64 bits");
        }
        if (bits % 8 != 0)
            throw fail(where, tensor + "shape " + Arrays.toString(shape) + " of " + dtype
                    + " does not fill a whole number of bytes");
        if (end - begin != bits / 8)
            throw fail(where, tensor + "data_offsets [" + begin + ", " + end + "] span " + (end - begin)
                    + " bytes but " + dtype + " " + Arrays.toString(shape) + " needs " + bits / 8);
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /** Reads a JSON array of integers in [0, 2^63 − 1]; {@code what} prefixes the error messages. */
    private static long[] readNonNegativeInts(String where, JsonParser p, JsonToken t, String what) throws IOException {
        if (t != JsonToken.START_ARRAY)
            throw fail(where, what + " is " + describe(t) + ", expected a list of non-negative integers");
        List<Long> values = new ArrayList<>();
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t == JsonToken.VALUE_NUMBER_FLOAT)
                throw fail(where, what + " has a non-integer entry " + p.getText());
            if (t != JsonToken.VALUE_NUMBER_INT)
                throw fail(where, what + " has an entry that is " + describe(t) + ", not an integer");
            if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                if (p.getBigIntegerValue().signum() < 0)
                    throw fail(where, what + " has a negative entry " + abbreviate(p.getText()));
                throw fail(where, what + " has an entry too large for 64 bits: " + abbreviate(p.getText()));
            }
            long v = p.getLongValue();
            if (v < 0) throw fail(where, what + " has a negative entry " + v);
            values.add(v);
        }
        long[] out = new long[values.size()];
        for (int i = 0; i < out.length; i++) out[i] = values.get(i);
        return out;
    }

    /**
     * The data section must be covered exactly: tensor ranges sorted by begin start at 0, follow one another
     * without overlap or gap, and the last ends where the file ends.
     */
    private static void checkRanges(String where, Map<String, TensorInfo> tensors, long dataBytes) {
        List<TensorInfo> sorted = new ArrayList<>(tensors.values());
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long maxEnd = 0;
        TensorInfo overlapA = null, overlapB = null, gapA = null, gapB = null;
        long prevEnd = 0;
        TensorInfo prev = null;
        for (TensorInfo t : sorted) {
            if (t.begin() < prevEnd && overlapA == null) {
                overlapA = prev;
                overlapB = t;
            } else if (t.begin() > prevEnd && gapB == null) {
                gapA = prev;
                gapB = t;
            }
            if (t.end() >= prevEnd) {
                prevEnd = t.end();
                prev = t;
            }
            maxEnd = Math.max(maxEnd, t.end());
        }
        if (maxEnd > dataBytes) {
            if (overlapA == null && gapB == null)
                throw fail(where, "file truncated: the header describes " + maxEnd + " bytes of tensor data but only "
                        + dataBytes + " bytes follow the header (incomplete download?)");
            for (TensorInfo t : sorted)
                if (t.end() > dataBytes)
                    throw fail(where, "tensor " + quote(t.name()) + ": data_offsets [" + t.begin() + ", " + t.end()
                            + "] run past the end of the " + dataBytes + "-byte data section");
        }
        if (overlapA != null)
            throw fail(where, "tensors " + quote(overlapA.name()) + " [" + overlapA.begin() + ", " + overlapA.end()
                    + ") and " + quote(overlapB.name()) + " [" + overlapB.begin() + ", " + overlapB.end() + ") overlap");
        if (gapB != null)
            throw fail(where, "data section has unused bytes ["
                    + (gapA == null ? 0 : gapA.end()) + ", " + gapB.begin() + ") "
                    + (gapA == null ? "before the first tensor " + quote(gapB.name())
                                    : "between tensors " + quote(gapA.name()) + " and " + quote(gapB.name())));
        if (maxEnd < dataBytes)
            throw fail(where, (dataBytes - maxEnd) + " trailing bytes after the last tensor's data (the header "
                    + "describes " + maxEnd + " data bytes, the file has " + dataBytes + ")");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Helpers.

    private static byte[] readFully(FileChannel ch, long position, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        while (buf.hasRemaining()) {
            int r = ch.read(buf, position + buf.position());
            if (r < 0) throw new IOException("file shrank while being read");
        }
        return buf.array();
    }

    private static String describe(JsonToken t) {
        if (t == null) return "missing";
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT -> "an integer";
            case VALUE_NUMBER_FLOAT -> "a non-integer number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.toString();
        };
    }

    /** A name or value for a message: quoted, control characters escaped, long ones cut. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder("'");
        int limit = Math.min(s.length(), 120);
        for (int i = 0; i < limit; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7F) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        if (s.length() > limit) b.append("...(").append(s.length()).append(" chars)");
        return b.append('\'').toString();
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 20) + "...(" + s.length() + " digits)";
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s+", " ").trim();
    }

    private static SafetensorsException fail(String where, String problem) {
        return new SafetensorsException(where + ": " + oneLine(problem));
    }
}

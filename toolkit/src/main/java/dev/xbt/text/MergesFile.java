package dev.xbt.text;

import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * The merges file format of {@code bpe_simple_vocab_16e6.txt.gz} and of Hugging Face's {@code merges.txt}:
 * a header line containing {@code #version}, then one merge a line, its two symbols separated by one space,
 * in rank order. Files are read as gzip where they start with the gzip magic bytes, as plain UTF-8 otherwise.
 */
public final class MergesFile {
    /** The header line this project writes. */
    public static final String HEADER = "#version: 0.2";

    private MergesFile() {}

    /**
     * The first {@code maxMerges} merges of {@code file}. The whole file is read, so a truncated or corrupt
     * gzip fails even where its damage lies past the merges used; lines past {@code maxMerges} are not parsed.
     *
     * @throws TokenizerException where the file is missing, unreadable, not UTF-8, truncated, lacks the header,
     *     or a used line is not two symbols separated by one space
     */
    public static List<BpeMerge> read(Path file, int maxMerges) {
        if (maxMerges < 0) {
            throw new IllegalArgumentException("maxMerges must be >= 0, got " + maxMerges);
        }
        String text = readText(file);
        List<BpeMerge> merges = new ArrayList<>();
        int lineStart = 0;
        int lineNumber = 0;
        while (lineStart <= text.length() && merges.size() < maxMerges) {
            int lineEnd = text.indexOf('\n', lineStart);
            boolean last = lineEnd < 0;
            String line = text.substring(lineStart, last ? text.length() : lineEnd);
            if (line.endsWith("\r")) {
                line = line.substring(0, line.length() - 1);
            }
            lineNumber++;
            if (lineNumber == 1) {
                if (!line.contains("#version")) {
                    throw new TokenizerException(file + ": line 1 is not a '#version' header: '" + abbreviate(line) + "'");
                }
            } else if (!(line.isEmpty() && last)) {
                merges.add(parse(file, lineNumber, line));
            }
            if (last) {
                break;
            }
            lineStart = lineEnd + 1;
        }
        return merges;
    }

    /** Writes {@link #HEADER} and the merges, gzip-compressed where {@code file}'s name ends with {@code .gz}. */
    public static void write(Path file, List<BpeMerge> merges) {
        try (OutputStream raw = new BufferedOutputStream(Files.newOutputStream(file));
                OutputStream out = file.getFileName().toString().endsWith(".gz") ? new GZIPOutputStream(raw) : raw;
                Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8)) {
            w.write(HEADER);
            w.write('\n');
            for (BpeMerge m : merges) {
                w.write(m.left());
                w.write(' ');
                w.write(m.right());
                w.write('\n');
            }
        } catch (IOException e) {
            throw new TokenizerException("cannot write merges file " + file + ": " + e.getMessage(), e);
        }
    }

    private static BpeMerge parse(Path file, int lineNumber, String line) {
        int space = line.indexOf(' ');
        if (space <= 0 || space == line.length() - 1 || line.indexOf(' ', space + 1) >= 0) {
            throw new TokenizerException(file + ": line " + lineNumber
                    + " is not two symbols separated by one space: '" + abbreviate(line) + "'");
        }
        try {
            return new BpeMerge(line.substring(0, space), line.substring(space + 1));
        } catch (IllegalArgumentException e) {
            throw new TokenizerException(file + ": line " + lineNumber + ": " + e.getMessage());
        }
    }

    /** The whole file as UTF-8 text, gunzipped where it is gzip. */
    static String readText(Path file) {
        byte[] bytes = readBytes(file);
        if (bytes.length >= 2 && (bytes[0] & 0xFF) == 0x1F && (bytes[1] & 0xFF) == 0x8B) {
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
                bytes = in.readAllBytes();
            } catch (EOFException e) {
                throw new TokenizerException(file + ": gzip data is truncated (unexpected end of stream)", e);
            } catch (ZipException e) {
                throw new TokenizerException(file + ": gzip data is corrupt: " + e.getMessage(), e);
            } catch (IOException e) {
                throw new TokenizerException(file + ": cannot gunzip: " + e.getMessage(), e);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new TokenizerException(file + ": not valid UTF-8 text", e);
        }
    }

    static byte[] readBytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new TokenizerException("file not found: " + file, e);
        } catch (IOException e) {
            throw new TokenizerException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static String abbreviate(String line) {
        return line.length() <= 60 ? line : line.substring(0, 60) + "...";
    }
}

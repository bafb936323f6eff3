package dev.xbt.text;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2's byte-level alphabet as CLIP numbers it: every byte is shown as one printable character, and the
 * base vocabulary is those 256 characters (ids 0..255, in the table's order: the printable Latin-1 bytes
 * first, then the rest shifted to U+0100 and up), followed by the same 256 with the end-of-word marker
 * {@code </w>} (ids 256..511).
 */
final class ByteLevel {
    static final String END_OF_WORD = "</w>";
    /** Number of base symbols: 256 bytes, each with and without {@code </w>}. */
    static final int BASE_SYMBOLS = 512;

    /** The character that shows byte b. */
    private static final char[] CHAR_OF_BYTE = new char[256];
    /** The base id (0..255) of byte b. */
    private static final int[] ID_OF_BYTE = new int[256];
    /** The byte shown by the base id i (0..255). */
    private static final int[] BYTE_OF_ID = new int[256];
    /** The byte shown by character c, or -1; every character in the table is below U+0144. */
    private static final int[] BYTE_OF_CHAR = new int[0x144];

    static {
        java.util.Arrays.fill(BYTE_OF_CHAR, -1);
        int id = 0;
        for (int b = 0; b < 256; b++) {
            if (printable(b)) {
                assign(b, id++, (char) b);
            }
        }
        int shifted = 0;
        for (int b = 0; b < 256; b++) {
            if (!printable(b)) {
                assign(b, id++, (char) (256 + shifted++));
            }
        }
    }

    private ByteLevel() {}

    private static boolean printable(int b) {
        return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    }

    private static void assign(int b, int id, char c) {
        CHAR_OF_BYTE[b] = c;
        ID_OF_BYTE[b] = id;
        BYTE_OF_ID[id] = b;
        BYTE_OF_CHAR[c] = b;
    }

    /** The token string of base id {@code id} (0..511). */
    static String baseSymbol(int id) {
        String s = String.valueOf(CHAR_OF_BYTE[BYTE_OF_ID[id & 255]]);
        return id < 256 ? s : s + END_OF_WORD;
    }

    /** The base ids of a pre-tokenized piece: its UTF-8 bytes, the last one carrying {@code </w>}. */
    static int[] baseIds(String piece) {
        byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = ID_OF_BYTE[bytes[i] & 0xFF];
        }
        if (ids.length > 0) {
            ids[ids.length - 1] += 256;
        }
        return ids;
    }

    /** The byte shown by character c, or -1 where c is not in the table. */
    static int byteOf(char c) {
        return c < BYTE_OF_CHAR.length ? BYTE_OF_CHAR[c] : -1;
    }
}

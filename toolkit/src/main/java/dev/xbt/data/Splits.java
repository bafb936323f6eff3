package dev.xbt.data;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * The three splits of a data set, and the rule that gives an entry without a {@code "split"} its split.
 *
 * <p><b>Assignment by id.</b> {@code h} = the first 8 bytes of SHA-256 of the id's UTF-8 bytes, read big-endian as
 * an unsigned 64-bit integer; {@code h mod 100} below 80 is {@code train}, below 90 {@code val}, else {@code test}.
 * It depends on the id alone, so an entry keeps its split when the data set grows or is re-imported, and any
 * other tool can reproduce it; in Python:
 * <pre>{@code int.from_bytes(hashlib.sha256(id.encode()).digest()[:8], "big") % 100}</pre>
 */
public final class Splits {
    public static final String TRAIN = "train";
    public static final String VAL = "val";
    public static final String TEST = "test";
    /** The splits, in this order. */
    public static final List<String> ALL = List.of(TRAIN, VAL, TEST);

    /** Percent of ids assigned to train and to val; the rest go to test. */
    public static final int TRAIN_PERCENT = 80;
    public static final int VAL_PERCENT = 10;

    private Splits() {}

    /** Whether {@code name} is one of {@link #ALL}. */
    public static boolean isKnown(String name) {
        return ALL.contains(name);
    }

    /** {@code name} when it is a split; otherwise an {@link IllegalArgumentException} listing the splits. */
    public static String check(String name) {
        if (!isKnown(name)) {
            throw new IllegalArgumentException("unknown split " + quote(name) + " (train, val or test)");
        }
        return name;
    }

    /** The split of an entry without one: by the SHA-256 of its id (see the class comment). */
    public static String assign(String id) {
        int bucket = bucket(id);
        return bucket < TRAIN_PERCENT ? TRAIN : bucket < TRAIN_PERCENT + VAL_PERCENT ? VAL : TEST;
    }

    /** {@code h mod 100} of the class comment, 0..99. */
    public static int bucket(String id) {
        byte[] d = sha256().digest(id.getBytes(StandardCharsets.UTF_8));
        long h = 0;
        for (int i = 0; i < 8; i++) h = h << 8 | (d[i] & 0xFF);
        return (int) Long.remainderUnsigned(h, 100);
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    static String quote(String s) {
        if (s == null) return "null";
        String t = s.length() > 60 ? s.substring(0, 57) + "..." : s;
        return '"' + t.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}

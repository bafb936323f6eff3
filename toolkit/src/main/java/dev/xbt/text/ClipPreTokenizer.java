package dev.xbt.text;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.text.StringEscapeUtils;

/**
 * CLIP's text clean-up and pre-tokenizer, shared by {@link ClipTokenizer} and {@link BpeTrainer} so that a
 * trained vocabulary sees the same pieces as the tokenizer that uses it.
 *
 * <p>Clean-up, in the reference's order ({@code whitespace_clean(basic_clean(text)).lower()}):
 * <ol>
 *   <li>Unicode NFC normalisation: the one part of ftfy's {@code fix_text} reproduced here, since every
 *       ftfy version applies it and it only changes text that is not already composed;</li>
 *   <li>HTML entities unescaped twice, as {@code html.unescape(html.unescape(text))} does, with commons-text's
 *       HTML 4 table ({@link StringEscapeUtils#unescapeHtml4}): Python's HTML 5 table is larger and also
 *       accepts some entities without their semicolon, so rare entities such as {@code &amp} or {@code &bigstar;}
 *       may be left as they are here;</li>
 *   <li>runs of Unicode white space (the {@code White_Space} property) collapsed to one space, and the ends
 *       stripped as Python's {@code str.strip} does (which also strips U+001C..U+001F);</li>
 *   <li>lower-casing, locale-independent ({@link Locale#ROOT}), like Python's {@code str.lower}.</li>
 * </ol>
 * Not reproduced from ftfy's {@code fix_text}: mojibake repair, curly-quote straightening ({@code ’} stays a
 * symbol of its own, where the reference turns {@code don’t} into {@code don't}), fullwidth-to-halfwidth
 * folding, Latin ligature splitting, control-character and byte-order-mark removal, and ftfy's own extra
 * HTML unescape. Text with those features can tokenize differently from the reference; clean it beforehand
 * where that matters.
 *
 * <p>Pre-tokenizer: {@code <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+},
 * case-insensitive, over the cleaned text. Every number is split into single digits; letters run together;
 * anything else (punctuation, symbols, emoji) runs together up to the next white space, letter or digit.
 */
public final class ClipPreTokenizer {
    public static final String START_OF_TEXT = "<|startoftext|>";
    public static final String END_OF_TEXT = "<|endoftext|>";

    private static final Pattern WHITE_SPACE = Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern PIECES = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS);

    private ClipPreTokenizer() {}

    /** The cleaned, lower-cased text that the pre-tokenizer splits. */
    public static String clean(String text) {
        String s = Normalizer.normalize(text, Normalizer.Form.NFC);
        if (s.indexOf('&') >= 0) {
            s = StringEscapeUtils.unescapeHtml4(StringEscapeUtils.unescapeHtml4(s));
        }
        s = strip(WHITE_SPACE.matcher(strip(s)).replaceAll(" "));
        return s.toLowerCase(Locale.ROOT);
    }

    /** The pieces of {@code text} after {@link #clean}: special-token strings, words, digits, symbol runs. */
    public static List<String> pieces(String text) {
        List<String> pieces = new ArrayList<>();
        Matcher m = PIECES.matcher(clean(text));
        while (m.find()) {
            pieces.add(m.group());
        }
        return pieces;
    }

    /** Python's {@code str.strip()}: removes what {@code str.isspace} calls space from both ends. */
    static String strip(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isPythonSpace(s.charAt(start))) {
            start++;
        }
        while (end > start && isPythonSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(start, end);
    }

    private static boolean isPythonSpace(char c) {
        // Java leaves the no-break spaces and NEL out of isWhitespace; Python's isspace counts them.
        return Character.isWhitespace(c) || c == '\u00A0' || c == '\u2007' || c == '\u202F' || c == '\u0085';
    }
}

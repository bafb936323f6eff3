package dev.xbt.data.sources;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Captions for a piece of clip art from its SVG metadata ({@link SvgMetadata}): up to three,
 * <ol>
 *   <li>the title ({@code "Dog 03 Drawn With Straight Lines"}),</li>
 *   <li>the title with the description ({@code "Extremadura: a simple map of extremadura, enjoy it!"}; just the
 *       description when it starts with the title), cut at a sentence or word end to at most
 *       {@link #MAX_CAPTION} characters,</li>
 *   <li>the keywords ({@code "a clip art of mammal, bat, animal"}), at most {@link #MAX_KEYWORDS}.</li>
 * </ol>
 * What is not used:
 * <ul>
 *   <li>a title that is only a file name: it ends in a file extension ({@code "frog.svg"}), or it is one word
 *       glued to digits ({@code "smiley111"}, {@code "glace_4_bw"}, {@code "Layer_1"}), or it is written like a
 *       file name (one word with {@code _}) and equals the file's stem once case, {@code _}, {@code -} and digits
 *       are ignored ({@code "red_apple"} in {@code red_apple_01.svg}). A plain word or phrase that happens to equal
 *       the stem ({@code "Rooster"} in {@code rooster_01.svg}) is kept: Debian named the files after the titles,
 *       so that says nothing about the title. Other one-word {@code _} titles are made readable
 *       ({@code "arki_arrow_down"} becomes {@code "arki arrow down"});</li>
 *   <li>a title equal to the name of the creator, the rights holder or the publisher ({@code "Architetto
 *       Francesco Rollandin"}, {@code "Open Clip Art Library"}), and such names among the keywords;</li>
 *   <li>boilerplate ({@link #BOILERPLATE}): collection and theme names ({@code "Part of the Flat Icon Collection
 *       (...)"}, {@code "Lemon SVG theme"}), addresses and e-mails, "converted from", copyright notices,
 *       "untitled", "drawing", and the like; the prefix {@code "Clipart by NAME - "} is removed, and what is left
 *       is kept only when no other file has the same title or it shares a word with the file's name (Nicu
 *       Buculei's template titles say {@code "Clipart by Nicu Buculei - piggybank"} on a die);</li>
 *   <li>a title that {@link #COMMON_TITLE} or more pictures share ({@code "gramastar"} on 1375 stars,
 *       {@code "Etiquette Icons"}): the name of a collection, not of the picture;</li>
 *   <li>a description that is boilerplate, repeats the title, is an address, or is shared by
 *       {@link #COMMON_TITLE} or more pictures ({@code "UK roadsigns"});</li>
 *   <li>keywords that are blank, {@link #STOP_KEYWORDS} ({@code "hash"}, {@code "theme"}, ...), numbers or hex
 *       ids, addresses, or repeats; {@code _} in keywords becomes a space.</li>
 * </ul>
 * A picture with none of the three is skipped with a reason that says what was wrong with each part. And where
 * more than {@link #MAX_SAME} pictures end up with exactly the same captions (1375 stars are all "a clip art of
 * stars, shapes, geometry", 574 icons "a clip art of action, computer, icons"), only {@link #MAX_SAME} of them,
 * spread evenly over the group in path order, are kept ({@link #spread}): identical captions on many different
 * pictures teach a contrastive model nothing and flood its batches with false negatives.
 */
final class ClipArtCaptions {
    /** A title shared by this many pictures or more is a collection's name. */
    static final int COMMON_TITLE = 20;
    /** Longest "title: description" caption, in characters. */
    static final int MAX_CAPTION = 160;
    /** Most keywords in the keyword caption. */
    static final int MAX_KEYWORDS = 6;
    /** Most pictures kept with exactly the same captions. */
    static final int MAX_SAME = 20;

    static final Pattern BOILERPLATE = Pattern.compile(String.join("|",
            "\\bcollection\\b", "\\btheme\\b", "\\bicon ?set\\b", "\\bcliparts\\b", "\\bs[iu]bmission\\b",
            "https?:", "www\\.", "@", "\\.(com|org|net|edu|de|fr|es|it)\\b", "\\bconverted from\\b",
            "\\bcopyright\\b", "\\(c\\)", "\u00a9", "\\bpublic domain\\b", "^untitled\\b", "^part of\\b",
            "^various\\b", "\\bcreated (with|by|in)\\b", "^made (with|by|in)\\b", "\\binkscape\\b",
            "^(new )?(drawing|document|image|picture|layer|clip ?art|svg|sketch|test|title|description)\\s*\\d*$"),
            Pattern.CASE_INSENSITIVE);
    private static final Pattern DESCRIPTION_BOILERPLATE = Pattern.compile(
            "^(contact|data from|from|by|source|author|see)\\b|\\bderived from\\b|\\bbased on\\b|\\badapted from\\b",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern CLIPART_BY = Pattern.compile("^clip ?art by [^-]+? - (.*)$", Pattern.CASE_INSENSITIVE);
    private static final Pattern EXTENSION = Pattern.compile(
            "(?i).*\\.(svgz?|png|jpe?g|gif|bmp|tiff?|ai|eps|pdf|xcf|odg|wmf|emf|cdr|psd)$");
    private static final Pattern LETTER = Pattern.compile("\\p{L}");
    private static final Pattern DIGIT = Pattern.compile("\\d");
    private static final Pattern WORD = Pattern.compile("\\p{L}{3,}");
    /** Hex ids ({@code 0x935a874}, {@code 4f2c9a}) and numbers of three digits or more. */
    private static final Pattern IDISH = Pattern.compile("(?i)^0x[0-9a-f]+$|\\d{3,}|^(?=.*\\d)[0-9a-f]{6,}$");

    /** Keywords that say nothing about the picture. */
    static final Set<String> STOP_KEYWORDS = Set.of("hash", "theme", "unsorted", "special", "magick", "mapsym",
            "various", "misc", "miscellaneous", "clipart", "clip art", "clip-art", "openclipart", "open clip art",
            "svg", "image", "images", "none", "other", "new", "test", "untitled", "public domain", "stuff", "etc",
            "lemon theme icon", "png", "networksym");

    private ClipArtCaptions() {}

    /** The captions, or why there are none. */
    record Result(List<String> captions, String reason) {
        boolean ok() {
            return !captions.isEmpty();
        }
    }

    /**
     * How many pictures of the collection share each title and each description, by {@link #key} of the
     * {@link #cleanTitle cleaned} title and of the description.
     */
    record Counts(Map<String, Integer> titles, Map<String, Integer> descriptions) {
        static final Counts NONE = new Counts(Map.of(), Map.of());

        /** The counts of a whole collection. */
        static Counts of(Iterable<SvgMetadata> all) {
            Map<String, Integer> t = new java.util.HashMap<>();
            Map<String, Integer> d = new java.util.HashMap<>();
            for (SvgMetadata m : all) {
                t.merge(key(cleanTitle(m.title()).text()), 1, Integer::sum);
                d.merge(key(stripEnds(m.description())), 1, Integer::sum);
            }
            return new Counts(t, d);
        }
    }

    /** A title after the "Clipart by NAME - " prefix is taken off; {@code templated} when there was one. */
    record Title(String text, boolean templated) {}

    /** {@code raw} without quotes, end punctuation, and a "Clipart by NAME - " prefix. */
    static Title cleanTitle(String raw) {
        String t = SvgMetadata.collapse(raw == null ? "" : raw);
        boolean templated = false;
        Matcher m = CLIPART_BY.matcher(t);
        if (m.matches()) {
            t = m.group(1).strip();
            templated = true;
        }
        t = stripEnds(t);
        return new Title(t, templated);
    }

    /** The key that compares titles and names: the letters only, lower case. */
    static String key(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.toLowerCase(Locale.ROOT).codePoints().filter(Character::isLetter).forEach(b::appendCodePoint);
        return b.toString();
    }

    /**
     * The captions for a picture whose file is called {@code stem} (no folder, no extension).
     *
     * @param counts how many pictures of the collection share each title and description
     */
    static Result captions(String stem, SvgMetadata md, Counts counts) {
        Title title = cleanTitle(md.title());
        String whyNoTitle = titleProblem(title, stem, md, counts.titles());
        String titleText = whyNoTitle == null ? readable(title.text()) : null;

        String desc = stripEnds(md.description());
        String whyNoDesc = descriptionProblem(desc, title.text(), md);
        int sharedDesc = counts.descriptions().getOrDefault(key(desc), 0);
        if (whyNoDesc == null && sharedDesc >= COMMON_TITLE) {
            whyNoDesc = "shared by " + sharedDesc + " pictures (a collection's description)";
        }

        List<String> kws = keywords(md);

        List<String> caps = new ArrayList<>(3);
        if (titleText != null) caps.add(titleText);
        if (whyNoDesc == null) {
            String d = desc;
            if (titleText != null && !key(d).startsWith(key(titleText))) d = titleText + ": " + d;
            caps.add(shorten(d, MAX_CAPTION));
        }
        if (!kws.isEmpty()) caps.add("a clip art of " + String.join(", ", kws));
        List<String> out = new ArrayList<>(new LinkedHashSet<>(caps));
        if (!out.isEmpty()) return new Result(out, null);
        return new Result(List.of(), "no usable caption (title: " + whyNoTitle + "; description: " + whyNoDesc
                + "; keywords: none usable)");
    }

    /**
     * Which of {@code n} members of a group to keep so that at most {@code k} are kept, spread evenly: member
     * {@code round(i * n / k)} for {@code i = 0 .. k-1}; all of them when {@code n <= k}.
     */
    static boolean[] spread(int n, int k) {
        boolean[] keep = new boolean[n];
        if (n <= k) {
            java.util.Arrays.fill(keep, true);
            return keep;
        }
        for (int i = 0; i < k; i++) keep[(int) Math.round((double) i * n / k)] = true;
        return keep;
    }

    /** Why {@code title} is not a caption, or null when it is. */
    static String titleProblem(Title title, String stem, SvgMetadata md, Map<String, Integer> titleCounts) {
        String t = title.text();
        if (t.isEmpty()) return title.templated() ? "only \"Clipart by\" an author" : "none";
        if (LETTER.matcher(t).results().count() < 2) return "no words";
        if (BOILERPLATE.matcher(t).find()) return "boilerplate";
        String k = key(t);
        for (String a : md.agents()) if (!key(a).isEmpty() && key(a).equals(k)) return "the author's name";
        if (isFileName(t, stem)) return "a file name";
        int shared = titleCounts.getOrDefault(k, 0);
        if (shared >= COMMON_TITLE) return "shared by " + shared + " pictures (a collection's name)";
        if (title.templated() && shared > 1 && !sharesWord(t, stem)) return "a template's title";
        return null;
    }

    /** Whether {@code title} is only a file name (see the class comment). */
    static boolean isFileName(String title, String stem) {
        if (EXTENSION.matcher(title).matches()) return true;
        boolean oneWord = title.indexOf(' ') < 0;
        if (!oneWord) return false;
        if (DIGIT.matcher(title).find() && LETTER.matcher(title).find()) return true;
        return title.indexOf('_') >= 0 && key(title).equals(key(stem));
    }

    private static boolean sharesWord(String a, String b) {
        Set<String> words = new java.util.HashSet<>();
        Matcher m = WORD.matcher(b.toLowerCase(Locale.ROOT));
        while (m.find()) words.add(m.group());
        m = WORD.matcher(a.toLowerCase(Locale.ROOT));
        while (m.find()) if (words.contains(m.group())) return true;
        return false;
    }

    /** Why {@code desc} is not used, or null when it is. */
    static String descriptionProblem(String desc, String title, SvgMetadata md) {
        if (desc.isEmpty()) return "none";
        if (LETTER.matcher(desc).results().count() < 3) return "no words";
        if (BOILERPLATE.matcher(desc).find() || DESCRIPTION_BOILERPLATE.matcher(desc).find()) return "boilerplate";
        String k = key(desc);
        if (k.equals(key(title))) return "repeats the title";
        for (String a : md.agents()) if (key(a).equals(k)) return "the author's name";
        return null;
    }

    /** The usable keywords, in file order, at most {@link #MAX_KEYWORDS}. */
    static List<String> keywords(SvgMetadata md) {
        Set<String> agentKeys = new java.util.HashSet<>();
        for (String a : md.agents()) agentKeys.add(key(a));
        List<String> out = new ArrayList<>();
        Set<String> seen = new java.util.HashSet<>();
        for (String s : md.subjects()) {
            String k = stripEnds(SvgMetadata.collapse(s.replace('_', ' '))).toLowerCase(Locale.ROOT);
            if (k.isEmpty() || k.length() > 40 || STOP_KEYWORDS.contains(k)) continue;
            if (!LETTER.matcher(k).find() || IDISH.matcher(k).find()) continue;
            if (BOILERPLATE.matcher(k).find()) continue;
            String kk = key(k);
            if (agentKeys.contains(kk) || !seen.add(kk)) continue;
            out.add(k);
            if (out.size() == MAX_KEYWORDS) break;
        }
        return out;
    }

    /** {@code "arki_arrow_down"} as {@code "arki arrow down"}; other titles as they are. */
    static String readable(String title) {
        return title.indexOf(' ') < 0 && title.indexOf('_') >= 0 ? SvgMetadata.collapse(title.replace('_', ' ')) : title;
    }

    /** At most {@code max} characters: cut after the last sentence that fits, else at the last word end. */
    static String shorten(String s, int max) {
        if (s.length() <= max) return s;
        int cut = -1;
        for (int i = max - 1; i > max / 3; i--) {
            char c = s.charAt(i);
            if ((c == '.' || c == '!' || c == '?') && i + 1 < s.length() && s.charAt(i + 1) == ' ') {
                cut = i;
                break;
            }
        }
        if (cut > 0) return stripEnds(s.substring(0, cut + 1));
        int space = s.lastIndexOf(' ', max);
        String t = space > max / 3 ? s.substring(0, space) : s.substring(0, max);
        return stripEnds(t);
    }

    /** Without surrounding quotes and white space, and without end punctuation other than {@code ! ? )}. */
    static String stripEnds(String s) {
        String t = s.strip();
        while (t.length() >= 2 && (t.charAt(0) == '"' && t.charAt(t.length() - 1) == '"'
                || t.charAt(0) == '\'' && t.charAt(t.length() - 1) == '\'')) {
            t = t.substring(1, t.length() - 1).strip();
        }
        while (!t.isEmpty() && ".,;:-_".indexOf(t.charAt(t.length() - 1)) >= 0 && !t.endsWith("...")) {
            t = t.substring(0, t.length() - 1).strip();
        }
        if (t.endsWith("...")) t = t.substring(0, t.length() - 3).strip();
        return t;
    }
}

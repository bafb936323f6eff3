package dev.xbt.data.sources;

import dev.xbt.data.DataSourceException;
import dev.xbt.data.TextCorpus;
import dev.xbt.data.TextSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * {@code wordnet}: WordNet's glosses as sentences for text-only training, from Debian's {@code wordnet-base}
 * ({@code /usr/share/wordnet/data.noun}, {@code data.adj}, ...). Each synset becomes {@code "lemma: definition"}
 * ({@code "cat: feline mammal usually having thick soft fur and no ability to roar"}):
 * <ul>
 *   <li>the lemma is the synset's first word, {@code _} as spaces, without an adjective's position marker
 *       ({@code "long(a)"} is {@code "long"});</li>
 *   <li>the definition is the gloss up to its first {@code ;} outside parentheses, so examples
 *       ({@code "the cat sat on the mat"}) and further senses are left out; a leading usage note in parentheses
 *       ({@code "(usually followed by `to')"}) is removed, and so are quoted examples that remain and stray
 *       quotation marks.</li>
 * </ul>
 * The synsets come in file order, nouns then adjectives by default ({@link #withParts}); {@link #withLimit}
 * keeps {@code N} of them spread evenly over the files (every {@code total / N}-th), so a small sample still
 * covers the whole vocabulary rather than the first letters of the first lexicographer files.
 *
 * <p>{@code wordnet-lemmas} ({@link #lemmas()}) is the same synsets' lemmas alone ({@code "cat"}, {@code "armchair"}):
 * short names, closer to picture titles than the glosses are.
 */
public final class WordNetSource implements TextSource {
    static final String PACKAGE = "wordnet-base";
    /** The parts of speech with data files: noun, adj, verb, adv. */
    public static final List<String> PARTS = List.of("noun", "adj", "verb", "adv");
    private static final Pattern MARKER = Pattern.compile("\\((a|p|ip)\\)$");
    private static final Pattern QUOTED = Pattern.compile("\"[^\"]*\"");
    private static final Pattern LEADING_NOTE = Pattern.compile("^\\([^()]*\\)\\s*");

    private final Path root;
    private final List<String> parts;
    private final int limit;
    private final boolean lemmasOnly;

    /** Nouns and adjectives of the installed package, all of them, as glosses. */
    public WordNetSource() {
        this(Path.of("/"), List.of("noun", "adj"), -1);
    }

    /** The same synsets' lemmas alone ({@code wordnet-lemmas}). */
    public WordNetSource lemmas() {
        return new WordNetSource(root, parts, limit, true);
    }

    /**
     * @param root  where the package's files are ({@code /}, or a fake tree in tests)
     * @param parts which of {@link #PARTS} to read, in that order
     * @param limit at most this many texts, spread evenly; -1 for all
     */
    public WordNetSource(Path root, List<String> parts, int limit) {
        this(root, parts, limit, false);
    }

    private WordNetSource(Path root, List<String> parts, int limit, boolean lemmasOnly) {
        this.lemmasOnly = lemmasOnly;
        this.root = Objects.requireNonNull(root, "root");
        if (parts.isEmpty()) throw new IllegalArgumentException("wordnet: no parts of speech");
        for (String p : parts) {
            if (!PARTS.contains(p)) throw new IllegalArgumentException("wordnet: unknown part of speech \"" + p + "\" ("
                    + String.join(", ", PARTS) + ")");
        }
        if (limit < -1 || limit == 0) throw new IllegalArgumentException("wordnet: limit must be positive or -1, got " + limit);
        this.parts = List.copyOf(parts);
        this.limit = limit;
    }

    /** This source reading other parts of speech. */
    public WordNetSource withParts(List<String> parts) {
        return new WordNetSource(root, parts, limit, lemmasOnly);
    }

    /** This source keeping at most {@code limit} texts (-1: all). */
    public WordNetSource withLimit(int limit) {
        return new WordNetSource(root, parts, limit, lemmasOnly);
    }

    @Override
    public String name() {
        return lemmasOnly ? "wordnet-lemmas" : "wordnet";
    }

    @Override
    public String description() {
        return lemmasOnly ? "WordNet lemmas alone (\"domestic cat\"), nouns and adjectives (wordnet-base)"
                : "WordNet glosses as \"lemma: definition\" sentences, nouns and adjectives (wordnet-base)";
    }

    Path dataFile(String part) {
        return root.resolve("usr/share/wordnet/data." + part);
    }

    @Override
    public List<String> texts() throws IOException {
        Debian.Need[] needs = parts.stream().map(p -> new Debian.Need(PACKAGE, dataFile(p))).toArray(Debian.Need[]::new);
        Debian.require(name(), needs);
        List<String> all = new ArrayList<>();
        for (String p : parts) {
            try (BufferedReader r = Files.newBufferedReader(dataFile(p), StandardCharsets.UTF_8)) {
                String line;
                int lineNo = 0;
                while ((line = r.readLine()) != null) {
                    lineNo++;
                    if (line.isEmpty() || line.charAt(0) == ' ') continue; // the licence header
                    String t = lemmasOnly ? lemma(line) : sentence(line);
                    if (t == null) {
                        throw new DataSourceException("wordnet: " + dataFile(p) + ":" + lineNo + ": not a WordNet data"
                                + " line; reinstall the package with: sudo apt-get install --reinstall " + PACKAGE);
                    }
                    if (!t.isEmpty()) all.add(t);
                }
            }
        }
        return TextCorpus.evenly(all, limit);
    }

    /**
     * The sentence of one line of a WordNet data file ({@code "00001740 03 n 01 entity 0 003 ... | gloss"}): "" when
     * the synset has no usable definition, null when the line is not a data line.
     */
    static String sentence(String line) {
        String lemma = lemma(line);
        if (lemma == null) return null;
        int bar = line.indexOf(" | ");
        if (bar < 0) return "";
        String def = definition(line.substring(bar + 3));
        return def.isEmpty() ? "" : lemma + ": " + def;
    }

    /** The first lemma of a WordNet data line, {@code _} as spaces, no position marker; null when not a data line. */
    static String lemma(String line) {
        int bar = line.indexOf(" | ");
        String[] f = (bar < 0 ? line : line.substring(0, bar)).split(" ");
        if (f.length < 6 || !f[0].chars().allMatch(Character::isDigit)) return null;
        int words;
        try {
            words = Integer.parseInt(f[3], 16);
        } catch (NumberFormatException e) {
            return null;
        }
        if (words < 1) return null;
        return MARKER.matcher(f[4]).replaceFirst("").replace('_', ' ');
    }

    /** The first definition of a gloss, without usage notes and examples. */
    static String definition(String gloss) {
        String g = LEADING_NOTE.matcher(gloss.strip()).replaceFirst("");
        int depth = 0;
        int end = g.length();
        for (int i = 0; i < g.length(); i++) {
            char c = g.charAt(i);
            if (c == '(') depth++;
            else if (c == ')') depth = Math.max(0, depth - 1);
            else if (c == ';' && depth == 0) {
                end = i;
                break;
            }
        }
        String d = QUOTED.matcher(g.substring(0, end)).replaceAll("").replace("\"", ""); // and stray quotes
        d = SvgMetadata.collapse(d);
        while (!d.isEmpty() && ",;:".indexOf(d.charAt(d.length() - 1)) >= 0) d = d.substring(0, d.length() - 1).strip();
        return d;
    }
}

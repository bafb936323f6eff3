package dev.xbt.text;

/**
 * One line of a merges file: the two adjacent symbols that BPE joins, in byte-level spelling
 * (a word's last symbol ends with {@code </w>}).
 */
public record BpeMerge(String left, String right) {
    public BpeMerge {
        if (left.isEmpty() || right.isEmpty() || hasSpace(left) || hasSpace(right)) {
            throw new IllegalArgumentException("a merge symbol is empty or contains white space: '" + left + "' '" + right + "'");
        }
    }

    /** The symbol the merge makes. */
    public String joined() {
        return left + right;
    }

    private static boolean hasSpace(String s) {
        return s.chars().anyMatch(Character::isWhitespace);
    }
}

package dev.xbt.kernels.cuda;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The kernel entry points of a PTX text and their parameter types, read from the
 * {@code .entry NAME(} line and the {@code .param TYPE NAME} lines up to the closing parenthesis.
 * A parameter is reported by its PTX type ({@code .u32}, {@code .u64}, {@code .f32}, ...); one
 * passed by value as bytes is reported as {@code .b8[SIZE]}. Qualifiers ({@code .align N},
 * {@code .ptr}, state spaces) are skipped.
 */
final class PtxSignatures {
    private PtxSignatures() {}

    /** Entry name to its parameter types, in the order of the text. */
    static Map<String, List<String>> parse(String ptx) {
        Map<String, List<String>> entries = new LinkedHashMap<>();
        List<String> params = null;
        for (String raw : ptx.split("\n")) {
            String line = raw.strip();
            int at = line.indexOf(".entry ");
            if (at >= 0) {
                String rest = line.substring(at + ".entry ".length()).strip();
                int end = 0;
                while (end < rest.length() && (Character.isLetterOrDigit(rest.charAt(end)) || rest.charAt(end) == '_')) end++;
                params = new ArrayList<>();
                entries.put(rest.substring(0, end), params);
                if (rest.substring(end).strip().startsWith("()")) params = null; // no parameters
                continue;
            }
            if (params == null) continue;
            if (line.startsWith(".param ")) {
                params.add(paramType(line));
                if (line.endsWith(")")) params = null;
            } else if (line.startsWith(")")) {
                params = null;
            }
        }
        return entries;
    }

    /** The type of one {@code .param} line. */
    static String paramType(String line) {
        String[] tokens = line.replace(",", " ").replace(")", " ").trim().split("\\s+");
        String type = null;
        for (int i = 1; i < tokens.length; i++) {
            String tk = tokens[i];
            if (tk.equals(".align")) {
                i++; // its number
                continue;
            }
            if (tk.equals(".ptr") || tk.equals(".global") || tk.equals(".const") || tk.equals(".shared") || tk.equals(".local")) continue;
            if (type == null && tk.startsWith(".")) {
                type = tk;
                continue;
            }
            if (type != null) {
                int bracket = tk.indexOf('[');
                return bracket >= 0 ? type + tk.substring(bracket) : type;
            }
        }
        if (type == null) throw new IllegalArgumentException("no type in PTX parameter line: " + line);
        return type;
    }
}

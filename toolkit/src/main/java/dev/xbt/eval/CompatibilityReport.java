package dev.xbt.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.xbt.train.RunDirectory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Backward compatibility of upgrade methods, measured by retrieval. Three kinds of rows, all on the same items:
 * <ul>
 *   <li>old→old: old queries against the old gallery (the deployed system, the bar to clear);</li>
 *   <li>new→new: new queries against a gallery re-embedded by the new model (the full re-index, the ceiling);</li>
 *   <li>one row per method: new queries mapped into the old space against the old gallery (no re-index).</li>
 * </ul>
 * A <b>cell</b> is one direction at one cut-off (image→text or text→image, R@1, R@5 or R@10). For a method and a cell:
 * <ul>
 *   <li><b>compatible</b> when new→old recall is strictly above old→old; a cell where old→old is already 1 counts as
 *       compatible when new→old is 1 too (nothing left to improve);</li>
 *   <li><b>gap closed</b> = (new→old − old→old) / (new→new − old→old): 0 is no better than the old model, 1 as good as
 *       a re-index, negative worse than not upgrading; undefined (NaN, null in JSON) when new→new equals old→old;</li>
 *   <li><b>flips</b> at cut-off K: a positive flip is a query that missed at K under old→old and hits under the
 *       method, a negative flip one that hit and now misses; each as a share of the direction's queries. Reported for
 *       every K; the table shows K = 1.</li>
 * </ul>
 * {@link #gate} turns a method's cells into an exit code: {@value #GATE_FAILED} when any of its cells is incompatible.
 */
public final class CompatibilityReport {
    /** Exit code of {@code --gate METHOD} when the method is incompatible somewhere. */
    public static final int GATE_FAILED = 3;
    public static final String OLD_OLD = "old->old";
    public static final String NEW_NEW = "new->new";

    /** One direction at one cut-off. */
    public record Cell(Direction direction, int k) {
        public String key() {
            return Ranks.key(direction, k);
        }
    }

    /** Flip rates of one method in one cell. */
    public record Flips(double positive, double negative) {}

    private final Ranks oldOld;
    private final Ranks newNew;
    private final Map<String, Ranks> methods;

    /** {@code methods}: name → ranks of new queries mapped into the old space against the old gallery, in order. */
    public CompatibilityReport(Ranks oldOld, Ranks newNew, Map<String, Ranks> methods) {
        this.oldOld = oldOld;
        this.newNew = newNew;
        this.methods = Collections.unmodifiableMap(new LinkedHashMap<>(methods));
        for (Map.Entry<String, Ranks> e : this.methods.entrySet()) {
            String name = e.getKey();
            if (name.equals(OLD_OLD) || name.equals(NEW_NEW)) throw new IllegalArgumentException("method name " + name + " is reserved");
            for (Direction d : Direction.values()) {
                if (e.getValue().ranks(d).length != oldOld.ranks(d).length || newNew.ranks(d).length != oldOld.ranks(d).length) {
                    throw new IllegalArgumentException("compatibility report: " + name + " was evaluated on other queries ("
                            + d.label() + ")");
                }
            }
        }
    }

    /** Every cell, image→text first, by K. */
    public static List<Cell> cells() {
        List<Cell> cells = new ArrayList<>();
        for (Direction d : Direction.values()) for (int k : Ranks.KS) cells.add(new Cell(d, k));
        return cells;
    }

    public Ranks oldOld() {
        return oldOld;
    }

    public Ranks newNew() {
        return newNew;
    }

    /** The methods' names, in the order given. */
    public List<String> methods() {
        return List.copyOf(methods.keySet());
    }

    /** The ranks of one method; the error lists the known methods. */
    public Ranks method(String name) {
        Ranks r = methods.get(name);
        if (r == null) throw new IllegalArgumentException("unknown method '" + name + "'; the report has " + methods.keySet());
        return r;
    }

    public boolean compatible(String method, Cell c) {
        double m = method(method).recall(c.direction(), c.k()), base = oldOld.recall(c.direction(), c.k());
        return m > base || base == 1.0 && m == 1.0;
    }

    /** The cells where the method is not compatible (empty: compatible everywhere). */
    public List<Cell> incompatibleCells(String method) {
        return cells().stream().filter(c -> !compatible(method, c)).toList();
    }

    public double gapClosed(String method, Cell c) {
        double m = method(method).recall(c.direction(), c.k());
        double base = oldOld.recall(c.direction(), c.k()), top = newNew.recall(c.direction(), c.k());
        return top == base ? Double.NaN : (m - base) / (top - base);
    }

    public Flips flips(String method, Cell c) {
        int[] before = oldOld.ranks(c.direction()), after = method(method).ranks(c.direction());
        int pos = 0, neg = 0;
        for (int q = 0; q < before.length; q++) {
            boolean was = before[q] < c.k(), is = after[q] < c.k();
            if (!was && is) pos++;
            if (was && !is) neg++;
        }
        int n = Math.max(1, before.length);
        return new Flips(pos / (double) n, neg / (double) n);
    }

    /**
     * The decision of {@code --gate METHOD}: 0 when the method is compatible in every cell, {@value #GATE_FAILED}
     * otherwise. An unknown method is an {@link IllegalArgumentException} (a usage error, not a failed gate).
     */
    public int gate(String method) {
        return incompatibleCells(method).isEmpty() ? 0 : GATE_FAILED;
    }

    /** One line explaining {@link #gate}'s decision. */
    public String gateMessage(String method) {
        List<Cell> bad = incompatibleCells(method);
        if (bad.isEmpty()) return "gate " + method + ": compatible in all " + cells().size() + " cells";
        return "gate " + method + ": incompatible in " + bad.size() + " of " + cells().size() + " cells ("
                + String.join(", ", bad.stream().map(c -> c.direction().label() + " R@" + c.k()).toList()) + ")";
    }

    // ---- output ---------------------------------------------------------------------------------------

    /**
     * Two tables: recall in percent for every row (a method's cell marked {@code +} when compatible, {@code -} when
     * not), then per method the gap closed per cell (percent) and the R@1 flip rates (percent of queries).
     */
    public String table() {
        StringBuilder sb = new StringBuilder();
        int w = Math.max(12, methods.keySet().stream().mapToInt(String::length).max().orElse(0));
        String name = "%-" + w + "s";
        sb.append(String.format(Locale.ROOT, name + "  %-26s   %-26s%n", "", "image->text", "text->image"));
        sb.append(String.format(Locale.ROOT, name, "method"));
        for (Direction ignored : Direction.values()) {
            for (int k : Ranks.KS) sb.append(String.format(Locale.ROOT, " %7s ", "R@" + k));
            sb.append("  ");
        }
        sb.append(String.format(Locale.ROOT, "%7s%n", "rsum"));
        recallRow(sb, name, OLD_OLD, oldOld, null);
        recallRow(sb, name, NEW_NEW, newNew, null);
        for (String m : methods.keySet()) recallRow(sb, name, m, methods.get(m), m);
        if (!methods.isEmpty()) {
            sb.append(String.format(Locale.ROOT, "%n" + name + "  %-26s   %-26s  %s%n", "gap closed %", "image->text",
                    "text->image", "R@1 flips % (+/-)"));
            for (String m : methods.keySet()) {
                sb.append(String.format(Locale.ROOT, name, m));
                for (Direction d : Direction.values()) {
                    for (int k : Ranks.KS) {
                        double g = gapClosed(m, new Cell(d, k));
                        sb.append(Double.isNaN(g) ? String.format(Locale.ROOT, " %8s", "n/a")
                                : String.format(Locale.ROOT, " %8.1f", 100 * g));
                    }
                    sb.append("  ");
                }
                for (Direction d : Direction.values()) {
                    Flips f = flips(m, new Cell(d, 1));
                    sb.append(String.format(Locale.ROOT, " %s %.1f/%.1f", d.key(), 100 * f.positive(), 100 * f.negative()));
                }
                sb.append(System.lineSeparator());
            }
        }
        return sb.toString();
    }

    private void recallRow(StringBuilder sb, String name, String label, Ranks r, String method) {
        sb.append(String.format(Locale.ROOT, name, label));
        for (Direction d : Direction.values()) {
            for (int k : Ranks.KS) {
                String mark = method == null ? " " : compatible(method, new Cell(d, k)) ? "+" : "-";
                sb.append(String.format(Locale.ROOT, " %7.2f%s", 100 * r.recall(d, k), mark));
            }
            sb.append("  ");
        }
        sb.append(String.format(Locale.ROOT, "%7.1f%n", r.rsum()));
    }

    /**
     * The report as JSON: {@code old_old} and {@code new_new} recalls; per method its recalls, and per cell
     * {@code compatible}, {@code gap_closed} (null when undefined), {@code flips_positive}, {@code flips_negative};
     * and the method's overall {@code compatible}.
     */
    public ObjectNode toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("tie_rule", "a non-matching item scoring equal to the matching one ranks ahead of it");
        root.put("compatible_rule", "new->old recall strictly above old->old (or both 1)");
        root.set("old_old", oldOld.toJson());
        root.set("new_new", newNew.toJson());
        ObjectNode ms = root.putObject("methods");
        for (String m : methods.keySet()) {
            ObjectNode o = ms.putObject(m);
            o.set("recall", methods.get(m).toJson());
            o.put("compatible", incompatibleCells(m).isEmpty());
            ObjectNode cells = o.putObject("cells");
            for (Cell c : cells()) {
                ObjectNode co = cells.putObject(c.key());
                co.put("compatible", compatible(m, c));
                double g = gapClosed(m, c);
                if (Double.isNaN(g)) co.putNull("gap_closed");
                else co.put("gap_closed", g);
                Flips f = flips(m, c);
                co.put("flips_positive", f.positive());
                co.put("flips_negative", f.negative());
            }
            ArrayNode bad = o.putArray("incompatible_cells");
            for (Cell c : incompatibleCells(m)) bad.add(c.key());
        }
        return root;
    }

    /** Writes {@link #toJson()} to {@code file} atomically (pretty-printed). */
    public void write(Path file) {
        writeJson(file, toJson());
    }

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Writes a JSON object, pretty-printed, atomically. */
    static void writeJson(Path file, ObjectNode o) {
        try {
            RunDirectory.writeAtomically(file, JSON.writeValueAsString(o) + "\n");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("JSON into memory failed", e);
        }
    }
}

package dev.xbt.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.xbt.train.RunDirectory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Backward compatibility of upgrade methods, measured by retrieval on one split of a data set. Three kinds of rows,
 * all on the same items:
 * <ul>
 *   <li>old/old: old queries against the old gallery (the deployed system, the bar to clear);</li>
 *   <li>new/new: new queries against a gallery re-embedded by the new model (the full re-index, the ceiling);</li>
 *   <li>one row per method: new queries mapped into the old space against the old gallery (no re-index); a method
 *       that blends with the old model's query embedding has query model {@code new+old}.</li>
 * </ul>
 * A <b>cell</b> is one direction at one cut-off (image→text or text→image, R@1, R@5 or R@10). For a method and a cell:
 * <ul>
 *   <li><b>compatible</b> when new→old recall is strictly above old/old; a cell where old/old is already 1 counts as
 *       compatible when new→old is 1 too (nothing left to improve);</li>
 *   <li><b>gap closed</b> = (new→old − old/old) / (new/new − old/old): 0 is no better than the old model, 1 as good as
 *       a re-index, negative worse than not upgrading; undefined (NaN, null in JSON) when new/new equals old/old;</li>
 *   <li><b>flips</b> at cut-off K: a positive flip is a query that missed at K under old/old and hits under the
 *       method, a negative flip one that hit and now misses; each as a share of the direction's queries. The JSON
 *       reports K = 1.</li>
 * </ul>
 * {@link #gate} turns a method's cells into an exit code: {@value #GATE_FAILED} when any of its cells is incompatible.
 * {@link #put} adds fields to the JSON's top level (timings, the models, chosen SLERP weights).
 */
public final class CompatibilityReport {
    /** Exit code of {@code --gate METHOD} when the method is incompatible somewhere. */
    public static final int GATE_FAILED = 3;
    public static final String OLD_OLD = "old/old";
    public static final String NEW_NEW = "new/new";

    /** One direction at one cut-off. */
    public record Cell(Direction direction, int k) {
        /** The key in report.json: {@code i2t_R@1}, ..., {@code t2i_R@10}. */
        public String key() {
            return direction.key() + "_R@" + k;
        }
    }

    /** Flip rates of one method in one cell. */
    public record Flips(double positive, double negative) {}

    /**
     * One method's row.
     *
     * @param name       the method, e.g. {@code procrustes}
     * @param queryModel which model embeds its queries: {@code new}, or {@code new+old} when it also runs the old one
     * @param ranks      its queries' ranks against the old gallery
     */
    public record Method(String name, String queryModel, Ranks ranks) {}

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final String dataset;
    private final Ranks oldOld;
    private final Ranks newNew;
    private final Map<String, Method> methods = new LinkedHashMap<>();
    private final Map<String, Object> extra = new LinkedHashMap<>();

    /** {@code dataset}: a name for the table and the JSON, e.g. {@code shapes-6k (test)}. */
    public CompatibilityReport(String dataset, Ranks oldOld, Ranks newNew, List<Method> methods) {
        this.dataset = dataset;
        this.oldOld = oldOld;
        this.newNew = newNew;
        for (Method m : methods) {
            String name = m.name();
            if (name.equals(OLD_OLD) || name.equals(NEW_NEW)) throw new IllegalArgumentException("method name " + name + " is reserved");
            if (this.methods.put(name, m) != null) throw new IllegalArgumentException("two methods named " + name);
            for (Direction d : Direction.values()) {
                if (m.ranks().ranks(d).length != oldOld.ranks(d).length || newNew.ranks(d).length != oldOld.ranks(d).length) {
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

    public String dataset() {
        return dataset;
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
        Method m = methods.get(name);
        if (m == null) throw new IllegalArgumentException("unknown method '" + name + "'; the report has " + methods.keySet());
        return m.ranks();
    }

    /** Adds a field to the JSON's top level (any value Jackson can write); returns this. */
    public CompatibilityReport put(String key, Object value) {
        extra.put(key, value);
        return this;
    }

    public boolean compatible(String method, Cell c) {
        double m = method(method).recall(c.direction(), c.k()), base = oldOld.recall(c.direction(), c.k());
        return m > base || base == 1.0 && m == 1.0;
    }

    /** Whether the method is compatible in every cell. */
    public boolean compatible(String method) {
        return incompatibleCells(method).isEmpty();
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

    /** Resamples of {@link #gapClosedInterval}; fixed seed, so a report is the same every time it is made. */
    static final int BOOTSTRAP_RESAMPLES = 1000;
    private static final long BOOTSTRAP_SEED = 0x5EEDB007L;
    private Map<String, double[][]> intervals;

    /**
     * A 90 % interval of {@link #gapClosed}: a paired bootstrap over the direction's queries (each of
     * {@value #BOOTSTRAP_RESAMPLES} resamples draws the queries with replacement and scores old/old, new/new and every
     * method on that same draw); the 5th and 95th percentiles of the resamples' gap closed, over those where it is
     * defined. It is the uncertainty that comes from having this many queries, not the spread over training seeds.
     * {NaN, NaN} where no resample defines it.
     */
    public double[] gapClosedInterval(String method, Cell c) {
        method(method);
        if (intervals == null) intervals = bootstrap();
        return intervals.get(method)[cells().indexOf(c)].clone();
    }

    private Map<String, double[][]> bootstrap() {
        List<Cell> cells = cells();
        Map<String, double[][]> out = new LinkedHashMap<>();
        Map<String, double[][]> gaps = new LinkedHashMap<>(); // method -> [cell][resample]
        for (String m : methods.keySet()) gaps.put(m, new double[cells.size()][BOOTSTRAP_RESAMPLES]);
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(BOOTSTRAP_SEED);
        for (Direction d : Direction.values()) {
            int[] o = oldOld.ranks(d), n = newNew.ranks(d);
            int q = o.length;
            for (int b = 0; b < BOOTSTRAP_RESAMPLES; b++) {
                int[] draw = new int[q];
                for (int i = 0; i < q; i++) draw[i] = rnd.nextInt(q);
                for (int k : Ranks.KS) {
                    int ci = cells.indexOf(new Cell(d, k));
                    int ho = hits(o, draw, k), hn = hits(n, draw, k);
                    for (Map.Entry<String, Method> e : methods.entrySet()) {
                        int hm = hits(e.getValue().ranks().ranks(d), draw, k);
                        gaps.get(e.getKey())[ci][b] = hn == ho ? Double.NaN : (hm - ho) / (double) (hn - ho);
                    }
                }
            }
        }
        for (Map.Entry<String, double[][]> e : gaps.entrySet()) {
            double[][] iv = new double[cells.size()][];
            for (int ci = 0; ci < cells.size(); ci++) {
                double[] g = java.util.Arrays.stream(e.getValue()[ci]).filter(x -> !Double.isNaN(x)).sorted().toArray();
                iv[ci] = g.length == 0 ? new double[] {Double.NaN, Double.NaN}
                        : new double[] {g[(int) Math.floor(0.05 * (g.length - 1))], g[(int) Math.ceil(0.95 * (g.length - 1))]};
            }
            out.put(e.getKey(), iv);
        }
        return out;
    }

    private static int hits(int[] ranks, int[] draw, int k) {
        int h = 0;
        for (int i : draw) if (ranks[i] < k) h++;
        return h;
    }

    /**
     * One line naming the method's weakest cell (smallest gap closed) with its {@link #gapClosedInterval}, e.g.
     * {@code xbt: weakest cell text->image R@1, gap closed 0.26 (90 % bootstrap interval over the queries 0.22 to 0.30)}.
     */
    public String weakestCell(String method) {
        Cell worst = null;
        for (Cell c : cells()) {
            double g = gapClosed(method, c);
            if (!Double.isNaN(g) && (worst == null || g < gapClosed(method, worst))) worst = c;
        }
        if (worst == null) return method + ": gap closed undefined in every cell (new/new equals old/old)";
        double[] iv = gapClosedInterval(method, worst);
        return String.format(Locale.ROOT, "%s: weakest cell %s R@%d, gap closed %.2f (90 %% bootstrap interval over the queries %.2f to %.2f)",
                method, worst.direction().label(), worst.k(), gapClosed(method, worst), iv[0], iv[1]);
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
        return compatible(method) ? 0 : GATE_FAILED;
    }

    /** One line explaining {@link #gate}'s decision. */
    public String gateMessage(String method) {
        List<Cell> bad = incompatibleCells(method);
        if (bad.isEmpty()) return "gate " + method + ": compatible in all " + cells().size() + " cells";
        return "gate " + method + ": incompatible in " + bad.size() + " of " + cells().size() + " cells ("
                + String.join(", ", bad.stream().map(c -> c.direction().label() + " R@" + c.k()).toList()) + ")";
    }

    // ---- output ---------------------------------------------------------------------------------------

    /** A row of the table and of the JSON's {@code rows}. */
    private record Row(String method, String queryModel, String galleryModel, Ranks ranks) {}

    private List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        rows.add(new Row(OLD_OLD, "old", "old", oldOld));
        rows.add(new Row(NEW_NEW, "new", "new", newNew));
        for (Method m : methods.values()) rows.add(new Row(m.name(), m.queryModel(), "old", m.ranks()));
        return rows;
    }

    private int images() {
        return oldOld.ranks(Direction.IMAGE_TO_TEXT).length;
    }

    private int captions() {
        return oldOld.ranks(Direction.TEXT_TO_IMAGE).length;
    }

    /**
     * The table printed on stdout: per row the recalls in percent and rsum; per method whether it is compatible in
     * every cell and the smallest gap closed of the six cells (of those where it is defined).
     */
    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s: %d images, %d captions%n", dataset, images(), captions()));
        sb.append(String.format(Locale.ROOT, "%-17s %-11s | %-19s | %-19s | %6s | %-6s %s%n", "method", "query/gal",
                "image->text R@1/5/10", "text->image R@1/5/10", "rsum", "compat", "min gap closed"));
        for (Row r : rows()) {
            String compat = "", gap = "";
            if (methods.containsKey(r.method())) {
                compat = compatible(r.method()) ? "yes" : "NO";
                double min = Double.POSITIVE_INFINITY;
                for (Cell c : cells()) {
                    double g = gapClosed(r.method(), c);
                    if (!Double.isNaN(g)) min = Math.min(min, g);
                }
                gap = min == Double.POSITIVE_INFINITY ? "-" : String.format(Locale.ROOT, "%.2f", min);
            }
            sb.append(String.format(Locale.ROOT, "%-17s %-11s |", r.method(), r.queryModel() + "/" + r.galleryModel()));
            for (Direction d : Direction.values()) {
                for (int k : Ranks.KS) sb.append(String.format(Locale.ROOT, " %5.1f", 100 * r.ranks().recall(d, k)));
                sb.append("   |");
            }
            sb.append(String.format(Locale.ROOT, " %6.1f | %-6s %s%n", r.ranks().rsum(), compat, gap));
        }
        return sb.toString();
    }

    /**
     * The report as JSON: {@code dataset {name, images, captions}}; {@code rows}, one per row of the table, with
     * {@code method}, {@code query_model}, {@code gallery_model}, {@code i2t} and {@code t2i} recalls in percent
     * ({@code R@1}, {@code R@5}, {@code R@10}) and {@code rsum}; {@code compatibility}, per method its {@code cells}
     * (compatible or not), {@code all}, {@code gap_closed} per cell (null when undefined), {@code gap_closed_90} per cell
     * (its 90 % bootstrap interval, {@link #gapClosedInterval}), {@code flips_R@1} and
     * {@code incompatible_cells}; then the fields given to {@link #put}.
     */
    public ObjectNode toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.putObject("dataset").put("name", dataset).put("images", images()).put("captions", captions());
        root.put("tie_rule", "a non-matching item scoring equal to the matching one ranks ahead of it");
        root.put("compatible_rule", "new->old recall strictly above old/old (or both 1)");
        ArrayNode rows = root.putArray("rows");
        for (Row r : rows()) {
            ObjectNode o = rows.addObject().put("method", r.method()).put("query_model", r.queryModel())
                    .put("gallery_model", r.galleryModel());
            for (Direction d : Direction.values()) {
                ObjectNode dir = o.putObject(d.key());
                for (int k : Ranks.KS) dir.put("R@" + k, round(100 * r.ranks().recall(d, k), 100));
            }
            o.put("rsum", round(r.ranks().rsum(), 100));
        }
        ObjectNode compat = root.putObject("compatibility");
        for (String m : methods.keySet()) {
            ObjectNode o = compat.putObject(m);
            ObjectNode cells = o.putObject("cells");
            for (Cell c : cells()) cells.put(c.key(), compatible(m, c));
            o.put("all", compatible(m));
            ObjectNode gap = o.putObject("gap_closed");
            for (Cell c : cells()) {
                double g = gapClosed(m, c);
                if (Double.isNaN(g)) gap.putNull(c.key());
                else gap.put(c.key(), round(g, 1000));
            }
            ObjectNode interval = o.putObject("gap_closed_90");
            for (Cell c : cells()) {
                double[] iv = gapClosedInterval(m, c);
                if (Double.isNaN(iv[0])) interval.putNull(c.key());
                else interval.putArray(c.key()).add(round(iv[0], 1000)).add(round(iv[1], 1000));
            }
            ObjectNode flips = o.putObject("flips_R@1");
            for (Direction d : Direction.values()) {
                Flips f = flips(m, new Cell(d, 1));
                flips.put(d.key() + "_positive", round(f.positive(), 10000));
                flips.put(d.key() + "_negative", round(f.negative(), 10000));
            }
            ArrayNode bad = o.putArray("incompatible_cells");
            for (Cell c : incompatibleCells(m)) bad.add(c.key());
        }
        extra.forEach((k, v) -> root.set(k, JSON.valueToTree(v)));
        return root;
    }

    private static double round(double v, double scale) {
        return Math.round(v * scale) / scale;
    }

    /** Writes {@link #toJson()} to {@code file} atomically (pretty-printed). */
    public void write(Path file) {
        try {
            RunDirectory.writeAtomically(file, JSON.writeValueAsString(toJson()) + "\n");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("JSON into memory failed", e);
        }
    }
}

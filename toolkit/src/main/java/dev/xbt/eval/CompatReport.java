package dev.xbt.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.xbt.train.RunDirectory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The compatibility report: old→old, new→new and per method new→old, image→text and text→image Recall@1/5/10;
 * per method and cell the compatibility flag (above old→old), the gap closed ((x − old→old) / (new→new − old→old))
 * and the flip rates at R@1 against old→old (negative: a query old→old got right and the method gets wrong).
 */
public final class CompatReport {
    public static final String OLD_OLD = "old/old";
    public static final String NEW_NEW = "new/new";
    private static final String[] CELLS = {"i2t_R@1", "i2t_R@5", "i2t_R@10", "t2i_R@1", "t2i_R@5", "t2i_R@10"};

    /** One row: a method's ranks of image queries and caption queries. */
    public record Row(String method, String queryModel, String galleryModel, int[] i2tRanks, int[] t2iRanks) {
        /** R@1/5/10 image→text then text→image, in percent. */
        public double[] cells() {
            Ranks r = new Ranks(i2tRanks, t2iRanks);
            double[] cells = new double[6];
            for (int k = 0; k < 3; k++) {
                cells[k] = 100 * r.recall(Direction.IMAGE_TO_TEXT, Ranks.KS[k]);
                cells[3 + k] = 100 * r.recall(Direction.TEXT_TO_IMAGE, Ranks.KS[k]);
            }
            return cells;
        }

        public double rsum() {
            double s = 0;
            for (double v : cells()) s += v;
            return s;
        }
    }

    private final String dataset;
    private final int images, captions;
    private final List<Row> rows = new ArrayList<>();
    private final Map<String, Object> extra = new LinkedHashMap<>();

    public CompatReport(String dataset, int images, int captions) {
        this.dataset = dataset;
        this.images = images;
        this.captions = captions;
    }

    public CompatReport add(Row row) {
        rows.add(row);
        return this;
    }

    /** A field added to the JSON's top level (e.g. timings, chosen SLERP weights). */
    public CompatReport put(String key, Object value) {
        extra.put(key, value);
        return this;
    }

    public List<Row> rows() {
        return List.copyOf(rows);
    }

    private Row row(String method) {
        for (Row r : rows) if (r.method().equals(method)) return r;
        throw new IllegalArgumentException("the report has no row '" + method + "'");
    }

    /** Whether every cell of {@code method} is above old→old. */
    public boolean compatible(String method) {
        double[] x = row(method).cells(), oo = row(OLD_OLD).cells();
        for (int i = 0; i < x.length; i++) if (!(x[i] > oo[i])) return false;
        return true;
    }

    /** Gap closed per cell of {@link #CELLS}. */
    public double[] gapClosed(String method) {
        double[] x = row(method).cells(), oo = row(OLD_OLD).cells(), nn = row(NEW_NEW).cells();
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) g[i] = nn[i] == oo[i] ? Double.NaN : (x[i] - oo[i]) / (nn[i] - oo[i]);
        return g;
    }

    /** Methods, i.e. rows besides old/old and new/new. */
    public List<String> methods() {
        return rows.stream().map(Row::method).filter(m -> !m.equals(OLD_OLD) && !m.equals(NEW_NEW)).toList();
    }

    public ObjectNode toJson() {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.putObject("dataset").put("name", dataset).put("images", images).put("captions", captions);
        var rowsJson = root.putArray("rows");
        for (Row r : rows) {
            double[] c = r.cells();
            ObjectNode o = rowsJson.addObject().put("method", r.method()).put("query_model", r.queryModel())
                    .put("gallery_model", r.galleryModel());
            o.putObject("i2t").put("R@1", round(c[0])).put("R@5", round(c[1])).put("R@10", round(c[2]));
            o.putObject("t2i").put("R@1", round(c[3])).put("R@5", round(c[4])).put("R@10", round(c[5]));
            o.put("rsum", round(r.rsum()));
        }
        ObjectNode compat = root.putObject("compatibility");
        Row oo = row(OLD_OLD);
        double[] ooCells = oo.cells();
        for (String m : methods()) {
            ObjectNode o = compat.putObject(m);
            double[] x = row(m).cells(), g = gapClosed(m);
            ObjectNode cells = o.putObject("cells"), gap = o.putObject("gap_closed");
            for (int i = 0; i < CELLS.length; i++) {
                cells.put(CELLS[i], x[i] > ooCells[i]);
                gap.put(CELLS[i], Math.round(g[i] * 1000) / 1000.0);
            }
            o.put("all", compatible(m));
            ObjectNode flips = o.putObject("flips_R@1");
            flips(flips, "i2t", oo.i2tRanks(), row(m).i2tRanks());
            flips(flips, "t2i", oo.t2iRanks(), row(m).t2iRanks());
        }
        extra.forEach((k, v) -> root.set(k, json.valueToTree(v)));
        return root;
    }

    private static void flips(ObjectNode into, String dir, int[] before, int[] after) {
        int pos = 0, neg = 0;
        for (int i = 0; i < before.length; i++) {
            if (before[i] == 0 && after[i] != 0) neg++;
            if (before[i] != 0 && after[i] == 0) pos++;
        }
        into.put(dir + "_positive", Math.round(10000.0 * pos / before.length) / 10000.0);
        into.put(dir + "_negative", Math.round(10000.0 * neg / before.length) / 10000.0);
    }

    /** Writes report.json atomically. */
    public void write(Path file) {
        try {
            String text = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(toJson());
            RunDirectory.writeAtomically(file, text + "\n");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The table printed on stdout: recalls, rsum, and per method the compatibility and the smallest gap closed. */
    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s: %d images, %d captions%n", dataset, images, captions));
        sb.append(String.format(Locale.ROOT, "%-17s %-11s | %-19s | %-19s | %6s | %-6s %s%n", "method", "query/gal",
                "image->text R@1/5/10", "text->image R@1/5/10", "rsum", "compat", "min gap closed"));
        for (Row r : rows) {
            double[] c = r.cells();
            String compat = "", gap = "";
            if (!r.method().equals(OLD_OLD) && !r.method().equals(NEW_NEW)) {
                compat = compatible(r.method()) ? "yes" : "NO";
                double min = Double.POSITIVE_INFINITY;
                for (double g : gapClosed(r.method())) min = Math.min(min, g);
                gap = String.format(Locale.ROOT, "%.2f", min);
            }
            sb.append(String.format(Locale.ROOT, "%-17s %-11s | %5.1f %5.1f %5.1f   | %5.1f %5.1f %5.1f   | %6.1f | %-6s %s%n",
                    r.method(), r.queryModel() + "/" + r.galleryModel(), c[0], c[1], c[2], c[3], c[4], c[5], r.rsum(),
                    compat, gap));
        }
        return sb.toString();
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}

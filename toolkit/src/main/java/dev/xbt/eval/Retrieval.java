package dev.xbt.eval;

/**
 * Cross-modal retrieval ranks and Recall@K. Images own captions ({@code owner[q]} is caption q's image). The rank of a
 * query is the number of wrong gallery items scoring at least as high as its best right one (ties count against
 * it), so a hit at K is rank &lt; K.
 */
public final class Retrieval {
    public static final int[] KS = {1, 5, 10};

    private Retrieval() {}

    /** Ranks and recalls of both directions; recalls in percent for K = 1, 5, 10. */
    public record Result(int[] imageToTextRanks, int[] textToImageRanks, double[] imageToText, double[] textToImage) {
        /** Sum of the six recalls. */
        public double rsum() {
            double s = 0;
            for (double v : imageToText) s += v;
            for (double v : textToImage) s += v;
            return s;
        }
    }

    /**
     * Both directions for unit rows {@code images[i]} and {@code texts[q]} in one space; {@code textToImage[q]} is the
     * image caption q belongs to. An image query hits when any of its captions ranks within K.
     */
    public static Result evaluate(float[][] images, float[][] texts, int[] textToImage) {
        if (texts.length != textToImage.length) {
            throw new IllegalArgumentException("retrieval: " + texts.length + " texts but " + textToImage.length + " owners");
        }
        int d = images.length > 0 ? images[0].length : texts.length > 0 ? texts[0].length : 0;
        float[] img = flatten(images, d), txt = flatten(texts, d);
        for (int o : textToImage) {
            if (o < 0 || o >= images.length) throw new IllegalArgumentException("retrieval: text owner " + o + " is not an image index");
        }
        int[] i2t = imageToText(img, txt, textToImage, images.length, d), t2i = textToImage(txt, img, textToImage, images.length, d);
        return new Result(i2t, t2i, recalls(i2t), recalls(t2i));
    }

    private static float[] flatten(float[][] rows, int d) {
        float[] out = new float[rows.length * d];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i].length != d) throw new IllegalArgumentException("retrieval: row " + i + " has " + rows[i].length + " values, not " + d);
            System.arraycopy(rows[i], 0, out, i * d, d);
        }
        return out;
    }

    /** Image→text: for each query image [n, d], the rank of its best own caption among the gallery captions [m, d]. */
    public static int[] imageToText(float[] images, float[] captions, int[] owner, int n, int d) {
        int m = owner.length;
        float[] sim = similarities(images, n, captions, m, d);
        int[] ranks = new int[n];
        for (int i = 0; i < n; i++) {
            float best = Float.NEGATIVE_INFINITY;
            for (int q = 0; q < m; q++) if (owner[q] == i) best = Math.max(best, sim[i * m + q]);
            int r = 0;
            for (int q = 0; q < m; q++) if (owner[q] != i && sim[i * m + q] >= best) r++;
            ranks[i] = r;
        }
        return ranks;
    }

    /** Text→image: for each query caption [m, d], the rank of its image among the gallery images [n, d]. */
    public static int[] textToImage(float[] captions, float[] images, int[] owner, int n, int d) {
        int m = owner.length;
        float[] sim = similarities(captions, m, images, n, d);
        int[] ranks = new int[m];
        for (int q = 0; q < m; q++) {
            float target = sim[q * n + owner[q]];
            int r = 0;
            for (int j = 0; j < n; j++) if (j != owner[q] && sim[q * n + j] >= target) r++;
            ranks[q] = r;
        }
        return ranks;
    }

    /** Recall@K in percent for each K of {@link #KS}. */
    public static double[] recalls(int[] ranks) {
        double[] r = new double[KS.length];
        for (int k = 0; k < KS.length; k++) {
            int hits = 0;
            for (int rank : ranks) if (rank < KS[k]) hits++;
            r[k] = ranks.length == 0 ? 0 : 100.0 * hits / ranks.length;
        }
        return r;
    }

    private static float[] similarities(float[] a, int na, float[] b, int nb, int d) {
        float[] s = new float[na * nb];
        for (int i = 0; i < na; i++) {
            for (int j = 0; j < nb; j++) {
                float dot = 0;
                for (int k = 0; k < d; k++) dot += a[i * d + k] * b[j * d + k];
                s[i * nb + j] = dot;
            }
        }
        return s;
    }
}

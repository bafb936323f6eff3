package dev.xbt.eval;

import java.util.Arrays;

/**
 * One model's embeddings of one split of a data set: every usable image {@code [N, dim]} and every caption of those
 * images {@code [M, dim]}, row-major, each row L2-normalised, with the image each caption belongs to. Retrieval pairs
 * the queries of one set with the gallery of another: both must describe the same images and captions in the same
 * order ({@link #checkSameItems}).
 *
 * @param images       image embeddings, {@code imageCount() * dim} values
 * @param captions     caption embeddings, {@code captionCount() * dim} values
 * @param captionImage for caption {@code c}, the row of its image in {@code images}
 * @param dim          the embedding width
 */
public record EncodedSet(float[] images, float[] captions, int[] captionImage, int dim) {
    public EncodedSet {
        if (dim <= 0) throw new IllegalArgumentException("encoded set: dimension must be positive, got " + dim);
        if (images.length % dim != 0 || captions.length % dim != 0) {
            throw new IllegalArgumentException("encoded set: " + images.length + " image and " + captions.length
                    + " caption values are not whole rows of " + dim);
        }
        if (captionImage.length != captions.length / dim) {
            throw new IllegalArgumentException("encoded set: " + captionImage.length + " caption owners for "
                    + captions.length / dim + " captions");
        }
        int n = images.length / dim;
        for (int c = 0; c < captionImage.length; c++) {
            if (captionImage[c] < 0 || captionImage[c] >= n) {
                throw new IllegalArgumentException("encoded set: caption " + c + " belongs to image " + captionImage[c]
                        + ", outside [0, " + n + ")");
            }
        }
    }

    public int imageCount() {
        return images.length / dim;
    }

    public int captionCount() {
        return captionImage.length;
    }

    /** The same items embedded by another model (or mapped into another space). */
    public EncodedSet withEmbeddings(float[] newImages, float[] newCaptions, int newDim) {
        return new EncodedSet(newImages, newCaptions, captionImage, newDim);
    }

    /** The rows of the captions of images {@code [from, to)}, in order. */
    public int[] captionRows(int from, int to) {
        checkRange(from, to);
        int count = 0;
        for (int o : captionImage) if (o >= from && o < to) count++;
        int[] rows = new int[count];
        for (int c = 0, i = 0; c < captionImage.length; c++) if (captionImage[c] >= from && captionImage[c] < to) rows[i++] = c;
        return rows;
    }

    /** Images {@code [from, to)} and their captions (in order, {@link #captionRows}), as a set of its own. */
    public EncodedSet images(int from, int to) {
        int[] rows = captionRows(from, to);
        float[] caps = new float[rows.length * dim];
        int[] owners = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(captions, rows[i] * dim, caps, i * dim, dim);
            owners[i] = captionImage[rows[i]] - from;
        }
        return new EncodedSet(Arrays.copyOfRange(images, from * dim, to * dim), caps, owners, dim);
    }

    private void checkRange(int from, int to) {
        if (from < 0 || to < from || to > imageCount()) {
            throw new IllegalArgumentException("encoded set: images [" + from + ", " + to + ") outside [0, " + imageCount() + ")");
        }
    }

    /** Throws unless {@code other} holds the same number of images and the same caption→image assignment. */
    public void checkSameItems(EncodedSet other, String what) {
        if (imageCount() != other.imageCount() || !Arrays.equals(captionImage, other.captionImage)) {
            throw new IllegalArgumentException(what + ": the two embedding sets describe different items ("
                    + imageCount() + " images / " + captionCount() + " captions vs " + other.imageCount() + " / "
                    + other.captionCount() + ")");
        }
    }
}

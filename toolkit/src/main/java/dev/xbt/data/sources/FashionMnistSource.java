package dev.xbt.data.sources;

import dev.xbt.data.DataSource;
import dev.xbt.data.DataSourceException;
import dev.xbt.data.ManifestWriter;
import dev.xbt.data.PngEncoder;
import dev.xbt.data.PrepareOptions;
import dev.xbt.data.Splits;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.IntStream;
import java.util.zip.GZIPInputStream;

/**
 * {@code fashion-mnist}: Zalando's Fashion-MNIST, from Debian's {@code dataset-fashion-mnist}
 * ({@code /usr/share/datasets/fashion-mnist/*-ubyte.gz}): 70,000 pictures of clothes, 28x28 grey, light on
 * black, in ten classes.
 *
 * <ul>
 *   <li><b>Pictures.</b> Read from the gzipped IDX files and written as 28x28 8-bit grey PNGs
 *       ({@code images/train/00042.png}), the pixel values as they are.</li>
 *   <li><b>Captions.</b> The class through the {@link #TEMPLATES} prompt templates, all of them for every picture
 *       ({@code "a photo of an ankle boot"}, {@code "a black and white photo of an ankle boot"},
 *       {@code "an ankle boot on a dark background"}, ...); the class names are {@link #CLASSES}.</li>
 *   <li><b>Splits.</b> The package's own: the 10,000 {@code t10k} pictures are {@code test}; of the 60,000
 *       {@code train} pictures, every twelfth (index {@code i} with {@code i % 12 == 11}) is {@code val}, 5,000
 *       in all, the rest {@code train}. The id is {@code train-00042} or {@code test-00042} (the index in its
 *       file); {@code meta} has the label and the class.</li>
 *   <li>{@link PrepareOptions#count()} {@code N} takes the first {@code round(N / 7)} test pictures and the first
 *       {@code N - round(N / 7)} train pictures, keeping the package's proportions.</li>
 *   <li>A label outside 0..9 is skipped and counted; a damaged IDX file stops the import with a message that
 *       says how to reinstall the package.</li>
 * </ul>
 */
public final class FashionMnistSource implements DataSource {
    static final String PACKAGE = "dataset-fashion-mnist";
    /** The ten classes, with their articles, by label (Fashion-MNIST's "T-shirt/top", "Trouser", ...). */
    public static final List<String> CLASSES = List.of("a t-shirt", "a pair of trousers", "a pullover", "a dress",
            "a coat", "a sandal", "a shirt", "a sneaker", "a bag", "an ankle boot");
    /** Fashion-MNIST's own class names, by label. */
    static final List<String> LABELS = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
            "Shirt", "Sneaker", "Bag", "Ankle boot");
    /** The prompt templates; {@code {}} is the class with its article. */
    public static final List<String> TEMPLATES = List.of("a photo of {}", "a black and white photo of {}",
            "{} on a dark background", "a low resolution photo of {}", "a grayscale picture of {}",
            "a small picture of {}", "a product photo of {}", "{}");
    static final int SIDE = 28;
    static final int TRAIN_SIZE = 60_000;
    static final int TEST_SIZE = 10_000;

    private final Path root;

    /** The source reading the installed package. */
    public FashionMnistSource() {
        this(Path.of("/"));
    }

    /** The source reading the package's files under {@code root} (a fake file system tree in tests). */
    public FashionMnistSource(Path root) {
        this.root = Objects.requireNonNull(root, "root");
    }

    @Override
    public String name() {
        return "fashion-mnist";
    }

    @Override
    public String description() {
        return "Fashion-MNIST (dataset-fashion-mnist): 70,000 28x28 pictures of clothes, captions from their classes";
    }

    Path dataDir() {
        return root.resolve("usr/share/datasets/fashion-mnist");
    }

    /** The captions of a picture of class {@code label} (0..9). */
    public static List<String> captions(int label) {
        String c = CLASSES.get(label);
        return TEMPLATES.stream().map(t -> t.replace("{}", c)).toList();
    }

    /** The split of picture {@code index} of the train file: every twelfth is val. */
    static String trainSplit(int index) {
        return index % 12 == 11 ? Splits.VAL : Splits.TRAIN;
    }

    @Override
    public void prepare(ManifestWriter out, PrepareOptions opts) throws IOException {
        Path dir = dataDir();
        Path trainImages = dir.resolve("train-images-idx3-ubyte.gz");
        Path trainLabels = dir.resolve("train-labels-idx1-ubyte.gz");
        Path testImages = dir.resolve("t10k-images-idx3-ubyte.gz");
        Path testLabels = dir.resolve("t10k-labels-idx1-ubyte.gz");
        Debian.require(name(), new Debian.Need(PACKAGE, trainImages), new Debian.Need(PACKAGE, trainLabels),
                new Debian.Need(PACKAGE, testImages), new Debian.Need(PACKAGE, testLabels));
        int[] n = counts(opts.countOr(TRAIN_SIZE + TEST_SIZE));
        out.note("package", Debian.describe(root, PACKAGE));
        out.note("license", "MIT (Expat), Zalando SE");
        out.note("splits", "test: the t10k files; val: every 12th picture of the train files; train: the rest");
        out.note("templates", String.join(" | ", TEMPLATES));
        long start = System.nanoTime();
        importFile(out, opts, "train", trainImages, trainLabels, n[0]);
        importFile(out, opts, "test", testImages, testLabels, n[1]);
        opts.progress().log(String.format(Locale.ROOT, "fashion-mnist: %d pictures imported in %.1f s", out.images(),
                (System.nanoTime() - start) / 1e9));
    }

    private void importFile(ManifestWriter out, PrepareOptions opts, String part, Path imagesFile, Path labelsFile,
                            int count) {
        if (count <= 0) return;
        byte[] labels = readIdx(labelsFile, 0x801, count, 1);
        byte[] pixels = readIdx(imagesFile, 0x803, count, SIDE * SIDE);
        int n = Math.min(labels.length, pixels.length / (SIDE * SIDE));
        if (n < count) {
            opts.progress().log("fashion-mnist: the " + part + " files hold " + n + " pictures, fewer than " + count);
        }
        String task = "fashion-mnist: " + part;
        List<Integer> indices = IntStream.range(0, n).boxed().toList();
        opts.progress().update(task, 0, n);
        Ordered.map(indices, opts.threads(), i -> {
            byte[] one = new byte[SIDE * SIDE];
            System.arraycopy(pixels, i * SIDE * SIDE, one, 0, one.length);
            return PngEncoder.encodeGray(one, SIDE, SIDE);
        }, (i, png) -> {
            String id = String.format(Locale.ROOT, "%s-%05d", part, i);
            int label = labels[i] & 0xFF;
            if (label >= CLASSES.size()) {
                out.skip(id, "label " + label + " is not a Fashion-MNIST class (0 to 9)");
            } else {
                String split = part.equals("test") ? Splits.TEST : trainSplit(i);
                out.addBytes(id, png, String.format(Locale.ROOT, "%s/%05d.png", part, i), captions(label), split,
                        Map.of("label", Integer.toString(label), "class", LABELS.get(label)));
            }
            opts.progress().update(task, i + 1, n);
            return true;
        });
    }

    /**
     * The first {@code count} items of a gzipped IDX file with magic {@code magic} ({@code 0x801} labels, {@code
     * 0x803} images of 28x28), {@code itemSize} bytes each (fewer when the file has fewer).
     */
    private byte[] readIdx(Path file, int magic, int count, int itemSize) {
        try (InputStream raw = Files.newInputStream(file);
             DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16))) {
            int m = in.readInt();
            if (m != magic) {
                throw damaged(file, String.format(Locale.ROOT, "not an IDX file of %s (magic 0x%08x, expected 0x%08x)",
                        magic == 0x801 ? "labels" : "images", m, magic));
            }
            int n = in.readInt();
            if (magic == 0x803) {
                int rows = in.readInt();
                int cols = in.readInt();
                if (rows != SIDE || cols != SIDE) throw damaged(file, "pictures of " + rows + "x" + cols + ", not 28x28");
            }
            if (n < 0) throw damaged(file, "negative item count " + n);
            int take = Math.min(n, count);
            byte[] data = new byte[take * itemSize];
            in.readFully(data);
            return data;
        } catch (EOFException e) {
            throw damaged(file, "the file ends early");
        } catch (IOException e) {
            throw damaged(file, e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    private static DataSourceException damaged(Path file, String why) {
        return new DataSourceException("fashion-mnist: " + file + ": " + why + "; reinstall the package with: sudo"
                + " apt-get install --reinstall " + PACKAGE);
    }

    /** How many train and test pictures an import of {@code total} takes: {@code {train, test}}. */
    static int[] counts(int total) {
        int nTest = Math.min(TEST_SIZE, (int) Math.round(total / 7.0));
        return new int[] {Math.min(TRAIN_SIZE, total - nTest), nTest};
    }
}

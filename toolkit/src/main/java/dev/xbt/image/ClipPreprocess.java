package dev.xbt.image;

import dev.xbt.engine.cpu.Parallel;
import dev.xbt.engine.Tensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * CLIP's image preprocessing, as OpenAI CLIP and OpenCLIP do it with PIL and torchvision, reproduced exactly:
 * <pre>
 *   RGB picture (see {@link ImageLoader})
 *   -> Resize(size, BICUBIC)   shortest side to size, the other int(size * long / short); PIL's bicubic, to the byte
 *   -> CenterCrop(size)        offsets int(round((h - size) / 2.0)) with Python's round (half to even)
 *   -> ToTensor                uint8 / 255f, HWC -> CHW
 *   -> Normalize(mean, std)    (x - mean[c]) / std[c] in float32
 * </pre>
 * The float steps are done in float32 in the same order as torch, so the tensors are bit-identical to
 * torchvision's for the same RGB bytes. One deliberate difference in order: OpenAI's pipeline converts to RGB
 * after resizing and cropping, this one (as the issue specifies) before. For RGB and grey pictures that gives
 * the same bytes; for pictures with alpha see {@link ImageLoader}; for palette pictures OpenAI's order would
 * make PIL resize the palette indices with nearest-neighbour instead of bicubic.
 *
 * <p>Instances are immutable and thread-safe. {@link #batch} and {@link #batchFiles} fill one {@code [N, 3, size,
 * size]} array with a bounded pool of {@link #threads()} threads; each picture goes to its own slot, so the
 * output does not depend on the thread count or scheduling.
 */
public final class ClipPreprocess {
    /** The input size of ViT-B/32 and most CLIP models. */
    public static final int DEFAULT_SIZE = 224;

    // Python floats (doubles) that torch turns into float32: cast from double, exactly as torch does.
    private static final float[] OPENAI_MEAN = {(float) 0.48145466, (float) 0.4578275, (float) 0.40821073};
    private static final float[] OPENAI_STD = {(float) 0.26862954, (float) 0.26130258, (float) 0.27577711};

    private final int size;
    private final float[] mean;
    private final float[] std;
    private final int threads;
    private final ImageLoader loader;
    private final float[][] lut; // [channel][byte] -> normalised value

    /** 224 pixels, OpenAI's mean and std. */
    public ClipPreprocess() {
        this(DEFAULT_SIZE);
    }

    /** {@code size} pixels, OpenAI's mean and std. */
    public ClipPreprocess(int size) {
        this(size, OPENAI_MEAN, OPENAI_STD);
    }

    public ClipPreprocess(int size, float[] mean, float[] std) {
        this(size, mean, std, defaultThreads(), new ImageLoader());
    }

    private ClipPreprocess(int size, float[] mean, float[] std, int threads, ImageLoader loader) {
        if (size <= 0) throw new IllegalArgumentException("ClipPreprocess: size must be positive, got " + size);
        Objects.requireNonNull(mean, "mean");
        Objects.requireNonNull(std, "std");
        if (mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("ClipPreprocess: mean and std need 3 values (R, G, B), got "
                    + mean.length + " and " + std.length);
        }
        for (int c = 0; c < 3; c++) {
            if (!Float.isFinite(mean[c]) || !Float.isFinite(std[c]) || std[c] == 0f) {
                throw new IllegalArgumentException("ClipPreprocess: mean must be finite and std finite and non-zero,"
                        + " got mean " + mean[c] + ", std " + std[c] + " for channel " + c);
            }
        }
        if (threads <= 0) throw new IllegalArgumentException("ClipPreprocess: threads must be positive, got " + threads);
        this.size = size;
        this.mean = mean.clone();
        this.std = std.clone();
        this.threads = threads;
        this.loader = Objects.requireNonNull(loader, "loader");
        this.lut = new float[3][256];
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) lut[c][v] = (v / 255f - this.mean[c]) / this.std[c]; // torch's float32 steps
        }
    }

    private static int defaultThreads() {
        return Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), 8));
    }

    /** OpenAI CLIP's per-channel mean (R, G, B), as float32; a copy. */
    public static float[] openaiMean() {
        return OPENAI_MEAN.clone();
    }

    /** OpenAI CLIP's per-channel standard deviation (R, G, B), as float32; a copy. */
    public static float[] openaiStd() {
        return OPENAI_STD.clone();
    }

    /** The same preprocessing with at most {@code threads} threads in {@link #batch} and {@link #batchFiles}. */
    public ClipPreprocess withThreads(int threads) {
        return new ClipPreprocess(size, mean, std, threads, loader);
    }

    /** The same preprocessing reading files with {@code loader} (other size limits) in {@link #batchFiles}. */
    public ClipPreprocess withLoader(ImageLoader loader) {
        return new ClipPreprocess(size, mean, std, threads, loader);
    }

    public int size() {
        return size;
    }

    public float[] mean() {
        return mean.clone();
    }

    public float[] std() {
        return std.clone();
    }

    public int threads() {
        return threads;
    }

    /** Floats of one preprocessed picture: {@code 3 * size * size}. */
    public int imageLength() {
        return 3 * size * size;
    }

    // ---- the steps ----------------------------------------------------------------------------------

    /**
     * torchvision's size for {@code Resize(size)} of a {@code width x height} picture: {@code {newWidth,
     * newHeight}}, the shortest side becoming {@code size} and the other {@code int(size * long / short)}.
     */
    public static int[] shortestSideSize(int width, int height, int size) {
        if (width <= 0 || height <= 0 || size <= 0) {
            throw new IllegalArgumentException("shortestSideSize: sizes must be positive, got " + width + "x"
                    + height + " to " + size);
        }
        int shortSide = Math.min(width, height);
        int longSide = Math.max(width, height);
        // Python: int(size * long / short), a true (correctly rounded) division then truncation
        long newLong = (long) ((double) ((long) size * longSide) / shortSide);
        if (newLong > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("shortestSideSize: " + width + "x" + height + " to " + size
                    + " is too large");
        }
        return width <= height ? new int[] {size, (int) newLong} : new int[] {(int) newLong, size};
    }

    /** Resize(size, BICUBIC) of torchvision on a PIL picture: shortest side to {@link #size()}, PIL's bicubic. */
    public RgbImage resizeShortestSide(RgbImage image) {
        return resizeShortestSide(image, size);
    }

    /** Shortest side to {@code size}, PIL's bicubic; a picture already that size is returned as it is. */
    public static RgbImage resizeShortestSide(RgbImage image, int size) {
        int[] wh = shortestSideSize(image.width(), image.height(), size);
        if (wh[0] == image.width() && wh[1] == image.height()) return image;
        return PilBicubic.resize(image, wh[0], wh[1]);
    }

    /**
     * PIL's {@code image.resize((width, height), Image.BICUBIC)} for RGB, byte for byte (antialiased when
     * shrinking; see {@link PilBicubic}).
     */
    public static RgbImage resize(RgbImage image, int width, int height) {
        return PilBicubic.resize(image, width, height);
    }

    /** CenterCrop(size) of torchvision: the central {@code size x size} pixels. */
    public RgbImage centerCrop(RgbImage image) {
        return centerCrop(image, size, size);
    }

    /**
     * torchvision's {@code CenterCrop((height, width))}: the crop starts at {@code int(round((H - height) / 2.0))}
     * and {@code int(round((W - width) / 2.0))}, Python's round (half to even). Where the picture is smaller than
     * the crop it is first padded with black, {@code (crop - W) // 2} before and the rest after, as torchvision
     * pads.
     */
    public static RgbImage centerCrop(RgbImage image, int width, int height) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("centerCrop: size " + width + "x" + height + " must be positive");
        }
        int w = image.width();
        int h = image.height();
        if (width == w && height == h) return image;
        int left = width > w ? -((width - w) / 2) : (int) Math.rint((w - width) / 2.0);
        int top = height > h ? -((height - h) / 2) : (int) Math.rint((h - height) / 2.0);
        RgbImage out = RgbImage.blank(width, height);
        byte[] src = image.data();
        byte[] dst = out.data();
        int x0 = Math.max(0, -left);
        int x1 = Math.min(width, w - left);
        for (int y = 0; y < height; y++) {
            int sy = y + top;
            if (sy < 0 || sy >= h || x1 <= x0) continue;
            System.arraycopy(src, (sy * w + x0 + left) * 3, dst, (y * width + x0) * 3, (x1 - x0) * 3);
        }
        return out;
    }

    /**
     * ToTensor + Normalize: a picture of any size as CHW float32, {@code (v / 255f - mean[c]) / std[c]}.
     */
    public float[] normalize(RgbImage image) {
        float[] out = new float[3 * image.width() * image.height()];
        normalize(image, out, 0);
        return out;
    }

    private void normalize(RgbImage image, float[] out, int offset) {
        int plane = image.width() * image.height();
        byte[] d = image.data();
        for (int c = 0; c < 3; c++) {
            float[] lut = this.lut[c];
            int o = offset + c * plane;
            for (int i = 0, p = c; i < plane; i++, p += 3) out[o + i] = lut[d[p] & 0xFF];
        }
    }

    // ---- the whole pipeline -------------------------------------------------------------------------

    /** The full pipeline on one RGB picture: {@code float[3 * size * size]}, CHW. */
    public float[] apply(RgbImage image) {
        float[] out = new float[imageLength()];
        apply(image, out, 0);
        return out;
    }

    /** The full pipeline on one picture, written to {@code out[offset .. offset + 3 * size * size)}. */
    public void apply(RgbImage image, float[] out, int offset) {
        Objects.requireNonNull(image, "image");
        Objects.checkFromIndexSize(offset, imageLength(), out.length);
        normalize(resizeAndCrop(image), out, offset);
    }

    /**
     * {@code centerCrop(resizeShortestSide(image))}, computing only the pixels the crop keeps (the same bytes:
     * each resized pixel depends only on its own weights).
     */
    public RgbImage resizeAndCrop(RgbImage image) {
        int[] wh = shortestSideSize(image.width(), image.height(), size);
        if (wh[0] == image.width() && wh[1] == image.height()) return centerCrop(image);
        // after a shortest-side resize both sides are >= size, so the crop needs no padding
        int left = (int) Math.rint((wh[0] - size) / 2.0);
        int top = (int) Math.rint((wh[1] - size) / 2.0);
        return PilBicubic.resizeWindow(image, wh[0], wh[1], left, top, size, size);
    }

    /** Reads {@code file} (see {@link ImageLoader}) and preprocesses it. */
    public float[] apply(Path file) {
        return apply(loader.read(file));
    }

    /** The pictures as one {@code [N, 3, size, size]} float array, in list order. */
    public float[] batch(List<RgbImage> images) {
        Objects.requireNonNull(images, "images");
        return run(images.size(), images::get);
    }

    /**
     * Decodes and preprocesses the files in parallel, one {@code [N, 3, size, size]} array in list order. The
     * first failing file, in list order, is thrown as its {@link ImageException}.
     */
    public float[] batchFiles(List<Path> files) {
        Objects.requireNonNull(files, "files");
        return run(files.size(), i -> loader.read(files.get(i)));
    }

    /** {@link #batch} as an engine tensor of shape {@code [N, 3, size, size]} on the current backend. */
    public Tensor batchTensor(List<RgbImage> images) {
        return Tensor.of(batch(images), images.size(), 3, size, size);
    }

    /** {@link #batchFiles} as an engine tensor of shape {@code [N, 3, size, size]} on the current backend. */
    public Tensor batchFilesTensor(List<Path> files) {
        return Tensor.of(batchFiles(files), files.size(), 3, size, size);
    }

    private float[] run(int n, IntFunction<RgbImage> source) {
        long total = (long) n * imageLength();
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("ClipPreprocess: " + n + " pictures of " + size + "x" + size
                    + " do not fit one float array; use smaller batches");
        }
        float[] out = new float[(int) total];
        int len = imageLength();
        int workers = Math.min(threads, n);
        if (workers <= 1) {
            for (int i = 0; i < n; i++) apply(source.apply(i), out, i * len);
            return out;
        }
        ExecutorService pool = Executors.newFixedThreadPool(workers, DaemonThreads.INSTANCE);
        try {
            List<Future<?>> tasks = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int index = i;
                tasks.add(pool.submit(() -> {
                    apply(source.apply(index), out, index * len);
                    return null;
                }));
            }
            for (Future<?> task : tasks) Parallel.await(task);
        } finally {
            pool.shutdownNow();
        }
        return out;
    }

    private enum DaemonThreads implements ThreadFactory {
        INSTANCE;
        private final AtomicInteger count = new AtomicInteger();

        @Override
        public Thread newThread(Runnable r) {
            Thread t = new Thread(r, "xbt-image-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        }
    }
}

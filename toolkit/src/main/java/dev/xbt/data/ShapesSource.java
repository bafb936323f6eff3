package dev.xbt.data;

import dev.xbt.engine.cpu.Parallel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code shapes}: the embedded corpus of {@link ShapesGenerator}, {@code --count} pictures (default
 * {@value ShapesGenerator#DEFAULT_COUNT}) from {@code --seed} (default 0), written as {@code images/<id>.png}.
 * Pictures are drawn and written on {@link PrepareOptions#threads()} threads in blocks, and entered in the
 * manifest in index order, so the data set's bytes do not depend on the thread count.
 */
final class ShapesSource implements DataSource {
    private static final int BLOCK = 64;

    @Override
    public String name() {
        return "shapes";
    }

    @Override
    public String description() {
        return "the embedded corpus: generated pictures of coloured shapes with 3-5 captions each (no download)";
    }

    @Override
    public String usage() {
        return "shapes [--count N] [--seed S]";
    }

    @Override
    public void prepare(ManifestWriter out, PrepareOptions opts) throws IOException {
        if (opts.argument() != null) throw new DataSourceException("shapes takes no argument (use --count and --seed)");
        int count = opts.countOr(ShapesGenerator.DEFAULT_COUNT);
        if (count < 1) throw new DataSourceException("shapes: --count must be at least 1");
        ShapesGenerator gen = new ShapesGenerator(opts.seed());
        out.note("seed", Long.toString(opts.seed()));
        out.note("count", Integer.toString(count));
        out.note("size", ShapesGenerator.SIZE + "x" + ShapesGenerator.SIZE);
        Path images = out.imagesDir();
        Files.createDirectories(images);
        int threads = Math.min(opts.threads(), Math.max(1, count / BLOCK));
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "xbt-shapes");
            t.setDaemon(true);
            return t;
        });
        try {
            Deque<Future<List<ManifestEntry>>> inFlight = new ArrayDeque<>();
            int next = 0;
            int done = 0;
            opts.progress().update("shapes", 0, count);
            while (done < count) {
                while (next < count && inFlight.size() < 4 * threads) {
                    int from = next;
                    int to = Math.min(count, from + BLOCK);
                    inFlight.add(pool.submit(() -> block(gen, images, from, to)));
                    next = to;
                }
                List<ManifestEntry> entries = Parallel.await(inFlight.removeFirst());
                for (ManifestEntry e : entries) out.add(e);
                done += entries.size();
                opts.progress().update("shapes", done, count);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<ManifestEntry> block(ShapesGenerator gen, Path images, int from, int to) {
        List<ManifestEntry> entries = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
            ShapesGenerator.Sample s = gen.sample(i);
            String name = s.id() + ".png";
            try {
                Files.write(images.resolve(name), s.png());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + images.resolve(name) + ": " + e.getMessage(), e);
            }
            entries.add(ManifestEntry.of(s.id(), ManifestWriter.IMAGES_DIR + "/" + name, s.captions()));
        }
        return entries;
    }

}

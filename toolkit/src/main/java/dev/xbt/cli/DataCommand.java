package dev.xbt.cli;

import dev.xbt.data.DataSource;
import dev.xbt.data.DataSourceException;
import dev.xbt.data.DataSources;
import dev.xbt.data.ImportReport;
import dev.xbt.data.Manifest;
import dev.xbt.data.ManifestWriter;
import dev.xbt.data.PrepareOptions;
import dev.xbt.data.Progress;
import dev.xbt.data.ShapesGenerator;
import dev.xbt.data.Splits;
import dev.xbt.data.TextCorpus;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.Console;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code xbt data}: make, inspect and read data sets (a folder with manifest.jsonl). */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Data sets: a folder with manifest.jsonl (one image a line: id, image, captions, split) and its images.",
        subcommands = {DataCommand.Prepare.class, DataCommand.Sources.class, DataCommand.Info.class, DataCommand.Text.class})
final class DataCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Progress on stderr: one redrawn line on a terminal, plain lines otherwise. */
    static Progress progress() {
        Console c = System.console();
        return Progress.console(System.err, c != null && c.isTerminal());
    }

    @Command(name = "prepare", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 120,
            description = {"Make a data set in --out from SOURCE: DIR/manifest.jsonl, DIR/images/, DIR/import-report.json.",
                    "",
                    "Sources:",
                    "  shapes                      the embedded corpus: pictures of 1-3 coloured shapes (64x64 PNG) with 3-5",
                    "                              captions each, generated from --seed (default 0), --count of them",
                    "                              (default " + ShapesGenerator.DEFAULT_COUNT + "); no download.",
                    "  folder:DIR                  images with their captions, in any of these layouts (merged if several):",
                    "                                DIR/.../NAME.jpg + NAME.txt beside it (one caption a line; also .jpeg",
                    "                                  .png .gif .bmp);",
                    "                                DIR/captions.jsonl: {\"image\": \"sub/a.jpg\", \"caption\": \"...\"} a line",
                    "                                  (or \"captions\": [...]; optional \"split\");",
                    "                                DIR/captions.csv: header row image,caption[,split], one caption a row.",
                    "                              The id is the image's path in DIR.",
                    "  karpathy:FILE --images DIR  Flickr30k/COCO with Karpathy's split file (dataset_*.json); images at",
                    "                              DIR/filepath/filename or DIR/filename; restval becomes train.",
                    "  openclipart, tuxpaint, fashion-mnist",
                    "                              from Debian packages (see 'xbt data sources').",
                    "",
                    "Entries without a split get one from a hash of their id: 80%% train, 10%% val, 10%% test.",
                    "Unreadable images and items without captions are skipped and listed in import-report.json.",
                    "An existing non-empty --out is refused unless --force (which replaces its manifest, images/ and .cache/).",
                    ""})
    static final class Prepare implements Runnable {
        @Parameters(index = "0", paramLabel = "SOURCE", description = "shapes, folder:DIR, karpathy:FILE, openclipart, ...")
        String source;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "The data set's folder.")
        Path out;

        @Option(names = "--count", paramLabel = "N", description = "Pictures to make (shapes) or at most import (others).")
        Integer count;

        @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Seed of generated sources (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--images", paramLabel = "DIR", description = "The image folder (karpathy).")
        Path images;

        @Option(names = "--force", description = "Replace the data set in a non-empty --out.")
        boolean force;

        @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: all cores).")
        Integer threads;

        @Option(names = "--link", description = "Hard-link image files instead of copying them, where the file system allows.")
        boolean link;

        @Option(names = "--no-verify", description = "Do not decode imported images to check them (faster; the cache skips bad ones later).")
        boolean noVerify;

        @Option(names = "--split", paramLabel = "SPLIT", description = "Put every item into this split (train, val or test) "
                + "instead of the one its source or id gives it: a held-out set, e.g. --split test.")
        String split;

        @Override
        public void run() {
            DataSources.Spec spec = DataSources.Spec.parse(source);
            DataSource src = DataSources.get(spec.name());
            if (count != null && count < 1) throw new IllegalArgumentException("--count must be at least 1, got " + count);
            if (threads != null && threads < 1) throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
            if (split != null && !Splits.isKnown(split)) {
                throw new IllegalArgumentException("--split must be train, val or test, got \"" + split + "\"");
            }
            Progress progress = progress();
            PrepareOptions opts = PrepareOptions.defaults().withArgument(spec.argument()).withImages(images)
                    .withCount(count == null ? -1 : count).withSeed(seed).withVerify(!noVerify).withLink(link)
                    .withProgress(progress);
            if (threads != null) opts = opts.withThreads(threads);
            Path outAbs = out.toAbsolutePath().normalize();
            for (Path in : src.inputs(opts)) {
                Path p = real(in);
                Path o = real(outAbs);
                if (o.startsWith(p) || p.startsWith(o)) {
                    throw new DataSourceException("--out " + out + " overlaps the input " + in + "; choose a folder outside it");
                }
            }
            long t0 = System.nanoTime();
            ImportReport r;
            try {
                ManifestWriter w = ManifestWriter.create(outAbs, src.name(), force)
                        .verify(opts.verify()).link(opts.link()).threads(opts.threads()).split(split);
                try {
                    src.prepare(w, opts);
                } catch (IOException | RuntimeException | Error e) {
                    w.abort();
                    throw e;
                }
                r = w.finish();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e.getMessage(), e);
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "%s: %d images, %d captions (train %d, val %d, test %d), %d skipped, in %.1f s -> %s%n",
                    src.name(), r.images(), r.captions(), r.splits().getOrDefault(Splits.TRAIN, 0),
                    r.splits().getOrDefault(Splits.VAL, 0), r.splits().getOrDefault(Splits.TEST, 0), r.skipped(), secs,
                    outAbs.resolve(Manifest.FILE_NAME));
            if (r.skipped() > 0) {
                ImportReport.Skip first = r.skips().getFirst();
                System.out.println("skipped, for example: " + first.item() + ": " + first.reason() + " (all in "
                        + outAbs.resolve(ManifestWriter.REPORT_FILE) + ")");
            }
        }

        private static Path real(Path p) {
            Path a = p.toAbsolutePath().normalize();
            try {
                return Files.exists(a) ? a.toRealPath() : a;
            } catch (IOException e) {
                return a;
            }
        }
    }

    @Command(name = "sources", mixinStandardHelpOptions = true, description = "List the data sources and text sources.")
    static final class Sources implements Runnable {
        @Override
        public void run() {
            PrintStream o = System.out;
            for (DataSource s : DataSources.all()) o.printf("%-28s %s%n", s.usage(), s.description());
            for (var t : DataSources.textSources()) o.printf("%-28s %s%n", "text: " + t.name(), t.description());
        }
    }

    @Command(name = "info", mixinStandardHelpOptions = true, description = "Check a data set's manifest and print its counts.")
    static final class Info implements Runnable {
        @Parameters(index = "0", paramLabel = "DIR", description = "The data set's folder.")
        Path dir;

        @Override
        public void run() {
            Manifest m = Manifest.read(dir);
            Map<String, Integer> c = m.splitCounts();
            int missing = 0;
            for (var e : m.entries()) if (!Files.isRegularFile(m.imagePath(e))) missing++;
            System.out.printf(Locale.ROOT, "%s: %d images, %d captions; train %d, val %d, test %d%s%n", m.file(), m.size(),
                    m.captionCount(), c.get(Splits.TRAIN), c.get(Splits.VAL), c.get(Splits.TEST),
                    missing > 0 ? "; " + missing + " image files missing" : "");
        }
    }

    @Command(name = "text", mixinStandardHelpOptions = true,
            description = "Print a data set's captions, deduplicated, one a line (for text-only training).")
    static final class Text implements Runnable {
        @Parameters(index = "0", paramLabel = "DIR", description = "The data set's folder.")
        Path dir;

        @Option(names = "--split", paramLabel = "SPLIT", description = "Only this split (train, val, test).")
        String split;

        @Option(names = "--extra", paramLabel = "NAME", description = "Add a text source (see 'xbt data sources').")
        List<String> extra;

        @Override
        public void run() {
            if (split != null) Splits.check(split);
            TextCorpus.Builder b = TextCorpus.builder().add(Manifest.read(dir), split);
            if (extra != null) for (String e : extra) b.add(DataSources.textSource(e));
            PrintStream o = System.out;
            for (String t : b.build().texts()) o.println(t);
        }
    }
}

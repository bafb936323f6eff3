package dev.xbt.benchmarks;

import dev.xbt.engine.cpu.Parallel;
import dev.xbt.engine.cpu.VectorGemm;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Side-by-side SGEMM throughput: our {@link VectorGemm} against numpy's matmul (OpenBLAS) in one run.
 *
 * <p>numpy runs in a child process that answers timing requests on stdin/stdout, so the two sides
 * alternate per shape (ours, numpy, ours, numpy, ...) and share whatever load the machine has at that
 * moment. Each round times back-to-back calls for about {@code --round-ms} and keeps the median call;
 * the best round per side counts (after a warm-up of at least a second per side and shape). Prints GFLOP/s of both and the ratio ours/OpenBLAS per shape, then {@code min_ratio=} over the
 * 1024^3 and 2048^3 shapes.
 *
 * <p>Usage: {@code GemmVsOpenBlas --numpy "<command starting the numpy helper>" [--rounds N] [--round-ms MS]
 * [--only ours]}. The helper protocol: {@code info}, {@code shape batch tA tB m n k}, {@code time ms}, {@code quit}.
 */
public final class GemmVsOpenBlas {
    /** One benchmark shape; {@code key} marks the shapes that enter min_ratio. */
    record Shape(String name, int batch, boolean tA, boolean tB, int m, int n, int k, boolean key) {
        double flops() {
            return 2.0 * batch * m * n * k;
        }
    }

    static final List<Shape> SHAPES = List.of(
            new Shape("256^3", 1, false, false, 256, 256, 256, false),
            new Shape("512^3", 1, false, false, 512, 512, 512, false),
            new Shape("1024^3", 1, false, false, 1024, 1024, 1024, true),
            new Shape("2048^3", 1, false, false, 2048, 2048, 2048, true),
            new Shape("clip mlp up 616x3072x768", 1, false, false, 616, 3072, 768, false),
            new Shape("clip mlp down 616x768x3072", 1, false, false, 616, 768, 3072, false),
            new Shape("clip qkv 616x2304x768", 1, false, false, 616, 2304, 768, false),
            new Shape("clip proj 2048x768x768", 1, false, false, 2048, 768, 768, false),
            new Shape("clip dX=dY*W^T 616x768x3072 NT", 1, false, true, 616, 768, 3072, false),
            new Shape("clip dW=X^T*dY 768x3072x616 TN", 1, true, false, 768, 3072, 616, false),
            new Shape("attn QK^T 96x(77x77x64) NT", 96, false, true, 77, 77, 64, false),
            new Shape("attn PV 96x(77x64x77)", 96, false, false, 77, 64, 77, false));

    private GemmVsOpenBlas() {}

    public static void main(String[] args) throws Exception {
        String numpyCmd = null;
        int rounds = 10;
        long roundMs = 200;
        boolean oursOnly = false;
        String filter = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--numpy" -> numpyCmd = args[++i];
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--round-ms" -> roundMs = Long.parseLong(args[++i]);
                case "--only" -> oursOnly = args[++i].equals("ours");
                case "--filter" -> filter = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (numpyCmd == null && !oursOnly) throw new IllegalArgumentException("--numpy <command> is required");

        System.out.printf(Locale.ROOT, "ours: VectorGemm, Java %s, %d threads, vector %d floats, MRxNR %dx%d, KC/MC/MT/NC %s%n",
                System.getProperty("java.version"), Parallel.THREADS, vl(), vl() >= 16 ? 8 : 6, 2 * vl(), blocking());
        Process py = null;
        BufferedReader in = null;
        PrintWriter out = null;
        if (!oursOnly) {
            py = new ProcessBuilder("/bin/sh", "-c", numpyCmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            in = new BufferedReader(new InputStreamReader(py.getInputStream(), StandardCharsets.UTF_8));
            out = new PrintWriter(py.getOutputStream(), true, StandardCharsets.UTF_8);
            out.println("info");
            System.out.println("numpy: " + in.readLine());
        }
        System.out.printf(Locale.ROOT, "%-34s %12s %12s %8s%n", "shape (m x n x k)", "ours GF/s", "openblas GF/s", "ratio");
        double minRatio = Double.POSITIVE_INFINITY;
        for (Shape s : SHAPES) {
            if (filter != null && !s.name().contains(filter)) continue;
            Bench ours = new Bench(s);
            ours.time(Math.max(roundMs, 1000)); // warm up the JIT and the buffers
            if (!oursOnly) {
                out.printf(Locale.ROOT, "shape %d %d %d %d %d %d%n", s.batch(), s.tA() ? 1 : 0, s.tB() ? 1 : 0, s.m(), s.n(), s.k());
                expectOk(in.readLine());
                out.println("time " + Math.max(roundMs, 1000));
                Double.parseDouble(in.readLine());
            }
            double bestOurs = Double.POSITIVE_INFINITY, bestNp = Double.POSITIVE_INFINITY;
            for (int r = 0; r < rounds; r++) {
                bestOurs = Math.min(bestOurs, ours.time(roundMs));
                if (!oursOnly) {
                    out.println("time " + roundMs);
                    bestNp = Math.min(bestNp, Double.parseDouble(in.readLine()));
                }
            }
            double gOurs = s.flops() / bestOurs / 1e9, gNp = s.flops() / bestNp / 1e9;
            double ratio = gOurs / gNp;
            if (oursOnly) System.out.printf(Locale.ROOT, "%-34s %12.1f%n", s.name(), gOurs);
            else System.out.printf(Locale.ROOT, "%-34s %12.1f %12.1f %8.3f%n", s.name(), gOurs, gNp, ratio);
            if (s.key() && !oursOnly) minRatio = Math.min(minRatio, ratio);
        }
        if (!oursOnly) {
            out.println("quit");
            py.waitFor();
            System.out.printf(Locale.ROOT, "min_ratio=%.3f%n", minRatio);
        }
    }

    private static void expectOk(String line) throws IOException {
        if (!"ok".equals(line)) throw new IOException("numpy helper said: " + line);
    }

    private static int vl() {
        return jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
    }

    private static String blocking() {
        return Integer.getInteger("xbt.gemm.kc", 256) + "/" + Integer.getInteger("xbt.gemm.mc", 192) + "/"
                + Integer.getInteger("xbt.gemm.mt", 192) + "/" + Integer.getInteger("xbt.gemm.nc", 512);
    }

    /** Our side of one shape: the operands and a timed loop. */
    static final class Bench {
        final Shape s;
        final float[] a, b, c;

        Bench(Shape s) {
            this.s = s;
            SplittableRandom r = new SplittableRandom(1);
            a = new float[s.batch() * s.m() * s.k()];
            b = new float[s.batch() * s.k() * s.n()];
            c = new float[s.batch() * s.m() * s.n()];
            for (int i = 0; i < a.length; i++) a[i] = (float) r.nextDouble(-1, 1);
            for (int i = 0; i < b.length; i++) b[i] = (float) r.nextDouble(-1, 1);
        }

        void run() {
            int m = s.m(), n = s.n(), k = s.k();
            VectorGemm.sgemm(s.batch(), s.tA(), s.tB(), m, n, k, 1f, a, 0, (long) m * k, s.tA() ? m : k,
                    b, 0, (long) k * n, s.tB() ? k : n, 0f, c, 0, (long) m * n, n);
        }

        /** Median seconds per call over back-to-back calls for about ms milliseconds (at least 3 calls). */
        double time(long ms) {
            long deadline = System.nanoTime() + ms * 1_000_000L;
            long[] t = new long[64];
            int calls = 0;
            do {
                long t0 = System.nanoTime();
                run();
                if (calls == t.length) t = java.util.Arrays.copyOf(t, 2 * calls);
                t[calls++] = System.nanoTime() - t0;
            } while (calls < 3 || System.nanoTime() < deadline);
            java.util.Arrays.sort(t, 0, calls);
            return t[calls / 2] / 1e9;
        }
    }
}

package dev.xbt.kernels.cuda;

import jcuda.driver.CUevent;
import jcuda.driver.CUstream;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

/**
 * Where the GPU's time goes: while a profile is open, every kernel launch, matrix product, copy and
 * fill of the backend is bracketed by two CUDA events on the stream, so its device time is measured
 * without waiting between operations. {@link #report} waits once at the end and sums the times per
 * operation name; the span from the first start to the last end, against the sum of the operations'
 * times, says how long the GPU sat idle waiting for the host (launch overhead, host work).
 *
 * <p>Operations nest (a matrix product on our kernels is also a kernel launch): each has its row,
 * and the busy time counts only the outer one.
 *
 * <p>Recording costs two driver calls per operation, so profiled runs are a little slower than
 * unprofiled ones; the per-operation device times are unaffected.
 */
final class CudaProfile {
    private record Span(String name, CUevent start, CUevent end, boolean nested) {}

    private final CUstream stream;
    private final List<Span> spans = new ArrayList<>();
    /** Indexes into spans of the operations begun and not yet ended (a matrix product may launch a kernel). */
    private final ArrayDeque<Integer> open = new ArrayDeque<>();
    private final List<CUevent> pool = new ArrayList<>();
    private int used;

    CudaProfile(CUstream stream) {
        this.stream = stream;
    }

    private CUevent event() {
        if (used == pool.size()) {
            CUevent e = new CUevent();
            cuEventCreate(e, 0);
            pool.add(e);
        }
        return pool.get(used++);
    }

    /** Records the start of an operation; {@link #end} closes the one most recently begun. */
    void begin(String name) {
        CUevent s = event();
        cuEventRecord(s, stream);
        boolean nested = !open.isEmpty();
        open.push(spans.size());
        spans.add(new Span(name, s, null, nested));
    }

    void end() {
        int i = open.pop();
        CUevent e = event();
        cuEventRecord(e, stream);
        Span s = spans.get(i);
        spans.set(i, new Span(s.name(), s.start(), e, s.nested()));
    }

    /**
     * Waits for the stream, then a table: per operation name its count, total and mean device time
     * and share, the largest first (at most {@code top} rows); then the span, the busy time and the
     * idle share. Clears the recorded operations (the events are kept for reuse).
     */
    String report(int top) {
        cuStreamSynchronize(stream);
        Map<String, double[]> byName = new HashMap<>(); // name -> {count, milliseconds}
        float[] ms = new float[1];
        double busy = 0;
        for (Span s : spans) {
            if (s.end() == null) continue; // its operation failed
            cuEventElapsedTime(ms, s.start(), s.end());
            double[] acc = byName.computeIfAbsent(s.name(), k -> new double[2]);
            acc[0]++;
            acc[1] += ms[0];
            if (!s.nested()) busy += ms[0];
        }
        double span = 0;
        CUevent last = null;
        for (Span s : spans) if (s.end() != null) last = s.end();
        if (last != null) {
            cuEventElapsedTime(ms, spans.getFirst().start(), last);
            span = ms[0];
        }
        List<Map.Entry<String, double[]>> rows = new ArrayList<>(byName.entrySet());
        rows.sort((a, b) -> Double.compare(b.getValue()[1], a.getValue()[1]));
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%-60s %7s %10s %10s %6s%n", "operation", "calls", "total ms", "mean us", "share"));
        for (int i = 0; i < Math.min(top, rows.size()); i++) {
            Map.Entry<String, double[]> r = rows.get(i);
            double n = r.getValue()[0], t = r.getValue()[1];
            out.append(String.format(Locale.ROOT, "%-60s %7d %10.3f %10.1f %5.1f%%%n", r.getKey(), (long) n, t, 1000 * t / n,
                    busy == 0 ? 0 : 100 * t / busy));
        }
        if (rows.size() > top) out.append("(").append(rows.size() - top).append(" more operations)\n");
        out.append(String.format(Locale.ROOT, "operations %d, GPU busy %.3f ms, span %.3f ms, idle %.1f%%%n", spans.size(), busy, span,
                span == 0 ? 0 : 100 * (span - busy) / span));
        spans.clear();
        open.clear();
        used = 0;
        return out.toString();
    }
}

package dev.xbt.clip;

import dev.xbt.engine.Parameter;
import dev.xbt.engine.nn.Module;
import dev.xbt.weights.ClipLayout;
import dev.xbt.weights.TensorSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Loads checkpoint tensors into a model by name, in any layout {@link ClipLayout} knows. */
public final class ClipWeights {
    private ClipWeights() {}

    /** Thrown when a checkpoint does not fit the model; the message lists every problem at once. */
    public static final class MismatchException extends IllegalArgumentException {
        MismatchException(String message) {
            super(message);
        }
    }

    /**
     * Copies every parameter of {@code model} from {@code source}. Missing, unexpected and mis-shaped
     * tensors, tensors holding NaN or infinity, and tensors the source cannot produce (a Hugging Face
     * in-projection with one of q/k/v absent, a dtype that cannot be decoded) are collected and
     * reported together in one {@link MismatchException}; nothing is changed in the model unless
     * everything fits.
     */
    public static void load(Module model, TensorSource source) {
        TensorSource view = ClipLayout.asOpenClip(source);
        Map<String, Parameter> params = model.namedParameters();
        List<String> missing = new ArrayList<>(), misShaped = new ArrayList<>(), nonFinite = new ArrayList<>();
        List<String> unusable = new ArrayList<>();
        Set<String> unexpected = new LinkedHashSet<>(view.names());
        unexpected.removeAll(params.keySet());
        for (var e : params.entrySet()) {
            String name = e.getKey();
            if (!view.names().contains(name)) {
                missing.add(name);
                continue;
            }
            int[] want = e.getValue().shape(), have;
            float[] d;
            try {
                // First pass: validate only, one tensor in memory at a time (the second pass reads again),
                // so loading costs the model's size once, not twice.
                have = view.shape(name);
                if (!sameShape(want, have)) {
                    misShaped.add(name + " " + Arrays.toString(have) + " (model " + Arrays.toString(want) + ")");
                    continue;
                }
                // Read even when other tensors are already known not to fit, so that one error lists everything.
                d = view.read(name);
            } catch (RuntimeException ex) {
                unusable.add(ex.getMessage() != null && ex.getMessage().contains(name) ? ex.getMessage()
                        : name + ": " + ex.getMessage());
                continue;
            }
            for (float v : d) {
                if (!Float.isFinite(v)) {
                    nonFinite.add(name);
                    break;
                }
            }
        }
        if (missing.isEmpty() && misShaped.isEmpty() && unexpected.isEmpty() && nonFinite.isEmpty() && unusable.isEmpty()) {
            for (var e : params.entrySet()) e.getValue().copyFrom(view.read(e.getKey()));
            return;
        }
        StringBuilder sb = new StringBuilder("checkpoint does not fit the model:");
        list(sb, "missing", missing);
        list(sb, "unexpected", new ArrayList<>(unexpected));
        list(sb, "wrong shape", misShaped);
        list(sb, "unusable", unusable);
        list(sb, "NaN or infinite values in", nonFinite);
        throw new MismatchException(sb.toString());
    }

    /** A scalar stored as [] or [1] fits either. */
    private static boolean sameShape(int[] a, int[] b) {
        if (Arrays.equals(a, b)) return true;
        return size(a) == 1 && size(b) == 1 && a.length <= 1 && b.length <= 1;
    }

    private static long size(int[] s) {
        long n = 1;
        for (int d : s) n *= d;
        return n;
    }

    private static void list(StringBuilder sb, String what, List<String> names) {
        if (names.isEmpty()) return;
        sb.append(' ').append(names.size()).append(' ').append(what).append(": ");
        int shown = Math.min(names.size(), 12);
        sb.append(String.join(", ", names.subList(0, shown)));
        if (names.size() > shown) sb.append(", ... (").append(names.size() - shown).append(" more)");
        sb.append(';');
    }
}

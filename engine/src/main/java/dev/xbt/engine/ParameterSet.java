package dev.xbt.engine;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Buffer;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Predicate;

/**
 * The trainable parameters of a model packed into one flat buffer, with their gradients in a
 * second flat buffer of the same layout: optimizers and gradient clipping then run as a few long
 * loops (or kernel launches) instead of one per tensor. Parameters that take weight decay come
 * first, so each group is one contiguous range. Frozen parameters are left where they are.
 */
public final class ParameterSet {
    /** The default decay rule: matrices decay; biases, gains, scales and other 1-D tensors do not. */
    public static final Predicate<Parameter> DECAY_MATRICES = p -> p.rank() >= 2;

    private final List<Parameter> params;
    private final Backend backend;
    private final Buffer data;
    private final Buffer grads;
    private final long decayed;
    private final long total;

    private ParameterSet(List<Parameter> params, Backend backend, Buffer data, Buffer grads, long decayed, long total) {
        this.params = params;
        this.backend = backend;
        this.data = data;
        this.grads = grads;
        this.decayed = decayed;
        this.total = total;
    }

    /** Packs the trainable ones of {@code all} with the default decay rule. */
    public static ParameterSet of(Collection<Parameter> all) {
        return of(all, DECAY_MATRICES);
    }

    /** Packs the trainable ones of {@code all}; {@code decay} says which take weight decay. */
    public static ParameterSet of(Collection<Parameter> all, Predicate<Parameter> decay) {
        List<Parameter> withDecay = new ArrayList<>(), without = new ArrayList<>();
        Backend be = null;
        java.util.Set<Parameter> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Parameter p : all) {
            if (p.frozen() || !seen.add(p)) continue;
            if (be == null) be = p.backend();
            else if (p.backend() != be) throw new EngineException("ParameterSet: parameters on different backends: " + p.describe());
            (decay.test(p) ? withDecay : without).add(p);
        }
        if (be == null) throw new EngineException("ParameterSet: no trainable parameters");
        List<Parameter> ordered = new ArrayList<>(withDecay);
        ordered.addAll(without);
        long decayed = 0, total = 0;
        for (Parameter p : withDecay) decayed += p.size();
        for (Parameter p : ordered) total += p.size();
        Buffer data = be.allocate(total), grads = be.allocate(total);
        long off = 0;
        for (Parameter p : ordered) {
            Buffer view = data.slice(off, p.size());
            be.copy(p.buffer(), view);
            p.rebindData(view);
            p.bindGrad(grads.slice(off, p.size()));
            off += p.size();
        }
        return new ParameterSet(List.copyOf(ordered), be, data, grads, decayed, total);
    }

    public List<Parameter> parameters() {
        return params;
    }

    public Backend backend() {
        return backend;
    }

    /** All packed values (decayed range first). */
    public Buffer data() {
        return data;
    }

    /** All gradients, same layout as {@link #data()}. */
    public Buffer grads() {
        return grads;
    }

    /** Elements in the weight-decay range [0, decayedCount). */
    public long decayedCount() {
        return decayed;
    }

    /** Elements in total. */
    public long count() {
        return total;
    }

    /**
     * Throws when a packed parameter has been frozen since packing: the optimizer would go on moving
     * it (momentum, weight decay). Rebuild the set after changing what is trainable.
     */
    public void checkTrainable() {
        for (Parameter p : params) {
            if (p.frozen()) throw new EngineException("parameter " + p.describe()
                    + " was frozen after its ParameterSet was built; build a new ParameterSet (and optimizer)");
        }
    }

    public void zeroGrad() {
        backend.fill(grads, 0f);
    }

    /** L2 norm of all gradients together. */
    public double gradNorm() {
        return Math.sqrt(backend.sumOfSquares(grads));
    }

    /**
     * Scales the gradients so that their global L2 norm is at most maxNorm; returns the norm before
     * clipping. A non-finite norm is returned unchanged and nothing is scaled.
     */
    public double clipGradNorm(double maxNorm) {
        double norm = gradNorm();
        if (Double.isFinite(norm) && norm > maxNorm) {
            backend.affine(grads, (float) (maxNorm / (norm + 1e-6)), 0f, grads);
        }
        return norm;
    }
}

package dev.xbt.engine;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reverse-mode autograd. While a tape is open on a thread, every op whose inputs need gradients
 * appends a node (its output, its inputs, its gradient rule); {@link #backward} walks the nodes in
 * reverse and accumulates gradients into the leaves. Closing the tape drops the recorded graph;
 * backward through a closed tape is an error. With no open tape (or inside {@link #inference()})
 * nothing is recorded.
 *
 * <pre>{@code
 * try (Tape tape = Tape.record()) {
 *     Tensor loss = model.loss(batch);
 *     tape.backward(loss);
 * }
 * }</pre>
 */
public final class Tape implements AutoCloseable {
    private static final ThreadLocal<Tape> ACTIVE = new ThreadLocal<>();
    /** Marks an inference region: recording is off even inside an open tape. */
    private static final Tape INFERENCE = new Tape(null);

    private final Tape previous;
    private final List<Node> nodes = new ArrayList<>();
    private boolean closed;
    private boolean consumed;

    /** A gradient rule: given the output's gradient, the gradient of each input that needs one. */
    @FunctionalInterface
    public interface Backward {
        /** Returns one entry per input; entries for inputs with {@code needs[i] == false} may be null. */
        Tensor[] apply(Tensor gradOutput, boolean[] needs);
    }

    /** One recorded op. */
    public record Node(String op, Tensor output, Tensor[] inputs, Backward rule, Tape tape) {}

    private Tape(Tape previous) {
        this.previous = previous;
    }

    /** Opens a tape on this thread; ops record onto it until it is closed. */
    public static Tape record() {
        Tape t = new Tape(ACTIVE.get());
        ACTIVE.set(t);
        return t;
    }

    /** A region in which nothing is recorded, even inside an open tape. */
    public static Region inference() {
        Tape previous = ACTIVE.get();
        ACTIVE.set(INFERENCE);
        return () -> ACTIVE.set(previous);
    }

    /** Restores the recording state on close. */
    public interface Region extends AutoCloseable {
        @Override
        void close();
    }

    /** Whether an op run now on this thread would be recorded. */
    public static boolean recording() {
        Tape t = ACTIVE.get();
        return t != null && t != INFERENCE;
    }

    /**
     * Records {@code output = op(inputs)} if a tape is open and any input needs a gradient; returns
     * the output. Called by every differentiable op.
     */
    static Tensor recordOp(String op, Tensor output, Tensor[] inputs, Backward rule) {
        Tape t = ACTIVE.get();
        if (t == null || t == INFERENCE) return output;
        boolean any = false;
        for (Tensor in : inputs) {
            if (in != null && in.requiresGrad()) {
                any = true;
                break;
            }
        }
        if (!any) return output;
        if (t.closed) throw new EngineException(op + ": recording on a closed tape");
        Node n = new Node(op, output, inputs, rule, t);
        t.nodes.add(n);
        output.markRecorded(n);
        return output;
    }

    /** Backward from a one-element tensor (seed gradient 1). */
    public void backward(Tensor loss) {
        if (loss.size() != 1) throw EngineException.of("backward", "needs a one-element loss, or pass its gradient", loss);
        // The seed lives on the loss's backend, not on the thread's current one: they differ whenever
        // a model runs on a backend other than the default (scalar64 for gradient checks, or scalar
        // once a faster CPU backend is the default).
        Tensor seed = Tensor.zeros(loss.backend, loss.shape());
        loss.backend.fill(seed.buffer, 1f);
        backward(loss, seed);
    }

    /** Backward from {@code output} with the given gradient of it. */
    public void backward(Tensor output, Tensor gradOutput) {
        if (closed) throw EngineException.of("backward", "the tape that recorded this tensor is closed (backward through a closed scope)", output);
        if (consumed) throw EngineException.of("backward", "this tape already ran backward once; record the forward pass again", output);
        if (output.node == null || output.node.tape() != this) {
            throw EngineException.of("backward", "tensor was not recorded on this tape", output);
        }
        if (gradOutput.backend != output.backend) {
            throw EngineException.of("backward", "gradient lives on backend " + gradOutput.backend.name()
                    + ", output on " + output.backend.name(), output, gradOutput);
        }
        if (!java.util.Arrays.equals(output.shape(), gradOutput.shape())) {
            throw EngineException.of("backward", "gradient shape differs from output shape", output, gradOutput);
        }
        consumed = true;
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        grads.put(output, gradOutput);
        try (Region ignored = inference()) {
            for (int i = nodes.size() - 1; i >= 0; i--) {
                Node n = nodes.get(i);
                Tensor g = grads.remove(n.output());
                if (g == null) continue;
                Tensor[] ins = n.inputs();
                boolean[] needs = new boolean[ins.length];
                for (int j = 0; j < ins.length; j++) needs[j] = ins[j] != null && ins[j].requiresGrad();
                Tensor[] gi = n.rule().apply(g, needs);
                for (int j = 0; j < ins.length; j++) {
                    if (!needs[j]) continue;
                    Tensor in = ins[j];
                    Tensor gj = gi[j];
                    if (gj == null) throw new IllegalStateException(n.op() + ": gradient rule returned no gradient for input " + j);
                    if (!java.util.Arrays.equals(gj.shape(), in.shape())) {
                        throw new IllegalStateException(n.op() + ": gradient for input " + j + " has shape "
                                + Shape.str(gj.shape()) + ", input has " + Shape.str(in.shape()));
                    }
                    NanGuard.check(n.op() + " (backward)", gj, ins);
                    if (in.node == null) {
                        in.accumulateGrad(gj);
                    } else if (in.node.tape() != this) {
                        throw EngineException.of("backward", "input of " + n.op()
                                + " was recorded on another tape that is " + (in.node.tape().closed ? "closed" : "still open")
                                + " (backward through a closed scope); detach() it or record everything on one tape", in);
                    } else {
                        Tensor prev = grads.get(in);
                        if (prev == null) grads.put(in, gj);
                        else grads.put(in, Ops.add(prev, gj));
                    }
                }
            }
        } finally {
            nodes.clear();
        }
    }

    /** Number of recorded ops (for tests and diagnostics). */
    public int size() {
        return nodes.size();
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        nodes.clear();
        if (ACTIVE.get() == this) ACTIVE.set(previous);
    }
}

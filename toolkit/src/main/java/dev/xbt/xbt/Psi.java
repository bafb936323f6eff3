package dev.xbt.xbt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.xbt.engine.Nn;
import dev.xbt.engine.Ops;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.nn.Linear;
import dev.xbt.engine.nn.Module;
import dev.xbt.weights.ModelContract;
import dev.xbt.weights.SafetensorsFile;
import dev.xbt.weights.SafetensorsWriter;
import dev.xbt.weights.TensorData;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The projection ψ from the new model's embedding space (d_new) into the old one's (d_old): a two-layer MLP with a
 * GELU, hidden width {@code hidden}, plus a linear residual path d_new→d_old (so a near-linear relation between the
 * spaces is learned quickly), output L2-normalised. Inputs are expected L2-normalised.
 *
 * <p>Saved as safetensors with its shape and the contracts of the two models it maps between, so that a ψ made for
 * another pair of models is refused by name ({@link #checkChain}).
 */
public final class Psi extends Module {
    public static final String SHAPE_KEY = "xbt.projection";
    public static final String OLD_KEY = "xbt.projection.old_contract";
    public static final String NEW_KEY = "xbt.projection.new_contract";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Linear fc1, fc2, skip;
    private final int in, hidden, out;

    public Psi(int in, int hidden, int out, Rng rng) {
        super("projection");
        if (in < 1 || hidden < 1 || out < 1) {
            throw new IllegalArgumentException("projection: dimensions must be positive, got " + in + "->" + hidden + "->" + out);
        }
        this.in = in;
        this.hidden = hidden;
        this.out = out;
        this.fc1 = child(Linear.uniformInit(qualify("fc1"), in, hidden, true, rng));
        this.fc2 = child(Linear.uniformInit(qualify("fc2"), hidden, out, true, rng));
        this.skip = child(Linear.uniformInit(qualify("skip"), in, out, false, rng));
    }

    public int inDim() {
        return in;
    }

    public int hiddenDim() {
        return hidden;
    }

    public int outDim() {
        return out;
    }

    /** ψ(x) for x [B, d_new]: L2-normalised [B, d_old]. */
    public Tensor forward(Tensor x) {
        return Nn.l2Normalize(Ops.add(fc2.forward(Ops.gelu(fc1.forward(x))), skip.forward(x)));
    }

    /** ψ of the rows of {@code x} [n, d_new], without recording; row-major [n, d_old]. */
    public float[] apply(float[] x, int n) {
        try (var ignored = dev.xbt.engine.Tape.inference()) {
            return forward(Tensor.of(x, n, in)).toArray();
        }
    }

    /** A copy with the same weights (e.g. the frozen stage-1 ψ beside a trained one). */
    public Psi copy() {
        Psi p = new Psi(in, hidden, out, new Rng(0));
        Map<String, Parameter> mine = namedParameters();
        p.namedParameters().forEach((name, param) -> param.copyFrom(mine.get(name).toArray()));
        return p;
    }

    /** The old and new contracts a saved ψ maps between (either may be absent for models without one). */
    public record Loaded(Psi projection, Optional<ModelContract> oldContract, Optional<ModelContract> newContract) {}

    /** Writes ψ atomically with its shape and the two contracts. */
    public void save(Path file, ModelContract oldContract, ModelContract newContract) {
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        namedParameters().forEach((name, p) -> tensors.put(name, TensorData.of(p.toArray(), p.shape())));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(SHAPE_KEY, JSON.createObjectNode().put("in", in).put("hidden", hidden).put("out", out).toString());
        if (oldContract != null) meta.put(OLD_KEY, oldContract.toJson());
        if (newContract != null) meta.put(NEW_KEY, newContract.toJson());
        SafetensorsWriter.write(file, tensors, meta);
    }

    public static Loaded load(Path file) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("projection file " + file + " does not exist");
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, String> meta = f.metadata();
            String shape = meta.get(SHAPE_KEY);
            if (shape == null) throw new IllegalArgumentException(file + " is not a projection (no " + SHAPE_KEY + " metadata)");
            JsonNode s;
            try {
                s = JSON.readTree(shape);
            } catch (com.fasterxml.jackson.core.JacksonException e) {
                throw new IllegalArgumentException(file + ": unreadable " + SHAPE_KEY + " metadata");
            }
            Psi p = new Psi(s.path("in").asInt(), s.path("hidden").asInt(), s.path("out").asInt(), new Rng(0));
            p.namedParameters().forEach((name, param) -> {
                if (!f.contains(name)) throw new IllegalArgumentException(file + ": projection tensor " + name + " is missing");
                param.copyFrom(f.read(name));
            });
            return new Loaded(p, Optional.ofNullable(meta.get(OLD_KEY)).map(ModelContract::fromJson),
                    Optional.ofNullable(meta.get(NEW_KEY)).map(ModelContract::fromJson));
        }
    }

    /**
     * Refuses a ψ that does not chain the given models: its recorded old (new) contract must equal the old (new)
     * model's, and its dimensions must match theirs. Messages name both contracts.
     */
    public static void checkChain(Loaded psi, Path file, ModelContract oldModel, int oldDim, ModelContract newModel, int newDim) {
        check(psi.oldContract(), oldModel, file, "old");
        check(psi.newContract(), newModel, file, "new");
        Psi p = psi.projection();
        if (p.inDim() != newDim || p.outDim() != oldDim) {
            throw new IllegalArgumentException("projection " + file + " maps " + p.inDim() + "-d to " + p.outDim()
                    + "-d embeddings, but the new model has " + newDim + " and the old model " + oldDim + " dimensions");
        }
    }

    private static void check(Optional<ModelContract> recorded, ModelContract model, Path file, String which) {
        if (recorded.isPresent() && model != null && !recorded.get().equals(model)) {
            throw new IllegalArgumentException("projection " + file + " was trained for the " + which + " model "
                    + recorded.get().describe() + ", but the " + which + " model given is " + model.describe());
        }
    }
}

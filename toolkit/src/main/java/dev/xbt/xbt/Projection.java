package dev.xbt.xbt;

import dev.xbt.engine.Nn;
import dev.xbt.engine.Ops;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.nn.LayerNorm;
import dev.xbt.engine.nn.Linear;
import dev.xbt.engine.nn.Module;
import dev.xbt.weights.ModelContract;
import dev.xbt.weights.SafetensorsFile;
import dev.xbt.weights.SafetensorsWriter;
import dev.xbt.weights.TensorData;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The projection ψ of XBT: maps embeddings of the new model [B, newDim] into the old model's space [B, oldDim], so
 * new queries can search a gallery the old model built. An MLP ({@code mlp.0 .. mlp.(depth-1)}, each hidden layer
 * followed by its optional layer norm {@code mlp.i.norm} and the activation) plus, optionally, a bias-free linear
 * path {@code residual} from input to output; the sum is L2-normalised.
 *
 * <p>Initialisation: hidden layers as PyTorch's nn.Linear; with the residual path, the residual starts as the
 * "raw" map (identity on the first min(newDim, oldDim) coordinates: zero-padding or truncation) and the MLP's last
 * layer at zero, so an untrained ψ is the raw baseline and training only has to learn the correction.
 *
 * <p>A saved ψ records both contracts: the old model's under {@link ModelContract#METADATA_KEY} (ψ's outputs live in
 * the old space, so they promise what the old model promised) and the new model's under {@value #NEW_CONTRACT_KEY}.
 * {@link #load(Path, ModelContract, ModelContract)} refuses a ψ made for other models.
 */
public final class Projection extends Module {
    public static final String CONFIG_KEY = "xbt.projection.config";
    public static final String NEW_CONTRACT_KEY = "xbt.projection.new_contract";

    private final ProjectionConfig config;
    private final List<Linear> layers = new ArrayList<>();
    private final List<LayerNorm> norms = new ArrayList<>();
    private final Linear residual;

    public Projection(ProjectionConfig config, Rng rng) {
        super("");
        this.config = config;
        int in = config.newDim();
        for (int i = 0; i < config.depth(); i++) {
            boolean last = i == config.depth() - 1;
            int out = last ? config.oldDim() : config.hidden();
            String name = "mlp." + i;
            Linear l = last && config.residual()
                    ? new Linear(name, Tensor.zeros(out, in), Tensor.zeros(out))
                    : Linear.uniformInit(name, in, out, true, rng);
            layers.add(child(l));
            if (!last && config.norm() == ProjectionConfig.Norm.LAYER_NORM) norms.add(child(new LayerNorm(name + ".norm", out)));
            in = out;
        }
        if (config.residual()) {
            float[] eye = new float[config.oldDim() * config.newDim()];
            for (int i = 0; i < Math.min(config.oldDim(), config.newDim()); i++) eye[i * config.newDim() + i] = 1f;
            residual = child(new Linear("residual", Tensor.of(eye, config.oldDim(), config.newDim()), null));
        } else {
            residual = null;
        }
    }

    public ProjectionConfig config() {
        return config;
    }

    /** ψ(x): [B, newDim] → L2-normalised [B, oldDim]. */
    public Tensor forward(Tensor x) {
        if (x.rank() != 2 || x.dim(1) != config.newDim()) {
            throw new IllegalArgumentException("projection: input must be [B, " + config.newDim() + "], got " + Arrays.toString(x.shape()));
        }
        Tensor h = x;
        for (int i = 0; i < layers.size(); i++) {
            h = layers.get(i).forward(h);
            if (i < layers.size() - 1) {
                if (!norms.isEmpty()) h = norms.get(i).forward(h);
                h = activate(h);
            }
        }
        if (residual != null) h = Ops.add(h, residual.forward(x));
        return Nn.l2Normalize(h);
    }

    private Tensor activate(Tensor h) {
        return switch (config.activation()) {
            case GELU -> Ops.gelu(h);
            case RELU -> Ops.relu(h);
            case TANH -> Ops.tanh(h);
        };
    }

    /**
     * Sets the residual path to a fitted linear map new → old (e.g. the Procrustes map of stage 1's text pairs), so ψ
     * starts as that map instead of the raw one; the MLP's last layer is still zero, so ψ(x) = normalize(x·W) until
     * training moves it.
     */
    public void startResidualAt(LinearMap map) {
        if (residual == null) throw new IllegalArgumentException("projection: no residual path to start at the " + map.name() + " map");
        if (map.newDim() != config.newDim() || map.oldDim() != config.oldDim()) {
            throw new IllegalArgumentException("projection: the " + map.name() + " map is " + map.newDim() + " -> " + map.oldDim()
                    + ", ψ is " + config.newDim() + " -> " + config.oldDim());
        }
        double[] w = map.weight(); // [newDim, oldDim]; the residual's weight is its transpose [oldDim, newDim]
        float[] t = new float[w.length];
        for (int i = 0; i < config.newDim(); i++) {
            for (int j = 0; j < config.oldDim(); j++) t[j * config.newDim() + i] = (float) w[i * config.oldDim() + j];
        }
        residual.weight().copyFrom(t);
    }

    /** A copy with the same weights (e.g. the frozen stage-1 ψ beside the one stage 2 starts from). */
    public Projection copy() {
        Projection p = new Projection(config, new Rng(0));
        Map<String, Parameter> mine = namedParameters();
        p.namedParameters().forEach((name, param) -> param.copyFrom(mine.get(name).toArray()));
        return p;
    }

    // ---- files ----------------------------------------------------------------------------------------

    /** A loaded ψ with the contracts it was made for. */
    public record Loaded(Projection projection, ModelContract oldContract, ModelContract newContract) {}

    /** Writes ψ with its config and both contracts, atomically. The contracts' dimensions must be ψ's. */
    public void save(Path file, ModelContract oldContract, ModelContract newContract) {
        checkDims(config, oldContract, newContract, file);
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : namedParameters().entrySet()) {
            tensors.put(e.getKey(), new TensorData(e.getValue().toArray(), e.getValue().shape()));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(CONFIG_KEY, config.toJson());
        meta.put(ModelContract.METADATA_KEY, oldContract.toJson());
        meta.put(NEW_CONTRACT_KEY, newContract.toJson());
        SafetensorsWriter.write(file, tensors, meta);
    }

    /** Loads a ψ file, whatever models it was made for. */
    public static Loaded load(Path file) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("projection file " + file + " does not exist");
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, String> meta = f.metadata();
            String cfg = meta.get(CONFIG_KEY);
            if (cfg == null) throw new IllegalArgumentException(file + ": not a projection (no " + CONFIG_KEY + " in its metadata)");
            ProjectionConfig config = ProjectionConfig.fromJson(cfg);
            ModelContract oldC = ModelContract.from(meta).orElseThrow(() ->
                    new IllegalArgumentException(file + ": projection without the old model's contract (" + ModelContract.METADATA_KEY + ")"));
            String newJson = meta.get(NEW_CONTRACT_KEY);
            if (newJson == null) throw new IllegalArgumentException(file + ": projection without the new model's contract (" + NEW_CONTRACT_KEY + ")");
            ModelContract newC = ModelContract.fromJson(newJson);
            checkDims(config, oldC, newC, file);
            Projection p = new Projection(config, new Rng(0));
            for (Map.Entry<String, Parameter> e : p.namedParameters().entrySet()) {
                String name = e.getKey();
                if (!f.names().contains(name)) throw new IllegalArgumentException(file + ": projection lacks tensor " + name);
                if (!Arrays.equals(f.shape(name), e.getValue().shape())) {
                    throw new IllegalArgumentException(file + ": tensor " + name + " has shape " + Arrays.toString(f.shape(name))
                            + ", the config needs " + Arrays.toString(e.getValue().shape()));
                }
                e.getValue().copyFrom(f.read(name));
            }
            return new Loaded(p, oldC, newC);
        }
    }

    /**
     * Loads a ψ for mapping {@code newModel}'s embeddings into {@code oldModel}'s space; refused, naming both pairs
     * of contracts, when the file was made for other models.
     */
    public static Projection load(Path file, ModelContract oldModel, ModelContract newModel) {
        Loaded l = load(file);
        if (!l.oldContract().equals(oldModel) || !l.newContract().equals(newModel)) {
            throw new IllegalArgumentException(file + ": this projection maps " + l.newContract().describe() + " -> "
                    + l.oldContract().describe() + ", but it was asked to map " + newModel.describe() + " -> " + oldModel.describe());
        }
        return l.projection();
    }

    private static void checkDims(ProjectionConfig c, ModelContract oldC, ModelContract newC, Path file) {
        if (oldC.embedDim() != c.oldDim() || newC.embedDim() != c.newDim()) {
            throw new IllegalArgumentException(file + ": projection " + c.newDim() + " -> " + c.oldDim()
                    + " does not fit its contracts " + newC.describe() + " -> " + oldC.describe());
        }
    }
}

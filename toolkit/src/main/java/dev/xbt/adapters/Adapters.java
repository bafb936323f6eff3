package dev.xbt.adapters;

import dev.xbt.adapters.AdapterConfig.Tower;
import dev.xbt.clip.BlockLinear;
import dev.xbt.clip.ClipCheckpoint;
import dev.xbt.clip.ClipConfig;
import dev.xbt.clip.ClipModel;
import dev.xbt.clip.ResidualAttentionBlock;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.backend.Backend;
import dev.xbt.weights.ModelContract;
import dev.xbt.weights.SafetensorsFile;
import dev.xbt.weights.SafetensorsWriter;
import dev.xbt.weights.TensorData;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Adapters attached to a frozen {@link ClipModel}: LoRA terms on the chosen linear maps and prompt
 * tokens, as an {@link AdapterConfig} asks. Attaching freezes every base weight (frozen weights
 * cost no weight-gradient GEMM) and hooks the adapters into the model, so
 * {@link ClipModel#encodeImage} and {@link ClipModel#encodeText} run through them; only
 * {@link #trainableParameters()} learn.
 *
 * <pre>{@code
 * Adapters ad = Adapters.attach(model, config, new Rng(seed));
 * ParameterSet params = ParameterSet.of(ad.trainableParameters());
 * ad.train(true);                 // LoRA dropout on
 * ... train ...
 * ad.save(dir);                   // adapter_config.json + adapter_model.safetensors
 * Adapters again = Adapters.load(otherCopyOfTheBase, dir);
 * ad.merge();                     // folds LoRA into the base weights
 * }</pre>
 *
 * <p>An adapter belongs to one base: it records the base's contract ({@link ClipModel#contract()})
 * and config, and {@link #load} refuses a model whose contract or config differs, naming both.
 */
public final class Adapters {
    /** One adapted linear map. */
    private record Site(ResidualAttentionBlock block, BlockLinear which, LoraLinear lora) {}

    private final ClipModel model;
    private final AdapterConfig config;
    private final ModelContract baseContract;
    private final List<Site> sites = new ArrayList<>();
    private final List<Parameter> visualPrompts = new ArrayList<>();
    private Parameter textContext;
    /** Base parameters that were trainable before attaching; detaching thaws them again. */
    private final List<Parameter> thawedBefore = new ArrayList<>();
    private boolean training, merged, detached;

    private Adapters(ClipModel model, AdapterConfig config) {
        this.model = model;
        this.config = config;
        this.baseContract = model.contract().orElse(null);
    }

    /**
     * Freezes the model's weights and attaches fresh adapters: LoRA A drawn from {@code rng}, B zero
     * (so the model's outputs do not change yet), prompt tokens drawn from {@code rng}.
     */
    public static Adapters attach(ClipModel model, AdapterConfig config, Rng rng) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(config, "config");
        checkUnadapted(model);
        Adapters ad = new Adapters(model, config);
        Rng dropoutRng = rng.split();
        Backend backend = model.logitScale().backend();
        if (config.hasLora()) {
            AdapterConfig.Lora l = config.lora();
            for (Tower tower : Tower.values()) {
                List<ResidualAttentionBlock> blocks = blocks(model, tower);
                for (int layer : l.targets(tower).resolve(tower, blocks.size())) {
                    ResidualAttentionBlock block = blocks.get(layer);
                    for (BlockLinear which : l.targets(tower).targets()) {
                        LoraLinear lora = new LoraLinear(block.modulePath(which), block.inFeatures(which),
                                block.outFeatures(which), l.rank(), l.scale(), (float) l.dropout(), backend, rng,
                                dropoutRng, () -> ad.training);
                        ad.sites.add(new Site(block, which, lora));
                    }
                }
            }
        }
        AdapterConfig.Prompts p = config.prompts();
        if (p.visualTokens() > 0) {
            ClipConfig.Vision v = model.config().vision();
            // VPT's initialisation: Xavier-uniform over the patch embedding's fan-in and the width.
            float bound = (float) Math.sqrt(6.0 / (3 * v.patchSize() * v.patchSize() + v.width()));
            int count = p.visualDeep() ? v.layers() : 1;
            for (int i = 0; i < count; i++) {
                String name = i == 0 ? "visual.prompt_embeddings" : "visual.transformer.resblocks." + i + ".prompt_embeddings";
                ad.visualPrompts.add(new Parameter(name, uniform(backend, rng, bound, p.visualTokens(), v.width())));
            }
        }
        if (p.textContextTokens() > 0) {
            ClipConfig.Text t = model.config().text();
            if (p.textContextTokens() > t.contextLength() - 2) {
                throw new IllegalArgumentException("text context tokens: " + p.textContextTokens() + " do not fit a context of "
                        + t.contextLength() + " with its start and end tokens (at most " + (t.contextLength() - 2) + ")");
            }
            // CoOp's initialisation: normal, std 0.02.
            float[] d = new float[p.textContextTokens() * t.width()];
            for (int i = 0; i < d.length; i++) d[i] = (float) (rng.nextGaussian() * 0.02);
            ad.textContext = new Parameter("prompt_embeddings", Tensor.of(backend, d, p.textContextTokens(), t.width()));
        }
        // Hook in only once everything above has been validated, so a refused config leaves the model as it was.
        for (Parameter q : model.parameters()) if (!q.frozen()) ad.thawedBefore.add(q);
        model.freeze(true);
        for (Site s : ad.sites) s.block.setDelta(s.which, s.lora);
        if (!ad.visualPrompts.isEmpty()) model.visual().setPrompts(ad.visualPrompts);
        if (ad.textContext != null) model.text().setContext(ad.textContext);
        return ad;
    }

    private static Tensor uniform(Backend backend, Rng rng, float bound, int... shape) {
        float[] d = new float[shape[0] * shape[1]];
        for (int i = 0; i < d.length; i++) d[i] = -bound + 2 * bound * rng.nextFloat();
        return Tensor.of(backend, d, shape);
    }

    private static List<ResidualAttentionBlock> blocks(ClipModel model, Tower tower) {
        return tower == Tower.VISUAL ? model.visual().transformer().blocks() : model.text().transformer().blocks();
    }

    private static void checkUnadapted(ClipModel model) {
        boolean hooked = model.visual().promptTokens() > 0 || model.text().contextTokens() > 0;
        for (Tower tower : Tower.values()) {
            for (ResidualAttentionBlock b : blocks(model, tower)) hooked |= b.hasDeltas();
        }
        if (hooked) throw new IllegalStateException("the model already has adapters attached; detach them first");
    }

    // ---- use ----

    public ClipModel model() {
        return model;
    }

    public AdapterConfig config() {
        return config;
    }

    /** The contract of the base model the adapters were made for, if it had one. */
    public Optional<ModelContract> baseContract() {
        return Optional.ofNullable(baseContract);
    }

    /** Turns LoRA dropout on (training) or off (evaluation, the default). */
    public void train(boolean training) {
        this.training = training;
    }

    public boolean training() {
        return training;
    }

    /** The parameters that learn: LoRA A and B (until merged), then the prompt tokens. */
    public List<Parameter> trainableParameters() {
        return List.copyOf(namedParameters().values());
    }

    /**
     * The adapters' parameters by their tensor names in {@value PeftLayout#WEIGHTS_FILE}: LoRA
     * under {@code base_model.model.<module>.lora_A.weight} / {@code lora_B.weight}, prompts under
     * their own names (see the package documentation).
     */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        if (!merged) {
            for (Site s : sites) {
                m.put(PeftLayout.LORA_PREFIX + s.lora.a().name(), s.lora.a());
                m.put(PeftLayout.LORA_PREFIX + s.lora.b().name(), s.lora.b());
            }
        }
        for (Parameter p : visualPrompts) m.put(p.name(), p);
        if (textContext != null) m.put(textContext.name(), textContext);
        return m;
    }

    /** The adapted modules' full names, e.g. {@code visual.transformer.resblocks.0.attn.q_proj}. */
    public List<String> loraModules() {
        return sites.stream().map(s -> s.block.modulePath(s.which)).toList();
    }

    public List<LoraLinear> loraLayers() {
        return sites.stream().map(Site::lora).toList();
    }

    // ---- files ----

    /**
     * Writes {@value PeftLayout#WEIGHTS_FILE} and then {@value PeftLayout#CONFIG_FILE} into
     * {@code dir} (created if needed), each atomically; the config records the weights' SHA-256,
     * so a folder whose two files come from different saves is refused on loading.
     */
    public void save(Path dir) {
        requireUsable();
        if (merged) throw new IllegalStateException("the LoRA weights were merged into the base; there is no adapter left to save");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalArgumentException(dir + ": cannot create the adapter folder: " + e, e);
        }
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        for (var e : namedParameters().entrySet()) {
            tensors.put(e.getKey(), new TensorData(e.getValue().toArray(), e.getValue().shape()));
        }
        Path weights = dir.resolve(PeftLayout.WEIGHTS_FILE);
        SafetensorsWriter.write(weights, tensors, Map.of("format", "pt"));
        PeftLayout.writeAtomically(dir.resolve(PeftLayout.CONFIG_FILE),
                PeftLayout.configJson(config, loraModules(), baseContract, model.config(), PeftLayout.sha256(weights)));
    }

    /**
     * Reads an adapter folder and attaches it to {@code model}. Refused, with nothing attached: an
     * adapter made for another base (its recorded contract or config differs from the model's; the
     * message names both), missing files, weights that do not belong to the config, and tensors that
     * are missing, unexpected, mis-shaped or not finite (all listed in one message).
     */
    public static Adapters load(ClipModel model, Path dir) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("adapter folder " + dir + " does not exist");
        for (String f : List.of(PeftLayout.CONFIG_FILE, PeftLayout.WEIGHTS_FILE)) {
            if (!Files.isRegularFile(dir.resolve(f))) throw new IllegalArgumentException("adapter folder " + dir + " has no " + f);
        }
        PeftLayout.Saved saved = PeftLayout.readConfig(dir);
        checkBase(dir, saved, model);
        Path weights = dir.resolve(PeftLayout.WEIGHTS_FILE);
        if (!PeftLayout.sha256(weights).equals(saved.weightsSha256())) {
            throw new IllegalArgumentException(weights + " is not the file " + PeftLayout.CONFIG_FILE
                    + " was saved with (its SHA-256 differs): the folder mixes two saves");
        }
        Adapters ad = attach(model, saved.config(), new Rng(0));
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            ad.copyFrom(f);
        } catch (RuntimeException e) {
            ad.detach();
            throw e;
        }
        return ad;
    }

    private static void checkBase(Path dir, PeftLayout.Saved saved, ClipModel model) {
        Optional<ModelContract> want = saved.baseContract(), have = model.contract();
        if (!want.equals(have)) {
            throw new IllegalArgumentException("adapter " + dir + " was made for base model "
                    + want.map(ModelContract::describe).orElse("(no contract)") + ", but this model is "
                    + have.map(ModelContract::describe).orElse("(no contract)"));
        }
        if (!saved.baseConfig().equals(model.config())) {
            throw new IllegalArgumentException("adapter " + dir + " was made for a base of config "
                    + ClipCheckpoint.configToJson(saved.baseConfig()) + ", but this model's config is "
                    + ClipCheckpoint.configToJson(model.config()));
        }
    }

    private void copyFrom(SafetensorsFile f) {
        Map<String, Parameter> params = namedParameters();
        List<String> missing = new ArrayList<>(), misShaped = new ArrayList<>(), nonFinite = new ArrayList<>();
        Set<String> unexpected = new LinkedHashSet<>(f.names());
        unexpected.removeAll(params.keySet());
        Map<String, float[]> values = new LinkedHashMap<>();
        for (var e : params.entrySet()) {
            String name = e.getKey();
            if (!f.contains(name)) {
                missing.add(name);
                continue;
            }
            if (!Arrays.equals(f.shape(name), e.getValue().shape())) {
                misShaped.add(name + " " + Arrays.toString(f.shape(name)) + " (expected " + Arrays.toString(e.getValue().shape()) + ")");
                continue;
            }
            float[] d = f.read(name);
            for (float v : d) {
                if (!Float.isFinite(v)) {
                    nonFinite.add(name);
                    break;
                }
            }
            values.put(name, d);
        }
        if (missing.isEmpty() && unexpected.isEmpty() && misShaped.isEmpty() && nonFinite.isEmpty()) {
            for (var e : values.entrySet()) params.get(e.getKey()).copyFrom(e.getValue());
            return;
        }
        StringBuilder sb = new StringBuilder(f.path() + " does not fit its config:");
        list(sb, "missing", missing);
        list(sb, "unexpected", new ArrayList<>(unexpected));
        list(sb, "wrong shape", misShaped);
        list(sb, "NaN or infinite values in", nonFinite);
        throw new IllegalArgumentException(sb.toString());
    }

    private static void list(StringBuilder sb, String what, List<String> names) {
        if (names.isEmpty()) return;
        int shown = Math.min(names.size(), 8);
        sb.append(' ').append(names.size()).append(' ').append(what).append(": ").append(String.join(", ", names.subList(0, shown)));
        if (names.size() > shown) sb.append(", ... (").append(names.size() - shown).append(" more)");
        sb.append(';');
    }

    // ---- merge and detach ----

    /**
     * Folds every LoRA term into its base weight, W' = W + (alpha/r)·B·A (summed in float64, rounded
     * once), removes the LoRA hooks and gives the model {@link #mergedContract()}. Prompt tokens are
     * not weights of the base and stay attached (see {@link #hasPrompts()}). Returns the model.
     */
    public ClipModel merge() {
        requireUsable();
        if (merged) throw new IllegalStateException("the LoRA weights are already merged");
        ModelContract contract = mergedContract();
        for (Site s : sites) {
            s.block.addToWeight(s.which, s.lora.weightDelta());
            s.block.setDelta(s.which, null);
        }
        merged = true;
        model.setContract(contract);
        return model;
    }

    /** Whether prompt tokens are attached (they cannot be merged into weights). */
    public boolean hasPrompts() {
        return !visualPrompts.isEmpty() || textContext != null;
    }

    /**
     * The contract of the base with this LoRA merged in: the base's, with the model id
     * {@code <base id>+lora-<12 hex digits of a SHA-256 over the LoRA weights and scale>}, because
     * the merged model's embeddings are not the base's. Without a base contract the id starts with
     * "unknown".
     */
    public ModelContract mergedContract() {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
        for (Site s : sites) {
            md.update(s.block.modulePath(s.which).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            md.update(ByteBuffer.allocate(8).putDouble(s.lora.scale()).array());
            for (Parameter p : List.of(s.lora.a(), s.lora.b())) {
                float[] v = p.toArray();
                ByteBuffer bb = ByteBuffer.allocate(4 * v.length);
                for (float x : v) bb.putFloat(x);
                md.update(bb.array());
            }
        }
        String id = (baseContract == null ? "unknown" : baseContract.modelId()) + "+lora-"
                + HexFormat.of().formatHex(md.digest()).substring(0, 12);
        return baseContract == null
                ? new ModelContract(id, model.config().embedDim(), "l2", null, null)
                : new ModelContract(id, baseContract.embedDim(), baseContract.normalization(), baseContract.preprocessing(),
                baseContract.tokenizer());
    }

    /**
     * Removes every hook (LoRA not yet merged, prompts) and thaws the base weights that were trainable
     * before attaching. The adapters cannot be used afterwards.
     */
    public void detach() {
        if (detached) return;
        for (Site s : sites) s.block.setDelta(s.which, null);
        if (!visualPrompts.isEmpty()) model.visual().setPrompts(List.of());
        if (textContext != null) model.text().setContext(null);
        for (Parameter p : thawedBefore) p.freeze(false);
        detached = true;
    }

    private void requireUsable() {
        if (detached) throw new IllegalStateException("these adapters were detached from their model");
    }
}

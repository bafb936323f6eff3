package dev.xbt.clip;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.Rng;
import dev.xbt.text.BpeMerge;
import dev.xbt.text.ClipTokenizer;
import dev.xbt.weights.ClipLayout;
import dev.xbt.weights.ModelContract;
import dev.xbt.weights.SafetensorsFile;
import dev.xbt.weights.SafetensorsWriter;
import dev.xbt.weights.TensorData;
import dev.xbt.weights.TensorSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CLIP checkpoints as safetensors files. Ours carry, in {@code __metadata__}, the model config
 * ({@value #CONFIG_KEY}), the compatibility contract and the tokenizer's merges
 * ({@value #MERGES_KEY}), so a model file is self-contained. OpenCLIP, OpenAI and Hugging Face
 * files load too: their config is inferred from the tensor shapes (heads of width 64, as in every
 * published config; the activation must be given, QuickGELU for OpenAI's weights).
 */
public final class ClipCheckpoint {
    public static final String CONFIG_KEY = "xbt.config";
    public static final String MERGES_KEY = "xbt.tokenizer.merges";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A loaded model with what its file says about it. */
    public record Loaded(ClipModel model, Optional<ModelContract> contract, Optional<ClipTokenizer> tokenizer) {}

    private ClipCheckpoint() {}

    /** Loads a checkpoint; {@code activation} is used only when the file does not record its config. */
    public static Loaded load(Path file, ClipConfig.Activation activation) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, String> meta = f.metadata();
            ClipConfig config = meta.containsKey(CONFIG_KEY) ? configFromJson(meta.get(CONFIG_KEY))
                    : infer(ClipLayout.asOpenClip(f), activation);
            ClipModel model = new ClipModel(config, new Rng(0));
            ClipWeights.load(model, f);
            Optional<ClipTokenizer> tok = Optional.ofNullable(meta.get(MERGES_KEY)).map(ClipCheckpoint::tokenizerFromMerges);
            Optional<ModelContract> contract = ModelContract.from(meta);
            contract.ifPresent(model::setContract);
            return new Loaded(model, contract, tok);
        }
    }

    /** Writes the model with its config, contract and (optional) tokenizer merges, atomically. */
    public static void save(ClipModel model, Path file, ModelContract contract, List<BpeMerge> merges,
                            Map<String, String> extraMetadata) {
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            tensors.put(e.getKey(), new TensorData(e.getValue().toArray(), e.getValue().shape()));
        }
        Map<String, String> meta = new LinkedHashMap<>(extraMetadata);
        meta.put(CONFIG_KEY, configToJson(model.config()));
        if (contract != null) meta.put(ModelContract.METADATA_KEY, contract.toJson());
        if (merges != null) meta.put(MERGES_KEY, mergesToText(merges));
        SafetensorsWriter.write(file, tensors, meta);
    }

    private static String mergesToText(List<BpeMerge> merges) {
        StringBuilder sb = new StringBuilder();
        for (BpeMerge m : merges) sb.append(m.left()).append(' ').append(m.right()).append('\n');
        return sb.toString();
    }

    private static ClipTokenizer tokenizerFromMerges(String text) {
        List<BpeMerge> merges = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isEmpty()) continue;
            int sp = line.indexOf(' ');
            if (sp <= 0) throw new IllegalArgumentException("checkpoint tokenizer merges: malformed line '" + line + "'");
            merges.add(new BpeMerge(line.substring(0, sp), line.substring(sp + 1)));
        }
        return ClipTokenizer.fromMerges(merges);
    }

    // ---- config as JSON ----

    public static String configToJson(ClipConfig c) {
        ObjectNode o = JSON.createObjectNode();
        o.put("embed_dim", c.embedDim());
        o.put("activation", c.activation().name().toLowerCase());
        ObjectNode v = o.putObject("vision");
        v.put("image_size", c.vision().imageSize());
        v.put("patch_size", c.vision().patchSize());
        v.put("width", c.vision().width());
        v.put("layers", c.vision().layers());
        v.put("heads", c.vision().heads());
        v.put("mlp_ratio", c.vision().mlpRatio());
        ObjectNode t = o.putObject("text");
        t.put("context_length", c.text().contextLength());
        t.put("vocab_size", c.text().vocabSize());
        t.put("width", c.text().width());
        t.put("layers", c.text().layers());
        t.put("heads", c.text().heads());
        t.put("mlp_ratio", c.text().mlpRatio());
        return o.toString();
    }

    public static ClipConfig configFromJson(String json) {
        try {
            JsonNode o = JSON.readTree(json);
            JsonNode v = need(o, "vision"), t = need(o, "text");
            return new ClipConfig(num(o, "embed_dim"),
                    new ClipConfig.Vision(num(v, "image_size"), num(v, "patch_size"), num(v, "width"), num(v, "layers"),
                            num(v, "heads"), num(v, "mlp_ratio")),
                    new ClipConfig.Text(num(t, "context_length"), num(t, "vocab_size"), num(t, "width"), num(t, "layers"),
                            num(t, "heads"), num(t, "mlp_ratio")),
                    ClipConfig.Activation.valueOf(need(o, "activation").asText().toUpperCase()));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("model config is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static JsonNode need(JsonNode o, String field) {
        JsonNode n = o == null ? null : o.get(field);
        if (n == null || n.isNull()) throw new IllegalArgumentException("model config lacks '" + field + "'");
        return n;
    }

    private static int num(JsonNode o, String field) {
        JsonNode n = need(o, field);
        if (!n.canConvertToInt()) throw new IllegalArgumentException("model config: '" + field + "' is not an integer");
        return n.asInt();
    }

    // ---- config from shapes ----

    /** Infers the config of an OpenCLIP-named checkpoint from its tensor shapes. */
    public static ClipConfig infer(TensorSource s, ClipConfig.Activation activation) {
        for (String needed : List.of("visual.conv1.weight", "visual.positional_embedding", "visual.proj",
                "token_embedding.weight", "positional_embedding", "text_projection", "visual.transformer.resblocks.0.mlp.c_fc.weight",
                "transformer.resblocks.0.mlp.c_fc.weight")) {
            if (!s.names().contains(needed)) {
                throw new IllegalArgumentException("cannot infer the model config: the checkpoint has no " + needed
                        + " (is it a CLIP checkpoint?)");
            }
        }
        int[] conv = s.shape("visual.conv1.weight");
        int vw = conv[0], patch = conv[2];
        int tokens = s.shape("visual.positional_embedding")[0];
        int grid = (int) Math.round(Math.sqrt(tokens - 1));
        if (grid * grid != tokens - 1) throw new IllegalArgumentException("cannot infer the image size from " + tokens + " positions");
        int embed = s.shape("visual.proj")[1];
        int vMlp = s.shape("visual.transformer.resblocks.0.mlp.c_fc.weight")[0] / vw;
        int[] tok = s.shape("token_embedding.weight");
        int ctx = s.shape("positional_embedding")[0], tw = tok[1];
        int tMlp = s.shape("transformer.resblocks.0.mlp.c_fc.weight")[0] / tw;
        return new ClipConfig(embed,
                new ClipConfig.Vision(grid * patch, patch, vw, layers(s, "visual.transformer.resblocks."), Math.max(1, vw / 64), vMlp),
                new ClipConfig.Text(ctx, tok[0], tw, layers(s, "transformer.resblocks."), Math.max(1, tw / 64), tMlp),
                activation);
    }

    private static int layers(TensorSource s, String prefix) {
        Pattern p = Pattern.compile(Pattern.quote(prefix) + "(\\d+)\\.");
        TreeSet<Integer> idx = new TreeSet<>();
        for (String n : s.names()) {
            Matcher m = p.matcher(n);
            if (m.lookingAt()) idx.add(Integer.parseInt(m.group(1)));
        }
        return idx.isEmpty() ? 0 : idx.last() + 1;
    }
}

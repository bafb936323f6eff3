package dev.xbt.adapters;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.xbt.adapters.AdapterConfig.Tower;
import dev.xbt.adapters.AdapterConfig.TowerTargets;
import dev.xbt.clip.BlockLinear;
import dev.xbt.clip.ClipCheckpoint;
import dev.xbt.clip.ClipConfig;
import dev.xbt.weights.ModelContract;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The adapter folder in PEFT's layout: {@value #CONFIG_FILE} and {@value #WEIGHTS_FILE}. The
 * fields and tensor names are listed in the package documentation ({@code package-info.java}).
 */
final class PeftLayout {
    static final String CONFIG_FILE = "adapter_config.json";
    static final String WEIGHTS_FILE = "adapter_model.safetensors";
    /** PEFT prefixes LoRA tensors with the path of the wrapped model inside its PeftModel. */
    static final String LORA_PREFIX = "base_model.model.";
    static final int FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** What adapter_config.json says. */
    record Saved(AdapterConfig config, Optional<ModelContract> baseContract, ClipConfig baseConfig, String weightsSha256) {}

    private PeftLayout() {}

    static String configJson(AdapterConfig c, List<String> loraModules, ModelContract base, ClipConfig baseConfig,
                             String weightsSha256) {
        ObjectNode o = JSON.createObjectNode();
        o.put("peft_type", c.hasLora() ? "LORA" : "PROMPT_TUNING");
        o.putNull("task_type");
        if (base != null) o.put("base_model_name_or_path", base.modelId());
        else o.putNull("base_model_name_or_path");
        o.putNull("revision");
        o.put("inference_mode", true);
        if (c.hasLora()) {
            AdapterConfig.Lora l = c.lora();
            o.put("r", l.rank());
            o.put("lora_alpha", l.alpha());
            o.put("lora_dropout", l.dropout());
            ArrayNode t = o.putArray("target_modules");
            loraModules.forEach(t::add);
            o.put("bias", "none");
            o.put("fan_in_fan_out", false);
            o.put("init_lora_weights", true);
            o.put("use_rslora", false);
            o.putNull("modules_to_save");
        } else {
            o.put("num_virtual_tokens", c.prompts().textContextTokens());
        }
        o.put("xbt_format", FORMAT);
        if (c.hasLora()) {
            ObjectNode lora = o.putObject("xbt_lora");
            for (Tower tower : Tower.values()) {
                TowerTargets tt = c.lora().targets(tower);
                ObjectNode n = lora.putObject(tower.key());
                ArrayNode names = n.putArray("targets");
                tt.targets().forEach(b -> names.add(b.shortName()));
                ArrayNode layers = n.putArray("layers");
                layers.add(tt.fromLayer());
                if (tt.toLayer() == -1) layers.addNull();
                else layers.add(tt.toLayer());
            }
        } else {
            o.putNull("xbt_lora");
        }
        ObjectNode p = o.putObject("xbt_prompts");
        p.put("visual_tokens", c.prompts().visualTokens());
        p.put("visual_deep", c.prompts().visualDeep());
        p.put("text_context_tokens", c.prompts().textContextTokens());
        try {
            if (base != null) o.set("xbt_base_contract", JSON.readTree(base.toJson()));
            else o.putNull("xbt_base_contract");
            o.set("xbt_base_config", JSON.readTree(ClipCheckpoint.configToJson(baseConfig)));
            o.put("xbt_weights_sha256", weightsSha256);
            return JSON.writeValueAsString(o) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("JSON of our own making did not parse", e);
        }
    }

    static Saved readConfig(Path dir) {
        Path file = dir.resolve(CONFIG_FILE);
        JsonNode o;
        try {
            o = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read: " + e);
        }
        try {
            if (o == null || !o.isObject()) throw new IllegalArgumentException("not a JSON object");
            String type = text(o, "peft_type");
            if (!type.equals("LORA") && !type.equals("PROMPT_TUNING")) {
                throw new IllegalArgumentException("peft_type " + type + " is not supported (LORA or PROMPT_TUNING)");
            }
            JsonNode fmt = o.get("xbt_format");
            if (fmt == null || !fmt.canConvertToInt()) {
                throw new IllegalArgumentException("lacks xbt_format: not an adapter written by xbt (the xbt_* fields "
                        + "say which tower and layers each target is in)");
            }
            if (fmt.asInt() != FORMAT) throw new IllegalArgumentException("xbt_format " + fmt.asInt() + " is not supported (" + FORMAT + ")");
            AdapterConfig.Lora lora = null;
            JsonNode xl = o.get("xbt_lora");
            if (xl != null && !xl.isNull()) {
                if (!type.equals("LORA")) throw new IllegalArgumentException("xbt_lora is set but peft_type is " + type);
                lora = new AdapterConfig.Lora(integer(o, "r"), number(o, "lora_alpha"), number(o, "lora_dropout"),
                        towerTargets(xl, Tower.VISUAL), towerTargets(xl, Tower.TEXT));
            } else if (type.equals("LORA")) {
                throw new IllegalArgumentException("peft_type is LORA but xbt_lora is missing");
            }
            JsonNode xp = need(o, "xbt_prompts");
            JsonNode deep = need(xp, "visual_deep");
            if (!deep.isBoolean()) throw new IllegalArgumentException("xbt_prompts.visual_deep is not true/false");
            AdapterConfig.Prompts prompts = new AdapterConfig.Prompts(integer(xp, "visual_tokens"), deep.asBoolean(),
                    integer(xp, "text_context_tokens"));
            JsonNode bc = o.get("xbt_base_contract");
            Optional<ModelContract> contract = bc == null || bc.isNull() ? Optional.empty()
                    : Optional.of(ModelContract.fromJson(bc.toString()));
            ClipConfig baseConfig = ClipCheckpoint.configFromJson(need(o, "xbt_base_config").toString());
            return new Saved(new AdapterConfig(lora, prompts), contract, baseConfig, text(o, "xbt_weights_sha256"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    private static TowerTargets towerTargets(JsonNode lora, Tower tower) {
        JsonNode n = lora.get(tower.key());
        if (n == null || n.isNull()) return TowerTargets.NONE;
        Set<BlockLinear> targets = EnumSet.noneOf(BlockLinear.class);
        JsonNode names = need(n, "targets");
        if (!names.isArray()) throw new IllegalArgumentException("xbt_lora." + tower.key() + ".targets is not a list");
        for (JsonNode t : names) targets.add(BlockLinear.byShortName(t.asText()));
        JsonNode layers = need(n, "layers");
        if (!layers.isArray() || layers.size() != 2 || !layers.get(0).canConvertToInt()
                || !(layers.get(1).isNull() || layers.get(1).canConvertToInt())) {
            throw new IllegalArgumentException("xbt_lora." + tower.key() + ".layers must be [first, end] (end null: through the last)");
        }
        return new TowerTargets(targets, layers.get(0).asInt(), layers.get(1).isNull() ? -1 : layers.get(1).asInt());
    }

    private static JsonNode need(JsonNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) throw new IllegalArgumentException("lacks '" + field + "'");
        return n;
    }

    private static String text(JsonNode o, String field) {
        JsonNode n = need(o, field);
        if (!n.isTextual()) throw new IllegalArgumentException("'" + field + "' is not a string");
        return n.asText();
    }

    private static int integer(JsonNode o, String field) {
        JsonNode n = need(o, field);
        if (!n.isIntegralNumber() || !n.canConvertToInt()) throw new IllegalArgumentException("'" + field + "' is not an integer");
        return n.asInt();
    }

    private static double number(JsonNode o, String field) {
        JsonNode n = need(o, field);
        if (!n.isNumber()) throw new IllegalArgumentException("'" + field + "' is not a number");
        return n.asDouble();
    }

    /** Writes text to a temporary file beside {@code target}, then renames it over the target. */
    static void writeAtomically(Path target, String text) {
        Path tmp = target.resolveSibling("." + target.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw new IllegalArgumentException(target + ": cannot write: " + e, e);
        }
    }

    static String sha256(Path file) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), md)) {
            in.transferTo(OutputStream.nullOutputStream());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read: " + e, e);
        }
        return HexFormat.of().formatHex(md.digest());
    }
}

package dev.xbt.xbt;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Locale;

/**
 * The shape of a projection ψ from the new embedding space (newDim) into the old one (oldDim).
 *
 * @param newDim     input width: the new model's embedding dimension
 * @param oldDim     output width: the old model's embedding dimension
 * @param depth      linear layers on the MLP path (1: a single linear map; 2: one hidden layer; ...)
 * @param hidden     width of the hidden layers (unused when depth is 1)
 * @param activation after each hidden layer
 * @param norm       normalisation of each hidden layer, before its activation
 * @param residual   whether a bias-free linear map newDim → oldDim is added to the MLP's output
 */
public record ProjectionConfig(int newDim, int oldDim, int depth, int hidden, Activation activation, Norm norm,
                               boolean residual) {
    public enum Activation { GELU, RELU, TANH }

    public enum Norm { NONE, LAYER_NORM }

    private static final ObjectMapper JSON = new ObjectMapper();

    public ProjectionConfig {
        if (newDim <= 0 || oldDim <= 0) throw new IllegalArgumentException("projection: dimensions must be positive, got "
                + newDim + " -> " + oldDim);
        if (depth < 1) throw new IllegalArgumentException("projection: depth must be at least 1, got " + depth);
        if (depth > 1 && hidden <= 0) throw new IllegalArgumentException("projection: hidden width must be positive, got " + hidden);
        if (activation == null || norm == null) throw new IllegalArgumentException("projection: activation and norm must be given");
    }

    /** The default ψ: two layers, hidden width 4·oldDim, GELU after a layer norm, and the residual linear path. */
    public static ProjectionConfig defaults(int newDim, int oldDim) {
        return new ProjectionConfig(newDim, oldDim, 2, 4 * oldDim, Activation.GELU, Norm.LAYER_NORM, true);
    }

    /** For logs: {@code 128 -> 256 -> 64, gelu, layer_norm, residual}. */
    public String describe() {
        StringBuilder sb = new StringBuilder().append(newDim);
        for (int i = 1; i < depth; i++) sb.append(" -> ").append(hidden);
        sb.append(" -> ").append(oldDim);
        if (depth > 1) sb.append(", ").append(activation.name().toLowerCase(Locale.ROOT)).append(", ").append(norm.name().toLowerCase(Locale.ROOT));
        return sb.append(residual ? ", residual" : "").toString();
    }

    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("new_dim", newDim);
        o.put("old_dim", oldDim);
        o.put("depth", depth);
        o.put("hidden", hidden);
        o.put("activation", activation.name().toLowerCase(Locale.ROOT));
        o.put("norm", norm.name().toLowerCase(Locale.ROOT));
        o.put("residual", residual);
        return o.toString();
    }

    public static ProjectionConfig fromJson(String json) {
        try {
            JsonNode o = JSON.readTree(json);
            if (o == null || !o.isObject()) throw new IllegalArgumentException("projection config is not a JSON object");
            return new ProjectionConfig(num(o, "new_dim"), num(o, "old_dim"), num(o, "depth"), num(o, "hidden"),
                    Activation.valueOf(text(o, "activation")), Norm.valueOf(text(o, "norm")), need(o, "residual").asBoolean());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("projection config is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static JsonNode need(JsonNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) throw new IllegalArgumentException("projection config lacks '" + field + "'");
        return n;
    }

    private static int num(JsonNode o, String field) {
        JsonNode n = need(o, field);
        if (!n.canConvertToInt()) throw new IllegalArgumentException("projection config: '" + field + "' is not an integer");
        return n.asInt();
    }

    private static String text(JsonNode o, String field) {
        return need(o, field).asText().toUpperCase(Locale.ROOT);
    }
}

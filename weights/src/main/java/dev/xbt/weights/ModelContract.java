package dev.xbt.weights;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Map;
import java.util.Optional;

/**
 * What an embedding model promises to the gallery built with it: which model made the vectors,
 * their dimension and normalisation, and how inputs were preprocessed and tokenised. Two models
 * are compatible only where their contracts say so; a component built for one model (a projection,
 * an adapter) records the contract it expects and is refused elsewhere. Stored in a checkpoint's
 * {@code __metadata__} under {@link #METADATA_KEY} as JSON.
 */
public record ModelContract(String modelId, int embedDim, String normalization, String preprocessing, String tokenizer) {
    public static final String METADATA_KEY = "xbt.contract";
    private static final ObjectMapper JSON = new ObjectMapper();

    public ModelContract {
        if (modelId == null || modelId.isBlank()) throw new IllegalArgumentException("contract: model id is empty");
        if (embedDim <= 0) throw new IllegalArgumentException("contract: embedding dimension must be positive");
        normalization = normalization == null ? "l2" : normalization;
        preprocessing = preprocessing == null ? "" : preprocessing;
        tokenizer = tokenizer == null ? "" : tokenizer;
    }

    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("model_id", modelId);
        o.put("embed_dim", embedDim);
        o.put("normalization", normalization);
        o.put("preprocessing", preprocessing);
        o.put("tokenizer", tokenizer);
        return o.toString();
    }

    public static ModelContract fromJson(String json) {
        try {
            JsonNode o = JSON.readTree(json);
            if (o == null || !o.isObject()) throw new IllegalArgumentException("contract is not a JSON object");
            JsonNode id = o.get("model_id"), dim = o.get("embed_dim");
            if (id == null || !id.isTextual()) throw new IllegalArgumentException("contract lacks model_id");
            if (dim == null || !dim.canConvertToInt()) throw new IllegalArgumentException("contract lacks an integer embed_dim");
            return new ModelContract(id.asText(), dim.asInt(), text(o, "normalization"), text(o, "preprocessing"), text(o, "tokenizer"));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("contract is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static String text(JsonNode o, String field) {
        JsonNode n = o.get(field);
        return n == null || n.isNull() ? null : n.asText();
    }

    /** The contract in a checkpoint's metadata, if it has one. */
    public static Optional<ModelContract> from(Map<String, String> metadata) {
        String json = metadata.get(METADATA_KEY);
        return json == null ? Optional.empty() : Optional.of(fromJson(json));
    }

    /** "model_id (dim 512, l2, preprocessing ..., tokenizer ...)": for messages that name both sides. */
    public String describe() {
        return modelId + " (dim " + embedDim + ", " + normalization
                + (preprocessing.isEmpty() ? "" : ", preprocessing " + preprocessing)
                + (tokenizer.isEmpty() ? "" : ", tokenizer " + tokenizer) + ")";
    }
}

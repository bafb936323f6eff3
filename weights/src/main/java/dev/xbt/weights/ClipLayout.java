package dev.xbt.weights;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The parameter-name layouts CLIP checkpoints come in, and views that present any of them under
 * OpenCLIP's names (our native names): OpenAI's and OpenCLIP's state dicts already use them (a DDP
 * "module." prefix is dropped); Hugging Face's {@code CLIPModel} splits the attention in-projection
 * into q/k/v and stores the projections transposed, so its view concatenates and transposes on read.
 */
public enum ClipLayout {
    OPENCLIP, HUGGINGFACE;

    /** Guesses the layout from the names. */
    public static ClipLayout detect(Set<String> names) {
        for (String n : names) {
            if (n.startsWith("vision_model.") || n.startsWith("text_model.")) return HUGGINGFACE;
        }
        return OPENCLIP;
    }

    /** The source seen under OpenCLIP's names. */
    public static TensorSource asOpenClip(TensorSource source) {
        return detect(source.names()) == HUGGINGFACE ? new HuggingFaceView(source) : new OpenClipView(source);
    }

    /** Strips a DDP "module." prefix and skips non-parameter entries of OpenAI's archives. */
    private static final class OpenClipView implements TensorSource {
        private static final Set<String> NOT_PARAMETERS = Set.of("input_resolution", "context_length", "vocab_size");
        private final TensorSource source;
        private final Map<String, String> names = new LinkedHashMap<>();

        OpenClipView(TensorSource source) {
            this.source = source;
            for (String n : source.names()) {
                String ours = n.startsWith("module.") ? n.substring("module.".length()) : n;
                if (!NOT_PARAMETERS.contains(ours)) names.put(ours, n);
            }
        }

        @Override
        public Set<String> names() {
            return names.keySet();
        }

        @Override
        public int[] shape(String name) {
            return source.shape(original(name));
        }

        @Override
        public float[] read(String name) {
            return source.read(original(name));
        }

        private String original(String name) {
            String n = names.get(name);
            if (n == null) throw new IllegalArgumentException("no tensor " + name);
            return n;
        }
    }

    /** Hugging Face CLIPModel names → OpenCLIP names. */
    private static final class HuggingFaceView implements TensorSource {
        private static final Pattern LAYER = Pattern.compile(
                "(vision|text)_model\\.encoder\\.layers\\.(\\d+)\\.(.+)");
        private static final Map<String, String> FIXED = Map.ofEntries(
                Map.entry("vision_model.embeddings.patch_embedding.weight", "visual.conv1.weight"),
                Map.entry("vision_model.embeddings.class_embedding", "visual.class_embedding"),
                Map.entry("vision_model.embeddings.position_embedding.weight", "visual.positional_embedding"),
                Map.entry("vision_model.pre_layrnorm.weight", "visual.ln_pre.weight"),
                Map.entry("vision_model.pre_layrnorm.bias", "visual.ln_pre.bias"),
                Map.entry("vision_model.post_layernorm.weight", "visual.ln_post.weight"),
                Map.entry("vision_model.post_layernorm.bias", "visual.ln_post.bias"),
                Map.entry("text_model.embeddings.token_embedding.weight", "token_embedding.weight"),
                Map.entry("text_model.embeddings.position_embedding.weight", "positional_embedding"),
                Map.entry("text_model.final_layer_norm.weight", "ln_final.weight"),
                Map.entry("text_model.final_layer_norm.bias", "ln_final.bias"),
                Map.entry("logit_scale", "logit_scale"));
        private static final Map<String, String> IN_LAYER = Map.of(
                "layer_norm1", "ln_1", "layer_norm2", "ln_2", "self_attn.out_proj", "attn.out_proj",
                "mlp.fc1", "mlp.c_fc", "mlp.fc2", "mlp.c_proj");

        /** How one OpenCLIP tensor is made from Hugging Face tensors. */
        private record Recipe(List<String> parts, boolean transpose) {}

        private final TensorSource source;
        private final Map<String, Recipe> recipes = new LinkedHashMap<>();

        HuggingFaceView(TensorSource source) {
            this.source = source;
            Set<String> unmapped = new LinkedHashSet<>();
            for (String n : source.names()) {
                if (n.endsWith("position_ids")) continue; // an index buffer, not a parameter
                String fixed = FIXED.get(n);
                if (fixed != null) {
                    recipes.put(fixed, new Recipe(List.of(n), false));
                } else if (n.equals("visual_projection.weight")) {
                    recipes.put("visual.proj", new Recipe(List.of(n), true));
                } else if (n.equals("text_projection.weight")) {
                    recipes.put("text_projection", new Recipe(List.of(n), true));
                } else if (!mapLayer(n)) {
                    unmapped.add(n);
                }
            }
            // Unknown names pass through unchanged so that the loader reports them as unexpected.
            for (String n : unmapped) recipes.put(n, new Recipe(List.of(n), false));
        }

        private boolean mapLayer(String n) {
            Matcher m = LAYER.matcher(n);
            if (!m.matches()) return false;
            String tower = m.group(1).equals("vision") ? "visual.transformer" : "transformer";
            String base = tower + ".resblocks." + m.group(2) + ".";
            String rest = m.group(3);
            Matcher qkv = Pattern.compile("self_attn\\.([qkv])_proj\\.(weight|bias)").matcher(rest);
            if (qkv.matches()) {
                String kind = qkv.group(2);
                String prefix = n.substring(0, n.length() - rest.length()) + "self_attn.";
                recipes.putIfAbsent(base + "attn.in_proj_" + kind, new Recipe(List.of(
                        prefix + "q_proj." + kind, prefix + "k_proj." + kind, prefix + "v_proj." + kind), false));
                return true;
            }
            for (var e : IN_LAYER.entrySet()) {
                if (rest.startsWith(e.getKey() + ".")) {
                    recipes.put(base + e.getValue() + rest.substring(e.getKey().length()), new Recipe(List.of(n), false));
                    return true;
                }
            }
            return false;
        }

        @Override
        public Set<String> names() {
            return recipes.keySet();
        }

        private Recipe recipe(String name) {
            Recipe r = recipes.get(name);
            if (r == null) throw new IllegalArgumentException("no tensor " + name);
            for (String p : r.parts()) {
                if (!source.names().contains(p)) {
                    throw new IllegalArgumentException(name + " needs " + p + ", which the checkpoint lacks");
                }
            }
            return r;
        }

        @Override
        public int[] shape(String name) {
            Recipe r = recipe(name);
            int[] s = source.shape(r.parts().get(0)).clone();
            if (r.parts().size() > 1) {
                for (String p : r.parts().subList(1, r.parts().size())) {
                    int[] ps = source.shape(p);
                    if (ps.length != s.length || !Arrays.equals(Arrays.copyOfRange(ps, 1, ps.length), Arrays.copyOfRange(s, 1, s.length))) {
                        throw new IllegalArgumentException(name + ": parts " + r.parts() + " have mismatched shapes");
                    }
                    s[0] += ps[0];
                }
            }
            if (r.transpose()) {
                if (s.length != 2) throw new IllegalArgumentException(name + ": expected a matrix, got " + Arrays.toString(s));
                s = new int[] {s[1], s[0]};
            }
            return s;
        }

        @Override
        public float[] read(String name) {
            Recipe r = recipe(name);
            if (r.parts().size() > 1) {
                List<float[]> parts = new ArrayList<>();
                int total = 0;
                for (String p : r.parts()) {
                    float[] d = source.read(p);
                    parts.add(d);
                    total += d.length;
                }
                float[] out = new float[total];
                int off = 0;
                for (float[] d : parts) {
                    System.arraycopy(d, 0, out, off, d.length);
                    off += d.length;
                }
                return out;
            }
            float[] d = source.read(r.parts().get(0));
            if (!r.transpose()) return d;
            int[] s = source.shape(r.parts().get(0));
            int rows = s[0], cols = s[1];
            float[] t = new float[d.length];
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) t[j * rows + i] = d[i * cols + j];
            }
            return t;
        }
    }
}

package dev.xbt.clip;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The shape of a CLIP model: both towers and the shared embedding width. Named configurations
 * carry OpenCLIP's published sizes; the small ones are for training on two cores.
 */
public record ClipConfig(int embedDim, Vision vision, Text text, Activation activation) {

    /** The MLP activation: OpenAI's weights use QuickGELU, most OpenCLIP-trained weights exact GELU. */
    public enum Activation { GELU, QUICK_GELU }

    /** Vision transformer: square images of imageSize, square patches, pre-LN blocks. */
    public record Vision(int imageSize, int patchSize, int width, int layers, int heads, int mlpRatio) {
        public Vision {
            require(imageSize > 0 && patchSize > 0 && imageSize % patchSize == 0, "vision: image size " + imageSize
                    + " must be a positive multiple of patch size " + patchSize);
            require(width > 0 && layers > 0 && heads > 0 && width % heads == 0, "vision: width " + width
                    + " must be a positive multiple of heads " + heads);
            require(mlpRatio > 0, "vision: mlp ratio must be positive");
        }

        public int gridSize() {
            return imageSize / patchSize;
        }

        /** Patches plus the class token. */
        public int tokens() {
            return gridSize() * gridSize() + 1;
        }
    }

    /** Text transformer over BPE ids with a causal mask. */
    public record Text(int contextLength, int vocabSize, int width, int layers, int heads, int mlpRatio) {
        public Text {
            require(contextLength > 1 && vocabSize > 2, "text: context length and vocabulary must be positive");
            require(width > 0 && layers > 0 && heads > 0 && width % heads == 0, "text: width " + width
                    + " must be a positive multiple of heads " + heads);
            require(mlpRatio > 0, "text: mlp ratio must be positive");
        }
    }

    public ClipConfig {
        require(embedDim > 0, "embedding dimension must be positive");
        if (vision == null || text == null || activation == null) throw new IllegalArgumentException("config incomplete");
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    private static final Map<String, ClipConfig> NAMED = new LinkedHashMap<>();

    static {
        // OpenCLIP's model configs (model_configs/*.json): head width 64 in both towers.
        NAMED.put("ViT-B-32", new ClipConfig(512, new Vision(224, 32, 768, 12, 12, 4),
                new Text(77, 49408, 512, 12, 8, 4), Activation.QUICK_GELU));
        NAMED.put("ViT-B-16", new ClipConfig(512, new Vision(224, 16, 768, 12, 12, 4),
                new Text(77, 49408, 512, 12, 8, 4), Activation.QUICK_GELU));
        NAMED.put("ViT-L-14", new ClipConfig(768, new Vision(224, 14, 1024, 24, 16, 4),
                new Text(77, 49408, 768, 12, 12, 4), Activation.QUICK_GELU));
        NAMED.put("ViT-H-14", new ClipConfig(1024, new Vision(224, 14, 1280, 32, 16, 4),
                new Text(77, 49408, 1024, 24, 16, 4), Activation.GELU));
        // Small models trained here (32-64 px images, widths 128-384, 4-6 layers).
        NAMED.put("tiny-32", new ClipConfig(128, new Vision(32, 8, 128, 4, 4, 4),
                new Text(32, 4096, 128, 4, 4, 4), Activation.GELU));
        NAMED.put("small-48", new ClipConfig(256, new Vision(48, 8, 256, 6, 4, 4),
                new Text(32, 4096, 256, 6, 4, 4), Activation.GELU));
        NAMED.put("base-64", new ClipConfig(384, new Vision(64, 8, 384, 6, 6, 4),
                new Text(48, 8192, 384, 6, 6, 4), Activation.GELU));
    }

    /** The named configuration; the error lists the known names. */
    public static ClipConfig named(String name) {
        ClipConfig c = NAMED.get(name);
        if (c == null) throw new IllegalArgumentException("unknown model config '" + name + "'; known: " + NAMED.keySet());
        return c;
    }

    public static Set<String> names() {
        return NAMED.keySet();
    }
}

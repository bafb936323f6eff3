package dev.xbt.adapters;

import dev.xbt.clip.BlockLinear;

import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * What to train on a frozen CLIP: LoRA on chosen linear maps of chosen layers of each tower, and/or
 * prompt tokens (visual prompts, shallow or deep; learnable text context tokens).
 *
 * <pre>{@code
 * AdapterConfig c = AdapterConfig.builder()
 *         .lora(8, 16, 0.1)                                   // rank, alpha, dropout
 *         .targets(Tower.VISUAL, "q_proj", "v_proj")          // per tower; all layers by default
 *         .targets(Tower.TEXT, "q_proj", "v_proj", "c_fc").layers(Tower.TEXT, 6, 12)
 *         .visualPrompts(8, true)                             // 8 tokens, deep
 *         .textContext(4)
 *         .build();
 * }</pre>
 *
 * @param lora    LoRA, or null for none
 * @param prompts prompt tokens (all counts 0 for none)
 */
public record AdapterConfig(Lora lora, Prompts prompts) {

    /** The two towers of CLIP. */
    public enum Tower {
        VISUAL("visual"), TEXT("text");

        private final String key;

        Tower(String key) {
            this.key = key;
        }

        /** The name in adapter_config.json. */
        public String key() {
            return key;
        }
    }

    /**
     * The linear maps to adapt in one tower, in the layers [fromLayer, toLayer); toLayer = -1 means
     * through the last layer. No targets: the tower gets no LoRA.
     */
    public record TowerTargets(Set<BlockLinear> targets, int fromLayer, int toLayer) {
        public static final TowerTargets NONE = new TowerTargets(Set.of(), 0, -1);

        public TowerTargets {
            targets = targets.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(targets));
            if (fromLayer < 0) throw new IllegalArgumentException("LoRA layers: first layer " + fromLayer + " is negative");
            if (toLayer != -1 && toLayer <= fromLayer) {
                throw new IllegalArgumentException("LoRA layers: range [" + fromLayer + ", " + toLayer + ") is empty");
            }
        }

        /** The layers this applies to in a tower of {@code layers} layers; the error names the tower. */
        int[] resolve(Tower tower, int layers) {
            int to = toLayer == -1 ? layers : toLayer;
            if (to > layers) {
                throw new IllegalArgumentException("LoRA layers for the " + tower.key() + " tower: [" + fromLayer + ", "
                        + toLayer + ") but the tower has " + layers + " layers");
            }
            int[] r = new int[to - fromLayer];
            for (int i = 0; i < r.length; i++) r[i] = fromLayer + i;
            return r;
        }
    }

    /**
     * LoRA: y = W·x + b + (alpha/rank)·B·A·dropout(x), A [rank, in], B [out, rank].
     *
     * @param dropout probability in [0, 1), applied to the input of the LoRA path while training
     */
    public record Lora(int rank, double alpha, double dropout, TowerTargets visual, TowerTargets text) {
        public Lora {
            if (rank < 1) throw new IllegalArgumentException("LoRA rank must be at least 1, got " + rank);
            if (!(alpha > 0) || !Double.isFinite(alpha)) throw new IllegalArgumentException("LoRA alpha must be positive, got " + alpha);
            if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("LoRA dropout must be in [0, 1), got " + dropout);
            if (visual == null) visual = TowerTargets.NONE;
            if (text == null) text = TowerTargets.NONE;
            if (visual.targets().isEmpty() && text.targets().isEmpty()) {
                throw new IllegalArgumentException("LoRA has no targets in either tower; known targets: " + BlockLinear.shortNames());
            }
        }

        /** alpha / rank: the factor on B·A. */
        public double scale() {
            return alpha / rank;
        }

        public TowerTargets targets(Tower tower) {
            return tower == Tower.VISUAL ? visual : text;
        }
    }

    /**
     * Prompt tokens.
     *
     * @param visualTokens       visual prompt tokens per image (VPT), inserted after the class token
     * @param visualDeep         deep VPT: fresh tokens replace the prompt positions at every layer
     * @param textContextTokens  learnable context tokens after the start token of every text (CoOp)
     */
    public record Prompts(int visualTokens, boolean visualDeep, int textContextTokens) {
        public static final Prompts NONE = new Prompts(0, false, 0);

        public Prompts {
            if (visualTokens < 0 || textContextTokens < 0) {
                throw new IllegalArgumentException("prompt token counts must not be negative");
            }
            if (visualDeep && visualTokens == 0) throw new IllegalArgumentException("deep visual prompts need visual tokens");
        }

        public boolean any() {
            return visualTokens > 0 || textContextTokens > 0;
        }
    }

    public AdapterConfig {
        if (prompts == null) prompts = Prompts.NONE;
        if (lora == null && !prompts.any()) throw new IllegalArgumentException("adapter config has neither LoRA nor prompts");
    }

    public boolean hasLora() {
        return lora != null;
    }

    /** One line for logs: "LoRA r 8, alpha 16, dropout 0.1 on visual [q_proj, v_proj] layers 0:end; visual prompts 8 deep". */
    public String summary() {
        List<String> parts = new java.util.ArrayList<>();
        if (lora != null) {
            StringBuilder sb = new StringBuilder("LoRA r " + lora.rank() + ", alpha " + lora.alpha() + ", dropout " + lora.dropout() + " on");
            String sep = " ";
            for (Tower t : Tower.values()) {
                TowerTargets tt = lora.targets(t);
                if (tt.targets().isEmpty()) continue;
                sb.append(sep).append(t.key()).append(' ').append(tt.targets().stream().map(BlockLinear::shortName).toList())
                        .append(" layers ").append(tt.fromLayer()).append(':').append(tt.toLayer() == -1 ? "end" : tt.toLayer());
                sep = ", ";
            }
            parts.add(sb.toString());
        }
        if (prompts.visualTokens() > 0) parts.add("visual prompts " + prompts.visualTokens() + (prompts.visualDeep() ? " deep" : " shallow"));
        if (prompts.textContextTokens() > 0) parts.add("text context " + prompts.textContextTokens());
        return String.join("; ", parts);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a config; LoRA targets default to none, layers to all. */
    public static final class Builder {
        private int rank;
        private double alpha, dropout;
        private final Set<BlockLinear>[] targets = newTargetSets();
        private final int[] from = new int[2], to = {-1, -1};
        private int visualTokens, textContext;
        private boolean deep;

        @SuppressWarnings("unchecked")
        private static Set<BlockLinear>[] newTargetSets() {
            return new Set[] {EnumSet.noneOf(BlockLinear.class), EnumSet.noneOf(BlockLinear.class)};
        }

        private Builder() {}

        public Builder lora(int rank, double alpha, double dropout) {
            this.rank = rank;
            this.alpha = alpha;
            this.dropout = dropout;
            return this;
        }

        /** Targets by their short names ("q_proj", "k_proj", "v_proj", "out_proj", "c_fc", "c_proj"). */
        public Builder targets(Tower tower, String... names) {
            return targets(tower, Arrays.stream(names).map(BlockLinear::byShortName).toList());
        }

        public Builder targets(Tower tower, List<BlockLinear> which) {
            targets[tower.ordinal()].addAll(which);
            return this;
        }

        /**
         * Targets as one setting's text, for config files and command lines: names separated by commas
         * ("q_proj,v_proj"), "all" for every linear map, "" or "none" for no LoRA in this tower.
         */
        public Builder targets(Tower tower, String list) {
            String s = list.strip();
            if (s.isEmpty() || s.equals("none")) return this;
            if (s.equals("all")) return targets(tower, List.of(BlockLinear.values()));
            return targets(tower, Arrays.stream(s.split(",")).map(String::strip).toArray(String[]::new));
        }

        /** Layers as text: "all", or "FROM:TO" (TO exclusive, may be left out: through the last layer), e.g. "6:12", "6:". */
        public Builder layers(Tower tower, String range) {
            String s = range.strip();
            if (s.equals("all")) return layers(tower, 0, -1);
            int colon = s.indexOf(':');
            try {
                if (colon < 0) throw new NumberFormatException();
                String to = s.substring(colon + 1).strip();
                return layers(tower, Integer.parseInt(s.substring(0, colon).strip()), to.isEmpty() ? -1 : Integer.parseInt(to));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("LoRA layers for the " + tower.key() + " tower: '" + range
                        + "' is not \"all\" or FROM:TO (e.g. 6:12, or 6: through the last layer)");
            }
        }

        /** Adapts only layers [fromLayer, toLayer) of the tower (toLayer -1: through the last). */
        public Builder layers(Tower tower, int fromLayer, int toLayer) {
            from[tower.ordinal()] = fromLayer;
            to[tower.ordinal()] = toLayer;
            return this;
        }

        public Builder visualPrompts(int tokens, boolean deep) {
            this.visualTokens = tokens;
            this.deep = deep;
            return this;
        }

        public Builder textContext(int tokens) {
            this.textContext = tokens;
            return this;
        }

        public AdapterConfig build() {
            boolean anyTargets = !targets[0].isEmpty() || !targets[1].isEmpty();
            if (rank == 0 && anyTargets) throw new IllegalArgumentException("LoRA targets given without a rank");
            Lora lora = rank == 0 ? null : new Lora(rank, alpha, dropout,
                    new TowerTargets(targets[0], from[0], to[0]), new TowerTargets(targets[1], from[1], to[1]));
            return new AdapterConfig(lora, new Prompts(visualTokens, deep, textContext));
        }
    }
}

package dev.xbt.clip;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The linear maps inside a {@link ResidualAttentionBlock} that an adapter can add a learned term to.
 * The attention's query, key and value maps are the three row blocks of the fused
 * {@code attn.in_proj_weight} [3W, W] (rows [0, W), [W, 2W), [2W, 3W)); they get module names of
 * their own ({@code attn.q_proj} ...), as Hugging Face's CLIP and PEFT call them, so that an adapter
 * on one of them has a name.
 */
public enum BlockLinear {
    Q_PROJ("q_proj", "attn.q_proj"),
    K_PROJ("k_proj", "attn.k_proj"),
    V_PROJ("v_proj", "attn.v_proj"),
    OUT_PROJ("out_proj", "attn.out_proj"),
    C_FC("c_fc", "mlp.c_fc"),
    C_PROJ("c_proj", "mlp.c_proj");

    private final String shortName, path;

    BlockLinear(String shortName, String path) {
        this.shortName = shortName;
        this.path = path;
    }

    /** The name used in adapter configs' target lists ("q_proj", "c_fc", ...). */
    public String shortName() {
        return shortName;
    }

    /** The module path inside the block ("attn.q_proj", "mlp.c_fc", ...). */
    public String path() {
        return path;
    }

    /** Which third of the fused in-projection this map is (0, 1, 2), or -1 for a map with a weight of its own. */
    int inProjBlock() {
        return switch (this) {
            case Q_PROJ -> 0;
            case K_PROJ -> 1;
            case V_PROJ -> 2;
            default -> -1;
        };
    }

    /** The map with this short name; the error lists the known names. */
    public static BlockLinear byShortName(String name) {
        for (BlockLinear b : values()) if (b.shortName.equals(name)) return b;
        throw new IllegalArgumentException("unknown adapter target '" + name + "'; known: " + shortNames());
    }

    public static List<String> shortNames() {
        return Arrays.stream(values()).map(BlockLinear::shortName).collect(Collectors.toList());
    }
}

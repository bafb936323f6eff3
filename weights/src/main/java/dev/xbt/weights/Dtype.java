package dev.xbt.weights;

/**
 * The element types the safetensors format defines, spelled exactly as in the header. Each carries its width in
 * bits; the sub-byte types (F4, F6_*) are packed, so a tensor of them must fill a whole number of bytes.
 */
public enum Dtype {
    BOOL(8), F4(4), F6_E2M3(6), F6_E3M2(6), U8(8), I8(8), F8_E5M2(8), F8_E4M3(8), F8_E8M0(8),
    I16(16), U16(16), F16(16), BF16(16), I32(32), U32(32), F32(32), C64(64), F64(64), I64(64), U64(64);

    private final int bits;

    Dtype(int bits) {
        this.bits = bits;
    }

    /** Width of one element in bits. */
    public int bits() {
        return bits;
    }

    /**
     * Whether {@link SafetensorsFile#readFloats} can decode this dtype: the float types F32, F16, BF16, F64 and
     * the integer types (BOOL, U8, I8, I16, U16, I32, U32, I64, U64), not the 8/6/4-bit float formats or C64.
     */
    public boolean decodableAsFloat() {
        return switch (this) {
            case F4, F6_E2M3, F6_E3M2, F8_E5M2, F8_E4M3, F8_E8M0, C64 -> false;
            default -> true;
        };
    }

    /** The dtype spelled {@code name} in a header (case-sensitive), or null when the format has no such dtype. */
    public static Dtype fromHeader(String name) {
        for (Dtype d : values()) if (d.name().equals(name)) return d;
        return null;
    }
}

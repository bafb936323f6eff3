package dev.xbt.kernels;

import java.util.ArrayList;
import java.util.List;

/**
 * The parameter list of one kernel, as the host passes it: the one table that the launchers check
 * every launch against ({@link PortableLaunch}) and that a test compares with the committed PTX.
 *
 * <p>Written as letters, spaces ignored: {@code i} int, {@code f} float, {@code l} 64-bit integer,
 * {@code p} a bare device pointer (index arrays, scratch), {@code b} a float buffer, which is a
 * pointer followed by its int element offset (the portable kernels' convention).
 */
public record KernelSignature(String name, List<Arg> args) {
    /** One kernel parameter as it reaches the device. */
    public enum Arg {
        INT, FLOAT, LONG, POINTER;

        /** The PTX parameter type nvcc gives this argument (pointers and 64-bit integers look alike there). */
        public String ptxType() {
            return switch (this) {
                case INT -> ".u32";
                case FLOAT -> ".f32";
                case LONG, POINTER -> ".u64";
            };
        }
    }

    public KernelSignature {
        args = List.copyOf(args);
    }

    /** Parses the letter form (see the class comment). */
    public static KernelSignature of(String name, String letters) {
        List<Arg> args = new ArrayList<>();
        for (char ch : letters.toCharArray()) {
            switch (ch) {
                case ' ' -> { }
                case 'i' -> args.add(Arg.INT);
                case 'f' -> args.add(Arg.FLOAT);
                case 'l' -> args.add(Arg.LONG);
                case 'p' -> args.add(Arg.POINTER);
                case 'b' -> {
                    args.add(Arg.POINTER);
                    args.add(Arg.INT);
                }
                default -> throw new IllegalArgumentException("kernel " + name + ": unknown argument letter '" + ch + "' in \"" + letters + "\"");
            }
        }
        return new KernelSignature(name, args);
    }
}

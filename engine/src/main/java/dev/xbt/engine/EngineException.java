package dev.xbt.engine;

import java.util.Arrays;
import java.util.StringJoiner;

/** Every error the engine raises on bad input: names the op and the shapes involved. */
public class EngineException extends RuntimeException {
    public EngineException(String message) {
        super(message);
    }

    public EngineException(String message, Throwable cause) {
        super(message, cause);
    }

    /** "op(x[2, 3], w[4, 5]): problem". */
    public static EngineException of(String op, String problem, Tensor... inputs) {
        StringJoiner j = new StringJoiner(", ", op + "(", "): " + problem);
        for (Tensor t : inputs) j.add(t == null ? "null" : t.describe());
        return new EngineException(j.toString());
    }

    public static EngineException shapes(String op, String problem, int[]... shapes) {
        StringJoiner j = new StringJoiner(", ", op + "(", "): " + problem);
        for (int[] s : shapes) j.add(Arrays.toString(s));
        return new EngineException(j.toString());
    }
}

package dev.xbt.weights;

import java.util.Set;

/** Named float tensors to load from: a checkpoint file, or a renamed view of one. */
public interface TensorSource {
    /** Every tensor name, in file order. */
    Set<String> names();

    /** The shape of a tensor (throws for an unknown name). */
    int[] shape(String name);

    /** The values of a tensor as float32, row-major. */
    float[] read(String name);
}

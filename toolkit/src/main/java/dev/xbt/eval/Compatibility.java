package dev.xbt.eval;

import dev.xbt.xbt.EmbeddingMap;

import java.util.ArrayList;
import java.util.List;

/** Builds a {@link CompatibilityReport} from the old and new models' embeddings of one split and a list of methods. */
public final class Compatibility {
    private Compatibility() {}

    /**
     * A method to evaluate: its map into the old space and the new-side embeddings it maps, which are the new model's
     * own or, for a method that tunes the new model (adapters), those of the tuned model.
     */
    public record Method(EmbeddingMap map, EncodedSet newSet) {}

    /** {@link #evaluate(String, EncodedSet, EncodedSet, List)} with every map applied to {@code newSet}. */
    public static CompatibilityReport evaluateMaps(String dataset, EncodedSet oldSet, EncodedSet newSet,
                                                   List<? extends EmbeddingMap> maps) {
        return evaluate(dataset, oldSet, newSet, maps.stream().map(m -> new Method(m, newSet)).toList());
    }

    /**
     * old/old and new/new within each model's space; per method, its new-side set mapped into the old space
     * ({@link EmbeddingMap#apply}) as queries against the old set as gallery.
     */
    public static CompatibilityReport evaluate(String dataset, EncodedSet oldSet, EncodedSet newSet, List<Method> methods) {
        return evaluate(dataset, oldSet, newSet, methods, 1);
    }

    /** The same with every row's queries ranked within {@code folds} galleries ({@link Retrieval#evaluate(EncodedSet, EncodedSet, int)}). */
    public static CompatibilityReport evaluate(String dataset, EncodedSet oldSet, EncodedSet newSet, List<Method> methods,
                                               int folds) {
        oldSet.checkSameItems(newSet, "compatibility");
        List<CompatibilityReport.Method> rows = new ArrayList<>();
        for (Method m : methods) {
            EmbeddingMap map = m.map();
            Ranks r = Retrieval.evaluate(map.apply(m.newSet(), oldSet), oldSet, folds);
            rows.add(new CompatibilityReport.Method(map.name(), map.needsOld() ? "new+old" : "new", r));
        }
        return new CompatibilityReport(dataset, Retrieval.evaluate(oldSet, oldSet, folds), Retrieval.evaluate(newSet, newSet, folds), rows);
    }
}

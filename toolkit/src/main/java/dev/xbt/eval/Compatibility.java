package dev.xbt.eval;

import dev.xbt.xbt.EmbeddingMap;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds a {@link CompatibilityReport} from the old and new models' embeddings of one split and a list of methods. */
public final class Compatibility {
    private Compatibility() {}

    /**
     * old→old and new→new within each model's space; per method, the new set mapped into the old space
     * ({@link EmbeddingMap#apply}) as queries against the old set as gallery.
     */
    public static CompatibilityReport evaluate(EncodedSet oldSet, EncodedSet newSet, List<? extends EmbeddingMap> methods) {
        oldSet.checkSameItems(newSet, "compatibility");
        Map<String, Ranks> rows = new LinkedHashMap<>();
        for (EmbeddingMap m : methods) {
            if (rows.containsKey(m.name())) throw new IllegalArgumentException("two methods named " + m.name());
            rows.put(m.name(), Retrieval.evaluate(m.apply(newSet, oldSet), oldSet));
        }
        return new CompatibilityReport(Retrieval.evaluate(oldSet), Retrieval.evaluate(newSet), rows);
    }
}

// Scores an ensemble of XBT stage-2 runs (e.g. the same pipeline with different stage-1/stage-2 seeds) against the old
// gallery: each run's adapted new model encodes the split, its ψ maps the queries into the old space, and the
// ensemble's query is the normalised mean of the runs' mapped queries. Prints each run alone, then the ensemble.
// Run: java --add-modules jdk.incubator.vector -cp toolkit/target/xbt-all.jar scripts/xbt-ensemble/Ensemble.java \
//        DATA_DIR SPLIT OLD_MODEL NEW_MODEL XBT_RUN_DIR...
import dev.xbt.adapters.Adapters;
import dev.xbt.data.Manifest;
import dev.xbt.eval.Compatibility;
import dev.xbt.eval.DatasetEncoder;
import dev.xbt.eval.EncodedSet;
import dev.xbt.xbt.EmbeddingMap;
import dev.xbt.xbt.Projection;
import dev.xbt.xbt.ProjectionMap;
import java.nio.file.*;
import java.util.*;

public class Ensemble {
    public static void main(String[] a) throws Exception {
        Manifest m = Manifest.read(Path.of(a[0]));
        String split = a[1];
        DatasetEncoder old = DatasetEncoder.load(Path.of(a[2])), neu = DatasetEncoder.load(Path.of(a[3]));
        EncodedSet oldSet = old.encode(m, split).set(), newSet = neu.encode(m, split).set();
        List<Compatibility.Method> methods = new ArrayList<>();
        float[] img = null, cap = null;
        int dOld = old.dim();
        for (int i = 4; i < a.length; i++) {
            Path dir = Path.of(a[i]);
            Projection psi = Projection.load(dir.resolve("projection.safetensors"), old.contract(), neu.contract());
            DatasetEncoder model = neu.reload().cache(false);
            Adapters.load(model.model(), dir.resolve("adapters"));
            EncodedSet adapted = model.encode(m, split).set();
            EncodedSet mapped = new ProjectionMap("run" + (i - 4), psi).apply(adapted, null);
            methods.add(new Compatibility.Method(new Identity(dir.getParent().getFileName().toString(), dOld), mapped));
            if (img == null) { img = new float[mapped.images().length]; cap = new float[mapped.captions().length]; }
            for (int k = 0; k < img.length; k++) img[k] += mapped.images()[k];
            for (int k = 0; k < cap.length; k++) cap[k] += mapped.captions()[k];
        }
        EmbeddingMap.normalizeRows(img, img.length / dOld, dOld);
        EmbeddingMap.normalizeRows(cap, cap.length / dOld, dOld);
        EncodedSet ens = newSet.withEmbeddings(img, cap, dOld);
        methods.add(new Compatibility.Method(new Identity("ensemble", dOld), ens));
        System.out.println(Compatibility.evaluate(a[0] + " (" + split + ")", oldSet, newSet, methods).table());
    }

    /** Queries already in the old space, under a name. */
    record Identity(String name, int oldDim) implements EmbeddingMap {
        public int newDim() { return oldDim; }
        public float[] map(float[] newEmb, float[] oldEmb, int n) { return EmbeddingMap.normalizeRows(newEmb.clone(), n, oldDim); }
    }
}

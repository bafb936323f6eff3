// Writes the old and new models' L2-normalised image and caption embeddings of the train/val/test splits of
// data/shapes-6k as raw little-endian float32 files (plus caption owners) for scripts/xbt-ceiling/ceiling.py.
// Run: java --add-modules jdk.incubator.vector -cp toolkit/target/xbt-all.jar scripts/xbt-ceiling/DumpEmbeddings.java OUT [OLD_MODEL]
import dev.xbt.data.Manifest;
import dev.xbt.eval.DatasetEncoder;
import dev.xbt.eval.EncodedSet;
import java.nio.*;
import java.nio.file.*;
import java.util.*;

public class DumpEmbeddings {
    public static void main(String[] a) throws Exception {
        Path data = Path.of("data/shapes-6k"), out = Path.of(a[0]);
        Files.createDirectories(out);
        Manifest m = Manifest.read(data);
        Map<String, DatasetEncoder> models = new LinkedHashMap<>();
        models.put("old", DatasetEncoder.load(Path.of(a.length > 1 ? a[1] : "models/shapes-old/model.safetensors")));
        models.put("new", DatasetEncoder.load(Path.of("models/shapes-new/model.safetensors")));
        for (String split : List.of("train", "val", "test")) {
            EncodedSet first = null;
            for (var e : models.entrySet()) {
                EncodedSet s = e.getValue().encode(m, split).set();
                if (first == null) first = s;
                else s.checkSameItems(first, split);
                write(out.resolve(split + "_" + e.getKey() + "_img.f32"), s.images());
                write(out.resolve(split + "_" + e.getKey() + "_txt.f32"), s.captions());
                System.out.println(split + " " + e.getKey() + " done");
            }
            ByteBuffer b = ByteBuffer.allocate(first.captionImage().length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int o : first.captionImage()) b.putInt(o);
            Files.write(out.resolve(split + "_owner.i32"), b.array());
        }
    }

    static void write(Path p, float[] x) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : x) b.putFloat(f);
        Files.write(p, b.array());
    }
}

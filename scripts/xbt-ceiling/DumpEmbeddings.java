// Writes the old and new models' L2-normalised image and caption embeddings of the train/val/test splits of
// data/shapes-6k as raw little-endian float32 files (plus caption owners) for scripts/xbt-ceiling/ceiling.py.
// Run: java --add-modules jdk.incubator.vector -cp toolkit/target/xbt-all.jar scripts/xbt-ceiling/DumpEmbeddings.java OUT [OLD_MODEL]
import dev.xbt.data.*;
import dev.xbt.image.ClipPreprocess;
import dev.xbt.xbt.Embedder;
import java.nio.*;
import java.nio.file.*;
import java.util.*;

public class DumpEmbeddings {
    public static void main(String[] a) throws Exception {
        Path data = Path.of("data/shapes-6k"), out = Path.of(a[0]);
        Path cache = data.resolve(Manifest.CACHE_DIR).resolve("xbt");
        Files.createDirectories(out);
        Manifest m = Manifest.read(data);
        Map<String, Embedder> models = new LinkedHashMap<>();
        models.put("old", Embedder.load(Path.of(a.length > 1 ? a[1] : "models/shapes-old/model.safetensors")));
        models.put("new", Embedder.load(Path.of("models/shapes-new/model.safetensors")));
        for (String split : List.of("train", "val", "test")) {
            List<String> caps = new ArrayList<>();
            List<Integer> own = new ArrayList<>();
            for (var e : models.entrySet()) {
                Embedder emb = e.getValue();
                try (BatchLoader l = BatchLoader.open(m, split, new ClipPreprocess(emb.model().config().vision().imageSize()),
                        data.resolve(Manifest.CACHE_DIR), Progress.NONE)) {
                    if (caps.isEmpty()) for (int i = 0; i < l.size(); i++) for (String c : l.captions(i)) { caps.add(c); own.add(i); }
                    write(out.resolve(split + "_" + e.getKey() + "_img.f32"), emb.imagesCached(l, cache));
                }
                write(out.resolve(split + "_" + e.getKey() + "_txt.f32"), emb.textsCached(caps, cache));
                System.out.println(split + " " + e.getKey() + " done");
            }
            ByteBuffer b = ByteBuffer.allocate(own.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int o : own) b.putInt(o);
            Files.write(out.resolve(split + "_owner.i32"), b.array());
            Files.write(out.resolve(split + "_captions.txt"), caps);
        }
    }
    static void write(Path p, float[] x) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : x) b.putFloat(f);
        Files.write(p, b.array());
    }
}

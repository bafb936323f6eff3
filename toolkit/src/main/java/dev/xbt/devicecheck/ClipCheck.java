package dev.xbt.devicecheck;

import dev.xbt.clip.ClipConfig;
import dev.xbt.clip.VisionTransformer;
import dev.xbt.engine.Nn;
import dev.xbt.engine.Ops;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.ParameterSet;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tape;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Backends;
import dev.xbt.engine.optim.AdamW;
import dev.xbt.kernels.cuda.CudaBackend;
import dev.xbt.weights.SafetensorsWriter;
import dev.xbt.weights.TensorData;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The CLIP image tower on a device, for the device check (scripts/device-check):
 *
 * <ul>
 *   <li>{@code parity}: forward and backward of the tower on a backend and on a reference backend
 *       from the same random weights and images; prints the largest differences of the embeddings
 *       and of every parameter's gradient.
 *   <li>{@code bench}: image-encoding throughput and the time of one training step (forward,
 *       contrastive loss against fixed random text embeddings, backward, AdamW), and with
 *       {@code --weights FILE} the tower's weights plus a few images and their embeddings as
 *       safetensors, for the PyTorch side (scripts/device/torch_bench.py) to run the same model.
 * </ul>
 *
 * Results go to stdout as {@code key=value} lines that the check script collects.
 */
public final class ClipCheck {
    private ClipCheck() {}

    static final long WEIGHT_SEED = 20251126L, IMAGE_SEED = 7L, TARGET_SEED = 11L;
    /** The temperature of the benchmark's contrastive loss (CLIP's trained value, exp(4.6052)). */
    static final float LOGIT_SCALE = 100f;

    record Options(String mode, String model, int batch, int steps, String backend, String reference, Path weights,
                   boolean profile) {}

    public static void main(String[] args) {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("ClipCheck: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        try {
            // An unavailable backend is exit status 2, as bad arguments: the check script reports "unavailable".
            Backends.get(o.backend);
            if (o.mode.equals("parity")) Backends.get(o.reference);
        } catch (RuntimeException e) {
            System.err.println("ClipCheck: " + e.getMessage());
            System.exit(2);
            return;
        }
        try {
            int status = o.mode.equals("parity") ? parity(o) : bench(o);
            System.exit(status);
        } catch (RuntimeException e) {
            System.err.println("ClipCheck: " + e.getMessage());
            if (Boolean.getBoolean("xbt.debug")) e.printStackTrace();
            System.exit(1);
        }
    }

    static final String USAGE = """
            usage: ClipCheck parity [--model ViT-B-32] [--batch 2] [--backend cuda] [--reference cpu]
                   ClipCheck bench  [--model ViT-B-32] [--batch 256] [--steps 5] [--backend cuda] [--weights FILE] [--profile]
              parity   forward and backward on --backend and --reference from identical weights; largest differences
              bench    images/s of encoding and seconds per training step; --weights writes the tower for PyTorch;
                       --profile then times every GPU operation of one encoding and one step (cuda only)""";

    static Options parse(String[] args) {
        if (args.length == 0 || !(args[0].equals("parity") || args[0].equals("bench"))) {
            throw new IllegalArgumentException("first argument must be 'parity' or 'bench'");
        }
        String mode = args[0], model = "ViT-B-32", backend = "cuda", reference = "cpu";
        int batch = mode.equals("parity") ? 2 : 256, steps = 5;
        Path weights = null;
        boolean profile = false;
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--profile")) {
                profile = true;
                continue;
            }
            if (i + 1 >= args.length) throw new IllegalArgumentException(a + " needs a value");
            String v = args[++i];
            switch (a) {
                case "--model" -> model = v;
                case "--batch" -> batch = positive(a, v);
                case "--steps" -> steps = positive(a, v);
                case "--backend" -> backend = v;
                case "--reference" -> reference = v;
                case "--weights" -> weights = Path.of(v);
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        ClipConfig.named(model); // fails with the known names
        return new Options(mode, model, batch, steps, backend, reference, weights, profile);
    }

    private static int positive(String option, String v) {
        try {
            int n = Integer.parseInt(v);
            if (n > 0) return n;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(option + " must be a positive integer, not '" + v + "'");
    }

    static VisionTransformer tower(ClipConfig cfg, Backend on) {
        try (Backends.Scope s = Backends.use(on)) {
            return new VisionTransformer("visual", cfg.vision(), cfg.embedDim(), cfg.activation(), new Rng(WEIGHT_SEED));
        }
    }

    static float[] images(int batch, int size) {
        Rng r = new Rng(IMAGE_SEED);
        float[] d = new float[batch * 3 * size * size];
        for (int i = 0; i < d.length; i++) d[i] = (float) r.nextGaussian();
        return d;
    }

    static String describe(Backend b) {
        return b instanceof CudaBackend cb ? cb.describe() : b.name();
    }

    // ================================================================ parity

    static int parity(Options o) {
        ClipConfig cfg = ClipConfig.named(o.model);
        Backend be = Backends.get(o.backend), ref = Backends.get(o.reference);
        System.out.println("backend=" + describe(be));
        System.out.println("reference=" + describe(ref));
        int size = cfg.vision().imageSize();
        float[] img = images(o.batch, size);
        float[] up = new float[o.batch * cfg.embedDim()];
        Rng r = new Rng(TARGET_SEED);
        for (int i = 0; i < up.length; i++) up[i] = (float) r.nextGaussian();

        Map<String, float[]> got = new LinkedHashMap<>(), want = new LinkedHashMap<>();
        run(cfg, be, img, up, o.batch, size, got);
        run(cfg, ref, img, up, o.batch, size, want);

        double embErr = maxRel(got.get("embeddings"), want.get("embeddings"));
        double worstGrad = 0;
        String worstName = "";
        for (String k : want.keySet()) {
            if (k.equals("embeddings")) continue;
            double e = relToLargest(got.get(k), want.get(k));
            if (e > worstGrad) {
                worstGrad = e;
                worstName = k;
            }
        }
        // Bounds: twelve FP32 blocks with different summation orders; gradients measured against
        // their largest element (many are tiny, where a 1 + |b| denominator would hide everything).
        boolean ok = embErr <= 1e-4 && worstGrad <= 1e-3;
        System.out.printf(Locale.ROOT, "parity.embeddings.max_rel=%.3g%n", embErr);
        System.out.printf(Locale.ROOT, "parity.gradients.worst=%.3g (%s)%n", worstGrad, worstName);
        System.out.printf(Locale.ROOT, "parity.gradients.count=%d%n", want.size() - 1);
        System.out.println("parity.result=" + (ok ? "PASS" : "FAIL") + " (bounds: embeddings 1e-4 of 1+|b|, gradients 1e-3 of max|b|)");
        return ok ? 0 : 1;
    }

    private static void run(ClipConfig cfg, Backend b, float[] img, float[] up, int batch, int size, Map<String, float[]> out) {
        long t0 = System.nanoTime();
        VisionTransformer v = tower(cfg, b);
        try (Tape tape = Tape.record()) {
            Tensor emb = v.forward(Tensor.of(b, img, batch, 3, size, size));
            out.put("embeddings", emb.toArray());
            tape.backward(emb, Tensor.of(b, up, batch, cfg.embedDim()));
        }
        for (Map.Entry<String, Parameter> e : v.namedParameters().entrySet()) out.put(e.getKey(), e.getValue().grad().toArray());
        System.out.printf(Locale.ROOT, "parity.%s.seconds=%.2f%n", b.name(), (System.nanoTime() - t0) / 1e9);
    }

    static double maxRel(float[] a, float[] b) {
        double w = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs((double) a[i] - b[i]) / (1 + Math.abs((double) b[i]));
            if (Double.isNaN(d)) return Double.POSITIVE_INFINITY;
            w = Math.max(w, d);
        }
        return w;
    }

    static double relToLargest(float[] a, float[] b) {
        double d = 0, m = 0;
        for (int i = 0; i < a.length; i++) {
            double x = Math.abs((double) a[i] - b[i]);
            if (Double.isNaN(x)) return Double.POSITIVE_INFINITY;
            d = Math.max(d, x);
            m = Math.max(m, Math.abs((double) b[i]));
        }
        return m == 0 ? d : d / m;
    }

    // ================================================================ bench

    static int bench(Options o) {
        ClipConfig cfg = ClipConfig.named(o.model);
        Backend be = Backends.get(o.backend);
        System.out.println("backend=" + describe(be));
        int size = cfg.vision().imageSize(), batch = o.batch, embed = cfg.embedDim();
        VisionTransformer v = tower(cfg, be);
        float[] img = images(batch, size);
        Tensor images = Tensor.of(be, img, batch, 3, size, size);
        CudaBackend cuda = be instanceof CudaBackend cb ? cb : null;

        if (o.weights != null) writeWeights(o.weights, cfg, v, img, size, be);

        // Encoding: no tape, so every intermediate is garbage at once; a memory scope frees it on CUDA.
        // The warm-up runs outside any scope, so that whatever the engine allocates once and keeps survives.
        encodeOnce(v, images, null);
        int reps = o.steps;
        long t0 = System.nanoTime();
        for (int i = 0; i < reps; i++) encodeOnce(v, images, cuda);
        double encodeSec = (System.nanoTime() - t0) / 1e9 / reps;
        System.out.printf(Locale.ROOT, "encode.batch=%d%nencode.seconds_per_batch=%.4f%nencode.images_per_second=%.1f%n",
                batch, encodeSec, batch / encodeSec);

        // Training step: contrastive loss against fixed random "text" embeddings, AdamW (PyTorch's defaults).
        float[] t = new float[batch * embed];
        Rng r = new Rng(TARGET_SEED);
        for (int i = 0; i < t.length; i++) t[i] = (float) r.nextGaussian();
        Tensor targets = Nn.l2Normalize(Tensor.of(be, t, batch, embed));
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = i;
        ParameterSet set = ParameterSet.of(v.parameters());
        AdamW opt = new AdamW(set);
        float firstLoss = trainStep(v, images, targets, labels, set, opt, be, null); // warm-up, outside any scope
        int steps = Math.max(1, Math.min(o.steps, 3));
        t0 = System.nanoTime();
        float loss = 0;
        for (int i = 0; i < steps; i++) loss = trainStep(v, images, targets, labels, set, opt, be, cuda);
        double stepSec = (System.nanoTime() - t0) / 1e9 / steps;
        System.out.printf(Locale.ROOT, "train.batch=%d%ntrain.seconds_per_step=%.4f%ntrain.first_loss=%.6f%ntrain.last_loss=%.6f%n",
                batch, stepSec, firstLoss, loss);
        if (o.profile && cuda != null) {
            cuda.startProfile();
            encodeOnce(v, images, cuda);
            printProfile("encoding, batch " + batch, cuda.stopProfile(PROFILE_ROWS));
            cuda.startProfile();
            trainStep(v, images, targets, labels, set, opt, be, cuda);
            printProfile("training step, batch " + batch, cuda.stopProfile(PROFILE_ROWS));
        } else if (o.profile) {
            System.out.println("profile: only the cuda backend times its operations; skipped on " + be.name());
        }
        return 0;
    }

    static final int PROFILE_ROWS = 40;

    /** A profile table, each line marked so that the check's summary can pick it out of the log. */
    private static void printProfile(String what, String table) {
        System.out.println("profile| " + what);
        for (String line : table.split("\n")) System.out.println("profile| " + line);
    }

    private static void encodeOnce(VisionTransformer v, Tensor images, CudaBackend cuda) {
        if (cuda == null) {
            v.forward(images).toArray();
            return;
        }
        try (CudaBackend.MemoryScope s = cuda.scope()) {
            v.forward(images).toArray(); // the read-back waits for the GPU
        }
    }

    static Tensor loss(VisionTransformer v, Tensor images, Tensor targets, int[] labels) {
        Tensor logits = Ops.scale(Ops.matmul(Nn.l2Normalize(v.forward(images)), targets, false, true), LOGIT_SCALE);
        return Nn.crossEntropy(logits, labels);
    }

    private static float trainStep(VisionTransformer v, Tensor images, Tensor targets, int[] labels, ParameterSet set,
                                   AdamW opt, Backend be, CudaBackend scoped) {
        CudaBackend.MemoryScope s = scoped == null ? null : scoped.scope();
        try {
            set.zeroGrad();
            float l;
            try (Tape tape = Tape.record()) {
                Tensor loss = loss(v, images, targets, labels);
                tape.backward(loss);
                l = loss.toArray()[0];
            }
            opt.step(1e-5f);
            be.download(set.data().slice(0, 1), new float[1], 0); // waits for the step
            return l;
        } finally {
            if (s != null) s.close();
        }
    }

    /** The tower's weights, 4 images and their embeddings (before any training step), for PyTorch. */
    private static void writeWeights(Path file, ClipConfig cfg, VisionTransformer v, float[] img, int size, Backend be) {
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : v.namedParameters().entrySet()) {
            tensors.put(e.getKey(), new TensorData(e.getValue().toArray(), e.getValue().shape()));
        }
        int n = Math.min(4, img.length / (3 * size * size));
        float[] few = java.util.Arrays.copyOf(img, n * 3 * size * size);
        Tensor emb = v.forward(Tensor.of(be, few, n, 3, size, size));
        tensors.put("check.images", new TensorData(few, new int[] {n, 3, size, size}));
        tensors.put("check.embeddings", new TensorData(emb.toArray(), emb.shape()));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("xbt.bench", "visual tower; check.* = images and their embeddings from backend " + be.name());
        // What the tensors' shapes do not say.
        meta.put("xbt.heads", Integer.toString(cfg.vision().heads()));
        meta.put("xbt.activation", cfg.activation().name().toLowerCase(Locale.ROOT));
        SafetensorsWriter.write(file, tensors, meta);
        System.out.println("weights=" + file);
    }
}

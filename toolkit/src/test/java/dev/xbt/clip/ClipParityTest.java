package dev.xbt.clip;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.xbt.engine.Nn;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.BackendProvider;
import dev.xbt.engine.backend.Backends;
import dev.xbt.weights.SafetensorsFile;
import dev.xbt.weights.SafetensorsWriter;
import dev.xbt.weights.TensorData;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Our CLIP against an independent PyTorch implementation, loading the same random weights from an
 * OpenCLIP-layout and from a Hugging Face-layout checkpoint, and with QuickGELU and with exact GELU.
 * The fixture (src/test/resources/parity/, see its README) comes from
 * src/test/python/make_clip_parity_fixture.py: a small CLIP (40 px images in 8 px patches, vision
 * width 32 × 3 layers × 4 heads, text context 16, vocabulary 500, width 24 × 2 layers × 3 heads,
 * embedding 40) with every weight random, evaluated by torch in float64.
 *
 * <p>Tolerance: 1e-5 absolute on every element of the image and text embeddings (unnormalised and
 * normalised) and of the logits (whose scale is exp(logit_scale) ≈ 18). Backends: scalar (float32)
 * and scalar64 always, cpu when its provider is on the class path (skipped with the reason
 * otherwise).
 *
 * <p>Also here: a ViT-B-32-shaped model round-trips a checkpoint of itself through a file and
 * encodes one image and one text; and a checkpoint that does not fit is refused with one error
 * listing every problem, in both layouts.
 */
class ClipParityTest {
    private static final double TOL = 1e-5;
    private static final ClipConfig.Vision VISION = new ClipConfig.Vision(40, 8, 32, 3, 4, 4);
    private static final ClipConfig.Text TEXT = new ClipConfig.Text(16, 500, 24, 2, 3, 4);
    private static final int EMBED = 40, IMAGES = 3, TEXTS = 4;
    private static final String[] OUTPUTS = {
        "image_embeds", "text_embeds", "image_embeds_normalized", "text_embeds_normalized", "logits_per_image"};

    private static Path dir;
    private static Map<String, float[]> expected;
    private static Map<String, int[]> expectedShapes;
    private static Map<String, String> expectedMeta;
    private static float[] images;
    private static int[][] tokens;

    static ClipConfig config(ClipConfig.Activation act) {
        return new ClipConfig(EMBED, VISION, TEXT, act);
    }

    @BeforeAll
    static void loadFixture() throws URISyntaxException {
        dir = Path.of(ClipParityTest.class.getResource("/parity/clip_parity_expected.safetensors").toURI()).getParent();
        expected = new LinkedHashMap<>();
        expectedShapes = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("clip_parity_expected.safetensors"))) {
            for (String n : f.names()) {
                expected.put(n, f.read(n));
                expectedShapes.put(n, f.shape(n));
            }
            expectedMeta = Map.copyOf(f.metadata());
        }
        assertArrayEquals(new int[] {IMAGES, 3, 40, 40}, expectedShapes.get("images"));
        images = expected.get("images");
        assertArrayEquals(new int[] {TEXTS, 16}, expectedShapes.get("tokens"));
        float[] ids = expected.get("tokens");
        tokens = new int[TEXTS][16];
        for (int i = 0; i < ids.length; i++) tokens[i / 16][i % 16] = (int) ids[i];
    }

    // ---------------------------------------------------------------------------------------------
    // Parity
    // ---------------------------------------------------------------------------------------------

    @Test
    void fixtureConfigIsTheOneTheTestBuilds() throws Exception {
        for (String file : List.of("clip_parity_openclip.safetensors", "clip_parity_expected.safetensors")) {
            String json;
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(file))) {
                json = f.metadata().get("clip_config");
            }
            JsonNode c = new ObjectMapper().readTree(json);
            JsonNode v = c.get("vision_cfg"), t = c.get("text_cfg");
            assertEquals(EMBED, c.get("embed_dim").asInt(), file);
            assertEquals(VISION, new ClipConfig.Vision(v.get("image_size").asInt(), v.get("patch_size").asInt(),
                    v.get("width").asInt(), v.get("layers").asInt(), v.get("heads").asInt(), v.get("mlp_ratio").asInt()), file);
            assertEquals(TEXT, new ClipConfig.Text(t.get("context_length").asInt(), t.get("vocab_size").asInt(),
                    t.get("width").asInt(), t.get("layers").asInt(), t.get("heads").asInt(), t.get("mlp_ratio").asInt()), file);
            assertTrue(c.get("quick_gelu").asBoolean(), file);
        }
        // The two activations must be told apart by far more than the tolerance, or the test proves nothing.
        for (String out : List.of("image_embeds", "text_embeds")) {
            double d = maxAbs(expected.get("quick_gelu." + out), expected.get("gelu." + out));
            assertTrue(d > 1000 * TOL, out + ": QuickGELU and GELU references differ by only " + d);
        }
    }

    static Stream<Arguments> parityCases() {
        List<Arguments> cases = new ArrayList<>();
        for (String backend : List.of("scalar", "scalar64", "cpu", "opencl")) {
            for (String layout : List.of("openclip", "hf")) {
                for (ClipConfig.Activation act : ClipConfig.Activation.values()) cases.add(Arguments.of(backend, layout, act));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("parityCases")
    void matchesTorch(String backendName, String layout, ClipConfig.Activation act) {
        Backend backend = backendOrSkip(backendName);
        String key = act == ClipConfig.Activation.QUICK_GELU ? "quick_gelu" : "gelu";
        Map<String, float[]> ours = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        try (Backends.Scope ignored = Backends.use(backend)) {
            ClipModel model = new ClipModel(config(act), new Rng(7));
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("clip_parity_" + layout + ".safetensors"))) {
                ClipWeights.load(model, f);
            }
            Tensor img = model.encodeImage(Tensor.of(images, IMAGES, 3, 40, 40));
            Tensor txt = model.encodeText(tokens);
            assertArrayEquals(new int[] {IMAGES, EMBED}, img.shape());
            assertArrayEquals(new int[] {TEXTS, EMBED}, txt.shape());
            Tensor logits = model.logits(img, txt);
            assertArrayEquals(new int[] {IMAGES, TEXTS}, logits.shape());
            ours.put("image_embeds", img.toArray());
            ours.put("text_embeds", txt.toArray());
            ours.put("image_embeds_normalized", Nn.l2Normalize(img).toArray());
            ours.put("text_embeds_normalized", Nn.l2Normalize(txt).toArray());
            ours.put("logits_per_image", logits.toArray());
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        StringBuilder report = new StringBuilder(String.format("%-8s %-8s %-10s max|ours - torch64| (vs torch32):",
                backendName, layout, key));
        List<String> failures = new ArrayList<>();
        for (String out : OUTPUTS) {
            float[] want = expected.get(key + "." + out), f32 = expected.get(key + ".torch_f32." + out);
            double err = maxAbs(ours.get(out), want), err32 = maxAbs(ours.get(out), f32);
            report.append(String.format(" %s %.2e (%.2e)", out, err, err32));
            if (!(err <= TOL)) failures.add(out + " off by " + err);
        }
        System.out.println(report.append(String.format(" [%d ms]", ms)));
        if (!failures.isEmpty()) fail(backendName + " " + layout + " " + key + ": " + failures);
    }

    /** The backend named, or a skip with the reason it cannot be had. */
    private static Backend backendOrSkip(String name) {
        Optional<BackendProvider> p = Backends.providers().stream().filter(x -> x.name().equals(name)).findFirst();
        Assumptions.assumeTrue(p.isPresent(), () -> "backend '" + name + "' is not on the class path (providers: "
                + Backends.providers().stream().map(BackendProvider::name).toList() + ")");
        Optional<String> why = p.get().unavailableReason();
        Assumptions.assumeTrue(why.isEmpty(), () -> "backend '" + name + "' is unavailable: " + why.orElse(""));
        return Backends.get(name);
    }

    private static double maxAbs(float[] a, float[] b) {
        assertEquals(b.length, a.length, "element count");
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs((double) a[i] - b[i]);
            if (!(d <= m)) m = d; // NaN sticks
        }
        return m;
    }

    // ---------------------------------------------------------------------------------------------
    // ViT-B-32: a checkpoint of itself, through a file
    // ---------------------------------------------------------------------------------------------

    /**
     * ViT-B-32 (151M parameters) with random weights: written with SafetensorsWriter, every parameter
     * then overwritten with zeros, loaded back through ClipWeights (each tensor must come back bit for
     * bit), and one 224 px image and one text encoded on the default backend. One model is built, not
     * two: drawing 151M normal values is a good part of the runtime.
     */
    @Test
    void vitB32RoundTripsACheckpointAndEncodes(@TempDir Path tmp) {
        ClipConfig cfg = ClipConfig.named("ViT-B-32");
        Backend backend = Backends.defaultBackend();
        Path file = tmp.resolve("vit-b-32.safetensors");
        Map<String, Integer> hashes = new LinkedHashMap<>();
        try (Backends.Scope ignored = Backends.use(backend)) {
            long t0 = System.nanoTime();
            ClipModel model = new ClipModel(cfg, new Rng(11));
            long t1 = System.nanoTime();
            Map<String, TensorData> tensors = new LinkedHashMap<>();
            for (var e : model.namedParameters().entrySet()) {
                float[] d = e.getValue().toArray();
                hashes.put(e.getKey(), Arrays.hashCode(d));
                tensors.put(e.getKey(), TensorData.of(d, e.getValue().shape()));
            }
            SafetensorsWriter.write(file, tensors, Map.of("format", "pt"));
            tensors = null;
            long t2 = System.nanoTime();
            for (Parameter p : model.parameters()) p.copyFrom(new float[p.size()]);
            assertEquals(0f, model.visual().proj.toArray()[0], "scrambled before the load");
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                ClipWeights.load(model, f);
            }
            assertEquals(hashes.keySet(), model.namedParameters().keySet());
            for (var e : model.namedParameters().entrySet()) {
                assertEquals(hashes.get(e.getKey()), Arrays.hashCode(e.getValue().toArray()), e.getKey() + " after the round trip");
            }
            long t3 = System.nanoTime();

            int s = cfg.vision().imageSize(), ctx = cfg.text().contextLength(), vocab = cfg.text().vocabSize();
            Tensor image = Tensor.randn(new Rng(13), 1f, 1, 3, s, s);
            int[][] text = new int[1][ctx];
            int[] row = {vocab - 2, 320, 1125, 539, 16, 269, vocab - 1}; // start, a few BPE ids, end
            System.arraycopy(row, 0, text[0], 0, row.length);
            Tensor img = model.encodeImage(image);
            long t4 = System.nanoTime();
            Tensor txt = model.encodeText(text);
            long t5 = System.nanoTime();
            assertArrayEquals(new int[] {1, cfg.embedDim()}, img.shape());
            assertArrayEquals(new int[] {1, cfg.embedDim()}, txt.shape());
            for (float v : img.toArray()) assertTrue(Float.isFinite(v), "image embedding not finite");
            for (float v : txt.toArray()) assertTrue(Float.isFinite(v), "text embedding not finite");
            Tensor logits = model.logits(img, txt);
            assertArrayEquals(new int[] {1, 1}, logits.shape());
            assertTrue(Float.isFinite(logits.item()), "logit not finite");
            System.out.printf("ViT-B-32 on %s: build %d ms, write %d MB %d ms, zero + load + verify %d ms,"
                            + " encode 1 image %d ms, 1 text %d ms%n", backend.name(), ms(t0, t1), fileSize(file) >> 20,
                    ms(t1, t2), ms(t2, t3), ms(t3, t4), ms(t4, t5));
        }
    }

    private static long ms(long from, long to) {
        return (to - from) / 1_000_000;
    }

    private static long fileSize(Path p) {
        try {
            return Files.size(p);
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Checkpoints that do not fit: one error naming every problem
    // ---------------------------------------------------------------------------------------------

    /** Every tensor of a fixture checkpoint, as read (I64 position_ids become F32; the loader skips them). */
    private static LinkedHashMap<String, TensorData> tensorsOf(String file) {
        LinkedHashMap<String, TensorData> out = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(file))) {
            for (String n : f.names()) out.put(n, TensorData.of(f.read(n), f.shape(n)));
        }
        return out;
    }

    private static float[] with(float[] d, int index, float value) {
        float[] c = d.clone();
        c[index] = value;
        return c;
    }

    /** Loads {@code tensors} (through a file) into a fresh model and returns the refusal; the model must be untouched. */
    private static String refusal(Path tmp, Map<String, TensorData> tensors) {
        Path file = tmp.resolve("bad.safetensors");
        SafetensorsWriter.write(file, tensors, Map.of());
        try (Backends.Scope ignored = Backends.use(Backends.get("scalar"))) {
            ClipModel model = new ClipModel(config(ClipConfig.Activation.QUICK_GELU), new Rng(3));
            Map<String, float[]> before = new LinkedHashMap<>();
            for (var e : model.namedParameters().entrySet()) before.put(e.getKey(), e.getValue().toArray());
            ClipWeights.MismatchException e;
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                e = assertThrows(ClipWeights.MismatchException.class, () -> ClipWeights.load(model, f));
            }
            for (var p : model.namedParameters().entrySet()) {
                assertArrayEquals(before.get(p.getKey()), p.getValue().toArray(), p.getKey() + " changed by a refused load");
            }
            System.out.println("refused: " + e.getMessage());
            return e.getMessage();
        }
    }

    private static void assertListed(String message, String section, String... names) {
        int at = message.indexOf(section + ":");
        assertTrue(at >= 0, "no '" + section + "' section in: " + message);
        int end = message.indexOf(';', at);
        String part = message.substring(at, end < 0 ? message.length() : end);
        for (String n : names) assertTrue(part.contains(n), "'" + section + "' should name " + n + ": " + message);
    }

    @Test
    void aFittingCheckpointLoadsInBothLayouts() {
        for (String layout : List.of("openclip", "hf")) {
            try (Backends.Scope ignored = Backends.use(Backends.get("scalar"))) {
                ClipModel model = new ClipModel(config(ClipConfig.Activation.GELU), new Rng(3));
                try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("clip_parity_" + layout + ".safetensors"))) {
                    ClipWeights.load(model, f);
                }
                Parameter scale = model.logitScale();
                assertEquals(2.9f, scale.item(), 1e-6f, layout);
            }
        }
    }

    @Test
    void openClipCheckpointWithEveryKindOfProblemIsRefusedOnce(@TempDir Path tmp) {
        LinkedHashMap<String, TensorData> t = tensorsOf("clip_parity_openclip.safetensors");
        t.remove("visual.proj");
        t.remove("transformer.resblocks.1.mlp.c_fc.bias");
        t.put("visual.attnpool.positional_embedding", TensorData.of(new float[4], 2, 2));
        t.put("text_projection", TensorData.of(t.get("text_projection").data(), 40, 24)); // transposed shape
        t.put("ln_final.weight", TensorData.of(t.get("ln_final.weight").data(), 2, 12));
        t.put("visual.transformer.resblocks.2.attn.in_proj_bias",
                TensorData.of(with(t.get("visual.transformer.resblocks.2.attn.in_proj_bias").data(), 5, Float.NaN), 96));
        t.put("token_embedding.weight",
                TensorData.of(with(t.get("token_embedding.weight").data(), 77, Float.NEGATIVE_INFINITY), 500, 24));
        String m = refusal(tmp, t);
        assertListed(m, "missing", "visual.proj", "transformer.resblocks.1.mlp.c_fc.bias");
        assertListed(m, "unexpected", "visual.attnpool.positional_embedding");
        assertListed(m, "wrong shape", "text_projection [40, 24] (model [24, 40])", "ln_final.weight [2, 12] (model [24])");
        assertListed(m, "NaN or infinite values in", "visual.transformer.resblocks.2.attn.in_proj_bias",
                "token_embedding.weight");
    }

    @Test
    void eachKindOfProblemAloneIsRefused(@TempDir Path tmp) {
        LinkedHashMap<String, TensorData> base = tensorsOf("clip_parity_openclip.safetensors");

        var t = new LinkedHashMap<>(base);
        t.remove("logit_scale");
        assertListed(refusal(tmp, t), "missing", "logit_scale");

        t = new LinkedHashMap<>(base);
        t.put("extra", TensorData.scalar(1f));
        assertListed(refusal(tmp, t), "unexpected", "extra");

        t = new LinkedHashMap<>(base);
        t.put("visual.conv1.weight", TensorData.of(t.get("visual.conv1.weight").data(), 32, 192));
        assertListed(refusal(tmp, t), "wrong shape", "visual.conv1.weight [32, 192] (model [32, 3, 8, 8])");

        t = new LinkedHashMap<>(base);
        t.put("logit_scale", TensorData.scalar(Float.POSITIVE_INFINITY));
        String m = refusal(tmp, t);
        assertListed(m, "NaN or infinite values in", "logit_scale");
        assertFalse(m.contains("missing") || m.contains("unexpected") || m.contains("wrong shape"), m);
    }

    @Test
    void huggingFaceCheckpointWithEveryKindOfProblemIsRefusedOnce(@TempDir Path tmp) {
        LinkedHashMap<String, TensorData> t = tensorsOf("clip_parity_hf.safetensors");
        String layer = "text_model.encoder.layers.1.";
        t.remove("visual_projection.weight");
        t.remove(layer + "self_attn.k_proj.weight"); // q and v stay: the fused in_proj cannot be made
        t.put("vision_model.embeddings.patch_embedding.bias", TensorData.of(new float[32], 32));
        t.put("text_projection.weight", TensorData.of(t.get("text_projection.weight").data(), 24, 40));
        t.put("vision_model.encoder.layers.0.self_attn.v_proj.bias", TensorData.of(new float[16], 16));
        t.put("vision_model.encoder.layers.1.self_attn.q_proj.weight", TensorData.of(new float[32 * 16], 32, 16));
        t.put("vision_model.encoder.layers.2.mlp.fc1.bias",
                TensorData.of(with(t.get("vision_model.encoder.layers.2.mlp.fc1.bias").data(), 100, Float.NaN), 128));
        String m = refusal(tmp, t);
        assertListed(m, "missing", "visual.proj");
        assertListed(m, "unexpected", "vision_model.embeddings.patch_embedding.bias");
        assertListed(m, "wrong shape", "text_projection [40, 24] (model [24, 40])",
                "visual.transformer.resblocks.0.attn.in_proj_bias [80] (model [96])");
        assertListed(m, "unusable", "transformer.resblocks.1.attn.in_proj_weight", layer + "self_attn.k_proj.weight",
                "visual.transformer.resblocks.1.attn.in_proj_weight");
        assertListed(m, "NaN or infinite values in", "visual.transformer.resblocks.2.mlp.c_fc.bias");
    }
}

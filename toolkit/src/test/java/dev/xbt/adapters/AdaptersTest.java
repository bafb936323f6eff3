package dev.xbt.adapters;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.xbt.adapters.AdapterConfig.Tower;
import dev.xbt.clip.BlockLinear;
import dev.xbt.clip.ClipConfig;
import dev.xbt.clip.ClipModel;
import dev.xbt.engine.Nn;
import dev.xbt.engine.Ops;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.ParameterSet;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tape;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.optim.AdamW;
import dev.xbt.engine.backend.Backends;
import dev.xbt.engine.testing.GradCheck;
import dev.xbt.weights.ModelContract;
import dev.xbt.weights.SafetensorsFile;
import dev.xbt.weights.SafetensorsWriter;
import dev.xbt.weights.TensorData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * LoRA and prompt tokens on a small CLIP (16 px images in 8 px patches, widths 16 and 24, two layers
 * per tower, text context 8): identity at initialisation, merged = unmerged, float64 gradient checks,
 * frozen base, the PEFT folder round trip and its refusals, prompt shapes and the text context's
 * shift of the end token, checked against the plain model fed equivalent token rows.
 */
class AdaptersTest {
    static final ClipConfig CONFIG = new ClipConfig(12, new ClipConfig.Vision(16, 8, 16, 2, 2, 2),
            new ClipConfig.Text(8, 50, 24, 2, 3, 2), ClipConfig.Activation.GELU);
    static final ModelContract CONTRACT = new ModelContract("test/base", 12, "l2", "clip-bicubic-16", "bpe-test");
    static final int EOT = 49, SOT = 48;
    /** Two captions: a short one and one that fills the whole context (end token at the last position). */
    static final int[][] TOKENS = {{SOT, 5, 9, 3, EOT, 0, 0, 0}, {SOT, 7, 1, 2, 8, 4, 6, EOT}};

    @TempDir
    Path dir;

    static ClipModel model(long seed) {
        ClipModel m = new ClipModel(CONFIG, new Rng(seed));
        m.setContract(CONTRACT);
        return m;
    }

    static Tensor images(long seed) {
        return Tensor.randn(new Rng(seed), 1f, 2, 3, 16, 16);
    }

    static AdapterConfig allLora() {
        return AdapterConfig.builder().lora(4, 8, 0)
                .targets(Tower.VISUAL, BlockLinear.shortNames().toArray(String[]::new))
                .targets(Tower.TEXT, BlockLinear.shortNames().toArray(String[]::new)).build();
    }

    /** Gives every LoRA B (zero at initialisation) random values, so the adapters change the outputs. */
    static void randomizeB(Adapters ad, long seed) {
        Rng rng = new Rng(seed);
        for (LoraLinear l : ad.loraLayers()) {
            float[] v = new float[l.b().size()];
            for (int i = 0; i < v.length; i++) v[i] = (float) (rng.nextGaussian() * 0.2);
            l.b().copyFrom(v);
        }
    }

    static float[][] outputs(ClipModel m) {
        try (var ignored = Tape.inference()) {
            return new float[][] {m.encodeImage(images(3)).toArray(), m.encodeText(TOKENS).toArray()};
        }
    }

    static void assertClose(float[] want, float[] got, double tol, String what) {
        assertEquals(want.length, got.length, what);
        double worst = 0;
        for (int i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i] - got[i]));
        assertTrue(worst <= tol, what + ": max |diff| " + worst + " > " + tol);
    }

    // ---- LoRA ----

    @Test
    void freshLoraChangesNothingBitForBit() {
        ClipModel m = model(1);
        float[][] before = outputs(m);
        Adapters ad = Adapters.attach(m, allLora(), new Rng(2));
        assertEquals(2 * 2 * 6, ad.loraModules().size());
        float[][] after = outputs(m);
        assertArrayEquals(before[0], after[0]);
        assertArrayEquals(before[1], after[1]);
        ad.detach();
        assertArrayEquals(before[0], outputs(m)[0]);
    }

    @Test
    void loraDeltaMatchesAHandComputation() {
        // x [1, 2], A [1, 2], B [2, 1], scale 2: delta = 2·B·(A·x) = 2·[1, -1]·(1·3 + 2·4 = 11) = [22, -22].
        Tensor x = Tensor.of(new float[] {3, 4}, 1, 2);
        Tensor a = Tensor.of(new float[] {1, 2}, 1, 2);
        Tensor b = Tensor.of(new float[] {1, -1}, 2, 1);
        assertArrayEquals(new float[] {22, -22}, LoraLinear.delta(x, a, b, 2, 0, new Rng(0), false).toArray());
    }

    @Test
    void mergedAndUnmergedGiveTheSameOutputsInBothTowers() {
        ClipModel m = model(1);
        float[][] base = outputs(m);
        Adapters ad = Adapters.attach(m, allLora(), new Rng(2));
        randomizeB(ad, 5);
        float[][] unmerged = outputs(m);
        // The adapters must matter, or the comparison below proves nothing.
        assertTrue(maxDiff(base[0], unmerged[0]) > 1e-2 && maxDiff(base[1], unmerged[1]) > 1e-2);
        ModelContract expected = ad.mergedContract();
        ad.merge();
        float[][] merged = outputs(m);
        assertClose(unmerged[0], merged[0], 2e-5, "image embeddings");
        assertClose(unmerged[1], merged[1], 2e-5, "text embeddings");
        assertEquals(expected, m.contract().orElseThrow());
        assertTrue(expected.modelId().startsWith("test/base+lora-"), expected.modelId());
        assertEquals(CONTRACT.embedDim(), expected.embedDim());
        assertTrue(ad.trainableParameters().isEmpty(), "merged LoRA is no longer trainable");
        assertThrows(IllegalStateException.class, () -> ad.save(dir));
    }

    @Test
    void mergingAddsExactlyScaledBTimesAToTheRightRows() {
        ClipModel m = model(1);
        var block = m.text().transformer().blocks().get(1);
        float[] w0 = block.weightOf(BlockLinear.K_PROJ).toArray();
        Adapters ad = Adapters.attach(m, AdapterConfig.builder().lora(2, 3, 0).targets(Tower.TEXT, "k_proj")
                .layers(Tower.TEXT, 1, 2).build(), new Rng(2));
        assertEquals(List.of("transformer.resblocks.1.attn.k_proj"), ad.loraModules());
        randomizeB(ad, 6);
        LoraLinear l = ad.loraLayers().getFirst();
        double[] a = l.a().toDoubleArray(), b = l.b().toDoubleArray();
        ad.merge();
        float[] w1 = block.weightOf(BlockLinear.K_PROJ).toArray();
        int width = 24;
        for (int row = 0; row < 3 * width; row++) {
            for (int col = 0; col < width; col++) {
                double want = w0[row * width + col];
                if (row >= width && row < 2 * width) {
                    int i = row - width;
                    want += 1.5 * (b[i * 2] * a[col] + b[i * 2 + 1] * a[width + col]);
                }
                assertEquals((float) want, w1[row * width + col], 1e-7, "row " + row + " col " + col);
            }
        }
    }

    @Test
    void loraPathPassesAFloat64GradientCheckWithDropout() {
        // delta(x) = 1.5·dropout(x)·Aᵀ·Bᵀ for x [2, 3, 5], A [2, 5], B [4, 2]; dropout's mask from a fixed seed.
        GradCheck.of("lora delta", in -> LoraLinear.delta(in[0], in[1], in[2], 1.5, 0.3f, new Rng(9), true))
                .input(GradCheck.randn(1, 2, 3, 5), 2, 3, 5)
                .input(GradCheck.randn(2, 2, 5), 2, 5)
                .input(GradCheck.randn(3, 4, 2), 4, 2)
                .run();
    }

    @Test
    void wholeModelGradientsOfLoraAndPromptsMatchFiniteDifferences() {
        Backend be = Backends.get("scalar64");
        try (var ignored = Backends.use(be)) {
            ClipModel m = model(1);
            AdapterConfig cfg = AdapterConfig.builder().lora(2, 4, 0)
                    .targets(Tower.VISUAL, "q_proj", "v_proj", "c_proj").targets(Tower.TEXT, "k_proj", "out_proj", "c_fc")
                    .visualPrompts(2, true).textContext(2).build();
            Adapters ad = Adapters.attach(m, cfg, new Rng(2));
            randomizeB(ad, 7);
            Tensor x = images(3);
            double[] r1 = GradCheck.randn(11, 2, 12), r2 = GradCheck.randn(12, 2, 12);
            Tensor w1 = Tensor.of(be, r1, 2, 12), w2 = Tensor.of(be, r2, 2, 12);
            java.util.function.DoubleSupplier loss = () -> Ops.add(Ops.sum(Ops.mul(m.encodeImage(x), w1)),
                    Ops.sum(Ops.mul(m.encodeText(TOKENS), w2))).toDoubleArray()[0];
            Map<String, Parameter> params = ad.namedParameters();
            try (Tape tape = Tape.record()) {
                tape.backward(Ops.add(Ops.sum(Ops.mul(m.encodeImage(x), w1)), Ops.sum(Ops.mul(m.encodeText(TOKENS), w2))));
            }
            Rng pick = new Rng(13);
            int checked = 0;
            try (var noTape = Tape.inference()) {
                for (var e : params.entrySet()) {
                    Parameter p = e.getValue();
                    double[] analytic = p.grad().toDoubleArray(), v = p.toDoubleArray();
                    for (int k = 0; k < 3; k++) {
                        int i = pick.nextInt(v.length);
                        double v0 = v[i], eps = 1e-6;
                        v[i] = v0 + eps;
                        p.copyFrom(Tensor.of(be, v, p.shape()));
                        double up = loss.getAsDouble();
                        v[i] = v0 - eps;
                        p.copyFrom(Tensor.of(be, v, p.shape()));
                        double down = loss.getAsDouble();
                        v[i] = v0;
                        p.copyFrom(Tensor.of(be, v, p.shape()));
                        double numeric = (up - down) / (2 * eps);
                        assertEquals(numeric, analytic[i], 1e-6 + 1e-5 * Math.abs(numeric), e.getKey() + " element " + i);
                        checked++;
                    }
                    assertTrue(maxAbs(analytic) > 0, e.getKey() + " got no gradient");
                }
            }
            // 6 LoRA modules × 2 layers × A, B; 2 deep visual prompts; 1 text context.
            assertEquals((12 * 2 + 2 + 1) * 3, checked);
        }
    }

    @Test
    void frozenBaseGetsNoGradientAndOnlyAdaptersArePacked() {
        ClipModel m = model(1);
        Adapters ad = Adapters.attach(m, AdapterConfig.builder().lora(2, 2, 0.1).targets(Tower.VISUAL, "q_proj", "c_fc")
                .targets(Tower.TEXT, "v_proj").visualPrompts(3, false).textContext(2).build(), new Rng(2));
        randomizeB(ad, 8);
        ParameterSet set = ParameterSet.of(ad.trainableParameters());
        long adapterSize = ad.trainableParameters().stream().mapToLong(Parameter::size).sum();
        assertEquals(adapterSize, set.count());
        ad.train(true);
        try (Tape tape = Tape.record()) {
            Tensor loss = Ops.add(Ops.sum(m.encodeImage(images(3))), Ops.sum(m.encodeText(TOKENS)));
            tape.backward(loss);
        }
        assertTrue(set.gradNorm() > 0);
        for (Parameter p : ad.trainableParameters()) assertNotNull(p.grad(), p.name());
        for (Parameter p : m.parameters()) {
            assertTrue(p.frozen(), p.name());
            p.freeze(false);
            assertNull(p.grad(), p.name() + " received a gradient");
        }
    }

    @Test
    void adamWOnTheAdaptersLowersAContrastiveLossAndLeavesTheBaseUntouched() {
        ClipModel m = model(1);
        Map<String, float[]> before = new LinkedHashMap<>();
        m.namedParameters().forEach((n, p) -> before.put(n, p.toArray()));
        Adapters ad = Adapters.attach(m, AdapterConfig.builder().lora(4, 8, 0.1).targets(Tower.VISUAL, "q_proj", "v_proj", "c_fc")
                .targets(Tower.TEXT, "v_proj", "out_proj").visualPrompts(2, false).textContext(2).build(), new Rng(2));
        ParameterSet set = ParameterSet.of(ad.trainableParameters());
        AdamW opt = new AdamW(set);
        ad.train(true);
        Tensor x = images(3);
        double first = 0, last = 0;
        for (int step = 0; step < 30; step++) {
            set.zeroGrad();
            try (Tape tape = Tape.record()) {
                Tensor loss = Nn.crossEntropy(m.logits(m.encodeImage(x), m.encodeText(TOKENS)), new int[] {0, 1});
                tape.backward(loss);
                if (step == 0) first = loss.item();
                last = loss.item();
            }
            opt.step(1e-2f);
        }
        assertTrue(last < 0.5 * first, "loss " + first + " -> " + last);
        m.namedParameters().forEach((n, p) -> assertArrayEquals(before.get(n), p.toArray(), n + " changed"));
    }

    @Test
    void detachThawsWhatWasTrainableAndRefusesDoubleAttach() {
        ClipModel m = model(1);
        m.logitScale().freeze(true);
        Adapters ad = Adapters.attach(m, allLora(), new Rng(2));
        assertThrows(IllegalStateException.class, () -> Adapters.attach(m, allLora(), new Rng(3)));
        ad.detach();
        assertTrue(m.logitScale().frozen(), "was frozen before attaching");
        assertFalse(m.text().transformer().blocks().getFirst().weightOf(BlockLinear.C_FC).frozen());
        Adapters.attach(m, allLora(), new Rng(3)).detach();
    }

    @Test
    void badConfigsAreRefusedAndLeaveTheModelAsItWas() {
        ClipModel m = model(1);
        var tooManyLayers = AdapterConfig.builder().lora(2, 2, 0).targets(Tower.TEXT, "q_proj").layers(Tower.TEXT, 0, 3).build();
        var e = assertThrows(IllegalArgumentException.class, () -> Adapters.attach(m, tooManyLayers, new Rng(1)));
        assertTrue(e.getMessage().contains("text tower") && e.getMessage().contains("2 layers"), e.getMessage());
        var tooManyTokens = AdapterConfig.builder().textContext(7).build();
        e = assertThrows(IllegalArgumentException.class, () -> Adapters.attach(m, tooManyTokens, new Rng(1)));
        assertTrue(e.getMessage().contains("at most 6"), e.getMessage());
        assertFalse(m.logitScale().frozen(), "a refused attach froze the model");
        e = assertThrows(IllegalArgumentException.class, () -> AdapterConfig.builder().lora(2, 2, 0).targets(Tower.TEXT, "qproj"));
        assertTrue(e.getMessage().contains("'qproj'") && e.getMessage().contains("q_proj"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AdapterConfig.builder().build());
        assertThrows(IllegalArgumentException.class, () -> AdapterConfig.builder().lora(2, 2, 1.0).targets(Tower.TEXT, "c_fc").build());
    }

    @Test
    void configsFromTextSettings() {
        AdapterConfig c = AdapterConfig.builder().lora(8, 16, 0.1).targets(Tower.VISUAL, " q_proj, v_proj ")
                .targets(Tower.TEXT, "all").layers(Tower.TEXT, "1:").layers(Tower.VISUAL, "0:2").visualPrompts(4, true).build();
        assertEquals(Set.of(BlockLinear.Q_PROJ, BlockLinear.V_PROJ), c.lora().visual().targets());
        assertEquals(Set.of(BlockLinear.values()), c.lora().text().targets());
        assertEquals(1, c.lora().text().fromLayer());
        assertEquals(-1, c.lora().text().toLayer());
        assertEquals(2, c.lora().visual().toLayer());
        assertEquals("LoRA r 8, alpha 16.0, dropout 0.1 on visual [q_proj, v_proj] layers 0:2, text [q_proj, k_proj, v_proj, "
                + "out_proj, c_fc, c_proj] layers 1:end; visual prompts 4 deep", c.summary());
        assertEquals(AdapterConfig.builder().textContext(2).build(),
                AdapterConfig.builder().targets(Tower.VISUAL, "none").targets(Tower.TEXT, "").textContext(2).build());
        var e = assertThrows(IllegalArgumentException.class, () -> AdapterConfig.builder().layers(Tower.TEXT, "6-12"));
        assertTrue(e.getMessage().contains("'6-12'") && e.getMessage().contains("text tower"), e.getMessage());
    }

    // ---- files ----

    @Test
    void saveAndLoadRoundTripInThePeftLayout() throws Exception {
        ClipModel m = model(1);
        AdapterConfig cfg = AdapterConfig.builder().lora(4, 8, 0.05).targets(Tower.VISUAL, "q_proj", "out_proj")
                .targets(Tower.TEXT, "v_proj", "c_proj").layers(Tower.TEXT, 1, -1).visualPrompts(2, true).textContext(3).build();
        Adapters ad = Adapters.attach(m, cfg, new Rng(2));
        randomizeB(ad, 9);
        float[][] want = outputs(m);
        ad.save(dir);

        JsonNode json = new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
        assertEquals("LORA", json.get("peft_type").asText());
        assertEquals(4, json.get("r").asInt());
        assertEquals(8.0, json.get("lora_alpha").asDouble());
        assertEquals(0.05, json.get("lora_dropout").asDouble());
        assertEquals("test/base", json.get("base_model_name_or_path").asText());
        List<String> modules = new ArrayList<>();
        json.get("target_modules").forEach(n -> modules.add(n.asText()));
        assertEquals(List.of("visual.transformer.resblocks.0.attn.q_proj", "visual.transformer.resblocks.0.attn.out_proj",
                "visual.transformer.resblocks.1.attn.q_proj", "visual.transformer.resblocks.1.attn.out_proj",
                "transformer.resblocks.1.attn.v_proj", "transformer.resblocks.1.mlp.c_proj"), modules);
        assertEquals("test/base", json.get("xbt_base_contract").get("model_id").asText());
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("adapter_model.safetensors"))) {
            assertEquals(Set.of("base_model.model.visual.transformer.resblocks.0.attn.q_proj.lora_A.weight",
                    "base_model.model.visual.transformer.resblocks.0.attn.q_proj.lora_B.weight",
                    "base_model.model.visual.transformer.resblocks.0.attn.out_proj.lora_A.weight",
                    "base_model.model.visual.transformer.resblocks.0.attn.out_proj.lora_B.weight",
                    "base_model.model.visual.transformer.resblocks.1.attn.q_proj.lora_A.weight",
                    "base_model.model.visual.transformer.resblocks.1.attn.q_proj.lora_B.weight",
                    "base_model.model.visual.transformer.resblocks.1.attn.out_proj.lora_A.weight",
                    "base_model.model.visual.transformer.resblocks.1.attn.out_proj.lora_B.weight",
                    "base_model.model.transformer.resblocks.1.attn.v_proj.lora_A.weight",
                    "base_model.model.transformer.resblocks.1.attn.v_proj.lora_B.weight",
                    "base_model.model.transformer.resblocks.1.mlp.c_proj.lora_A.weight",
                    "base_model.model.transformer.resblocks.1.mlp.c_proj.lora_B.weight",
                    "visual.prompt_embeddings", "visual.transformer.resblocks.1.prompt_embeddings", "prompt_embeddings"),
                    f.names());
            assertArrayEquals(new int[] {4, 16}, f.shape("base_model.model.visual.transformer.resblocks.0.attn.q_proj.lora_A.weight"));
            assertArrayEquals(new int[] {24, 4}, f.shape("base_model.model.transformer.resblocks.1.mlp.c_proj.lora_B.weight"));
            assertArrayEquals(new int[] {3, 24}, f.shape("prompt_embeddings"));
            assertEquals("pt", f.metadata().get("format"));
        }

        ClipModel copy = model(1);
        Adapters loaded = Adapters.load(copy, dir);
        assertEquals(cfg, loaded.config());
        float[][] got = outputs(copy);
        assertArrayEquals(want[0], got[0]);
        assertArrayEquals(want[1], got[1]);
        assertEquals(ad.namedParameters().keySet(), loaded.namedParameters().keySet());
    }

    @Test
    void anAdapterForAnotherBaseIsRefusedNamingBothContracts() {
        ClipModel m = model(1);
        Adapters.attach(m, allLora(), new Rng(2)).save(dir);
        ClipModel other = model(1);
        ModelContract otherContract = new ModelContract("test/other", 12, "l2", "clip-bicubic-16", "bpe-test");
        other.setContract(otherContract);
        var e = assertThrows(IllegalArgumentException.class, () -> Adapters.load(other, dir));
        assertTrue(e.getMessage().contains(CONTRACT.describe()) && e.getMessage().contains(otherContract.describe()), e.getMessage());
        // Refused before anything was attached: the model takes adapters as before.
        Adapters.attach(other, allLora(), new Rng(2)).detach();

        ClipModel none = new ClipModel(CONFIG, new Rng(1));
        e = assertThrows(IllegalArgumentException.class, () -> Adapters.load(none, dir));
        assertTrue(e.getMessage().contains("(no contract)"), e.getMessage());

        ClipConfig wider = new ClipConfig(12, CONFIG.vision(), new ClipConfig.Text(8, 50, 24, 3, 3, 2), CONFIG.activation());
        ClipModel deeper = new ClipModel(wider, new Rng(1));
        deeper.setContract(CONTRACT);
        e = assertThrows(IllegalArgumentException.class, () -> Adapters.load(deeper, dir));
        assertTrue(e.getMessage().contains("config") && e.getMessage().contains("\"layers\":3"), e.getMessage());
    }

    @Test
    void brokenFoldersAreRefusedWithTheProblemNamed() throws Exception {
        ClipModel m = model(1);
        Adapters ad = Adapters.attach(m, allLora(), new Rng(2));
        ad.save(dir);
        var e = assertThrows(IllegalArgumentException.class, () -> Adapters.load(model(1), dir.resolve("nope")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());

        // Weights from another save: the checksum in the config no longer matches.
        Path weights = dir.resolve("adapter_model.safetensors");
        randomizeB(ad, 3);
        Path other = dir.resolve("other");
        ad.save(other);
        Files.copy(other.resolve("adapter_model.safetensors"), weights, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        e = assertThrows(IllegalArgumentException.class, () -> Adapters.load(model(1), dir));
        assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());

        // A tensor missing and one mis-shaped, with the checksum updated to match: both named in one message.
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(other.resolve("adapter_model.safetensors"))) {
            for (String n : f.names()) tensors.put(n, new TensorData(f.read(n), f.shape(n)));
        }
        String gone = "base_model.model.transformer.resblocks.0.mlp.c_fc.lora_A.weight";
        String bent = "base_model.model.visual.transformer.resblocks.1.attn.q_proj.lora_B.weight";
        tensors.remove(gone);
        tensors.put(bent, new TensorData(new float[16 * 4], new int[] {4, 16}));
        SafetensorsWriter.write(weights, tensors, Map.of());
        Path config = dir.resolve("adapter_config.json");
        String text = Files.readString(config).replaceAll("\"xbt_weights_sha256\" : \"[0-9a-f]+\"",
                "\"xbt_weights_sha256\" : \"" + PeftLayout.sha256(weights) + "\"");
        Files.writeString(config, text);
        ClipModel fresh = model(1);
        e = assertThrows(IllegalArgumentException.class, () -> Adapters.load(fresh, dir));
        assertTrue(e.getMessage().contains("1 missing: " + gone) && e.getMessage().contains("wrong shape: " + bent), e.getMessage());
        assertFalse(fresh.logitScale().frozen(), "a refused load left adapters attached");

        Files.writeString(config, "{\"peft_type\": \"IA3\"}");
        e = assertThrows(IllegalArgumentException.class, () -> Adapters.load(model(1), dir));
        assertTrue(e.getMessage().contains("IA3"), e.getMessage());
    }

    // ---- prompts ----

    @Test
    void visualPromptsShallowAndDeepHaveTheRightShapesAndEffects() {
        ClipModel m = model(1);
        float[][] base = outputs(m);
        Adapters shallow = Adapters.attach(m, AdapterConfig.builder().visualPrompts(3, false).build(), new Rng(2));
        assertEquals(List.of("visual.prompt_embeddings"), List.copyOf(shallow.namedParameters().keySet()));
        assertArrayEquals(new int[] {3, 16}, shallow.trainableParameters().getFirst().shape());
        assertEquals(3, m.visual().promptTokens());
        float[][] withShallow = outputs(m);
        assertEquals(2 * 12, withShallow[0].length);
        assertTrue(maxDiff(base[0], withShallow[0]) > 1e-3, "prompts changed nothing");
        assertArrayEquals(base[1], withShallow[1], "visual prompts touched the text tower");
        shallow.detach();
        assertArrayEquals(base[0], outputs(m)[0], "without prompts the model is as before");

        Adapters deep = Adapters.attach(m, AdapterConfig.builder().visualPrompts(3, true).build(), new Rng(2));
        assertEquals(2, deep.trainableParameters().size());
        // The same draw for the input prompts as in the shallow case; only the layer-1 replacement differs.
        assertArrayEquals(shallowPrompt(m), deep.trainableParameters().getFirst().toArray());
        float[] withDeep = outputs(m)[0];
        assertTrue(maxDiff(withShallow[0], withDeep) > 1e-3, "deep prompts changed nothing over shallow ones");
        // Deep prompts replace the layer-1 positions: changing the input prompts still matters (through the class
        // token's attention in layer 0), as does changing the layer-1 prompts.
        Parameter p1 = deep.trainableParameters().get(1);
        p1.copyFrom(new float[p1.size()]);
        assertTrue(maxDiff(withDeep, outputs(m)[0]) > 1e-4);
    }

    private static float[] shallowPrompt(ClipModel m) {
        ClipModel other = model(1);
        return Adapters.attach(other, AdapterConfig.builder().visualPrompts(3, false).build(), new Rng(2))
                .trainableParameters().getFirst().toArray();
    }

    @Test
    void textContextTokensEqualTheirTokensSpelledOutAndMoveThePooling() {
        int m = 2;
        ClipModel adapted = model(1);
        Adapters ad = Adapters.attach(adapted, AdapterConfig.builder().textContext(m).build(), new Rng(2));
        float[] ctx = ad.trainableParameters().getFirst().toArray();
        float[] got;
        try (var ignored = Tape.inference()) {
            got = adapted.encodeText(TOKENS).toArray();
        }
        // Reference: the plain model, with token ids 10 and 11 (used by neither caption) given the context
        // vectors as their embeddings, on rows with those ids spelled out after the start token. The long
        // caption loses its last m tokens before the end token, as tokenizing with context 8 - m would.
        ClipModel plain = model(1);
        Parameter table = plain.namedParameters().get("token_embedding.weight");
        float[] t = table.toArray();
        System.arraycopy(ctx, 0, t, 10 * 24, 2 * 24);
        table.copyFrom(t);
        int[][] spelled = {{SOT, 10, 11, 5, 9, 3, EOT, 0}, {SOT, 10, 11, 7, 1, 2, 8, EOT}};
        float[] want;
        try (var ignored = Tape.inference()) {
            want = plain.encodeText(spelled).toArray();
        }
        assertClose(want, got, 1e-6, "text embeddings with context tokens");
        float[] unadapted = outputs(model(1))[1];
        assertTrue(maxDiff(unadapted, got) > 1e-3);
    }

    @Test
    void gradientsReachThePromptTokens() {
        ClipModel m = model(1);
        Adapters ad = Adapters.attach(m, AdapterConfig.builder().visualPrompts(2, true).textContext(3).build(), new Rng(2));
        try (Tape tape = Tape.record()) {
            tape.backward(Ops.add(Ops.sum(Ops.square(m.encodeImage(images(3)))), Ops.sum(Ops.square(m.encodeText(TOKENS)))));
        }
        for (Parameter p : ad.trainableParameters()) assertTrue(maxAbs(p.grad().toDoubleArray()) > 0, p.name());
    }

    static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }

    static double maxAbs(double[] a) {
        double d = 0;
        for (double v : a) d = Math.max(d, Math.abs(v));
        return d;
    }
}

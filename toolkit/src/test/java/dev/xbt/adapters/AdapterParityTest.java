package dev.xbt.adapters;

import dev.xbt.clip.ClipConfig;
import dev.xbt.clip.ClipModel;
import dev.xbt.clip.ClipWeights;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tape;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Backends;
import dev.xbt.weights.SafetensorsFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URISyntaxException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our adapters against an independent PyTorch implementation: the fixture (src/test/resources/adapters/,
 * made by src/test/python/make_adapter_fixture.py) holds an adapter folder written by Python in the
 * PEFT layout for the CLIP parity fixture's base model (QuickGELU) — LoRA on q/v/out_proj/c_fc of
 * vision layers 1-2 and k/c_proj of both text layers, deep visual prompts (2 tokens) and 3 text context
 * tokens — and the adapted model's embeddings computed by torch in float64. We load the folder, encode
 * the parity fixture's images and token rows (one of which fills the whole context, so the context
 * tokens cut it), and compare; then merge the LoRA (the prompts stay attached) and compare again.
 * Tolerance 1e-5 absolute, as ClipParityTest.
 */
class AdapterParityTest {
    private static final double TOL = 1e-5;
    static final ClipConfig CONFIG = new ClipConfig(40, new ClipConfig.Vision(40, 8, 32, 3, 4, 4),
            new ClipConfig.Text(16, 500, 24, 2, 3, 4), ClipConfig.Activation.QUICK_GELU);
    private static Path parity, adapters;
    private static float[] images, wantImage, wantText;
    private static int[][] tokens;

    @BeforeAll
    static void loadFixture() throws URISyntaxException {
        adapters = Path.of(AdapterParityTest.class.getResource("/adapters/adapter_expected.safetensors").toURI()).getParent();
        parity = Path.of(AdapterParityTest.class.getResource("/parity/clip_parity_expected.safetensors").toURI()).getParent();
        try (SafetensorsFile f = SafetensorsFile.open(parity.resolve("clip_parity_expected.safetensors"))) {
            images = f.read("images");
            float[] ids = f.read("tokens");
            int rows = f.shape("tokens")[0], ctx = f.shape("tokens")[1];
            tokens = new int[rows][ctx];
            for (int i = 0; i < ids.length; i++) tokens[i / ctx][i % ctx] = (int) ids[i];
        }
        try (SafetensorsFile f = SafetensorsFile.open(adapters.resolve("adapter_expected.safetensors"))) {
            wantImage = f.read("image_embeds");
            wantText = f.read("text_embeds");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"scalar64", "default"})
    void adaptedModelMatchesTorchBeforeAndAfterMerging(String backendName) {
        Backend backend = backendName.equals("default") ? Backends.defaultBackend() : Backends.get(backendName);
        try (var scope = Backends.use(backend)) {
            ClipModel model = new ClipModel(CONFIG, new Rng(0));
            try (SafetensorsFile f = SafetensorsFile.open(parity.resolve("clip_parity_openclip.safetensors"))) {
                ClipWeights.load(model, f);
            }
            Adapters ad = Adapters.load(model, adapters.resolve("peft"));
            assertEquals(2 * 4 + 2 * 2, ad.loraModules().size());
            assertEquals(3, model.visual().transformer().blocks().size());
            compare(model, "unmerged");
            ad.merge();
            assertTrue(ad.hasPrompts());
            compare(model, "merged");
        }
    }

    private static void compare(ClipModel model, String what) {
        float[] gotImage, gotText;
        try (var ignored = Tape.inference()) {
            gotImage = model.encodeImage(Tensor.of(images, 3, 3, 40, 40)).toArray();
            gotText = model.encodeText(tokens).toArray();
        }
        assertClose(wantImage, gotImage, what + " image embeddings");
        assertClose(wantText, gotText, what + " text embeddings");
    }

    private static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        double worst = 0;
        for (int i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i] - got[i]));
        assertTrue(worst <= TOL, what + ": max |diff| " + worst + " > " + TOL);
    }
}

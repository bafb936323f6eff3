package dev.xbt.experiment;

import dev.xbt.train.ClipTraining;
import dev.xbt.train.TrainConfig;
import dev.xbt.xbt.XbtConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExperimentConfigTest {
    static final Path TINY = Path.of("..", "configs", "experiments", "tiny.yaml");

    private static TrainConfig tiny() {
        return ExperimentConfig.schema().defaults().withYaml(TINY);
    }

    @Test
    void everyTrainingAndPipelineFieldIsThereOnceUnderItsPartButTheOnesTheExperimentSets() {
        var fields = ExperimentConfig.schema().fields();
        int train = ClipTraining.schema().fields().size(), xbt = XbtConfig.schema().fields().size();
        // data.source + data.dir, each model without data.dir and eval.data, the pipeline without old, new and data.dir.
        assertEquals(2 + 2 * (train - 2) + (xbt - 3), fields.size());
        assertTrue(fields.containsKey("old.data.fraction") && fields.containsKey("new.model.vision.image_size"));
        assertTrue(fields.containsKey("xbt.stage2.consistency_weight"));
        assertFalse(fields.containsKey("old.data.dir") || fields.containsKey("xbt.old") || fields.containsKey("xbt.data.dir"));
        assertTrue(fields.get("new.train.steps").help().startsWith("new model: "));
    }

    @Test
    void thePartsGetTheirOwnFieldsAndTheSharedDataFolder() {
        TrainConfig c = tiny().withOverride("data.dir=/somewhere");
        TrainConfig old = ExperimentConfig.model(c, ExperimentConfig.OLD), neu = ExperimentConfig.model(c, ExperimentConfig.NEW);
        assertEquals(16, old.getInt("model.embed_dim"));
        assertEquals(24, neu.getInt("model.embed_dim"));
        assertEquals(0.5, old.getDouble("data.fraction"));
        assertEquals(1.0, neu.getDouble("data.fraction"));
        assertEquals(8L, old.getLong("train.steps"));
        assertEquals(12L, neu.getLong("train.steps"));
        assertEquals("/somewhere", old.getString("data.dir"));
        assertEquals("/somewhere", neu.getString("data.dir"));
        TrainConfig p = ExperimentConfig.pipeline(c, "o.safetensors", "n.safetensors");
        assertEquals("o.safetensors", p.getString("old"));
        assertEquals("n.safetensors", p.getString("new"));
        assertEquals("/somewhere", p.getString("data.dir"));
        assertEquals(8L, p.getLong("stage1.steps"));
        assertEquals(2, p.getInt("adapters.lora.rank"));
        ExperimentConfig.validate(c);
    }

    @Test
    void errorsNameTheFieldAsTheExperimentConfigSpellsIt() {
        assertMessage(tiny().withOverride("old.train.warmup_steps=50"), "'old.train.warmup_steps'");
        assertMessage(tiny().withOverride("new.data.fraction=0"), "'new.data.fraction'");
        assertMessage(tiny().withOverride("old.data.fraction=1.5"), "'old.data.fraction'");
        assertMessage(tiny().withOverride("xbt.stage1.loss=l1"), "'xbt.stage1.loss'");
        assertMessage(tiny().withOverride("new.model.vision.heads=3"), "new.model.vision");
        assertMessage(tiny().withOverride("data.dir="), "'data.dir' is empty");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tiny().withOverride("train.steps=3"));
        assertTrue(e.getMessage().contains("old.train.steps or new.train.steps"), e.getMessage());
    }

    private static void assertMessage(TrainConfig c, String part) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ExperimentConfig.validate(c));
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}

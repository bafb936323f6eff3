package dev.xbt.experiment;

import dev.xbt.train.ClipTraining;
import dev.xbt.train.TrainConfig;
import dev.xbt.xbt.XbtConfig;

import java.util.Map;
import java.util.Set;

/**
 * The settings of a whole experiment in one {@link TrainConfig} schema: the data set, the old model's training
 * ({@code old.*}: every train-clip field), the new model's ({@code new.*}) and the XBT pipeline's ({@code xbt.*}:
 * every field of {@link XbtConfig} but the model files and the data folder, which the experiment fills in).
 * One YAML file (configs/experiments/*.yaml) thus describes the protocol from data to report.
 */
public final class ExperimentConfig {
    /** The two models an experiment trains, in training order. */
    public static final String OLD = "old", NEW = "new";
    /** Prefix of the pipeline's fields. */
    public static final String XBT = "xbt";
    /** train-clip fields the experiment sets itself (from data.dir), not listed under old.* / new.*. */
    private static final Set<String> TRAIN_OWN = Set.of("data.dir", "eval.data");
    /** Pipeline fields the experiment sets itself. */
    private static final Set<String> XBT_OWN = Set.of("old", "new", "data.dir");

    private ExperimentConfig() {}

    public static TrainConfig.Schema schema() {
        TrainConfig.Schema s = new TrainConfig.Schema()
                .add("data.source", "", "data source prepared into data.dir when its manifest is absent (e.g. openclipart, "
                        + "tuxpaint; see 'xbt data sources'); empty: data.dir must hold a data set")
                .add("data.dir", "", "the data set folder (manifest.jsonl) both models and the pipeline use");
        for (String model : new String[] {OLD, NEW}) {
            for (TrainConfig.Field f : ClipTraining.schema().fields().values()) {
                if (!TRAIN_OWN.contains(f.name())) s.add(model + "." + f.name(), f.defaultValue(), model + " model: " + f.help());
            }
        }
        for (TrainConfig.Field f : XbtConfig.schema().fields().values()) {
            if (!XBT_OWN.contains(f.name())) s.add(XBT + "." + f.name(), f.defaultValue(), "pipeline: " + f.help());
        }
        return s;
    }

    /** The train-clip config of model {@code which} ({@link #OLD} or {@link #NEW}), on data.dir. */
    public static TrainConfig model(TrainConfig c, String which) {
        if (!which.equals(OLD) && !which.equals(NEW)) throw new IllegalArgumentException("no model '" + which + "'");
        TrainConfig m = ClipTraining.schema().defaults();
        for (Map.Entry<String, TrainConfig.Field> e : ClipTraining.schema().fields().entrySet()) {
            if (!TRAIN_OWN.contains(e.getKey())) m = m.with(e.getKey(), c.get(which + "." + e.getKey()));
        }
        return m.with("data.dir", c.getString("data.dir"));
    }

    /** The pipeline's config: {@code xbt.*}, the two trained model files and data.dir. */
    public static TrainConfig pipeline(TrainConfig c, String oldModel, String newModel) {
        TrainConfig x = XbtConfig.schema().defaults();
        for (String name : XbtConfig.schema().fields().keySet()) {
            if (!XBT_OWN.contains(name)) x = x.with(name, c.get(XBT + "." + name));
        }
        return x.with("old", oldModel).with("new", newModel).with("data.dir", c.getString("data.dir"));
    }

    /** Range checks of every part before anything is prepared or trained; errors name the field as written here. */
    public static void validate(TrainConfig c) {
        if (c.getString("data.dir").isBlank()) {
            throw new IllegalArgumentException("config field 'data.dir' is empty: name the data set folder (or give --data DIR)");
        }
        for (String which : new String[] {OLD, NEW}) {
            try {
                ClipTraining.validate(model(c, which));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(prefixed(e.getMessage(), which));
            }
        }
        try {
            XbtConfig.validate(pipeline(c, "old.safetensors", "new.safetensors"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(prefixed(e.getMessage(), XBT));
        }
    }

    /** A part's message with its field names as the experiment config spells them ('train.steps' -> 'old.train.steps'). */
    private static String prefixed(String message, String part) {
        return message.replaceAll("field '([^']+)'", "field '" + part + ".$1'")
                .replace("config: model.", "config: " + part + ".model.")
                .replace("config adapters:", "config " + part + ".adapters:");
    }
}

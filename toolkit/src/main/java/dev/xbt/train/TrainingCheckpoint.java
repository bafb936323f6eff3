package dev.xbt.train;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.ParameterSet;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Buffer;
import dev.xbt.engine.optim.AdamW;
import dev.xbt.weights.SafetensorsFile;
import dev.xbt.weights.SafetensorsWriter;
import dev.xbt.weights.TensorData;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The whole state of a training run in one safetensors file, written atomically: every trainable parameter
 * ({@code param/NAME}), AdamW's moments ({@code adamw/m}, {@code adamw/v}, flat in the {@link ParameterSet}'s
 * layout), and in the metadata the step ({@value #STEP_KEY}), AdamW's step count, the trainer's own state (random
 * generators, data order: string pairs, {@value #STATE_KEY}) and the resolved config ({@value #CONFIG_KEY}); with a
 * {@link WeightAverage}, also the averaged weights ({@code average}, flat) and its update count
 * ({@value #AVERAGE_UPDATES_KEY}). The
 * learning-rate schedule is a pure function of the step and the config, so the step is its whole state. Values are
 * stored as F32, bit for bit, so a resumed run continues exactly where the saved one was.
 */
public final class TrainingCheckpoint {
    public static final String STEP_KEY = "xbt.train.step";
    public static final String OPTIMIZER_STEPS_KEY = "xbt.train.optimizer_steps";
    public static final String STATE_KEY = "xbt.train.state";
    public static final String CONFIG_KEY = "xbt.train.config";
    public static final String AVERAGE_UPDATES_KEY = "xbt.train.average_updates";
    private static final String PARAM = "param/";
    private static final String M = "adamw/m";
    private static final String V = "adamw/v";
    private static final String AVERAGE = "average";

    /** What a checkpoint says besides the tensors. */
    public record Loaded(long step, Map<String, String> state, String configJson) {}

    private TrainingCheckpoint() {}

    /** Writes the run's state; {@code average} may be null (no weight averaging). */
    public static void save(Path file, long step, ParameterSet params, AdamW optimizer, WeightAverage average,
                            Map<String, String> state, String configJson) {
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        for (Parameter p : params.parameters()) tensors.put(PARAM + p.name(), new TensorData(p.toArray(), p.shape()));
        int n = Math.toIntExact(params.count());
        tensors.put(M, new TensorData(download(params.backend(), optimizer.firstMoments(), n), new int[] {n}));
        tensors.put(V, new TensorData(download(params.backend(), optimizer.secondMoments(), n), new int[] {n}));
        if (average != null) tensors.put(AVERAGE, new TensorData(average.toArray(), new int[] {n}));
        ObjectNode st = MetricsLog.JSON.createObjectNode();
        state.forEach(st::put);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(STEP_KEY, Long.toString(step));
        meta.put(OPTIMIZER_STEPS_KEY, Long.toString(optimizer.steps()));
        meta.put(STATE_KEY, st.toString());
        meta.put(CONFIG_KEY, configJson);
        if (average != null) meta.put(AVERAGE_UPDATES_KEY, Long.toString(average.updates()));
        SafetensorsWriter.write(file, tensors, meta);
    }

    /**
     * Loads {@code file} into the parameters, the optimizer and {@code average} (null: the run averages no weights,
     * and the checkpoint must hold no average); returns the step and the trainer's state.
     */
    public static Loaded load(Path file, ParameterSet params, AdamW optimizer, WeightAverage average) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, String> meta = f.metadata();
            long step = number(file, meta, STEP_KEY);
            long optSteps = number(file, meta, OPTIMIZER_STEPS_KEY);
            int expected = params.parameters().size() + 2 + (average != null ? 1 : 0);
            if (average != null && !f.contains(AVERAGE)) {
                throw new IllegalArgumentException("checkpoint " + file + " holds no weight average, but this run averages its "
                        + "weights; start a new run");
            }
            if (f.names().size() != expected) {
                throw new IllegalArgumentException("checkpoint " + file + " holds " + f.names().size() + " tensors; this model needs "
                        + expected + " (was it written for another model?)");
            }
            for (Parameter p : params.parameters()) {
                String name = PARAM + p.name();
                if (!f.contains(name)) throw new IllegalArgumentException("checkpoint " + file + " lacks " + name);
                if (!Arrays.equals(f.shape(name), p.shape())) {
                    throw new IllegalArgumentException("checkpoint " + file + ": " + name + " is " + Arrays.toString(f.shape(name))
                            + ", the model's is " + Arrays.toString(p.shape()));
                }
            }
            int n = Math.toIntExact(params.count());
            for (String name : average != null ? new String[] {M, V, AVERAGE} : new String[] {M, V}) {
                if (!f.contains(name) || !Arrays.equals(f.shape(name), new int[] {n})) {
                    throw new IllegalArgumentException("checkpoint " + file + ": " + name + " is missing or not [" + n + "]");
                }
            }
            for (Parameter p : params.parameters()) p.copyFrom(f.read(PARAM + p.name()));
            upload(params.backend(), f.read(M), optimizer.firstMoments());
            upload(params.backend(), f.read(V), optimizer.secondMoments());
            optimizer.setSteps(optSteps);
            if (average != null) average.restore(f.read(AVERAGE), number(file, meta, AVERAGE_UPDATES_KEY));
            Map<String, String> state = new LinkedHashMap<>();
            String json = meta.getOrDefault(STATE_KEY, "{}");
            try {
                JsonNode o = MetricsLog.JSON.readTree(json);
                for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    state.put(e.getKey(), e.getValue().asText());
                }
            } catch (JacksonException e) {
                throw new IllegalArgumentException("checkpoint " + file + ": " + STATE_KEY + " is not valid JSON");
            }
            return new Loaded(step, state, meta.getOrDefault(CONFIG_KEY, ""));
        }
    }

    private static long number(Path file, Map<String, String> meta, String key) {
        String v = meta.get(key);
        if (v == null) throw new IllegalArgumentException("checkpoint " + file + " has no " + key + " (not a training checkpoint?)");
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("checkpoint " + file + ": " + key + " is not a number: " + v);
        }
    }

    private static float[] download(Backend be, Buffer b, int n) {
        float[] d = new float[n];
        be.download(b, d, 0);
        return d;
    }

    private static void upload(Backend be, float[] data, Buffer dst) {
        try (Buffer tmp = be.upload(data, 0, data.length)) {
            be.copy(tmp, dst);
        }
    }
}

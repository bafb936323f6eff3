package dev.xbt.train;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A training run's settings: a fixed {@link Schema} of dotted fields ({@code train.steps}, {@code model.vision.width})
 * with types, defaults and help, filled from a YAML file and then from {@code FIELD=VALUE} overrides. Every field
 * of the schema can be overridden and nothing outside it is accepted, so a typo is an error that names the field
 * rather than a silently ignored setting. The resolved config (defaults, file and overrides together) is what a
 * run directory records and what {@code --resume} compares against.
 *
 * <p>YAML nests by the dots: {@code train: {steps: 100}} sets {@code train.steps}. Values are checked against the
 * default's type: integers (int or long), numbers (double; {@code 1e-3} is accepted although YAML 1.1 reads it as a
 * string), booleans and strings.
 */
public final class TrainConfig {
    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .build());
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One setting: its dotted name, default (Integer, Long, Double, Boolean or String) and help line. */
    public record Field(String name, Object defaultValue, String help) {
        public Field {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(defaultValue, "default of " + name);
            if (!(defaultValue instanceof Integer || defaultValue instanceof Long || defaultValue instanceof Double
                    || defaultValue instanceof Boolean || defaultValue instanceof String)) {
                throw new IllegalArgumentException("field " + name + ": unsupported type " + defaultValue.getClass());
            }
        }

        String typeName() {
            return switch (defaultValue) {
                case Integer i -> "integer";
                case Long l -> "integer";
                case Double d -> "number";
                case Boolean b -> "true or false";
                default -> "string";
            };
        }
    }

    /** The fields a trainer understands, in the order they are listed and written. */
    public static final class Schema {
        private final Map<String, Field> fields = new LinkedHashMap<>();

        public Schema add(String name, Object defaultValue, String help) {
            if (fields.containsKey(name)) throw new IllegalArgumentException("field " + name + " defined twice");
            for (String other : fields.keySet()) {
                if (other.startsWith(name + ".") || name.startsWith(other + ".")) {
                    throw new IllegalArgumentException("field " + name + " clashes with " + other);
                }
            }
            fields.put(name, new Field(name, defaultValue, help));
            return this;
        }

        public Map<String, Field> fields() {
            return java.util.Collections.unmodifiableMap(fields);
        }

        /** The defaults alone. */
        public TrainConfig defaults() {
            Map<String, Object> v = new LinkedHashMap<>();
            for (Field f : fields.values()) v.put(f.name(), f.defaultValue());
            return new TrainConfig(this, v);
        }

        /** One line a field: name, default and help (for {@code --help}-style listings). */
        public String describe() {
            int w = fields.keySet().stream().mapToInt(String::length).max().orElse(0);
            StringBuilder sb = new StringBuilder();
            for (Field f : fields.values()) {
                sb.append(String.format(Locale.ROOT, "  %-" + w + "s  %s (default: %s)%n", f.name(), f.help(),
                        format(f.defaultValue())));
            }
            return sb.toString();
        }
    }

    private final Schema schema;
    private final Map<String, Object> values;

    private TrainConfig(Schema schema, Map<String, Object> values) {
        this.schema = schema;
        this.values = values;
    }

    /**
     * The defaults of {@code schema}, then the YAML file {@code file} (null: none), then each {@code FIELD=VALUE} of
     * {@code overrides} in order. Errors name the file or the flag and the field.
     */
    public static TrainConfig load(Schema schema, Path file, List<String> overrides) {
        return schema.defaults().withYamlAndOverrides(file, overrides);
    }

    /** This config, then the YAML file {@code file} (null: none), then each {@code FIELD=VALUE} of {@code overrides}. */
    public TrainConfig withYamlAndOverrides(Path file, List<String> overrides) {
        TrainConfig c = file == null ? this : withYaml(file);
        for (String o : overrides) c = c.withOverride(o);
        return c;
    }

    /** This config with the fields of a YAML file set. */
    public TrainConfig withYaml(Path file) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("config file " + file + " does not exist");
        JsonNode root;
        try {
            root = YAML.readTree(file.toFile());
        } catch (JacksonException e) {
            throw new IllegalArgumentException("config file " + file + " is not valid YAML: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read config file " + file + ": " + e.getMessage());
        }
        return withTree(root, "config file " + file);
    }

    /** This config with the fields of a nested tree (a YAML or JSON object) set; {@code source} names it in errors. */
    public TrainConfig withTree(JsonNode root, String source) {
        Map<String, Object> v = new LinkedHashMap<>(values);
        if (root == null || root.isNull() || root.isMissingNode()) return this;
        if (!root.isObject()) throw new IllegalArgumentException(source + ": expected a mapping of fields at the top");
        setAll(v, root, "", source);
        return new TrainConfig(schema, v);
    }

    private void setAll(Map<String, Object> v, JsonNode node, String prefix, String source) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = prefix + e.getKey();
            JsonNode value = e.getValue();
            if (value.isObject() && !schema.fields.containsKey(name)) {
                if (schema.fields.keySet().stream().noneMatch(n -> n.startsWith(name + "."))) throw unknown(source, name);
                setAll(v, value, name + ".", source);
            } else {
                Field f = schema.fields.get(name);
                if (f == null) throw unknown(source, name);
                v.put(name, convert(f, value, source));
            }
        }
    }

    /** This config with one {@code FIELD=VALUE} applied. */
    public TrainConfig withOverride(String assignment) {
        int eq = assignment.indexOf('=');
        if (eq <= 0) throw new IllegalArgumentException("override '" + assignment + "' must be FIELD=VALUE");
        String name = assignment.substring(0, eq).strip();
        String text = assignment.substring(eq + 1).strip();
        Field f = schema.fields.get(name);
        if (f == null) throw unknown("override", name);
        Map<String, Object> v = new LinkedHashMap<>(values);
        v.put(name, convert(f, JsonNodeFactory.instance.textNode(text), "override " + name + "=" + text));
        return new TrainConfig(schema, v);
    }

    /** This config with one field set to a value (as from a dedicated command-line flag). */
    public TrainConfig with(String name, Object value) {
        Field f = schema.fields.get(name);
        if (f == null) throw unknown("setting", name);
        Map<String, Object> v = new LinkedHashMap<>(values);
        v.put(name, convert(f, JSON.valueToTree(value), "setting " + name));
        return new TrainConfig(schema, v);
    }

    private IllegalArgumentException unknown(String source, String name) {
        List<String> near = new ArrayList<>();
        String leaf = name.substring(name.lastIndexOf('.') + 1);
        for (String n : schema.fields.keySet()) if (n.endsWith("." + leaf) || n.equals(leaf)) near.add(n);
        return new IllegalArgumentException(source + ": unknown field '" + name + "'"
                + (near.isEmpty() ? " (--show-config lists the fields)" : "; did you mean " + String.join(" or ", near) + "?"));
    }

    private static Object convert(Field f, JsonNode value, String source) {
        String where = source + ": field '" + f.name() + "'";
        if (value == null || value.isNull() || value.isContainerNode()) {
            throw new IllegalArgumentException(where + " needs " + article(f.typeName()) + ", got "
                    + (value == null || value.isNull() ? "nothing" : value.isArray() ? "a list" : "a mapping"));
        }
        String text = value.asText().strip();
        try {
            return switch (f.defaultValue()) {
                case Integer i -> value.isIntegralNumber() && value.canConvertToInt() ? value.intValue() : Integer.parseInt(text);
                case Long l -> value.isIntegralNumber() && value.canConvertToLong() ? value.longValue() : Long.parseLong(text);
                case Double d -> {
                    double x = value.isNumber() ? value.doubleValue() : Double.parseDouble(text);
                    if (!Double.isFinite(x)) throw new NumberFormatException();
                    yield x;
                }
                case Boolean b -> {
                    if (value.isBoolean()) yield value.booleanValue();
                    if (text.equalsIgnoreCase("true")) yield true;
                    if (text.equalsIgnoreCase("false")) yield false;
                    throw new NumberFormatException();
                }
                default -> {
                    if (!value.isValueNode()) throw new NumberFormatException();
                    yield value.asText();
                }
            };
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + " needs " + article(f.typeName()) + ", got '" + text + "'");
        }
    }

    private static String article(String type) {
        return type.startsWith("true") ? type : (type.startsWith("i") ? "an " : "a ") + type;
    }

    // ---- reading values ----

    public Schema schema() {
        return schema;
    }

    private Object raw(String name, Class<?> type) {
        Object v = values.get(name);
        if (v == null) throw new IllegalArgumentException("no config field " + name);
        if (!type.isInstance(v)) throw new IllegalStateException("config field " + name + " is a " + v.getClass().getSimpleName());
        return v;
    }

    /** A field's value as stored (Integer, Long, Double, Boolean or String), for copying between schemas. */
    public Object get(String name) {
        return raw(name, Object.class);
    }

    public int getInt(String name) {
        return (Integer) raw(name, Integer.class);
    }

    public long getLong(String name) {
        return (Long) raw(name, Long.class);
    }

    public double getDouble(String name) {
        return (Double) raw(name, Double.class);
    }

    public boolean getBoolean(String name) {
        return (Boolean) raw(name, Boolean.class);
    }

    public String getString(String name) {
        return (String) raw(name, String.class);
    }

    /** An int field that must be at least {@code min}; the error names the field. */
    public int intAtLeast(String name, int min) {
        int v = getInt(name);
        if (v < min) throw new IllegalArgumentException("config field '" + name + "' must be at least " + min + ", got " + v);
        return v;
    }

    /** A long field that must be at least {@code min}. */
    public long longAtLeast(String name, long min) {
        long v = getLong(name);
        if (v < min) throw new IllegalArgumentException("config field '" + name + "' must be at least " + min + ", got " + v);
        return v;
    }

    /** A number field in [lo, hi] ({@code openLo}: excluding lo). */
    public double doubleIn(String name, double lo, boolean openLo, double hi) {
        double v = getDouble(name);
        boolean ok = (openLo ? v > lo : v >= lo) && v <= hi;
        if (!ok) {
            throw new IllegalArgumentException("config field '" + name + "' must be in " + (openLo ? "(" : "[") + format(lo)
                    + ", " + format(hi) + "], got " + format(v));
        }
        return v;
    }

    // ---- writing ----

    /** The config as a nested JSON object, fields in schema order. */
    public ObjectNode toTree() {
        ObjectNode root = JSON.createObjectNode();
        for (Map.Entry<String, Object> e : values.entrySet()) {
            String[] parts = e.getKey().split("\\.");
            ObjectNode o = root;
            for (int i = 0; i < parts.length - 1; i++) {
                o = o.has(parts[i]) ? (ObjectNode) o.get(parts[i]) : o.putObject(parts[i]);
            }
            o.set(parts[parts.length - 1], JSON.valueToTree(e.getValue()));
        }
        return root;
    }

    /** The config as YAML, which {@link #withYaml} reads back to an equal config. */
    public String toYaml() {
        return yaml(toTree());
    }

    /** What --show-config prints: the config as YAML, then every field of its schema with its help, as comments. */
    public String toYamlWithHelp() {
        return toYaml() + System.lineSeparator() + "# fields:" + System.lineSeparator()
                + schema().describe().replaceAll("(?m)^", "#");
    }

    /** A nested tree (such as {@link #toTree}) as YAML. */
    public static String yaml(JsonNode tree) {
        try {
            return YAML.writeValueAsString(tree);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads a config written by {@link #toYaml} (text, not a file). */
    public static TrainConfig fromYaml(Schema schema, String yaml, String source) {
        try {
            return schema.defaults().withTree(YAML.readTree(yaml), source);
        } catch (JacksonException e) {
            throw new IllegalArgumentException(source + " is not valid YAML: " + e.getOriginalMessage());
        }
    }

    /** "field: this → other" for every field whose value differs. */
    public List<String> differences(TrainConfig other) {
        List<String> out = new ArrayList<>();
        for (String name : schema.fields.keySet()) {
            Object a = values.get(name), b = other.values.get(name);
            if (!Objects.equals(a, b)) out.add(name + ": " + format(a) + " → " + format(b));
        }
        return out;
    }

    private static String format(Object v) {
        if (v instanceof Double d) {
            if (d == Math.rint(d) && Math.abs(d) < 1e15) return Long.toString(d.longValue()) + ".0";
            return d.toString();
        }
        if (v instanceof String s) return s.isEmpty() ? "\"\"" : s;
        return String.valueOf(v);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrainConfig c && c.values.equals(values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        return toTree().toString();
    }
}

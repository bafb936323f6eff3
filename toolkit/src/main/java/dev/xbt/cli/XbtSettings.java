package dev.xbt.cli;

import dev.xbt.train.TrainConfig;
import dev.xbt.train.TrainProgress;
import dev.xbt.xbt.XbtConfig;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The settings shared by the XBT commands: a config file of the {@link XbtConfig} schema, overrides and the models. */
final class XbtSettings {
    @Option(names = "--config", paramLabel = "FILE", description = "YAML config of the XBT pipeline (e.g. configs/xbt/shapes.yaml).")
    Path config;

    @Option(names = "--set", paramLabel = "FIELD=VALUE",
            description = "Override any config field, e.g. --set stage1.steps=300 (repeatable; see --show-config).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--old", paramLabel = "MODEL", description = "The old model file (sets old).")
    Path old;

    @Option(names = "--new", paramLabel = "MODEL", description = "The new model file (sets new).")
    Path neu;

    @Option(names = "--data", paramLabel = "DIR", description = "The data set folder (sets data.dir).")
    Path data;

    @Option(names = "--show-config", description = "Print the resolved config and every field's meaning, then exit.")
    boolean showConfig;

    /** Defaults, then --config, then --set, then the flags; validated. */
    TrainConfig resolve() {
        TrainConfig c = XbtConfig.schema().defaults();
        if (config != null) c = c.withYaml(config);
        for (String o : overrides) c = c.withOverride(o);
        if (old != null) c = c.with("old", old.toString());
        if (neu != null) c = c.with("new", neu.toString());
        if (data != null) c = c.with("data.dir", data.toString());
        return c;
    }

    /** Prints the config and the schema's help when --show-config was given; returns whether it was. */
    boolean showConfigIfAsked() {
        if (!showConfig) return false;
        System.out.print(resolve().toYamlWithHelp());
        return true;
    }

    static TrainProgress progress(TrainConfig c) {
        return TrainProgress.console(c.getLong("train.log_every"));
    }
}

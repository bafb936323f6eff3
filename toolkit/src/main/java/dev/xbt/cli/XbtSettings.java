package dev.xbt.cli;

import dev.xbt.train.TrainConfig;
import dev.xbt.train.TrainProgress;
import dev.xbt.xbt.XbtConfig;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The settings shared by the XBT commands: a config file of the {@link XbtConfig} schema, overrides and the models. */
final class XbtSettings {
    @Mixin
    ConfigOptions config;

    @Option(names = "--old", paramLabel = "MODEL", description = "The old model file (sets old).")
    Path old;

    @Option(names = "--new", paramLabel = "MODEL", description = "The new model file (sets new).")
    Path neu;

    @Option(names = "--data", paramLabel = "DIR", description = "The data set folder (sets data.dir).")
    Path data;

    /** Defaults, then --config, then --set, then the flags; validated. */
    TrainConfig resolve() {
        TrainConfig c = config.apply(XbtConfig.schema().defaults());
        if (old != null) c = c.with("old", old.toString());
        if (neu != null) c = c.with("new", neu.toString());
        if (data != null) c = c.with("data.dir", data.toString());
        return c;
    }

    /** Prints the config and the schema's help when --show-config was given; returns whether it was. */
    boolean showConfigIfAsked() {
        return config.show && config.showIfAsked(resolve());
    }

    static TrainProgress progress(TrainConfig c) {
        return TrainProgress.console(c.getLong("train.log_every"));
    }
}

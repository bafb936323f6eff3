package dev.xbt.cli;

import dev.xbt.train.TrainConfig;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The config options every configurable command shares: a YAML file, field overrides and --show-config. The order
 * of precedence is the same everywhere: the schema's defaults, then the file, then each --set in turn, then the
 * command's own flags.
 */
final class ConfigOptions {
    @Option(names = "--config", paramLabel = "FILE", description = "YAML config (see --show-config for every field and its meaning).")
    Path file;

    @Option(names = "--set", paramLabel = "FIELD=VALUE",
            description = "Override a config field, e.g. --set train.steps=300 (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--show-config", description = "Print the resolved config and every field's meaning, then exit.")
    boolean show;

    /** {@code base}, then the file, then the overrides. */
    TrainConfig apply(TrainConfig base) {
        return base.withYamlAndOverrides(file, overrides);
    }

    /** Whether a file or an override was given. */
    boolean given() {
        return file != null || !overrides.isEmpty();
    }

    /** Prints {@code resolved} with the schema's help when --show-config was given; returns whether it was. */
    boolean showIfAsked(TrainConfig resolved) {
        if (!show) return false;
        System.out.print(resolved.toYamlWithHelp());
        return true;
    }
}

package dev.xbt.cli;

import dev.xbt.train.RunDirectory;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Set;

/** The run-directory options of the training commands: where a run lives and whether to continue or replace it. */
final class RunOptions {
    @Option(names = "--run", paramLabel = "DIR",
            description = "The run directory (required). An existing non-empty one is refused unless --resume or --force.")
    Path dir;

    @Option(names = "--resume", description = "Continue the run in --run from its last checkpoint, with its config.")
    boolean resume;

    @Option(names = "--force", description = "Start over in a --run that holds an earlier run (its files are removed).")
    boolean force;

    /** Opens --run for a run that writes {@code outputs}; a missing --run is a usage error. */
    RunDirectory open(Set<String> outputs) {
        if (dir == null) throw new IllegalArgumentException("missing --run DIR: the run directory");
        return RunDirectory.open(dir, resume, force, outputs);
    }
}

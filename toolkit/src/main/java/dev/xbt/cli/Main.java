package dev.xbt.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;

/**
 * The {@code xbt} command line. Errors reach the user as one line on stderr with exit code 2;
 * {@code --debug} adds the stack trace.
 */
@Command(name = "xbt", mixinStandardHelpOptions = true, version = "xbt 0.1.0",
        description = "Upgrade the embedding model of an image-text retrieval system without re-embedding its gallery.",
        subcommands = {DemoCommand.class, ExperimentCommand.class, TokenizeCommand.class, InspectCommand.class, EncodeCommand.class, EvalRetrievalCommand.class, BackendsCommand.class,
                DataCommand.class, TrainClipCommand.class, PretrainProjectionCommand.class, TrainXbtCommand.class,
                EvalCompatCommand.class,
                MergeCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** Exit code of a command that failed on bad input or a failed run. */
    public static final int EXIT_ERROR = 2;

    @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT, description = "Show stack traces on errors.")
    boolean debug;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (for tests). */
    public static int run(String... args) {
        CommandLine cl = commandLine();
        return cl.execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, line, parseResult) -> {
            boolean debug = parseResult.matchedOption("--debug") != null
                    || parseResult.subcommands().stream().anyMatch(p -> p.matchedOption("--debug") != null);
            PrintWriter err = line.getErr();
            if (debug) ex.printStackTrace(err);
            err.println("xbt: " + oneLine(ex));
            err.flush();
            return EXIT_ERROR;
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("xbt: " + ex.getMessage());
            err.println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
            err.flush();
            return EXIT_ERROR;
        });
        return cl;
    }

    /** The message of an exception (or of its cause when it has none), on one line. */
    static String oneLine(Throwable ex) {
        Throwable t = ex;
        while (t.getMessage() == null && t.getCause() != null) t = t.getCause();
        String msg = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        if (t instanceof OutOfMemoryError) msg = "out of memory: " + msg + " (raise -Xmx through XBT_JAVA_OPTS)";
        return msg.replaceAll("\\s*\\R\\s*", " ").strip();
    }
}

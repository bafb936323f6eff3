package dev.xbt.cli;

import dev.xbt.engine.backend.BackendProvider;
import dev.xbt.engine.backend.Backends;
import picocli.CommandLine.Command;

/** {@code xbt backends}: which compute backends this machine has, and which one is the default. */
@Command(name = "backends", mixinStandardHelpOptions = true,
        description = "List the compute backends, their availability, and the default.")
final class BackendsCommand implements Runnable {
    @Override
    public void run() {
        String def = Backends.defaultBackend().name();
        for (BackendProvider p : Backends.providers()) {
            String state = p.unavailableReason().map(r -> "unavailable: " + r).orElse("available");
            System.out.printf("%-9s rank %4d  %s%s%n", p.name(), p.rank(), state, p.name().equals(def) ? "  (default)" : "");
        }
    }
}

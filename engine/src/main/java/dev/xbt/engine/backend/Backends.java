package dev.xbt.engine.backend;

import dev.xbt.engine.EngineException;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;

/** The registry of backends: discovery, the default, and a per-thread override. */
public final class Backends {
    private static final List<BackendProvider> PROVIDERS = discover();
    private static final Map<String, Backend> CREATED = new LinkedHashMap<>();
    private static final ThreadLocal<Backend> CURRENT = new ThreadLocal<>();
    private static volatile Backend defaultBackend;

    private Backends() {}

    private static List<BackendProvider> discover() {
        List<BackendProvider> list = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader()).forEach(list::add);
        list.sort(Comparator.comparingInt(BackendProvider::rank).reversed());
        return List.copyOf(list);
    }

    /** Every provider on the class path, best first. */
    public static List<BackendProvider> providers() {
        return PROVIDERS;
    }

    /** The backend named {@code name}, created on first use; fails with the reason when unavailable. */
    public static synchronized Backend get(String name) {
        Backend b = CREATED.get(name);
        if (b != null) return b;
        for (BackendProvider p : PROVIDERS) {
            if (!p.name().equals(name)) continue;
            Optional<String> why = p.unavailableReason();
            if (why.isPresent()) throw new EngineException("backend " + name + " is unavailable: " + why.get());
            b = p.create();
            CREATED.put(name, b);
            return b;
        }
        throw new EngineException("unknown backend '" + name + "'; known: "
                + PROVIDERS.stream().map(BackendProvider::name).toList());
    }

    /** The backend named by -Dxbt.backend (or XBT_BACKEND), else the best available one. */
    public static Backend defaultBackend() {
        Backend b = defaultBackend;
        if (b != null) return b;
        synchronized (Backends.class) {
            if (defaultBackend != null) return defaultBackend;
            String wanted = System.getProperty("xbt.backend", System.getenv("XBT_BACKEND"));
            if (wanted != null && !wanted.isBlank()) {
                defaultBackend = get(wanted.trim());
            } else {
                for (BackendProvider p : PROVIDERS) {
                    if (p.unavailableReason().isEmpty()) {
                        defaultBackend = get(p.name());
                        break;
                    }
                }
                if (defaultBackend == null) throw new EngineException("no backend available");
            }
            return defaultBackend;
        }
    }

    /** The backend new tensors of this thread go to. */
    public static Backend current() {
        Backend b = CURRENT.get();
        return b != null ? b : defaultBackend();
    }

    /** Makes {@code backend} current on this thread until the returned scope closes. */
    public static Scope use(Backend backend) {
        Backend previous = CURRENT.get();
        CURRENT.set(backend);
        return () -> CURRENT.set(previous);
    }

    /** Restores the previous backend. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}

package dev.xbt.engine.nn;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A layer or model: owns parameters and sub-modules. Every parameter carries its full dotted name
 * (the module's prefix plus its own name), which is also its name in checkpoints, so models built
 * with the reference implementation's names load real checkpoints by name.
 */
public abstract class Module {
    private final String prefix;
    private final Map<String, Parameter> own = new LinkedHashMap<>();
    private final List<Module> children = new ArrayList<>();

    protected Module(String prefix) {
        this.prefix = prefix;
    }

    /** The dotted path of this module ("" for the root). */
    public String prefix() {
        return prefix;
    }

    /** The full name of a parameter or child called {@code local} in this module. */
    protected String qualify(String local) {
        return prefix.isEmpty() ? local : prefix + "." + local;
    }

    /** Registers a parameter named prefix.local with the given initial value. */
    protected Parameter param(String local, Tensor init) {
        String full = qualify(local);
        if (own.containsKey(full)) throw new EngineException("duplicate parameter " + full);
        Parameter p = new Parameter(full, init);
        own.put(full, p);
        return p;
    }

    /** Registers a sub-module; returns it. */
    protected <M extends Module> M child(M m) {
        children.add(m);
        return m;
    }

    /** All parameters of this module and its children by full name, in registration order. */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> all = new LinkedHashMap<>();
        collect(all);
        return Collections.unmodifiableMap(all);
    }

    private void collect(Map<String, Parameter> into) {
        for (Parameter p : own.values()) {
            if (into.put(p.name(), p) != null) throw new EngineException("two parameters named " + p.name());
        }
        for (Module c : children) c.collect(into);
    }

    public List<Parameter> parameters() {
        return List.copyOf(namedParameters().values());
    }

    /** Freezes (or unfreezes) every parameter below this module. */
    public void freeze(boolean frozen) {
        for (Parameter p : namedParameters().values()) p.freeze(frozen);
    }

    /** Number of scalar parameters. */
    public long parameterCount() {
        long n = 0;
        for (Parameter p : namedParameters().values()) n += p.size();
        return n;
    }
}

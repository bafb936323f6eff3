package dev.xbt.data;

/** {@code shapes}: the embedded corpus of generated shapes with captions (no download). */
final class ShapesSource implements DataSource {
    @Override
    public String name() {
        return "shapes";
    }

    @Override
    public String description() {
        return "the embedded corpus of generated shapes with captions (no download)";
    }

    @Override
    public String usage() {
        return "shapes";
    }

    @Override
    public void prepare(ManifestWriter out, PrepareOptions opts) {
        throw new DataSourceException("shapes: not yet implemented");
    }
}

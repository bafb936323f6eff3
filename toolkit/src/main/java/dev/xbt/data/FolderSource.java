package dev.xbt.data;

/** {@code folder:DIR}: images with captions beside them (name.txt, captions.jsonl or captions.csv). */
final class FolderSource implements DataSource {
    @Override
    public String name() {
        return "folder";
    }

    @Override
    public String description() {
        return "images with captions beside them (name.txt, captions.jsonl or captions.csv)";
    }

    @Override
    public String usage() {
        return "folder:DIR";
    }

    @Override
    public void prepare(ManifestWriter out, PrepareOptions opts) {
        throw new DataSourceException("folder: not yet implemented");
    }
}

package dev.xbt.data;

/** {@code karpathy:FILE --images DIR}: Flickr30k/COCO with Karpathy's split file (dataset_*.json). */
final class KarpathySource implements DataSource {
    @Override
    public String name() {
        return "karpathy";
    }

    @Override
    public String description() {
        return "Flickr30k/COCO with Karpathy's split file (dataset_*.json)";
    }

    @Override
    public String usage() {
        return "karpathy:FILE --images DIR";
    }

    @Override
    public void prepare(ManifestWriter out, PrepareOptions opts) {
        throw new DataSourceException("karpathy: not yet implemented");
    }
}

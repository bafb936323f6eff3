package dev.xbt.eval;

/** Which modality asks and which is searched. */
public enum Direction {
    /** Image queries against the caption gallery; a hit when any of the image's captions is within the top K. */
    IMAGE_TO_TEXT("i2t", "image->text"),
    /** Caption queries against the image gallery; a hit when the caption's one image is within the top K. */
    TEXT_TO_IMAGE("t2i", "text->image");

    private final String key;
    private final String label;

    Direction(String key, String label) {
        this.key = key;
        this.label = label;
    }

    /** Short name used in JSON keys: {@code i2t}, {@code t2i}. */
    public String key() {
        return key;
    }

    /** Name for tables and messages. */
    public String label() {
        return label;
    }
}

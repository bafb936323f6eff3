package dev.xbt.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code karpathy:FILE --images DIR}: Flickr8k/Flickr30k/COCO with the split files of Karpathy and Fei-Fei
 * ({@code dataset_flickr30k.json}, {@code dataset_coco.json}):
 * <pre>{@code {"dataset": "coco", "images": [{"filepath": "val2014", "filename": "COCO_val2014_000000391895.jpg",
 *   "split": "test", "sentences": [{"raw": "A man riding a bike.", ...}, ...]}, ...]}}</pre>
 * Each image is looked for at {@code DIR/filepath/filename}, then {@code DIR/filename}; its id is the file name
 * without its extension, its captions the {@code raw} sentences, its split the file's ({@code restval} becomes
 * {@code train}). The file is read as a stream (COCO's is 140 MB). Missing and undecodable images are skipped
 * and listed in the import report.
 */
final class KarpathySource implements DataSource {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public String name() {
        return "karpathy";
    }

    @Override
    public String description() {
        return "Flickr30k/COCO images with Karpathy's split file (dataset_*.json)";
    }

    @Override
    public String usage() {
        return "karpathy:FILE --images DIR";
    }

    @Override
    public List<Path> inputs(PrepareOptions opts) {
        List<Path> in = new ArrayList<>();
        in.add(Path.of(opts.requireArgument(usage())));
        if (opts.images() != null) in.add(opts.images());
        return in;
    }

    @Override
    public void prepare(ManifestWriter out, PrepareOptions opts) throws IOException {
        Path file = Path.of(opts.requireArgument(usage()));
        Path images = opts.images();
        if (images == null) throw new DataSourceException("karpathy: --images DIR is required (the folder of the image files)");
        if (!Files.isRegularFile(file)) throw new DataSourceException("karpathy: " + file + ": no such file");
        if (!Files.isDirectory(images)) throw new DataSourceException("karpathy: --images " + images + " is not a folder");
        int limit = opts.countOr(Integer.MAX_VALUE);
        List<ManifestWriter.FileItem> batch = new ArrayList<>();
        int total = 0;
        String dataset = null;
        try (JsonParser p = new JsonFactory().setCodec(JSON).createParser(file.toFile())) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw bad(file, p, "expected a JSON object");
            boolean sawImages = false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                if (field.equals("dataset") && t == JsonToken.VALUE_STRING) {
                    dataset = p.getText();
                } else if (field.equals("images")) {
                    if (t != JsonToken.START_ARRAY) throw bad(file, p, "\"images\" must be an array");
                    sawImages = true;
                    int index = 0;
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        long line = p.currentLocation().getLineNr();
                        JsonNode img = p.readValueAsTree();
                        index++;
                        if (total + batch.size() >= limit) continue;
                        ManifestWriter.FileItem item = item(img, images, out, "images[" + (index - 1) + "] (line " + line + ")");
                        if (item != null) batch.add(item);
                        if (batch.size() >= 1024) {
                            out.addFiles(batch);
                            total += batch.size();
                            batch.clear();
                            opts.progress().update("karpathy", total, -1);
                        }
                    }
                } else {
                    p.skipChildren();
                }
            }
            if (!sawImages) throw bad(file, p, "no \"images\" array (is this a Karpathy split file?)");
        } catch (JsonProcessingException e) {
            throw new DataSourceException("karpathy: " + file + ":" + e.getLocation().getLineNr() + ": invalid JSON ("
                    + e.getOriginalMessage() + ")", e);
        }
        out.addFiles(batch);
        total += batch.size();
        opts.progress().update("karpathy", total, total);
        if (dataset != null) out.note("dataset", dataset);
        out.note("split file", file.toAbsolutePath().normalize().toString());
    }

    private static DataSourceException bad(Path file, JsonParser p, String why) {
        return new DataSourceException("karpathy: " + file + ":" + p.currentLocation().getLineNr() + ": " + why);
    }

    private static ManifestWriter.FileItem item(JsonNode img, Path images, ManifestWriter out, String where) {
        String filename = img.path("filename").asText("");
        if (filename.isBlank()) {
            out.skip(where, "no filename");
            return null;
        }
        String filepath = img.path("filepath").asText("");
        String rel = filepath.isBlank() ? filename : filepath + "/" + filename;
        String why = Manifest.checkImagePath(rel);
        if (why != null) {
            out.skip(where, why);
            return null;
        }
        Path file = images.resolve(rel);
        if (!Files.isRegularFile(file)) file = images.resolve(filename);
        if (!Files.isRegularFile(file)) {
            out.skip(rel, "missing image (not " + images.resolve(rel) + " nor " + images.resolve(filename) + ")");
            return null;
        }
        String split = img.path("split").asText("").toLowerCase(Locale.ROOT);
        if (split.equals("restval")) split = Splits.TRAIN;
        if (!Splits.isKnown(split)) {
            out.skip(rel, "unknown split " + Splits.quote(split) + " (train, val, test or restval)");
            return null;
        }
        List<String> captions = new ArrayList<>();
        for (JsonNode s : img.path("sentences")) {
            String raw = s.path("raw").asText("");
            if (raw.isBlank() && s.path("tokens").isArray()) {
                List<String> toks = new ArrayList<>();
                for (JsonNode tok : s.get("tokens")) toks.add(tok.asText());
                raw = String.join(" ", toks);
            }
            captions.add(raw);
        }
        int dot = filename.lastIndexOf('.');
        String id = dot > 0 ? filename.substring(0, dot) : filename;
        return new ManifestWriter.FileItem(id, file, rel, captions, split);
    }
}

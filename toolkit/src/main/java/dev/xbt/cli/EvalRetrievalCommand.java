package dev.xbt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.xbt.clip.ClipCheckpoint;
import dev.xbt.clip.ClipConfig;
import dev.xbt.data.Manifest;
import dev.xbt.data.Splits;
import dev.xbt.eval.DatasetEncoder;
import dev.xbt.eval.Ranks;
import dev.xbt.eval.Retrieval;
import dev.xbt.text.ClipTokenizer;
import dev.xbt.train.RunDirectory;
import dev.xbt.weights.ModelContract;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** {@code xbt eval-retrieval}: image→text and text→image recall of one model on one split of a data set. */
@Command(name = "eval-retrieval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Image->text and text->image Recall@1/5/10 (and rsum) of a CLIP model on one split of a data set.",
                "Every usable image of the split queries all captions of the split (a hit when any of its own captions is "
                        + "in the top K); every caption queries all images of the split (a hit when its image is in the top K). "
                        + "Ties count against the query.",
                "Prints a table and writes the numbers as JSON to --out. Embeddings are cached in DATA/.cache/embeddings/ "
                        + "(keyed by model, pixels and tokens), so a repeated evaluation is quick.",
                Vocabularies.HELP})
final class EvalRetrievalCommand implements Runnable {
    @Option(names = "--model", required = true, paramLabel = "FILE", description = "CLIP checkpoint (.safetensors).")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "Data set folder (with manifest.jsonl).")
    Path data;

    @Option(names = "--split", defaultValue = Splits.TEST, paramLabel = "SPLIT",
            description = "train, val or test (default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--out", defaultValue = "retrieval.json", paramLabel = "FILE|DIR",
            description = "Where the JSON goes; a folder gets retrieval.json inside (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--batch", defaultValue = "64", paramLabel = "N", description = "Images or captions per forward pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--no-cache", description = "Neither read nor write the embedding cache.")
    boolean noCache;

    @Option(names = "--vocab", paramLabel = "FILE", description = "Tokenizer vocabulary, when the checkpoint has none of its own.")
    Path vocab;

    @Option(names = "--activation", defaultValue = "QUICK_GELU", paramLabel = "GELU|QUICK_GELU",
            description = "MLP activation for checkpoints that do not record their config (default: ${DEFAULT-VALUE}).")
    ClipConfig.Activation activation;

    @Override
    public void run() {
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1");
        if (!Splits.isKnown(split)) throw new IllegalArgumentException("--split: unknown split '" + split + "' (train, val or test)");
        Path target = Files.isDirectory(out) ? out.resolve("retrieval.json") : out;
        Path parent = target.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) throw new IllegalArgumentException("--out: folder " + parent + " does not exist");
        Manifest manifest = Manifest.read(data);
        ClipCheckpoint.Loaded loaded = ClipCheckpoint.load(model, activation);
        ClipTokenizer tok = vocab != null || loaded.tokenizer().isEmpty() ? Vocabularies.load(vocab) : loaded.tokenizer().get();
        ModelContract contract = loaded.contract().orElse(null);
        long t0 = System.nanoTime();
        DatasetEncoder.Result enc = new DatasetEncoder(loaded.model(), tok, contract).batch(batch).cache(!noCache)
                .progress(DataCommand.progress()).encode(manifest, split);
        Ranks ranks = Retrieval.evaluate(enc.set());
        double secs = (System.nanoTime() - t0) / 1e9;

        String id = contract == null ? model.getFileName().toString() : contract.modelId();
        System.out.printf(Locale.ROOT, "%s on %s, split %s: %d images, %d captions%s%s%n", id, manifest.dir(), split,
                enc.set().imageCount(), enc.set().captionCount(),
                enc.skippedImages() > 0 ? " (" + enc.skippedImages() + " unreadable images left out)" : "",
                enc.fromCache() ? " (embeddings from the cache)" : "");
        System.out.print(ranks.table("recall %"));

        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("model", model.toString());
        o.put("model_id", id);
        if (contract != null) o.put("contract", contract.describe());
        o.put("data", manifest.dir().toString());
        o.put("manifest_sha256", manifest.digest());
        o.put("split", split);
        o.put("images", enc.set().imageCount());
        o.put("captions", enc.set().captionCount());
        o.put("skipped_images", enc.skippedImages());
        o.put("tie_rule", "a non-matching item scoring equal to the matching one ranks ahead of it");
        o.set("recall", ranks.toJson());
        o.put("embeddings_from_cache", enc.fromCache());
        o.put("seconds", secs);
        try {
            RunDirectory.writeAtomically(target, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(o) + "\n");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        System.out.println("wrote " + target);
    }
}

package dev.xbt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.xbt.adapters.Adapters;
import dev.xbt.clip.ClipCheckpoint;
import dev.xbt.clip.ClipConfig;
import dev.xbt.clip.ClipModel;
import dev.xbt.engine.Nn;
import dev.xbt.engine.Tape;
import dev.xbt.engine.Tensor;
import dev.xbt.image.ClipPreprocess;
import dev.xbt.text.ClipTokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;

/** {@code xbt encode}: L2-normalised embeddings of texts or images, one JSON object a line. */
@Command(name = "encode", mixinStandardHelpOptions = true,
        description = {"Print the L2-normalised embedding of each text or image as one JSON object a line: "
                + "{\"input\": ..., \"embedding\": [...]}.",
                "The model is a safetensors CLIP checkpoint: ours (config, contract and vocabulary inside), "
                        + "or OpenCLIP / OpenAI / Hugging Face weights (config inferred from the shapes).",
                Vocabularies.HELP})
final class EncodeCommand implements Runnable {
    @Option(names = "--model", required = true, paramLabel = "FILE", description = "CLIP checkpoint (.safetensors).")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Inputs inputs;

    static final class Inputs {
        @Option(names = "--text", arity = "1..*", paramLabel = "TEXT", description = "Texts to encode.")
        List<String> texts;

        @Option(names = "--image", arity = "1..*", paramLabel = "PATH", description = "Images to encode (PNG, JPEG, GIF, BMP).")
        List<Path> images;
    }

    @Option(names = "--vocab", paramLabel = "FILE", description = "Tokenizer vocabulary, when the checkpoint has none of its own.")
    Path vocab;

    @Option(names = "--activation", defaultValue = "QUICK_GELU", paramLabel = "GELU|QUICK_GELU",
            description = "MLP activation for checkpoints that do not record their config (default: ${DEFAULT-VALUE}, as OpenAI's weights).")
    ClipConfig.Activation activation;

    @Option(names = "--adapter", paramLabel = "DIR",
            description = "Encode through an adapter (a PEFT-layout folder made for this model: LoRA and/or prompt tokens).")
    Path adapter;

    @Option(names = "--batch", defaultValue = "32", description = "Inputs per forward pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Override
    public void run() {
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1");
        ClipCheckpoint.Loaded loaded = ClipCheckpoint.load(model, activation);
        ClipModel clip = loaded.model();
        if (adapter != null) Adapters.load(clip, adapter);
        ObjectMapper json = new ObjectMapper();
        try (var ignored = Tape.inference()) {
            if (inputs.texts != null) {
                ClipTokenizer tok = vocab != null || loaded.tokenizer().isEmpty() ? Vocabularies.load(vocab) : loaded.tokenizer().get();
                int ctx = clip.config().text().contextLength();
                for (int from = 0; from < inputs.texts.size(); from += batch) {
                    List<String> part = inputs.texts.subList(from, Math.min(inputs.texts.size(), from + batch));
                    int[][] ids = tok.tokenize(part, ctx);
                    print(json, part.stream().map(Object::toString).toList(), Nn.l2Normalize(clip.encodeText(ids)));
                }
            } else {
                ClipPreprocess pre = new ClipPreprocess(clip.config().vision().imageSize());
                for (int from = 0; from < inputs.images.size(); from += batch) {
                    List<Path> part = inputs.images.subList(from, Math.min(inputs.images.size(), from + batch));
                    Tensor x = pre.batchFilesTensor(part);
                    print(json, part.stream().map(Path::toString).toList(), Nn.l2Normalize(clip.encodeImage(x)));
                }
            }
        }
    }

    private static void print(ObjectMapper json, List<String> names, Tensor embeddings) {
        float[] e = embeddings.toArray();
        int d = embeddings.dim(1);
        for (int i = 0; i < names.size(); i++) {
            ObjectNode o = json.createObjectNode();
            o.put("input", names.get(i));
            ArrayNode arr = o.putArray("embedding");
            for (int j = 0; j < d; j++) arr.add(e[i * d + j]);
            System.out.println(o);
        }
    }
}

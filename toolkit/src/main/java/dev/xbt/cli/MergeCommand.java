package dev.xbt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.xbt.adapters.AdapterConfig;
import dev.xbt.adapters.Adapters;
import dev.xbt.clip.ClipCheckpoint;
import dev.xbt.clip.ClipConfig;
import dev.xbt.clip.ClipModel;
import dev.xbt.weights.ModelContract;
import dev.xbt.weights.SafetensorsFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code xbt merge}: folds a LoRA adapter into its base model's weights. */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = {"Fold a LoRA adapter (a PEFT-layout folder: adapter_config.json + adapter_model.safetensors) into "
                + "the weights of its base model, W' = W + (alpha/r)·B·A, and write an ordinary CLIP checkpoint.",
                "The new checkpoint gets its own contract (the base's, with the model id <base id>+lora-<hash>), since "
                        + "its embeddings are not the base's. Adapters made for another base are refused. Prompt tokens "
                        + "(visual prompts, text context) lengthen the input sequence and cannot be folded into weights: "
                        + "an adapter with prompts is refused; use it unmerged (xbt encode --adapter)."})
final class MergeCommand implements Runnable {
    /** Metadata key of the merged checkpoint saying what was merged. */
    static final String MERGED_KEY = "xbt.merged_adapter";

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "The base CLIP checkpoint (.safetensors).")
    Path model;

    @Option(names = "--adapter", required = true, paramLabel = "DIR", description = "The adapter folder (PEFT layout).")
    Path adapter;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where to write the merged checkpoint (.safetensors).")
    Path out;

    @Option(names = "--model-id", paramLabel = "ID",
            description = "Model id of the merged checkpoint's contract (default: <base id>+lora-<hash of the LoRA weights>).")
    String modelId;

    @Option(names = "--activation", defaultValue = "QUICK_GELU", paramLabel = "GELU|QUICK_GELU",
            description = "MLP activation for base checkpoints that do not record their config (default: ${DEFAULT-VALUE}).")
    ClipConfig.Activation activation;

    @Override
    public void run() {
        if (Files.exists(out) && Files.exists(model) && out.toAbsolutePath().normalize().equals(model.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException("--out is the base checkpoint " + model + "; write the merged model to another file");
        }
        ClipModel clip = ClipCheckpoint.load(model, activation).model();
        Adapters ad = Adapters.load(clip, adapter);
        AdapterConfig.Prompts p = ad.config().prompts();
        if (ad.hasPrompts()) {
            throw new IllegalArgumentException("adapter " + adapter + " has prompt tokens (" + p.visualTokens() + " visual"
                    + (p.visualDeep() ? ", deep" : "") + "; " + p.textContextTokens() + " text context): they lengthen the "
                    + "input sequence and cannot be folded into weights; use the adapter unmerged (xbt encode --adapter)");
        }
        AdapterConfig.Lora lora = ad.config().lora();
        int modules = ad.loraModules().size();
        String base = ad.baseContract().map(ModelContract::modelId).orElse(null);
        ad.merge();
        ModelContract contract = clip.contract().orElseThrow();
        if (modelId != null) {
            contract = new ModelContract(modelId, contract.embedDim(), contract.normalization(), contract.preprocessing(),
                    contract.tokenizer());
        }
        Map<String, String> meta = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(model)) {
            meta.putAll(f.metadata()); // keeps the base's tokenizer merges and anything else it records
        }
        meta.remove(ClipCheckpoint.CONFIG_KEY);
        meta.remove(ModelContract.METADATA_KEY);
        ObjectNode merged = new ObjectMapper().createObjectNode();
        merged.put("base_model", base);
        merged.put("adapter", adapter.toAbsolutePath().normalize().toString());
        merged.put("r", lora.rank());
        merged.put("lora_alpha", lora.alpha());
        merged.put("modules", modules);
        meta.put(MERGED_KEY, merged.toString());
        ClipCheckpoint.save(clip, out, contract, null, meta);
        System.out.printf("merged %d LoRA modules (r %d, alpha %s) into %s; contract: %s%n", modules, lora.rank(),
                lora.alpha(), out, contract.describe());
    }
}

package dev.xbt.cli;

import dev.xbt.weights.ModelContract;
import dev.xbt.weights.SafetensorsFile;
import dev.xbt.weights.TensorInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/** {@code xbt inspect}: what a safetensors file holds. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Print a safetensors file's tensors (name, dtype, shape), its metadata and its model contract.")
final class InspectCommand implements Runnable {
    @Parameters(index = "0", paramLabel = "FILE", description = "A .safetensors file.")
    Path file;

    @Override
    public void run() {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            long params = 0;
            int width = 4;
            for (TensorInfo t : f.tensors()) width = Math.max(width, t.name().length());
            System.out.printf("%s: %d tensors, %,d bytes of data%n", file, f.tensors().size(), f.dataBytes());
            for (TensorInfo t : f.tensors()) {
                params += t.elementCount();
                System.out.printf("  %-" + width + "s  %-4s  %s%n", t.name(), t.dtype(), Arrays.toString(t.shape()));
            }
            System.out.printf("parameters: %,d%n", params);
            Map<String, String> meta = f.metadata();
            if (meta.isEmpty()) {
                System.out.println("metadata: none");
            } else {
                System.out.println("metadata:");
                meta.forEach((k, v) -> System.out.printf("  %s = %s%n", k, v.length() > 300 ? v.substring(0, 300) + "..." : v));
            }
            System.out.println("contract: " + ModelContract.from(meta).map(ModelContract::describe)
                    .orElse("none (no " + ModelContract.METADATA_KEY + " in the metadata)"));
        }
    }
}

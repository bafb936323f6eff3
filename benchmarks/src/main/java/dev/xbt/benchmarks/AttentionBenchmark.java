package dev.xbt.benchmarks;

import dev.xbt.engine.Nn;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tape;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Backends;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Fused attention, forward and forward + backward, at CLIP's shapes: text (T = 77, causal) and
 * vision (T = 50 for ViT-B/32 at 224 px), 8 sequences of 12 heads of 64.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Dxbt.checkNaN=false"})
public class AttentionBenchmark {
    @Param({"cpu"})
    public String backend;

    @Param({"77", "50"})
    public int seq;

    @Param({"8"})
    public int batch;

    @Param({"12"})
    public int heads;

    @Param({"64"})
    public int headDim;

    private Tensor q, k, v;
    private Backends.Scope scope;

    @Setup(Level.Trial)
    public void setup() {
        Backend b = Backends.get(backend);
        scope = Backends.use(b);
        Rng rng = new Rng(1);
        q = Tensor.randn(rng, 1f, batch, heads, seq, headDim).requiresGrad(true);
        k = Tensor.randn(rng, 1f, batch, heads, seq, headDim).requiresGrad(true);
        v = Tensor.randn(rng, 1f, batch, heads, seq, headDim).requiresGrad(true);
    }

    @Benchmark
    public Tensor forward() {
        try (var ignored = Tape.inference()) {
            return Nn.attention(q, k, v, null, seq == 77);
        }
    }

    @Benchmark
    public Tensor forwardBackward() {
        try (Tape tape = Tape.record()) {
            Tensor out = Nn.attention(q, k, v, null, seq == 77);
            tape.backward(out, out);
            return q.grad();
        } finally {
            q.zeroGrad();
            k.zeroGrad();
            v.zeroGrad();
        }
    }
}

package dev.xbt.benchmarks;

import dev.xbt.engine.cpu.VectorGemm;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link VectorGemm#sgemm} throughput on square and CLIP-sized products. Each shape is
 * "batch:transA transB:m:n:k"; the score is the time per call, GFLOP/s = 2*batch*m*n*k / time.
 * Run: {@code java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar GemmBenchmark}
 * (add {@code -jvmArgsAppend -Dxbt.threads=N} to pin the thread count).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class GemmBenchmark {
    @Param({
        "1:NN:256:256:256",
        "1:NN:512:512:512",
        "1:NN:1024:1024:1024",
        "1:NN:2048:2048:2048",
        "1:NN:616:3072:768",   // CLIP MLP up: (B*T = 8*77) x 768 . 768 x 3072
        "1:NN:616:768:3072",   // CLIP MLP down
        "1:NN:616:2304:768",   // CLIP fused QKV projection
        "1:NN:2048:768:768",   // 2048 x 768 . 768 x 768
        "1:NT:616:768:3072",   // backward dX = dY . W^T
        "1:TN:768:3072:616",   // backward dW = X^T . dY
        "96:NT:77:77:64",      // attention scores Q K^T, B*heads = 8*12
        "96:NN:77:64:77",      // attention P V
        "96:TN:77:64:77",      // attention backward dV = P^T dO
    })
    public String shape;

    private int batch, m, n, k, lda, ldb;
    private boolean transA, transB;
    private float[] a, b, c;

    @Setup
    public void setup() {
        String[] f = shape.split(":");
        batch = Integer.parseInt(f[0]);
        transA = f[1].charAt(0) == 'T';
        transB = f[1].charAt(1) == 'T';
        m = Integer.parseInt(f[2]);
        n = Integer.parseInt(f[3]);
        k = Integer.parseInt(f[4]);
        lda = transA ? m : k;
        ldb = transB ? k : n;
        SplittableRandom r = new SplittableRandom(7);
        a = new float[batch * m * k];
        b = new float[batch * k * n];
        c = new float[batch * m * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextDouble(-1, 1);
        for (int i = 0; i < b.length; i++) b[i] = (float) r.nextDouble(-1, 1);
    }

    @Benchmark
    public float[] sgemm() {
        VectorGemm.sgemm(batch, transA, transB, m, n, k, 1f, a, 0, (long) m * k, lda, b, 0, (long) k * n, ldb,
                0f, c, 0, (long) m * n, n);
        return c;
    }
}

package dev.xbt.xbt;

import dev.xbt.engine.Ops;
import dev.xbt.engine.Parameter;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tape;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Backends;
import dev.xbt.engine.testing.GradCheck;
import dev.xbt.weights.ModelContract;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProjectionTest {
    static final ModelContract OLD = new ModelContract("shapes-old", 4, "l2", "clip-bicubic-32", "bpe-a");
    static final ModelContract NEW = new ModelContract("shapes-new", 6, "l2", "clip-bicubic-32", "bpe-b");

    static Tensor randn(long seed, int... shape) {
        return Tensor.randn(new Rng(seed), 1f, shape);
    }

    @Test
    void shapesAndUnitLengthOutputs() {
        Projection p = new Projection(ProjectionConfig.defaults(6, 4), new Rng(1));
        // default: mlp.0 [16, 6] + norm + mlp.1 [4, 16], residual [4, 6]
        assertArrayEquals(new int[] {16, 6}, p.namedParameters().get("mlp.0.weight").shape());
        assertArrayEquals(new int[] {4, 16}, p.namedParameters().get("mlp.1.weight").shape());
        assertTrue(p.namedParameters().containsKey("mlp.0.norm.weight"));
        assertArrayEquals(new int[] {4, 6}, p.namedParameters().get("residual.weight").shape());
        randomise(p, 2);
        Tensor y = p.forward(randn(3, 5, 6));
        assertArrayEquals(new int[] {5, 4}, y.shape());
        float[] v = y.toArray();
        for (int r = 0; r < 5; r++) {
            double s = 0;
            for (int k = 0; k < 4; k++) s += v[r * 4 + k] * v[r * 4 + k];
            assertEquals(1.0, s, 1e-5);
        }
        assertThrows(IllegalArgumentException.class, () -> p.forward(randn(3, 5, 4)));
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 6, 9})
    void untrainedProjectionIsTheRawMapThroughTheResidualPath(int newDim) {
        // The MLP's last layer starts at zero and the residual at the pad/truncate identity: ψ(x) = normalize(raw(x)).
        Projection p = new Projection(ProjectionConfig.defaults(newDim, 6), new Rng(4));
        float[] x = randn(5, 2, newDim).toArray();
        float[] y = p.forward(Tensor.of(x, 2, newDim)).toArray();
        for (int r = 0; r < 2; r++) {
            double[] raw = new double[6];
            double n = 0;
            for (int k = 0; k < Math.min(6, newDim); k++) {
                raw[k] = x[r * newDim + k];
                n += raw[k] * raw[k];
            }
            for (int k = 0; k < 6; k++) assertEquals(raw[k] / Math.sqrt(n), y[r * 6 + k], 1e-5, "row " + r + " col " + k);
        }
        // The residual path carries signal on its own: with the MLP zeroed, changing the residual changes ψ.
        p.namedParameters().get("residual.weight").copyFrom(randn(6, 6, newDim));
        float[] y2 = p.forward(Tensor.of(x, 2, newDim)).toArray();
        assertTrue(Math.abs(y2[0] - y[0]) > 1e-3);
    }

    @Test
    void withoutResidualThereIsNoResidualParameter() {
        Projection p = new Projection(new ProjectionConfig(6, 4, 3, 8, ProjectionConfig.Activation.RELU,
                ProjectionConfig.Norm.NONE, false), new Rng(1));
        assertEquals(java.util.List.of("mlp.0.weight", "mlp.0.bias", "mlp.1.weight", "mlp.1.bias", "mlp.2.weight", "mlp.2.bias"),
                java.util.List.copyOf(p.namedParameters().keySet()));
        assertArrayEquals(new int[] {2, 4}, p.forward(randn(1, 2, 6)).shape());
    }

    /** Float64 central differences of sum(ψ(x)·R) over every parameter element and over the input. */
    @ParameterizedTest
    @ValueSource(strings = {"GELU", "TANH"})
    void gradientsMatchFiniteDifferencesInFloat64(String activation) {
        Backend be = GradCheck.backend();
        try (Backends.Scope ignored = Backends.use(be)) {
            ProjectionConfig c = new ProjectionConfig(5, 3, 2, 4, ProjectionConfig.Activation.valueOf(activation),
                    ProjectionConfig.Norm.LAYER_NORM, true);
            Projection p = new Projection(c, new Rng(7));
            randomise(p, 8);
            double[] x = GradCheck.randn(9, 4, 5);
            double[] r = GradCheck.randn(10, 4, 3);
            Tensor rt = Tensor.of(be, r, 4, 3);
            try (Tape tape = Tape.record()) {
                tape.backward(Ops.sum(Ops.mul(p.forward(Tensor.of(be, x, 4, 5)), rt)));
            }
            double eps = 1e-6;
            int checked = 0;
            for (Map.Entry<String, Parameter> e : p.namedParameters().entrySet()) {
                Parameter w = e.getValue();
                double[] analytic = w.grad().toDoubleArray();
                double[] base = w.toDoubleArray();
                for (int i = 0; i < base.length; i++) {
                    double[] d = base.clone();
                    d[i] = base[i] + eps;
                    w.copyFrom(Tensor.of(be, d, w.shape()));
                    double up = loss(p, be, x, r);
                    d[i] = base[i] - eps;
                    w.copyFrom(Tensor.of(be, d, w.shape()));
                    double down = loss(p, be, x, r);
                    w.copyFrom(Tensor.of(be, base, w.shape()));
                    double numeric = (up - down) / (2 * eps);
                    assertEquals(numeric, analytic[i], 1e-7 + 1e-5 * Math.abs(numeric), e.getKey() + "[" + i + "]");
                    checked++;
                }
            }
            assertTrue(checked > 50);
            GradCheck.of("projection input", in -> p.forward(in[0])).input(x, 4, 5).run();
        }
    }

    private static double loss(Projection p, Backend be, double[] x, double[] r) {
        try (Tape.Region ignored = Tape.inference()) {
            double[] y = p.forward(Tensor.of(be, x, 4, 5)).toDoubleArray();
            double s = 0;
            for (int i = 0; i < y.length; i++) s += y[i] * r[i];
            return s;
        }
    }

    /** Gives every parameter random values (the zero-initialised last layer would hide the MLP's gradients). */
    static void randomise(Projection p, long seed) {
        Rng rng = new Rng(seed);
        for (Parameter w : p.parameters()) {
            double[] d = new double[w.size()];
            for (int i = 0; i < d.length; i++) d[i] = 0.5 * rng.nextGaussian() + (w.name().endsWith("norm.weight") ? 1 : 0);
            w.copyFrom(Tensor.of(w.backend(), d, w.shape()));
        }
    }

    @Test
    void savedAndLoadedWithItsContracts(@TempDir Path dir) {
        Projection p = new Projection(ProjectionConfig.defaults(6, 4), new Rng(1));
        randomise(p, 3);
        Path f = dir.resolve("psi.safetensors");
        p.save(f, OLD, NEW);
        Projection q = Projection.load(f, OLD, NEW);
        assertEquals(p.config(), q.config());
        Tensor x = randn(4, 3, 6);
        assertArrayEquals(p.forward(x).toArray(), q.forward(x).toArray());
        Projection.Loaded l = Projection.load(f);
        assertEquals(OLD, l.oldContract());
        assertEquals(NEW, l.newContract());

        ModelContract otherOld = new ModelContract("another-old", 4, "l2", "clip-bicubic-32", "bpe-a");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Projection.load(f, otherOld, NEW));
        assertTrue(e.getMessage().contains("shapes-old (dim 4") && e.getMessage().contains("another-old (dim 4")
                && e.getMessage().contains("shapes-new (dim 6"), e.getMessage());
        ModelContract wider = new ModelContract("shapes-new", 8, "l2", "clip-bicubic-32", "bpe-b");
        e = assertThrows(IllegalArgumentException.class, () -> Projection.load(f, OLD, wider));
        assertTrue(e.getMessage().contains("dim 8") && e.getMessage().contains("dim 6"), e.getMessage());
        // Saving with contracts of other dimensions is refused too.
        e = assertThrows(IllegalArgumentException.class, () -> p.save(dir.resolve("bad.safetensors"), OLD, wider));
        assertTrue(e.getMessage().contains("6 -> 4"), e.getMessage());
    }

    @Test
    void aMissingFileIsNamed(@TempDir Path dir) {
        Path none = dir.resolve("none.safetensors");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Projection.load(none, OLD, NEW));
        assertTrue(e.getMessage().contains("none.safetensors") && e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void aCopyComputesTheSameAndTrainsApart() {
        Projection p = new Projection(ProjectionConfig.defaults(6, 4), new Rng(1));
        randomise(p, 5);
        Projection q = p.copy();
        Tensor x = randn(6, 3, 6);
        assertArrayEquals(p.forward(x).toArray(), q.forward(x).toArray(), 0f);
        // Its own parameters: changing the copy leaves the original as it was.
        float[] before = p.forward(x).toArray();
        randomise(q, 7);
        assertArrayEquals(before, p.forward(x).toArray(), 0f);
        assertTrue(!java.util.Arrays.equals(before, q.forward(x).toArray()));
    }

    @Test
    void theConfigsProjectionFieldsBuildItsShape() {
        // The pipeline's defaults are the canonical default ψ.
        assertEquals(ProjectionConfig.defaults(128, 64), XbtConfig.projection(XbtConfig.schema().defaults(), 128, 64));
        var c = XbtConfig.schema().defaults().withOverride("projection.depth=3").withOverride("projection.hidden=32")
                .withOverride("projection.activation=tanh").withOverride("projection.norm=none").withOverride("projection.residual=false");
        assertEquals(new ProjectionConfig(128, 64, 3, 32, ProjectionConfig.Activation.TANH, ProjectionConfig.Norm.NONE, false),
                XbtConfig.projection(c, 128, 64));
        var bad = XbtConfig.schema().defaults().withOverride("projection.activation=swish");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> XbtConfig.validate(bad));
        assertTrue(e.getMessage().contains("projection.activation") && e.getMessage().contains("swish"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 6, 9})
    void aResidualStartedAtAFittedMapMakesTheUntrainedProjectionThatMap(int newDim) {
        // Procrustes fitted on random pairs; an untrained ψ (MLP's last layer zero) must then give exactly the map's
        // own output, computed by LinearMap in float64 on another path (catches a transposed or misplaced weight).
        int n = 40;
        float[] x = randn(11, n, newDim).toArray(), y = randn(12, n, 6).toArray();
        LinearMap procrustes = LinearMap.procrustes(x, y, n, newDim, 6);
        Projection p = new Projection(ProjectionConfig.defaults(newDim, 6), new Rng(4));
        p.startResidualAt(procrustes);
        float[] q = randn(13, 5, newDim).toArray();
        assertArrayEquals(procrustes.map(q, null, 5), p.forward(Tensor.of(q, 5, newDim)).toArray(), 1e-5f);
        // Not the raw map any more, and ridge works the same way.
        LinearMap ridge = LinearMap.ridge(x, y, n, newDim, 6, 0.1);
        p.startResidualAt(ridge);
        assertArrayEquals(ridge.map(q, null, 5), p.forward(Tensor.of(q, 5, newDim)).toArray(), 1e-5f);
    }

    @Test
    void aResidualStartIsRefusedWithoutAResidualPathOrForOtherDimensions() {
        float[] x = randn(11, 20, 6).toArray(), y = randn(12, 20, 4).toArray();
        LinearMap m = LinearMap.procrustes(x, y, 20, 6, 4);
        Projection noResidual = new Projection(new ProjectionConfig(6, 4, 2, 8, ProjectionConfig.Activation.GELU,
                ProjectionConfig.Norm.NONE, false), new Rng(1));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> noResidual.startResidualAt(m)).getMessage().contains("residual"));
        Projection other = new Projection(ProjectionConfig.defaults(6, 5), new Rng(1));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> other.startResidualAt(m)).getMessage().contains("6 -> 4"));
    }

    @Test
    void theConfigsInitFieldIsCheckedAgainstTheResidualPath() {
        assertEquals(XbtConfig.ProjectionInit.RAW, XbtConfig.projectionInit(XbtConfig.schema().defaults()));
        var c = XbtConfig.schema().defaults().withOverride("projection.init=Procrustes");
        XbtConfig.validate(c);
        assertEquals(XbtConfig.ProjectionInit.PROCRUSTES, XbtConfig.projectionInit(c));
        var noResidual = c.withOverride("projection.residual=false");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> XbtConfig.validate(noResidual));
        assertTrue(e.getMessage().contains("projection.init") && e.getMessage().contains("projection.residual"), e.getMessage());
        var bad = XbtConfig.schema().defaults().withOverride("projection.init=pca");
        e = assertThrows(IllegalArgumentException.class, () -> XbtConfig.validate(bad));
        assertTrue(e.getMessage().contains("projection.init") && e.getMessage().contains("pca"), e.getMessage());
    }

    @Test
    void describeNamesTheShape() {
        assertEquals("128 -> 256 -> 64, gelu, layer_norm, residual", ProjectionConfig.defaults(128, 64).describe());
        assertEquals("6 -> 4", new ProjectionConfig(6, 4, 1, 0, ProjectionConfig.Activation.GELU, ProjectionConfig.Norm.NONE,
                false).describe());
    }

    @Test
    void configJsonRoundTrip() {
        ProjectionConfig c = new ProjectionConfig(12, 7, 3, 20, ProjectionConfig.Activation.TANH, ProjectionConfig.Norm.NONE, false);
        assertEquals(c, ProjectionConfig.fromJson(c.toJson()));
        assertThrows(IllegalArgumentException.class, () -> ProjectionConfig.fromJson("{\"new_dim\": 3}"));
        assertThrows(IllegalArgumentException.class, () -> new ProjectionConfig(3, 3, 0, 4, ProjectionConfig.Activation.GELU,
                ProjectionConfig.Norm.NONE, true));
    }
}

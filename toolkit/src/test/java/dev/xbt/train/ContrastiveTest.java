package dev.xbt.train;

import dev.xbt.engine.EngineException;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Backends;
import dev.xbt.engine.testing.GradCheck;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ContrastiveTest {
    private static final Backend F64 = GradCheck.backend();

    /**
     * a = [[3, 4], [1, 0]] → â = [[0.6, 0.8], [1, 0]]; b = [[1, 0], [0, 2]] → b̂ = I; so âb̂ᵀ =
     * [[0.6, 0.8], [1, 0]]. With scale 1: rows (a→b, targets 0 and 1) give ln(e^0.6 + e^0.8) − 0.6 and
     * ln(e + 1) − 0; columns (b→a) are [0.6, 1] and [0.8, 0], giving ln(e^0.6 + e) − 0.6 and ln(e^0.8 + 1).
     */
    @Test
    void handWorkedExample() {
        double rows = (Math.log(Math.exp(0.6) + Math.exp(0.8)) - 0.6 + Math.log(Math.E + 1)) / 2;
        double cols = (Math.log(Math.exp(0.6) + Math.E) - 0.6 + Math.log(Math.exp(0.8) + 1)) / 2;
        double expected = (rows + cols) / 2;
        Tensor a = Tensor.of(F64, new double[] {3, 4, 1, 0}, 2, 2);
        Tensor b = Tensor.of(F64, new double[] {1, 0, 0, 2}, 2, 2);
        assertEquals(expected, Contrastive.symmetricInfoNce(a, b, Tensor.of(F64, new double[] {0}, 1)).toDoubleArray()[0], 1e-12);
        assertEquals(expected, Contrastive.symmetricInfoNce(a, b, 1f).toDoubleArray()[0], 1e-12);
        // Scale e² (logScale 2) equals temperature e^-2: logits multiplied by e².
        double s = Math.exp(2);
        double rows2 = (Math.log(Math.exp(0.6 * s) + Math.exp(0.8 * s)) - 0.6 * s + Math.log(Math.exp(s) + 1)) / 2;
        double cols2 = (Math.log(Math.exp(0.6 * s) + Math.exp(s)) - 0.6 * s + Math.log(Math.exp(0.8 * s) + 1)) / 2;
        assertEquals((rows2 + cols2) / 2,
                Contrastive.symmetricInfoNce(a, b, Tensor.of(F64, new double[] {2}, 1)).toDoubleArray()[0], 1e-10);
    }

    /** A direct float64 evaluation of the definition on random data, against the float32 fast backend too. */
    @Test
    void matchesDirectFloat64Evaluation() {
        int n = 6, d = 5;
        double[] a = GradCheck.randn(1, n, d), b = GradCheck.randn(2, n, d);
        double logScale = 1.3;
        double expected = reference(a, b, n, d, Math.exp(logScale));
        Tensor la = Tensor.of(F64, new double[] {logScale}, 1);
        // 1e-7, not 1e-12: the means scale by float32 constants (1f/6), even on the float64 backend.
        assertEquals(expected, Contrastive.symmetricInfoNce(Tensor.of(F64, a, n, d), Tensor.of(F64, b, n, d), la).toDoubleArray()[0], 1e-7);
        Backend fast = Backends.defaultBackend();
        float got = Contrastive.symmetricInfoNce(Tensor.of(fast, a, n, d), Tensor.of(fast, b, n, d),
                Tensor.of(fast, new float[] {(float) logScale}, 1)).item();
        assertEquals(expected, got, 1e-5);
        assertEquals(reference(a, b, n, d, 1 / 0.07),
                Contrastive.symmetricInfoNce(Tensor.of(F64, a, n, d), Tensor.of(F64, b, n, d), 0.07f).toDoubleArray()[0], 1e-5);
    }

    private static double reference(double[] a, double[] b, int n, int d, double scale) {
        double[][] logits = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double dot = 0, na = 0, nb = 0;
                for (int k = 0; k < d; k++) {
                    dot += a[i * d + k] * b[j * d + k];
                    na += a[i * d + k] * a[i * d + k];
                    nb += b[j * d + k] * b[j * d + k];
                }
                logits[i][j] = scale * dot / Math.sqrt(na * nb);
            }
        }
        double rows = 0, cols = 0;
        for (int i = 0; i < n; i++) {
            double sr = 0, sc = 0;
            for (int j = 0; j < n; j++) {
                sr += Math.exp(logits[i][j]);
                sc += Math.exp(logits[j][i]);
            }
            rows += Math.log(sr) - logits[i][i];
            cols += Math.log(sc) - logits[i][i];
        }
        return (rows / n + cols / n) / 2;
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        int n = 4, d = 3;
        GradCheck.of("symmetricInfoNce", in -> Contrastive.symmetricInfoNce(in[0], in[1], in[2]))
                .input(GradCheck.randn(3, n, d), n, d)
                .input(GradCheck.randn(4, n, d), n, d)
                .input(new double[] {0.7}, 1)
                .run();
        GradCheck.of("symmetricInfoNce(fixed)", in -> Contrastive.symmetricInfoNce(in[0], in[1], 0.5f))
                .input(GradCheck.randn(5, n, d), n, d)
                .input(GradCheck.randn(6, n, d), n, d)
                .run();
    }

    @Test
    void badInputIsNamed() {
        Tensor a = Tensor.randn(new Rng(1), 1f, 3, 4);
        Tensor b = Tensor.randn(new Rng(2), 1f, 2, 4);
        var e = assertThrows(EngineException.class, () -> Contrastive.symmetricInfoNce(a, b, 0.1f));
        assertEquals(true, e.getMessage().contains("symmetricInfoNce"), e.getMessage());
        assertThrows(EngineException.class, () -> Contrastive.symmetricInfoNce(a, a, 0f));
        assertThrows(EngineException.class, () -> Contrastive.symmetricInfoNce(a, a, Tensor.zeros(2)));
    }
}

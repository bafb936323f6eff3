package dev.xbt.xbt;

import dev.xbt.engine.Nn;
import dev.xbt.engine.Rng;
import dev.xbt.engine.Tape;
import dev.xbt.engine.Tensor;
import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Backends;
import dev.xbt.engine.testing.GradCheck;
import dev.xbt.xbt.XbtLoss.Alignment;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The XBT loss pieces against values worked out by hand, in float64 (scalar64 backend).
 * <pre>
 * Tolerance 1e-9: l2Normalize's eps (1e-12 under the square root) moves the values by about that much.
 *   a = [[1, 0], [0, 1]]      b = [[.6, .8], [0, 2]]   (b's rows normalise to [.6, .8] and [0, 1])
 *   cos(a_0, b_0) = .6, cos(a_1, b_1) = 1            -> cosine alignment = ((1 - .6) + (1 - 1)) / 2 = .2
 *   c = [[.6, .8], [0, 1]]: (a - c)² = .16, .64, 0, 0 -> MSE = .8 / 4 = .2
 *   InfoNCE(a, b; T): logits = â·b̂ᵀ/T = [[.6, 0], [.8, 1]]/T
 *     a->b rows: log(1 + e^{(0 - .6)/T}), log(1 + e^{(.8 - 1)/T});  b->a (columns): log(1 + e^{(.8 - .6)/T}), log(1 + e^{(0 - 1)/T})
 *     loss = (sum of the four) / 4
 * </pre>
 */
class XbtLossTest {
    static final Backend BE = GradCheck.backend();

    static Tensor t(double[] v, int... shape) {
        return Tensor.of(BE, v, shape);
    }

    static final double[] A = {1, 0, 0, 1};
    static final double[] B = {.6, .8, 0, 2};
    static final double[] C = {.6, .8, 0, 1};

    static double infoNce(double temperature) {
        double tt = temperature;
        return (Math.log1p(Math.exp(-.6 / tt)) + Math.log1p(Math.exp(-.2 / tt))
                + Math.log1p(Math.exp(.2 / tt)) + Math.log1p(Math.exp(-1 / tt))) / 4;
    }

    @Test
    void alignmentTerms() {
        assertEquals(0.2, XbtLoss.align(t(A, 2, 2), t(B, 2, 2), Alignment.COSINE).toDoubleArray()[0], 1e-9);
        assertEquals(0.2, XbtLoss.align(t(A, 2, 2), t(C, 2, 2), Alignment.MSE).toDoubleArray()[0], 1e-9);
        assertThrows(RuntimeException.class, () -> XbtLoss.align(t(A, 2, 2), t(A, 1, 4), Alignment.MSE));
    }

    @Test
    void stage1CombinesAlignmentAndInfoNce() {
        XbtLoss.Stage1 s = new XbtLoss.Stage1(0.016f, Alignment.COSINE, 2f, 0.5f, 0.5f);
        // ψ(noisy) = a and ψ(clean) = a against z_old = b.
        XbtLoss.Parts p = XbtLoss.stage1(t(A, 2, 2), t(A, 2, 2), t(B, 2, 2), s);
        assertEquals(0.2, p.first().toDoubleArray()[0], 1e-9);
        assertEquals(infoNce(0.5), p.second().toDoubleArray()[0], 1e-9);
        assertEquals(2 * 0.2 + 0.5 * infoNce(0.5), p.total().toDoubleArray()[0], 1e-9);
        // MSE variant: ψ(noisy) = a against z_old = c.
        p = XbtLoss.stage1(t(A, 2, 2), t(A, 2, 2), t(C, 2, 2), new XbtLoss.Stage1(0f, Alignment.MSE, 1f, 1f, 1f));
        assertEquals(0.2, p.first().toDoubleArray()[0], 1e-9);
        assertEquals(infoNce(1), p.second().toDoubleArray()[0], 1e-9); // c normalises like b
    }

    @Test
    void stage1OnProjectionDrawsItsNoiseFromTheRng() {
        try (Backends.Scope ignored = Backends.use(BE)) {
            Projection psi = new Projection(ProjectionConfig.defaults(3, 2), new Rng(1));
            ProjectionTest.randomise(psi, 2);
            Tensor zNew = Nn.l2Normalize(t(GradCheck.randn(3, 4, 3), 4, 3));
            Tensor zOld = Nn.l2Normalize(t(GradCheck.randn(4, 4, 2), 4, 2));
            XbtLoss.Stage1 s = XbtLoss.Stage1.defaults();
            double got = XbtLoss.stage1(psi, zNew, zOld, s, new Rng(5)).total().toDoubleArray()[0];
            Tensor noisy = XbtLoss.noisy(zNew, s.noiseVariance(), new Rng(5));
            double expected = XbtLoss.stage1(psi.forward(noisy), psi.forward(zNew), zOld, s).total().toDoubleArray()[0];
            assertEquals(expected, got, 0);
        }
    }

    @Test
    void noiseHasTheConfiguredVarianceAndIsRenormalised() {
        int d = 4000;
        double[] e0 = new double[d];
        e0[0] = 1;
        double[] y = XbtLoss.noisy(t(e0, 1, d), 0.016f, new Rng(9)).toDoubleArray();
        double norm = 0;
        for (double v : y) norm += v * v;
        assertEquals(1.0, norm, 1e-9);
        // |e0 + ε|² ≈ 1 + d·σ², so the noisy vector keeps cos ≈ 1/sqrt(1 + d·σ²) with its source: 1/sqrt(65) here.
        assertEquals(1 / Math.sqrt(1 + d * 0.016), y[0], 0.01);
        // Without noise it is only the normalisation.
        assertArrayEquals(new double[] {.6, .8}, XbtLoss.noisy(t(new double[] {3, 4}, 1, 2), 0f, new Rng(1)).toDoubleArray(), 1e-9);
    }

    @Test
    void stage2InfoNceBetweenModalitiesPlusConsistencyToADetachedTarget() {
        XbtLoss.Stage2 s = new XbtLoss.Stage2(0.25f, 3f, Alignment.COSINE);
        Tensor stage1 = t(A, 2, 2).requiresGrad(true);
        Tensor images = t(A, 2, 2).requiresGrad(true);
        XbtLoss.Parts p;
        try (Tape tape = Tape.record()) {
            // images a, texts b, stage-1 texts a: consistency = cosine alignment(b, a) = .2
            p = XbtLoss.stage2(images, t(B, 2, 2), stage1, s);
            tape.backward(p.total());
        }
        assertEquals(infoNce(0.25), p.first().toDoubleArray()[0], 1e-9);
        assertEquals(0.2, p.second().toDoubleArray()[0], 1e-9);
        assertEquals(infoNce(0.25) + 3 * 0.2, p.total().toDoubleArray()[0], 1e-9);
        assertNull(stage1.grad(), "the stage-1 target takes no gradient");
        assertEquals(4, images.grad().size());
    }

    @Test
    void imageToAllCaptionsIsInfoNceWithTheBankAsTheImagesNegatives() {
        double t = 0.5;
        // Bank = the batch's own (normalised) texts: the symmetric InfoNCE of images a and texts b.
        Tensor own = XbtLoss.imageToAllCaptions(t(A, 2, 2), t(B, 2, 2), t(C, 4 / 2, 2), new int[] {0, 1},
                new int[][] {{0}, {1}}, (float) t);
        assertEquals(infoNce(t), own.toDoubleArray()[0], 1e-9);
        // A third caption d = [1, 0] that belongs to image 0: masked for image 0, a negative of image 1, whose
        // image->text row gains e^{a_1·d/T} = e^0 = 1 in its partition sum (logits .8/T and 1/T before).
        double[] bank = {.6, .8, 0, 1, 1, 0};
        Tensor withD = XbtLoss.imageToAllCaptions(t(A, 2, 2), t(B, 2, 2), t(bank, 3, 2), new int[] {0, 1},
                new int[][] {{0, 2}, {1}}, (float) t);
        double extra = Math.log(Math.exp(.8 / t) + Math.exp(1 / t) + 1) - Math.log(Math.exp(.8 / t) + Math.exp(1 / t));
        assertEquals(infoNce(t) + 0.25 * extra, withD.toDoubleArray()[0], 1e-9);
        // Unmasked for image 0 too: its row gains e^{a_0·d/T} = e^{1/T} against its positive's e^{.6/T}.
        Tensor unmasked = XbtLoss.imageToAllCaptions(t(A, 2, 2), t(B, 2, 2), t(bank, 3, 2), new int[] {0, 1},
                new int[][] {{0}, {1}}, (float) t);
        double extra0 = Math.log(Math.exp(.6 / t) + Math.exp(0) + Math.exp(1 / t)) - Math.log(Math.exp(.6 / t) + 1);
        assertEquals(infoNce(t) + 0.25 * (extra + extra0), unmasked.toDoubleArray()[0], 1e-9);
        assertThrows(RuntimeException.class, () -> XbtLoss.imageToAllCaptions(t(A, 2, 2), t(B, 2, 2), t(bank, 3, 2),
                new int[] {0}, new int[][] {{0}}, 0.5f));
    }

    @Test
    void lossesHaveFiniteDifferenceGradients() {
        XbtLoss.Stage1 s1 = new XbtLoss.Stage1(0f, Alignment.MSE, 1.5f, 0.7f, 0.3f);
        GradCheck.of("stage1", in -> XbtLoss.stage1(in[0], in[1], in[2], s1).total())
                .input(GradCheck.randn(1, 3, 4), 3, 4).input(GradCheck.randn(2, 3, 4), 3, 4)
                .constantInput(GradCheck.randn(3, 3, 4), 3, 4).run();
        XbtLoss.Stage2 s2 = new XbtLoss.Stage2(0.2f, 2f, Alignment.COSINE);
        GradCheck.of("stage2", in -> XbtLoss.stage2(in[0], in[1], in[2], s2).total())
                .input(GradCheck.randn(4, 3, 4), 3, 4).input(GradCheck.randn(5, 3, 4), 3, 4)
                .constantInput(GradCheck.randn(6, 3, 4), 3, 4).run(); // the stage-1 target is detached by design
        GradCheck.of("imageToAllCaptions", in -> XbtLoss.imageToAllCaptions(in[0], in[1], in[2], new int[] {4, 0, 2},
                        new int[][] {{4, 1}, {0}, {2, 3}}, 0.3f))
                .input(GradCheck.randn(7, 3, 4), 3, 4).input(GradCheck.randn(8, 3, 4), 3, 4)
                .constantInput(GradCheck.randn(9, 5, 4), 5, 4).run(); // the bank is a constant by design
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new XbtLoss.Stage1(-1f, Alignment.COSINE, 1, 1, 0.1f));
        assertThrows(IllegalArgumentException.class, () -> new XbtLoss.Stage1(0.1f, Alignment.COSINE, 1, 1, 0f));
        assertThrows(IllegalArgumentException.class, () -> new XbtLoss.Stage2(0.1f, -1f, Alignment.MSE));
    }
}

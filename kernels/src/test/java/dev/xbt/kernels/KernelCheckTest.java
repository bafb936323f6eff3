package dev.xbt.kernels;

import dev.xbt.engine.backend.Backend;
import dev.xbt.engine.backend.Backends;
import dev.xbt.engine.backend.Buffer;
import dev.xbt.engine.testing.ForwardingBackend;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device check's kernel runner, exercised on the CPU: it passes a correct backend and catches a broken kernel. */
class KernelCheckTest {
    private static String run(Backend be, Backend ref, java.util.function.Consumer<KernelCheck> parts, int[] failures) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        KernelCheck k = new KernelCheck(be, ref, new PrintStream(buf, true, StandardCharsets.UTF_8));
        parts.accept(k);
        failures[0] = k.failures();
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theCpuBackendPassesAgainstTheScalarReference() {
        int[] f = new int[1];
        String out = run(Backends.get("cpu"), Backends.get("scalar"), k -> {
            k.memory();
            k.movement();
            k.attention();
            k.readBacksAndOptimizers();
        }, f);
        assertEquals(0, f[0], out);
        assertTrue(out.contains("PASS attention ViT-B-32"), out);
        assertTrue(out.lines().allMatch(l -> l.startsWith("PASS ")), out);
    }

    @Test
    void aWrongKernelIsReportedWithItsError() {
        Backend cpu = Backends.get("cpu");
        // Softmax off by one part in 1e3: far beyond the FP32 bound.
        Backend broken = new ForwardingBackend("broken", cpu) {
            @Override
            public void softmax(Buffer x, int rows, int n, boolean log, Buffer out) {
                super.softmax(x, rows, n, log, out);
                super.affine(out, 1.001f, 0f, out);
            }
        };
        int[] f = new int[1];
        String out = run(broken, cpu, KernelCheck::fused, f);
        assertTrue(f[0] >= 2, out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("FAIL softmax [924,77]") && l.contains("max-rel")), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("PASS layerNorm [3200,768]")), out);
    }

    @Test
    void errorsMeasureRelativeToOnePlusTheReference() {
        assertEquals(0.5, KernelCheck.maxRel(new float[] {2f}, new float[] {1f}), 1e-12);
        assertEquals(Double.POSITIVE_INFINITY, KernelCheck.maxRel(new float[] {Float.NaN}, new float[] {1f}));
        assertEquals(0, KernelCheck.maxRel(new float[] {Float.NEGATIVE_INFINITY}, new float[] {Float.NEGATIVE_INFINITY}));
        assertEquals(0.5 / 50.5, KernelCheck.maxRelToLargest(new float[] {1.01f, 50f}, new float[] {1f, 50.5f}), 1e-6);
    }
}

package dev.xbt.kernels;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PortableLaunchTest {
    /** What xbt_div computes on the device: (mulhi(i, magic) + i) >> shift in unsigned 32-bit arithmetic. */
    private static long deviceDiv(int i, int magic, int shift) {
        long hi = (Integer.toUnsignedLong(i) * Integer.toUnsignedLong(magic)) >>> 32;
        long sum = hi + i;
        assertEquals(sum, sum & 0xffffffffL, "the 32-bit sum must not overflow");
        return sum >>> shift;
    }

    @Test
    void magicDivisorsDivideExactlyForEveryNonNegativeInt() {
        Random r = new Random(7);
        List<Integer> divisors = new ArrayList<>();
        for (int n = 1; n <= 2000; n++) divisors.add(n);
        for (int k = 1; k < 31; k++) {
            divisors.add(1 << k);
            divisors.add((1 << k) - 1);
            divisors.add((1 << k) + 1);
        }
        divisors.add(Integer.MAX_VALUE);
        for (int t = 0; t < 2000; t++) divisors.add(1 + r.nextInt(Integer.MAX_VALUE));
        for (int n : divisors) {
            int[] ms = PortableLaunch.magic(n);
            List<Integer> xs = new ArrayList<>(List.of(0, 1, n - 1, n, Integer.MAX_VALUE, Integer.MAX_VALUE - 1));
            if (n < Integer.MAX_VALUE / 2) xs.addAll(List.of(n + 1, 2 * n - 1, 2 * n));
            for (int t = 0; t < 100; t++) xs.add(r.nextInt(Integer.MAX_VALUE));
            for (int i : xs) assertEquals(i / n, deviceDiv(i, ms[0], ms[1]), i + " / " + n);
        }
    }

    @Test
    void refusesNonPositiveDivisors() {
        assertThrows(IllegalArgumentException.class, () -> PortableLaunch.magic(0));
    }
}

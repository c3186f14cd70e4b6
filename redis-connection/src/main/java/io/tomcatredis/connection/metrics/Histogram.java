package io.tomcatredis.connection.metrics;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * A histogram with fixed bucket bounds, as Prometheus' classic histogram: per upper bound
 * {@code le} the number of observations at most that bound (cumulative), plus their sum and
 * count. Observations are in base units (seconds, bytes). Recording costs a binary search over the
 * bounds and two {@link LongAdder}/{@link DoubleAdder} updates; it never blocks. Thread-safe; a
 * read taken while others record may be off by the observations in flight (each bucket, the sum
 * and the count are read one after another), never by more.
 */
public final class Histogram {

    /**
     * Latency of a Redis call or of a wait, seconds: 0.5 ms to 10 s. A loopback Redis answers in
     * well under a millisecond; {@code timeoutMillis} (2 s by default) bounds a failed call.
     */
    public static final double[] LATENCY_SECONDS = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    /** Sizes in bytes: 64 B to 16 MiB, by factors of 4. */
    public static final double[] SIZE_BYTES = {
        64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216};

    /** Lag behind a deadline, seconds: 1 s to 1 h (the expiry sweep runs every 60 s by default). */
    public static final double[] LAG_SECONDS = {1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600};

    private final double[] bounds;
    /** Per bucket (not cumulative): observations above the bound before and at most this bound; last: above all. */
    private final LongAdder[] buckets;
    private final DoubleAdder sum = new DoubleAdder();

    /**
     * @param upperBounds the finite upper bounds, strictly increasing; {@code +Inf} is implied
     * @throws IllegalArgumentException when the bounds are empty, not finite or not increasing
     */
    public Histogram(double... upperBounds) {
        if (upperBounds.length == 0) {
            throw new IllegalArgumentException("a histogram needs at least one bucket bound");
        }
        for (int i = 0; i < upperBounds.length; i++) {
            if (!Double.isFinite(upperBounds[i]) || i > 0 && upperBounds[i] <= upperBounds[i - 1]) {
                throw new IllegalArgumentException("bucket bounds must be finite and strictly increasing: "
                        + Arrays.toString(upperBounds));
            }
        }
        this.bounds = upperBounds.clone();
        this.buckets = new LongAdder[bounds.length + 1];
        for (int i = 0; i < buckets.length; i++) {
            buckets[i] = new LongAdder();
        }
    }

    /** Records one observation in base units; a NaN is ignored, a negative one counts as 0. */
    public void record(double value) {
        if (Double.isNaN(value)) {
            return;
        }
        double observed = Math.max(0, value);
        int index = Arrays.binarySearch(bounds, observed);
        // an exact bound belongs to its own bucket (le: less than or equal)
        buckets[index >= 0 ? index : -index - 1].increment();
        sum.add(observed);
    }

    /** Records a duration measured in nanoseconds, as seconds. */
    public void recordNanos(long nanos) {
        record(nanos / 1e9);
    }

    /** The finite upper bounds. */
    public double[] bounds() {
        return bounds.clone();
    }

    /**
     * Cumulative counts, one per bound and a last one for {@code +Inf} (equal to {@link #count()}
     * as of the read).
     */
    public long[] cumulativeCounts() {
        long[] counts = new long[buckets.length];
        long running = 0;
        for (int i = 0; i < buckets.length; i++) {
            running += buckets[i].sum();
            counts[i] = running;
        }
        return counts;
    }

    /** How many observations were recorded. */
    public long count() {
        long count = 0;
        for (LongAdder bucket : buckets) {
            count += bucket.sum();
        }
        return count;
    }

    /** The sum of the observations, base units. */
    public double sum() {
        return sum.sum();
    }

    /**
     * A bound as Prometheus' {@code le} label shows it: the shortest plain decimal ({@code 0.005},
     * {@code 1}, {@code 1024}); {@code +Inf} for infinity.
     */
    public static String le(double bound) {
        return Double.isInfinite(bound) ? "+Inf" : BigDecimal.valueOf(bound).stripTrailingZeros().toPlainString();
    }
}

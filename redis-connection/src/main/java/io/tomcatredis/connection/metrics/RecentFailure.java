package io.tomcatredis.connection.metrics;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A reading from Redis that several readers ask for in a row (one scrape of the Prometheus JMX
 * exporter reads every attribute of every bean, and several of them count in Redis): after a
 * reading fails, the readings within the next {@value #HOLD_MILLIS} ms fail at once with the same
 * error instead of each waiting {@code timeoutMillis} for a Redis that just did not answer. So a
 * scrape while Redis is away takes about one {@code timeoutMillis}, not one per attribute.
 */
public final class RecentFailure {

    /** How long (ms) a failure is answered without asking Redis again. */
    public static final long HOLD_MILLIS = 5000;

    private final LongSupplier nanoTime;
    private volatile RuntimeException failure;
    private volatile long failedAtNanos;

    /** @param nanoTime the clock of the hold, as {@link System#nanoTime} */
    public RecentFailure(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /**
     * {@code fromRedis}, or the failure of a reading less than {@value #HOLD_MILLIS} ms ago.
     *
     * @throws RuntimeException what {@code fromRedis} threw, now or within the hold
     */
    public long read(LongSupplier fromRedis) {
        RuntimeException last = failure;
        if (last != null && nanoTime.getAsLong() - failedAtNanos < TimeUnit.MILLISECONDS.toNanos(HOLD_MILLIS)) {
            throw last;
        }
        try {
            long value = fromRedis.getAsLong();
            failure = null;
            return value;
        } catch (RuntimeException e) {
            failedAtNanos = nanoTime.getAsLong();
            failure = e;
            throw e;
        }
    }
}

package io.tomcatredis.session.store;

import java.util.function.LongSupplier;

/**
 * Redis' clock as this node estimates it: the last {@code TIME} reply, advanced by the JVM's
 * monotonic clock since. It lets a load judge a session clearly before its deadline without a
 * script; every verdict near or past a deadline is left to Redis' own clock (the load script).
 *
 * <p>The estimate counts from the moment the {@code TIME} command was sent, so it is never behind
 * Redis' clock by more than the drift of the two clocks since (parts per million); it may be ahead
 * by up to the round trip of the sample, which only sends more loads to the script. A step of
 * Redis' clock (a failover to a host whose clock differs) goes unseen until the next sample. {@link #MARGIN_MILLIS} covers those; a sample
 * older than {@link #MAX_AGE_NANOS} is not used at all.
 */
public final class RedisClock {

    /** Sessions whose deadline is less than this far ahead (ms) are judged by Redis' clock. */
    public static final long MARGIN_MILLIS = 1_000;
    /** How long a sample is used (ns): a few of the manager's background cycles (10 s each by default). */
    static final long MAX_AGE_NANOS = 60_000_000_000L;

    private final LongSupplier nanoTicker;
    private volatile Sample sample;

    /** @param nanoTicker monotonic nanoseconds, {@link System#nanoTime} outside tests */
    public RedisClock(LongSupplier nanoTicker) {
        this.nanoTicker = nanoTicker;
    }

    /**
     * Records a {@code TIME} reply.
     *
     * @param redisMillis Redis' time, epoch milliseconds
     * @param sentNanos   the ticker when the command was sent
     */
    void record(long redisMillis, long sentNanos) {
        // Redis read its clock after the command was sent: counting from then errs towards later.
        sample = new Sample(redisMillis, sentNanos);
    }

    /**
     * True when a session whose deadline is {@code deadlineMillis} (epoch ms, Redis' clock) is
     * certainly live now; false when it may have passed or the estimate is unknown or too old.
     */
    boolean certainlyBefore(long deadlineMillis) {
        Sample current = sample;
        if (current == null) {
            return false;
        }
        long elapsedNanos = nanoTicker.getAsLong() - current.atNanos;
        if (elapsedNanos < 0 || elapsedNanos > MAX_AGE_NANOS) {
            return false;
        }
        return current.redisMillis + elapsedNanos / 1_000_000 + MARGIN_MILLIS < deadlineMillis;
    }

    private record Sample(long redisMillis, long atNanos) {
    }
}

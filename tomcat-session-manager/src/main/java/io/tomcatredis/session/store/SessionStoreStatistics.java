package io.tomcatredis.session.store;

import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/** Counters of the Redis traffic of one session store, read through the manager's MBean. */
public final class SessionStoreStatistics {

    private final LongAdder loads = new LongAdder();
    private final LongAdder saves = new LongAdder();
    private final LongAdder deletes = new LongAdder();
    private final LongAdder roundTrips = new LongAdder();
    private final LongAdder bytesRead = new LongAdder();
    private final LongAdder bytesWritten = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder replicationShortfalls = new LongAdder();
    private final LongAdder attributesTooLarge = new LongAdder();
    private final LongAdder loadNanos = new LongAdder();
    private final LongAdder saveNanos = new LongAdder();
    private final LongAccumulator maxLoadNanos = new LongAccumulator(Math::max, 0);
    private final LongAccumulator maxSaveNanos = new LongAccumulator(Math::max, 0);

    void load(long nanos, long bytes) {
        loads.increment();
        bytesRead.add(bytes);
        loadNanos.add(nanos);
        maxLoadNanos.accumulate(nanos);
    }

    void save(long nanos, long bytes) {
        saves.increment();
        bytesWritten.add(bytes);
        saveNanos.add(nanos);
        maxSaveNanos.accumulate(nanos);
    }

    void delete() {
        deletes.increment();
    }

    void roundTrip() {
        roundTrips.increment();
    }

    void failure() {
        failures.increment();
    }

    void replicationShortfall() {
        replicationShortfalls.increment();
    }

    /**
     * An attribute a save did not store because it, or its session, is over a size limit
     * ({@code maxAttributeBytes}, {@code maxSessionBytes}); counted in both {@code sizeLimitAction}s.
     */
    public void attributeTooLarge() {
        attributesTooLarge.increment();
    }

    /** Attributes not stored for their size since start ({@link #attributeTooLarge}). */
    public long attributesTooLarge() {
        return attributesTooLarge.sum();
    }

    /** Saves that fewer replicas than {@code waitReplicas} acknowledged in time. */
    public long replicationShortfalls() {
        return replicationShortfalls.sum();
    }

    public long loads() {
        return loads.sum();
    }

    public long saves() {
        return saves.sum();
    }

    public long deletes() {
        return deletes.sum();
    }

    public long roundTrips() {
        return roundTrips.sum();
    }

    public long bytesRead() {
        return bytesRead.sum();
    }

    public long bytesWritten() {
        return bytesWritten.sum();
    }

    public long failures() {
        return failures.sum();
    }

    public double meanLoadMillis() {
        return mean(loadNanos.sum(), loads.sum());
    }

    public double maxLoadMillis() {
        return maxLoadNanos.get() / 1e6;
    }

    public double meanSaveMillis() {
        return mean(saveNanos.sum(), saves.sum());
    }

    public double maxSaveMillis() {
        return maxSaveNanos.get() / 1e6;
    }

    private static double mean(long nanos, long count) {
        return count == 0 ? 0 : nanos / 1e6 / count;
    }
}

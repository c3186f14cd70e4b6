package io.tomcatredis.session.store;

import io.tomcatredis.connection.metrics.CounterSet;
import io.tomcatredis.connection.metrics.Histogram;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters and histograms of one session store, read through the manager's MBean (the lifetime
 * means and maxima, kept for compatibility) and the metric MBeans of README "Metrics" (monotonic
 * counters and histograms in base units, which Prometheus can rate and aggregate).
 */
public final class SessionStoreStatistics {

    /** Why a save left an attribute value out of Redis: the {@code reason} of {@code attributes_skipped_total}. */
    public enum SkipReason {
        /** Tomcat's {@code sessionAttributeNameFilter} or {@code sessionAttributeValueClassNameFilter} excludes it. */
        FILTERED("filtered"),
        /** The serializer refused or failed on the value (not serializable, a class serialFilter rejects, too deep). */
        NOT_SERIALIZABLE("notSerializable"),
        /** Its serialized bytes exceed {@code maxAttributeBytes}. */
        ATTRIBUTE_TOO_LARGE("attributeTooLarge"),
        /** Storing it would take the session past {@code maxSessionBytes}. */
        SESSION_TOO_LARGE("sessionTooLarge");

        private final String label;

        SkipReason(String label) {
            this.label = label;
        }

        /** The label value in {@code attributes_skipped_total{reason=...}}. */
        public String label() {
            return label;
        }
    }

    /** Why a load dropped a stored attribute value: the {@code reason} of {@code attributes_dropped_total}. */
    public enum DropReason {
        /** The bytes do not deserialize (corrupt, a class gone or rejected by serialFilter). */
        UNDECODABLE("undecodable"),
        /** Tomcat's session attribute filters exclude the value read. */
        FILTERED("filtered");

        private final String label;

        DropReason(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** Kinds of failed Redis calls: the {@code kind} of {@code errors_total}. */
    public static final List<String> ERROR_KINDS = List.of("timeout", "connection", "notConnected", "refused",
            "wrongType", "serverError", "claimRefused", "oom");

    /** Outcomes of expiry claims: the {@code outcome} of {@code expiry_claims_total}. */
    public static final List<String> CLAIM_OUTCOMES = List.of("won", "lost", "lapsed", "refused");

    private final CounterSet roundTripsByOperation = new CounterSet("operation", List.of("load", "save", "claim",
            "expire", "dueForExpiry", "keepDueAlive", "audit", "changeId", "writeData", "structure"));
    private final CounterSet errorsByKind = new CounterSet("kind", ERROR_KINDS);
    private final CounterSet attributesSkipped = new CounterSet("reason",
            Arrays.stream(SkipReason.values()).map(SkipReason::label).toList());
    private final CounterSet attributesDropped = new CounterSet("reason",
            Arrays.stream(DropReason.values()).map(DropReason::label).toList());
    private final CounterSet expiryClaims = new CounterSet("outcome", CLAIM_OUTCOMES);
    private final LongAdder unavailableResponses = new LongAdder();
    private final Histogram loadSeconds = new Histogram(Histogram.LATENCY_SECONDS);
    private final Histogram saveSeconds = new Histogram(Histogram.LATENCY_SECONDS);
    private final Histogram attributeBytes = new Histogram(Histogram.SIZE_BYTES);
    private final Histogram sessionBytes = new Histogram(Histogram.SIZE_BYTES);
    private final Histogram expiryLagSeconds = new Histogram(Histogram.LAG_SECONDS);

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
        loadSeconds.recordNanos(nanos);
        bytesRead.add(bytes);
        loadNanos.add(nanos);
        maxLoadNanos.accumulate(nanos);
    }

    void save(long nanos, long bytes) {
        saves.increment();
        saveSeconds.recordNanos(nanos);
        bytesWritten.add(bytes);
        saveNanos.add(nanos);
        maxSaveNanos.accumulate(nanos);
    }

    void delete() {
        deletes.increment();
    }

    /** One round trip of {@code operation} (the name {@link RedisCalls#call} was given). */
    void roundTrip(String operation) {
        roundTrips.increment();
        roundTripsByOperation.increment(operation);
    }

    /** A failed Redis call, of one of {@link #ERROR_KINDS}. */
    void failure(String kind) {
        failures.increment();
        errorsByKind.increment(kind);
    }

    /** A request answered 503 because Redis failed while it needed its session. */
    public void unavailableResponse() {
        unavailableResponses.increment();
    }

    /** A save left an attribute value out of Redis. */
    public void attributeSkipped(SkipReason reason) {
        attributesSkipped.increment(reason.label());
    }

    /** A load dropped a stored attribute value. */
    public void attributeDropped(DropReason reason) {
        attributesDropped.increment(reason.label());
    }

    /** The serialized bytes of one attribute value a save writes (recorded per value written). */
    public void attributeBytes(long bytes) {
        attributeBytes.record(bytes);
    }

    /**
     * The bytes of a session's attribute names and values in Redis after a save (the hash's
     * {@code attr:} fields; its few {@code meta:} fields are not counted).
     */
    public void sessionBytes(long bytes) {
        sessionBytes.record(bytes);
    }

    /**
     * An expiry claim's outcome, one of {@link #CLAIM_OUTCOMES}; for a claim won, how late it came:
     * {@code lagMillis} between the session's deadline and the claim (negative: no deadline known).
     */
    public void expiryClaim(String outcome, long lagMillis) {
        expiryClaims.increment(outcome);
        if (lagMillis >= 0) {
            expiryLagSeconds.record(lagMillis / 1000.0);
        }
    }

    public CounterSet roundTripsByOperation() {
        return roundTripsByOperation;
    }

    public CounterSet errorsByKind() {
        return errorsByKind;
    }

    public CounterSet attributesSkipped() {
        return attributesSkipped;
    }

    public CounterSet attributesDropped() {
        return attributesDropped;
    }

    public CounterSet expiryClaims() {
        return expiryClaims;
    }

    public long unavailableResponses() {
        return unavailableResponses.sum();
    }

    public Histogram loadSeconds() {
        return loadSeconds;
    }

    public Histogram saveSeconds() {
        return saveSeconds;
    }

    public Histogram attributeBytes() {
        return attributeBytes;
    }

    public Histogram sessionBytes() {
        return sessionBytes;
    }

    public Histogram expiryLagSeconds() {
        return expiryLagSeconds;
    }


    void replicationShortfall() {
        replicationShortfalls.increment();
    }

    /**
     * An attribute a save did not store because it, or its session, is over a size limit
     * ({@code maxAttributeBytes}, {@code maxSessionBytes}); counted in both {@code sizeLimitAction}s.
     */
    public void attributeTooLarge(SkipReason reason) {
        attributesTooLarge.increment();
        attributeSkipped(reason);
    }

    /** Attributes not stored for their size since start ({@link #attributeTooLarge}). */
    public long attributesTooLarge() {
        return attributesTooLarge.sum();
    }

    /** Saves that fewer replicas than {@code waitReplicas} acknowledged, or fewer than {@code waitAof*} fsynced, in time. */
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

package io.tomcatredis.session;

import io.tomcatredis.connection.metrics.RecentFailure;
import io.tomcatredis.session.store.RedisSessionStore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The manager's {@code getActiveSessions()}, which Tomcat asks on every session creation when
 * {@code maxActiveSessions} is set: the number of entries of the expiry index.
 *
 * <p>With one index key (standalone Redis, Sentinel) it is exact: one {@code ZCARD} per call. On
 * Redis Cluster the index has one key per slot, and an exact count costs 16,384 {@code ZCARD}s;
 * there the count is the one taken by the last refresh (the first call counts; after it, every
 * expiry sweep counts anew, so the count is at most {@code processExpiresFrequency} ×
 * {@code backgroundProcessorDelay} old, 60 s by default), plus the sessions this node created
 * since, minus those it invalidated since. Sessions other nodes created or invalidated since are
 * not in it: the limit may be passed by what the other nodes create within one sweep interval. A
 * webapp that never asks (no {@code maxActiveSessions}, no JMX reader) never pays for a count.
 * A count that fails is answered at once for a moment ({@link RecentFailure}): a scrape reads it
 * through several attributes.
 */
final class ActiveSessionCount {

    private final RedisSessionStore store;
    private final boolean exact;
    /** The count at the last refresh, or -1 before the first. */
    private final AtomicLong refreshed = new AtomicLong(-1);
    private final AtomicLong changedSince = new AtomicLong();
    private final RecentFailure recentFailure;

    ActiveSessionCount(RedisSessionStore store, LongSupplier nanoTime) {
        this.store = store;
        this.exact = store.countIsOneCommand();
        this.recentFailure = new RecentFailure(nanoTime);
    }

    /**
     * @throws io.tomcatredis.session.store.SessionStoreUnavailableException when Redis fails
     *         while counting
     */
    long get() {
        if (exact) {
            return recentFailure.read(store::count);
        }
        long last = refreshed.get();
        if (last < 0) {
            refresh();
            last = refreshed.get();
        }
        return Math.max(0, last + changedSince.get());
    }

    /** Counts anew if the count was ever asked for (on Redis Cluster: 16,384 {@code ZCARD}s in 16 pipelined round trips). */
    void refreshIfUsed() {
        if (!exact && refreshed.get() >= 0) {
            refresh();
        }
    }

    private void refresh() {
        long before = changedSince.get();
        long count = recentFailure.read(store::count);
        // Changes made while counting may or may not be in the count: keep them counted once more.
        changedSince.addAndGet(-before);
        refreshed.set(count);
    }

    /** This node wrote a new session. */
    void created() {
        changedSince.incrementAndGet();
    }

    /** This node won the invalidation of a session. */
    void invalidated() {
        changedSince.decrementAndGet();
    }
}

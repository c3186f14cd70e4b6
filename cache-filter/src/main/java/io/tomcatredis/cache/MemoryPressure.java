package io.tomcatredis.cache;

import java.time.Clock;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * What the cache does when Redis refuses its writes for memory: the {@code OOM} error reply
 * ({@code OOM command not allowed when used memory > 'maxmemory'}), which a Redis run with
 * {@code maxmemory-policy noeviction} (conf/redis-session.conf) gives once its used memory is above
 * {@code maxmemory}. A cache holds copies; the sessions sharing that Redis hold the only ones. So
 * the cache gives memory back to them rather than keep Redis full:
 * <ol>
 * <li>the refused request passes (its page is served, not stored; the circuit stays closed: Redis
 *     answers, and hits are still served);</li>
 * <li>the cache evicts its own least recently used entries ({@link CacheKeys#SHED}, in every
 *     bucket: on Redis Cluster in every shard, the one out of memory among them) until it counts
 *     {@link #SHED_FRACTION} less than before, and at least twice the refused entry less, at most
 *     {@link #MAX_SHED_ENTRIES} entries per bucket and refusal (one script per bucket that blocks
 *     Redis briefly); counted in {@code evictions_total{cause="oom"}};</li>
 * <li>for {@link #HOLD_MILLIS} ms this node then keeps the cache within what remained (all its
 *     buckets, each its share) instead of {@code maxCacheBytes} ({@link #budget}), so it does
 *     not fill Redis again at once; a refusal meanwhile sheds and lowers that again;</li>
 * <li>a warning, at most once per {@link #HOLD_MILLIS} ms, names {@code maxCacheBytes} against
 *     {@code maxmemory}: the operator sized them so that the cache and the sessions do not fit.</li>
 * </ol>
 * One shed at a time on a node: requests refused meanwhile only pass. Each node learns on its own
 * (nothing about it is kept in Redis); with several nodes each sheds on its first refusal.
 */
final class MemoryPressure {

    /** How long a node keeps the cache within what a shed left, in ms. */
    static final long HOLD_MILLIS = 60_000;
    /** The part of its bytes the cache gives back on a refusal. */
    static final double SHED_FRACTION = 0.10;
    /** The most entries one shed evicts. */
    static final int MAX_SHED_ENTRIES = 1000;

    private static final Logger LOG = Logger.getLogger(MemoryPressure.class.getName());

    private final long maxCacheBytes;
    private final Clock clock;
    private final AtomicBoolean shedding = new AtomicBoolean();
    private final AtomicLong lastWarning;
    private volatile long ceiling = Long.MAX_VALUE;
    private volatile long holdUntil = Long.MIN_VALUE;

    MemoryPressure(long maxCacheBytes, Clock clock) {
        this.maxCacheBytes = maxCacheBytes;
        this.clock = clock;
        this.lastWarning = new AtomicLong(clock.millis() - HOLD_MILLIS);
    }

    /** The byte budget a store keeps now: {@code maxCacheBytes}, or less for a while after a shed. */
    long budget() {
        return clock.millis() < holdUntil ? Math.min(maxCacheBytes, ceiling) : maxCacheBytes;
    }

    /**
     * Redis refused a write of the cache for memory: gives memory back, unless another request of
     * this node is at it. Never throws: a failure of the shed itself is logged.
     *
     * @param refusedBytes the size of the entry Redis refused, or 0 (a lease)
     */
    void refused(CacheStore store, CacheStatistics statistics, long refusedBytes) {
        if (!shedding.compareAndSet(false, true)) {
            return;
        }
        try {
            long[] shed = store.shed(SHED_FRACTION, 2 * refusedBytes, MAX_SHED_ENTRIES);
            statistics.evicted("oom", shed[0]);
            long before = shed[1];
            long left = shed[2];
            long now = clock.millis();
            ceiling = left;
            holdUntil = now + HOLD_MILLIS;
            long last = lastWarning.get();
            if (now - last >= HOLD_MILLIS && lastWarning.compareAndSet(last, now)) {
                LOG.warning("Redis is out of memory (it refused a write of the page cache: used memory above"
                        + " maxmemory, maxmemory-policy noeviction). The cache evicted " + shed[0] + " of its entries ("
                        + (before - shed[2]) + " bytes) to give memory back to the sessions, and"
                        + " keeps within " + left + " bytes for " + HOLD_MILLIS / 1000 + " s instead of"
                        + " maxCacheBytes=" + maxCacheBytes + ". Redis' maxmemory must hold maxCacheBytes and the"
                        + " sessions together: raise maxmemory or lower maxCacheBytes (README \"Sizing maxmemory and"
                        + " maxCacheBytes\")" + (left == 0 ? "; the cache holds nothing now: something else fills"
                        + " Redis" : ""));
            }
        } catch (CacheUnavailableException e) {
            LOG.warning("Redis is out of memory, and the page cache could not evict its entries to give memory"
                    + " back: " + e.getMessage());
        } finally {
            shedding.set(false);
        }
    }
}

package io.tomcatredis.cache;

/** JMX view of {@link CacheStatistics}. */
public interface CacheStatisticsMBean {

    /** Requests answered from a fresh entry. */
    long getHits();

    /** Requests that found no usable entry. */
    long getMisses();

    /** Requests answered from an expired entry within its stale window. */
    long getStaleServes();

    /** Requests that waited for another request's render instead of rendering themselves. */
    long getCoalescedWaits();

    /** Entries written. */
    long getStores();

    /** Entries removed to keep within maxCacheBytes, or by URL or tag. */
    long getEvictions();

    /** Renders by the application of cacheable requests (misses, refreshes, timed-out waits). */
    long getRenders();

    /** Requests or responses that bypassed the cache, in total. */
    long getBypasses();

    /** Bypasses by reason, e.g. {personal:session=3, set-cookie=1}. */
    String getBypassesByReason();

    /** Hits answered from this node's local tier, without a round trip (also counted in {@link #getHits()}). */
    long getLocalHits();

    /** Estimated heap bytes of the local tier's copies, at most {@code localTierBytes} (0 when off). */
    long getLocalTierBytes();

    /** Copies (entries and Vary markers) in the local tier. */
    long getLocalTierCount();

    /**
     * Whether the local tier serves: its invalidation channel is subscribed and the last heartbeat
     * it received was sent less than {@code localTierMaxLagMillis} ago (false when off).
     */
    boolean isLocalTierServing();

    /** Bytes of the entries in Redis, as the budget counts them. */
    long getBytesStored();
}

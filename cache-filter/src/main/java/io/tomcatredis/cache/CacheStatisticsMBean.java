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

    /** Bytes of the entries in Redis, as the budget counts them. */
    long getBytesStored();
}

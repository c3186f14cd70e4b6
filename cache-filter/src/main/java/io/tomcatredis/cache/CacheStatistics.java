package io.tomcatredis.cache;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/** The filter's counters, registered as an MBean ({@code io.tomcatredis:type=RedisCacheFilter,...}). */
public final class CacheStatistics implements CacheStatisticsMBean {

    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder staleServes = new LongAdder();
    private final LongAdder coalescedWaits = new LongAdder();
    private final LongAdder stores = new LongAdder();
    private final LongAdder evictions = new LongAdder();
    private final LongAdder renders = new LongAdder();
    private final Map<String, LongAdder> bypasses = new ConcurrentHashMap<>();
    private final LongAdder localHits = new LongAdder();
    private final LongSupplier bytesStored;
    private volatile LocalTier localTier;

    CacheStatistics(LongSupplier bytesStored) {
        this.bytesStored = bytesStored;
    }

    /** The local tier whose size is reported ({@code localTierBytes} &gt; 0). */
    void localTier(LocalTier tier) {
        this.localTier = tier;
    }

    void hit() {
        hits.increment();
    }

    /** A hit answered from the local tier (counted in {@link #getHits()} as well). */
    void localHit() {
        hits.increment();
        localHits.increment();
    }

    void miss() {
        misses.increment();
    }

    void stale() {
        staleServes.increment();
    }

    void coalesced() {
        coalescedWaits.increment();
    }

    void stored() {
        stores.increment();
    }

    void evicted(long count) {
        evictions.add(count);
    }

    void rendered() {
        renders.increment();
    }

    void bypass(BypassReason reason) {
        bypasses.computeIfAbsent(reason.label(), r -> new LongAdder()).increment();
    }

    @Override
    public long getHits() {
        return hits.sum();
    }

    @Override
    public long getMisses() {
        return misses.sum();
    }

    @Override
    public long getStaleServes() {
        return staleServes.sum();
    }

    @Override
    public long getCoalescedWaits() {
        return coalescedWaits.sum();
    }

    @Override
    public long getStores() {
        return stores.sum();
    }

    @Override
    public long getEvictions() {
        return evictions.sum();
    }

    @Override
    public long getRenders() {
        return renders.sum();
    }

    @Override
    public long getBypasses() {
        return bypasses.values().stream().mapToLong(LongAdder::sum).sum();
    }

    @Override
    public String getBypassesByReason() {
        Map<String, Long> sorted = new TreeMap<>();
        bypasses.forEach((reason, count) -> sorted.put(reason, count.sum()));
        return sorted.toString();
    }

    @Override
    public long getLocalHits() {
        return localHits.sum();
    }

    @Override
    public long getLocalTierBytes() {
        LocalTier tier = localTier;
        return tier == null ? 0 : tier.bytes();
    }

    @Override
    public long getLocalTierCount() {
        LocalTier tier = localTier;
        return tier == null ? 0 : tier.count();
    }

    @Override
    public boolean isLocalTierServing() {
        LocalTier tier = localTier;
        return tier != null && tier.serving();
    }

    @Override
    public long getBytesStored() {
        try {
            return bytesStored.getAsLong();
        } catch (RuntimeException e) {
            return -1;
        }
    }
}

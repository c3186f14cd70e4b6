package io.tomcatredis.cache;

import io.tomcatredis.connection.metrics.CounterSet;
import io.tomcatredis.connection.metrics.Histogram;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * The filter's counters, registered as an MBean ({@code io.tomcatredis:type=RedisCacheFilter,...}),
 * and the metrics of README "Metrics" ({@link CacheMetrics}): requests by outcome, bypasses by
 * reason, evictions by cause, the lock wait histogram.
 */
public final class CacheStatistics implements CacheStatisticsMBean {

    /** What the filter did with a request: the {@code outcome} of {@code requests_total}. */
    static final List<String> OUTCOMES = List.of("hit", "local_hit", "stale", "miss", "pass", "unsafe");
    /** Why entries left Redis: the {@code cause} of {@code evictions_total}. */
    static final List<String> EVICTION_CAUSES = List.of("url", "tag", "budget");

    private final CounterSet requests = new CounterSet("outcome", OUTCOMES);
    private final CounterSet bypassesByReason = new CounterSet("reason",
            Arrays.stream(BypassReason.values()).map(BypassReason::label).toList());
    private final CounterSet evictionsByCause = new CounterSet("cause", EVICTION_CAUSES);
    private final LongAdder circuitOpens = new LongAdder();
    private final Histogram lockWaitSeconds = new Histogram(Histogram.LATENCY_SECONDS);
    private volatile BooleanSupplier circuitOpen = () -> false;
    /** Why the filter's Redis user does not do (the startup permission check), or null. */
    private volatile String permissionProblem;

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
        requests.increment("hit");
    }

    /** A hit answered from the local tier (counted in {@link #getHits()} as well). */
    void localHit() {
        hits.increment();
        localHits.increment();
        requests.increment("local_hit");
    }

    void miss() {
        misses.increment();
        requests.increment("miss");
    }

    void stale() {
        staleServes.increment();
        requests.increment("stale");
    }

    /** A request passed before the lookup (its reason is counted by {@link #bypass}). */
    void passed() {
        requests.increment("pass");
    }

    /** A request of an unsafe method, passed (and its URL evicted if it succeeds). */
    void unsafe() {
        requests.increment("unsafe");
    }

    /** The circuit opened: Redis is skipped for {@code circuitBreakerMillis}. */
    void circuitOpened() {
        circuitOpens.increment();
    }

    /** What tells whether the circuit is open now. */
    void circuit(BooleanSupplier open) {
        this.circuitOpen = open;
    }

    /**
     * The permission check found that the filter's Redis user lacks something it needs: from now
     * on every request passes through uncached ({@link BypassReason#REDIS_PERMISSION}).
     */
    void permissionDenied(String problem) {
        this.permissionProblem = problem;
    }

    /** Whether the filter's Redis user lacks a permission it needs (then nothing is cached). */
    boolean permissionDenied() {
        return permissionProblem != null;
    }

    /** How long a request waited for another's render (served, rendered itself, or timed out). */
    void lockWaited(long nanos) {
        lockWaitSeconds.recordNanos(nanos);
    }

    CounterSet requests() {
        return requests;
    }

    CounterSet bypassesByReason() {
        return bypassesByReason;
    }

    CounterSet evictionsByCause() {
        return evictionsByCause;
    }

    Histogram lockWaitSeconds() {
        return lockWaitSeconds;
    }

    long circuitOpens() {
        return circuitOpens.sum();
    }

    boolean circuitOpen() {
        return circuitOpen.getAsBoolean();
    }

    void coalesced() {
        coalescedWaits.increment();
    }

    void stored() {
        stores.increment();
    }

    /** @param cause one of {@link #EVICTION_CAUSES} */
    void evicted(String cause, long count) {
        evictions.add(count);
        evictionsByCause.add(cause, count);
    }

    void rendered() {
        renders.increment();
    }

    void bypass(BypassReason reason) {
        bypasses.computeIfAbsent(reason.label(), r -> new LongAdder()).increment();
        bypassesByReason.increment(reason.label());
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

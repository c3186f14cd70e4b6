package io.tomcatredis.cache;

import io.tomcatredis.connection.ConnectionMetrics;
import io.tomcatredis.connection.metrics.MBeanRegistrations;
import io.tomcatredis.connection.metrics.MetricsMBean;
import io.tomcatredis.connection.metrics.RecentFailure;
import jakarta.servlet.FilterConfig;
import java.util.function.LongSupplier;

/**
 * The metric MBeans of one cache filter, in the shape {@code conf/jmx-exporter.yml} maps to
 * Prometheus (README "Metrics" lists every metric with its unit and scope):
 *
 * <pre>
 * io.tomcatredis:type=CacheMetrics,context=/shop,filter=page-cache                                counters and gauges
 * io.tomcatredis:type=CacheCounters,context=/shop,filter=page-cache,name=requests_total,label=outcome   one attribute per outcome
 * io.tomcatredis:type=CacheHistogram,context=/shop,filter=page-cache,name=lock_wait_seconds      le_…, sum, count
 * </pre>
 *
 * Counters count on this node since the filter started. {@code …_in_redis} gauges read Redis at
 * each scrape (one {@code GET} and one {@code HLEN} per bucket of {@link CacheKeys}, each kind in
 * one pipeline, summed: one bucket on standalone and Sentinel, 32 on Cluster; -1 while Redis does
 * not answer) and are the same on every node: aggregate with {@code max()}.
 */
final class CacheMetrics {

    private CacheMetrics() {
    }

    /**
     * @param localTier the local tier when {@code localTierBytes} is above 0, else null
     */
    static MBeanRegistrations register(FilterConfig config, CacheStatistics statistics, CacheStore store,
            LocalTier localTier, ConnectionMetrics pool) {
        String context = config.getServletContext().getContextPath();
        String scope = "context=" + MBeanRegistrations.value(context.isEmpty() ? "/" : context) + ",filter="
                + MBeanRegistrations.value(config.getFilterName());
        MBeanRegistrations beans = new MBeanRegistrations();
        // Both gauges ask Redis: while it is away, a scrape waits for the first one only.
        RecentFailure redis = new RecentFailure(System::nanoTime);
        MetricsMBean.Builder plain = MetricsMBean.builder("Page cache " + scope)
                .counter("renders_total", "renders by the application of cacheable requests", statistics::getRenders)
                .counter("coalesced_waits_total", "requests served the render of another they waited for",
                        statistics::getCoalescedWaits)
                .counter("stores_total", "entries written to Redis", statistics::getStores)
                .counter("circuit_opens_total", "times Redis failed and was skipped for circuitBreakerMillis",
                        statistics::circuitOpens)
                .gauge("circuit_open", "1 while Redis is skipped after a failure, else 0",
                        () -> statistics.circuitOpen() ? 1 : 0)
                .gauge("redis_permission_denied", "1 when the filter's Redis user lacks a permission it needs"
                        + " (every request passes uncached), else 0", () -> statistics.permissionDenied() ? 1 : 0)
                .gauge("bytes_in_redis", "bytes of the entries in Redis, as maxCacheBytes counts them",
                        orMinusOne(redis, store::bytesStored))
                .gauge("entries_in_redis", "entries in Redis", orMinusOne(redis, store::entriesStored))
                .gauge("local_tier_bytes_on_node", "estimated heap bytes of this node's local tier",
                        () -> localTier == null ? 0 : localTier.bytes())
                .gauge("local_tier_entries_on_node", "copies in this node's local tier",
                        () -> localTier == null ? 0 : localTier.count());
        beans.register("io.tomcatredis:type=CacheMetrics," + scope, pool.addTo(plain).build());
        beans.counters("CacheCounters", scope, "requests_total", statistics.requests());
        beans.counters("CacheCounters", scope, "bypasses_total", statistics.bypassesByReason());
        beans.counters("CacheCounters", scope, "evictions_total", statistics.evictionsByCause());
        beans.histogram("CacheHistogram", scope, "lock_wait_seconds", statistics.lockWaitSeconds());
        beans.histogram("CacheHistogram", scope, "pool_borrow_wait_seconds", pool.borrowWaitSeconds());
        return beans;
    }

    private static LongSupplier orMinusOne(RecentFailure redis, LongSupplier fromRedis) {
        return () -> {
            try {
                return redis.read(fromRedis);
            } catch (RuntimeException e) {
                return -1;
            }
        };
    }
}

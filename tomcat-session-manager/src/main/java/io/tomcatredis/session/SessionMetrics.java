package io.tomcatredis.session;

import io.tomcatredis.connection.ConnectionMetrics;
import io.tomcatredis.connection.metrics.MBeanRegistrations;
import io.tomcatredis.connection.metrics.MetricsMBean;
import io.tomcatredis.session.store.SessionStoreStatistics;
import org.apache.catalina.Context;

/**
 * The metric MBeans of one started session manager, in the shape {@code conf/jmx-exporter.yml}
 * maps to Prometheus (README "Metrics" lists every metric with its unit and scope):
 *
 * <pre>
 * io.tomcatredis:type=SessionMetrics,host=localhost,context=/shop                       counters (…_total) and gauges
 * io.tomcatredis:type=SessionCounters,host=localhost,context=/shop,name=errors_total,label=kind   one attribute per kind
 * io.tomcatredis:type=SessionHistogram,host=localhost,context=/shop,name=load_seconds  le_…, sum, count
 * </pre>
 *
 * Counters count on this node since the manager started; gauges named {@code …_in_redis} read the
 * webapp's state in Redis (the same on every node: aggregate with {@code max()}), those named
 * {@code …_on_node} this node's.
 */
final class SessionMetrics {

    private SessionMetrics() {
    }

    /** Registers the beans of {@code manager}, reading {@code statistics} and {@code pool}. */
    static MBeanRegistrations register(RedisSessionManager manager, SessionStoreStatistics statistics,
            ConnectionMetrics pool) {
        return register(manager.getContext(), statistics, pool, plain -> plain
                .counter("requests_total", "requests through the manager's valve", manager::getRequests)
                .counter("near_cache_hits_total", "loads answered from the near cache without Redis",
                        manager::getNearCacheHitCount)
                .counter("sessions_created_on_node_total", "sessions this node created",
                        manager::getSessionCounter)
                .gauge("sessions_in_redis", "sessions of the webapp in Redis (the same on every node)",
                        manager::getActiveSessions)
                .gauge("sessions_in_use_on_node", "session objects this node holds for requests in flight",
                        manager::getLocalSessionCount)
                .gauge("near_cache_sessions_on_node", "sessions whose values this node keeps (nearCacheSize)",
                        manager::getNearCacheCount));
    }

    /**
     * Registers the beans of a store of {@code context}: those of the store's Redis traffic, and
     * what {@code owner} adds (the manager's requests and session counts; nothing for a
     * {@link RedisStore}, whose {@code PersistentManager} counts its sessions itself).
     */
    static MBeanRegistrations register(Context context, SessionStoreStatistics statistics, ConnectionMetrics pool,
            java.util.function.UnaryOperator<MetricsMBean.Builder> owner) {
        String scope = scope(context);
        MBeanRegistrations beans = new MBeanRegistrations();
        MetricsMBean.Builder plain = MetricsMBean.builder("Sessions of " + scope)
                .counter("loads_total", "sessions read from Redis", statistics::loads)
                .counter("saves_total", "session saves written to Redis", statistics::saves)
                .counter("invalidations_total", "invalidation and expiry claims sent", statistics::deletes)
                .counter("bytes_read_total", "bytes of session hashes read", statistics::bytesRead)
                .counter("bytes_written_total", "bytes of session saves written", statistics::bytesWritten)
                .counter("unavailable_responses_total", "requests answered 503 because Redis failed",
                        statistics::unavailableResponses)
                .counter("replication_shortfalls_total",
                        "saves fewer than waitReplicas acknowledged, or waitAofLocal/waitAofReplicas fsynced, in time",
                        statistics::replicationShortfalls);
        beans.register("io.tomcatredis:type=SessionMetrics," + scope, pool.addTo(owner.apply(plain)).build());
        beans.counters("SessionCounters", scope, "round_trips_total", statistics.roundTripsByOperation());
        beans.counters("SessionCounters", scope, "errors_total", statistics.errorsByKind());
        beans.counters("SessionCounters", scope, "attributes_skipped_total", statistics.attributesSkipped());
        beans.counters("SessionCounters", scope, "attributes_dropped_total", statistics.attributesDropped());
        beans.counters("SessionCounters", scope, "expiry_claims_total", statistics.expiryClaims());
        beans.histogram("SessionHistogram", scope, "load_seconds", statistics.loadSeconds());
        beans.histogram("SessionHistogram", scope, "save_seconds", statistics.saveSeconds());
        beans.histogram("SessionHistogram", scope, "attribute_bytes", statistics.attributeBytes());
        beans.histogram("SessionHistogram", scope, "session_bytes", statistics.sessionBytes());
        beans.histogram("SessionHistogram", scope, "expiry_lag_seconds", statistics.expiryLagSeconds());
        beans.histogram("SessionHistogram", scope, "pool_borrow_wait_seconds", pool.borrowWaitSeconds());
        return beans;
    }

    /** {@code host=<host>,context=<path>}, the root context as {@code /}, as Tomcat's own MBeans name them. */
    static String scope(Context context) {
        String host = context.getParent() != null ? context.getParent().getName() : "localhost";
        String path = context.getPath() == null || context.getPath().isEmpty() ? "/" : context.getPath();
        return "host=" + MBeanRegistrations.value(host) + ",context=" + MBeanRegistrations.value(path);
    }
}

package io.tomcatredis.connection;

import io.tomcatredis.connection.metrics.Histogram;
import io.tomcatredis.connection.metrics.MetricsMBean;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;
import redis.clients.jedis.Connection;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.RedisSentinelClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.util.Pool;

/**
 * The connection pool of one client ({@link RedisConnector#connect}): its usage, read from the
 * commons-pool2 pools of the client open now (for Redis Cluster, summed over the pools of every
 * node), and how long callers waited to borrow a connection.
 *
 * <p>The borrow wait is measured for standalone Redis, whose pool this project owns
 * ({@link OnDemandConnectionProvider}); Jedis builds the pools of Sentinel and Cluster clients
 * itself, with no hook around a borrow, so there the histogram stays empty and
 * {@code pool_waiting_threads} (sampled at each scrape) is what shows a pool too small.
 */
public final class ConnectionMetrics {

    private final Histogram borrowWait = new Histogram(Histogram.LATENCY_SECONDS);
    private volatile Supplier<Collection<? extends Pool<Connection>>> pools = List::of;

    /** Seconds each borrow of a pooled connection waited (standalone only, see the class comment). */
    public Histogram borrowWaitSeconds() {
        return borrowWait;
    }

    /** Connections borrowed now (in use by a call). */
    public int active() {
        return sum(Pool::getNumActive);
    }

    /** Connections open and idle in the pool now. */
    public int idle() {
        return sum(Pool::getNumIdle);
    }

    /** Threads waiting to borrow a connection now. */
    public int waiting() {
        return sum(Pool::getNumWaiters);
    }

    /** The most connections the pool opens ({@code maxConnections}; per node with Redis Cluster, summed). */
    public int max() {
        return sum(Pool::getMaxTotal);
    }

    /** The pool gauges as plain metrics of {@code builder}: {@code pool_active_connections} and the like. */
    public MetricsMBean.Builder addTo(MetricsMBean.Builder builder) {
        return builder
                .gauge("pool_active_connections", "Redis connections borrowed now", this::active)
                .gauge("pool_idle_connections", "Redis connections open and idle now", this::idle)
                .gauge("pool_waiting_threads", "threads waiting for a Redis connection now", this::waiting)
                .gauge("pool_max_connections", "maxConnections (per node with Redis Cluster, summed)", this::max);
    }

    /** The pool of a standalone client, this project's own. */
    void watch(Pool<Connection> pool) {
        pools = () -> List.of(pool);
    }

    /** The pools of a client Jedis built: Sentinel (the master's) or Cluster (every node's). */
    void watch(UnifiedJedis client) {
        if (client instanceof RedisSentinelClient sentinel) {
            pools = () -> sentinel.getPrimaryNodesConnectionMap().values();
        } else if (client instanceof RedisClusterClient cluster) {
            pools = () -> cluster.getClusterNodes().values();
        }
    }

    private int sum(ToIntFunction<Pool<Connection>> gauge) {
        try {
            int total = 0;
            for (Pool<Connection> pool : pools.get()) {
                total += gauge.applyAsInt(pool);
            }
            return total;
        } catch (RuntimeException e) {
            // a pool being closed by a reconnect: the next scrape reads the new one
            return 0;
        }
    }
}

package io.tomcatredis.connection;

import io.tomcatredis.connection.metrics.Histogram;
import java.util.Collections;
import java.util.Map;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Connection;
import redis.clients.jedis.ConnectionPool;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.providers.ConnectionProvider;

/**
 * The connection pool of a standalone client, opening connections only when a caller borrows one.
 * commons-pool2 2.13 replaces a connection it invalidates at once, on the caller's thread
 * ({@code GenericObjectPool.invalidateObject} calls {@code addObject}): when Redis is frozen (the
 * connection opens, the handshake is never answered), a call that failed after {@code timeoutMillis}
 * would wait {@code timeoutMillis} once more before its failure is reported. Here that replacement
 * does nothing; the next borrow opens a connection if it needs one.
 */
final class OnDemandConnectionProvider implements ConnectionProvider {

    private final HostAndPort address;
    private final ConnectionPool pool;
    private final Histogram borrowWait;

    OnDemandConnectionProvider(HostAndPort address, JedisClientConfig clientConfig,
            GenericObjectPoolConfig<Connection> poolConfig) {
        this(address, clientConfig, poolConfig, new ConnectionMetrics());
    }

    /** @param metrics told of the pool, and of how long each borrow waited (a failed one included) */
    OnDemandConnectionProvider(HostAndPort address, JedisClientConfig clientConfig,
            GenericObjectPoolConfig<Connection> poolConfig, ConnectionMetrics metrics) {
        this.address = address;
        this.pool = new OnDemandPool(address, clientConfig, poolConfig);
        this.borrowWait = metrics.borrowWaitSeconds();
        metrics.watch(pool);
    }

    @Override
    public Connection getConnection() {
        return borrow();
    }

    @Override
    public Connection getConnection(CommandArguments args) {
        return borrow();
    }

    /** A pooled connection; the time to get it (a wait for a free one, or a connect) is recorded. */
    private Connection borrow() {
        long start = System.nanoTime();
        try {
            return pool.getResource();
        } finally {
            borrowWait.recordNanos(System.nanoTime() - start);
        }
    }

    @Override
    public Map<?, ?> getConnectionMap() {
        return Collections.singletonMap(address, pool);
    }

    @Override
    public Map<?, ?> getPrimaryNodesConnectionMap() {
        return getConnectionMap();
    }

    @Override
    public void close() {
        pool.close();
    }

    private static final class OnDemandPool extends ConnectionPool {

        OnDemandPool(HostAndPort address, JedisClientConfig clientConfig, GenericObjectPoolConfig<Connection> poolConfig) {
            super(address, clientConfig, poolConfig);
        }

        /** Only {@code invalidateObject} calls this (minIdle is 0): see the class comment. */
        @Override
        public void addObject() {
            // Nothing ahead of demand.
        }
    }
}

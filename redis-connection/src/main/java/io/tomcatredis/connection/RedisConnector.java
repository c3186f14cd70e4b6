package io.tomcatredis.connection;

import java.time.Duration;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.UnifiedJedis;

/** Opens the pooled Jedis client that {@link RedisConnectionSettings} describe. */
public final class RedisConnector {

    private RedisConnector() {
    }

    /**
     * Opens a pooled client. No connection is made yet: the first command connects, so a Redis that
     * is down at startup does not stop the webapp from starting.
     *
     * @param clientName shown by {@code CLIENT LIST}, e.g. {@code tomcat-redis-session}
     */
    public static UnifiedJedis open(RedisConnectionSettings settings, String clientName) {
        return RedisClient.builder()
                .hostAndPort(settings.host(), settings.port())
                .clientConfig(clientConfig(settings, clientName))
                .poolConfig(poolConfig(settings))
                .build();
    }

    static JedisClientConfig clientConfig(RedisConnectionSettings settings, String clientName) {
        DefaultJedisClientConfig.Builder builder = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(settings.timeoutMillis())
                .socketTimeoutMillis(settings.timeoutMillis())
                .database(settings.database())
                .clientName(clientName)
                .ssl(settings.tls());
        if (settings.password() != null) {
            builder.user(settings.user()).password(settings.password());
        }
        return builder.build();
    }

    static GenericObjectPoolConfig<Connection> poolConfig(RedisConnectionSettings settings) {
        GenericObjectPoolConfig<Connection> pool = new GenericObjectPoolConfig<>();
        pool.setMaxTotal(settings.maxConnections());
        pool.setMaxIdle(settings.maxConnections());
        pool.setMinIdle(0);
        pool.setBlockWhenExhausted(true);
        // A request never waits longer for a pooled connection than for Redis itself.
        pool.setMaxWait(Duration.ofMillis(settings.timeoutMillis()));
        // Idle connections broken by a Redis restart are found and dropped in the background.
        pool.setTestWhileIdle(true);
        pool.setTimeBetweenEvictionRuns(Duration.ofSeconds(5));
        pool.setJmxEnabled(false);
        return pool;
    }
}

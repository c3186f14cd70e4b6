package io.tomcatredis.connection;

import java.time.Duration;
import java.util.HashSet;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import redis.clients.jedis.ClientSetInfoConfig;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.RedisProtocol;
import redis.clients.jedis.RedisSentinelClient;
import redis.clients.jedis.SslOptions;
import redis.clients.jedis.SslVerifyMode;
import redis.clients.jedis.UnifiedJedis;

/** Opens the pooled Jedis client that {@link RedisConnectionSettings} describe, for any topology. */
public final class RedisConnector {

    private RedisConnector() {
    }

    /** Open attempts of a client that could not be opened, or was retired, start at most this often. */
    public static final int RECONNECT_MILLIS = 100;

    /**
     * Opens the pooled client in a {@link RedisClientHolder}, which replaces it after failures that
     * show its connections are stale (standalone and Sentinel) and opens it later when Redis cannot
     * be reached now (Sentinel or Cluster down at deploy time): the webapp starts anyway.
     *
     * @param clientName shown by {@code CLIENT LIST}, e.g. {@code tomcat-redis-session}
     */
    public static RedisClientHolder connect(RedisConnectionSettings settings, String clientName) {
        return connect(settings, clientName, new ConnectionMetrics());
    }

    /**
     * {@link #connect(RedisConnectionSettings, String)}, reporting the pool of every client it
     * opens (a reopened one included) to {@code metrics}.
     */
    public static RedisClientHolder connect(RedisConnectionSettings settings, String clientName,
            ConnectionMetrics metrics) {
        RedisClientHolder.Reopen reopen = settings.topology() == RedisConnectionSettings.Topology.CLUSTER
                ? RedisClientHolder.Reopen.NEVER : RedisClientHolder.Reopen.ON_STALE_CONNECTION;
        return new RedisClientHolder(() -> open(settings, clientName, metrics), reopen, settings.timeoutMillis(),
                Math.min(RECONNECT_MILLIS, settings.timeoutMillis()), settings.toString());
    }

    /**
     * Opens a pooled client. A standalone client connects on first use; a Sentinel client asks the
     * sentinels for the master now, and a Cluster client reads the slot map from a seed node now:
     * they throw a {@link redis.clients.jedis.exceptions.JedisException} when none answers (which
     * {@link #connect} turns into later attempts).
     *
     * @param clientName shown by {@code CLIENT LIST}, e.g. {@code tomcat-redis-session}
     */
    public static UnifiedJedis open(RedisConnectionSettings settings, String clientName) {
        return open(settings, clientName, new ConnectionMetrics());
    }

    /** {@link #open(RedisConnectionSettings, String)}, reporting the client's pool to {@code metrics}. */
    public static UnifiedJedis open(RedisConnectionSettings settings, String clientName, ConnectionMetrics metrics) {
        JedisClientConfig dataNodes = clientConfig(settings, clientName);
        UnifiedJedis client = switch (settings.topology()) {
            case STANDALONE -> RedisClient.builder()
                    .clientConfig(dataNodes)
                    .connectionProvider(new OnDemandConnectionProvider(
                            new HostAndPort(settings.host(), settings.port()), dataNodes, poolConfig(settings), metrics))
                    .build();
            case SENTINEL -> RedisSentinelClient.builder()
                    .masterName(settings.sentinelMaster())
                    .sentinels(new HashSet<>(settings.sentinels()))
                    .clientConfig(dataNodes)
                    .sentinelClientConfig(sentinelConfig(settings, clientName))
                    .poolConfig(poolConfig(settings))
                    .build();
            case CLUSTER -> RedisClusterClient.builder()
                    .nodes(new HashSet<>(settings.clusterNodes()))
                    .clientConfig(dataNodes)
                    .poolConfig(poolConfig(settings))
                    // Redirections after a failover are followed, but never for longer than a request may wait.
                    .maxTotalRetriesDuration(Duration.ofMillis(settings.timeoutMillis()))
                    .build();
        };
        metrics.watch(client);
        return client;
    }

    static JedisClientConfig clientConfig(RedisConnectionSettings settings, String clientName) {
        return dataNodeConfig(settings, clientName).build();
    }

    /**
     * A data node connection speaking RESP2, where Redis sends tracking invalidations as pub/sub
     * messages ({@link KeyInvalidations}); with RESP3, Jedis 8 consumes the {@code invalidate}
     * pushes itself and never returns them.
     */
    static JedisClientConfig resp2Config(RedisConnectionSettings settings, String clientName) {
        return dataNodeConfig(settings, clientName).protocol(RedisProtocol.RESP2).build();
    }

    private static DefaultJedisClientConfig.Builder dataNodeConfig(RedisConnectionSettings settings, String clientName) {
        DefaultJedisClientConfig.Builder builder = base(settings, clientName)
                .database(settings.database());
        if (settings.password() != null) {
            builder.user(settings.user()).password(settings.password());
        }
        return builder;
    }

    private static JedisClientConfig sentinelConfig(RedisConnectionSettings settings, String clientName) {
        DefaultJedisClientConfig.Builder builder = base(settings, clientName);
        if (settings.sentinelPassword() != null) {
            builder.password(settings.sentinelPassword());
        }
        return builder.build();
    }

    private static DefaultJedisClientConfig.Builder base(RedisConnectionSettings settings, String clientName) {
        DefaultJedisClientConfig.Builder builder = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(settings.timeoutMillis())
                .socketTimeoutMillis(settings.timeoutMillis())
                .clientName(clientName)
                // No CLIENT SETINFO: Redis 7.0 does not know it, so conf/users.acl cannot grant it,
                // and a refused one would fill ACL LOG on newer servers.
                .clientSetInfoConfig(ClientSetInfoConfig.DISABLED);
        if (settings.tls()) {
            builder.ssl(true).sslOptions(sslOptions(settings.tlsSettings()));
        }
        return builder;
    }

    private static SslOptions sslOptions(TlsSettings tls) {
        SslOptions.Builder ssl = SslOptions.builder().sslVerifyMode(switch (tls.verify()) {
            case "ca" -> SslVerifyMode.CA;
            case "none" -> SslVerifyMode.INSECURE;
            default -> SslVerifyMode.FULL;
        });
        if (tls.truststore() != null) {
            ssl.truststore(tls.truststore().toFile(), chars(tls.truststorePassword())).trustStoreType(tls.truststoreType());
        }
        if (tls.keystore() != null) {
            ssl.keystore(tls.keystore().toFile(), chars(tls.keystorePassword())).keyStoreType(tls.keystoreType());
        }
        return ssl.build();
    }

    private static char[] chars(String password) {
        return password == null ? null : password.toCharArray();
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
        // Idle, wait and active time statistics: nobody reads them, and they cost a clock read and
        // a ring-buffer write on every borrow and return.
        pool.setCollectDetailedStatistics(false);
        return pool;
    }
}

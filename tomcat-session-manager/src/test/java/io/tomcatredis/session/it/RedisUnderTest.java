package io.tomcatredis.session.it;

import io.tomcatredis.session.RedisSessionManager;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.session.store.Topology;
import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.RedisNode;
import io.tomcatredis.testsupport.SentinelRedis;
import io.tomcatredis.testsupport.StandaloneRedis;
import io.tomcatredis.testsupport.TlsMaterial;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.RedisSentinelClient;
import redis.clients.jedis.UnifiedJedis;

/**
 * A Redis deployment as the core session suite sees it: how to point the manager at it, a client
 * to inspect what it holds, and its masters for command counts and faults.
 */
final class RedisUnderTest implements AutoCloseable {

    static final String PREFIX = "tomcat-session:localhost/app:";

    private final Consumer<RedisSessionManager> configuration;
    private final UnifiedJedis client;
    private final java.util.function.Supplier<List<RedisNode>> masters;
    private final boolean cluster;
    private final Runnable flushAll;
    private java.util.function.Supplier<List<RedisNode>> pauseTargets;
    private long unavailableMillis = 2000 + 3000;

    private RedisUnderTest(Consumer<RedisSessionManager> configuration, UnifiedJedis client,
            java.util.function.Supplier<List<RedisNode>> masters, boolean cluster, Runnable flushAll) {
        this.configuration = configuration;
        this.client = client;
        this.masters = masters;
        this.pauseTargets = masters;
        this.cluster = cluster;
        this.flushAll = flushAll;
    }

    /**
     * How long a request may take to fail when Redis is frozen: timeoutMillis (2 s) plus margin;
     * with TLS, four times timeoutMillis, because the JDK drains a TLS socket on close, waiting
     * up to the socket timeout more than once (documented in the README).
     */
    long unavailableMillis() {
        return unavailableMillis;
    }

    static RedisUnderTest standalone(StandaloneRedis redis) {
        return new RedisUnderTest(m -> m.setRedisUri(redis.uri()),
                RedisClient.builder().hostAndPort(redis.node().hostAndPort()).clientConfig(redis.clientConfig()).build(),
                () -> List.of(redis.node()), false, redis::flushAll);
    }

    /** TLS with a client certificate and an ACL user: rediss://user:password@... plus stores. */
    static RedisUnderTest tls(StandaloneRedis redis) {
        TlsMaterial tls = redis.tls();
        RedisUnderTest underTest = new RedisUnderTest(m -> {
            m.setRedisUri(redis.uri());
            m.setProperty("truststore", tls.truststore().toString());
            m.setProperty("truststorePassword", TlsMaterial.STORE_PASSWORD);
            m.setProperty("keystore", tls.clientKeystore().toString());
            m.setProperty("keystorePassword", TlsMaterial.STORE_PASSWORD);
        }, RedisClient.builder().hostAndPort(redis.node().hostAndPort()).clientConfig(redis.clientConfig()).build(),
                () -> List.of(redis.node()), false, redis::flushAll);
        underTest.unavailableMillis = 4 * 2000 + 3000;
        return underTest;
    }

    static RedisUnderTest sentinel(SentinelRedis redis) {
        RedisUnderTest underTest = new RedisUnderTest(m -> {
            m.setProperty("sentinelMaster", SentinelRedis.MASTER_NAME);
            m.setProperty("sentinels", redis.sentinelAddresses());
        }, RedisSentinelClient.builder().masterName(SentinelRedis.MASTER_NAME).sentinels(redis.sentinelHostAndPorts())
                .clientConfig(redis.clientConfig()).build(),
                () -> List.of(redis.currentMaster()), false, redis::flushAll);
        // Freeze both data nodes: with only the master frozen, the sentinels fail over within a second.
        underTest.pauseTargets = redis::dataNodes;
        return underTest;
    }

    static RedisUnderTest cluster(ClusterRedis redis) {
        return new RedisUnderTest(m -> m.setProperty("clusterNodes", redis.clusterNodes()),
                RedisClusterClient.builder().nodes(redis.hostAndPorts()).clientConfig(redis.clientConfig()).build(),
                () -> redis.masters().stream().filter(RedisNode::isRunning).toList(), true, redis::flushAll);
    }

    void configure(RedisSessionManager manager) {
        configuration.accept(manager);
    }

    /** A client for inspecting and changing what Redis holds. */
    UnifiedJedis client() {
        return client;
    }

    List<RedisNode> masters() {
        return masters.get();
    }

    RedisCommands commands() {
        return new RedisCommands(masters);
    }

    /** Every key on every master. */
    Set<String> keys() {
        Set<String> keys = new HashSet<>();
        for (RedisNode master : masters.get()) {
            try (Jedis jedis = master.client()) {
                keys.addAll(jedis.keys("*"));
            }
        }
        return keys;
    }

    String sessionKey(String id) {
        return PREFIX + "{" + SessionKeys.baseId(id) + "}";
    }

    String indexKey(String id) {
        SessionKeys keys = new SessionKeys(PREFIX);
        return (cluster ? Topology.cluster(keys) : Topology.singleSlot(keys)).expiryIndexKey(id);
    }

    void flushAll() {
        flushAll.run();
    }

    private List<RedisNode> paused = List.of();

    /** Freezes every master (SIGSTOP), and for Sentinel the replica too. */
    void pauseMasters() {
        paused = pauseTargets.get();
        paused.forEach(RedisNode::pause);
    }

    /** Thaws the nodes {@link #pauseMasters()} froze, whatever their role is now. */
    void resumeMasters() {
        paused.forEach(RedisNode::resume);
        paused = List.of();
    }

    @Override
    public void close() {
        client.close();
    }
}

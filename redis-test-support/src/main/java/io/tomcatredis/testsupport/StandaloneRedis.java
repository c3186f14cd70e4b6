package io.tomcatredis.testsupport;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import redis.clients.jedis.Jedis;

/** One {@code redis-server}, optionally with TLS or an ACL user. */
public final class StandaloneRedis extends RedisDeployment {

    private final RedisNode node;

    private StandaloneRedis(RedisOptions options) {
        super("standalone", options);
        node = newServer("redis", List.of());
    }

    /** Starts a plain Redis on a free loopback port and waits until it answers. */
    public static StandaloneRedis start() {
        return start(RedisOptions.DEFAULTS);
    }

    /** Starts a Redis with the given options and waits until it answers. */
    public static StandaloneRedis start(RedisOptions options) {
        StandaloneRedis redis = new StandaloneRedis(options);
        try {
            redis.node.start();
            return redis;
        } catch (RuntimeException e) {
            redis.close();
            throw e;
        }
    }

    public RedisNode node() {
        return node;
    }

    /**
     * The connection URI a client of the project would be configured with:
     * {@code redis://127.0.0.1:port}, {@code rediss://...} with TLS, with {@code user:password@}
     * when an ACL user is configured.
     */
    public String uri() {
        StringBuilder uri = new StringBuilder(options().tls ? "rediss://" : "redis://");
        if (options().hasAclUser()) {
            uri.append(encode(options().user)).append(':').append(encode(options().password)).append('@');
        }
        return uri.append(node.host()).append(':').append(node.port()).toString();
    }

    @Override
    public void flushAll() {
        try (Jedis jedis = node.client()) {
            jedis.flushAll();
        }
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}

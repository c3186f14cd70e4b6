package io.tomcatredis.testsupport;

import java.util.Locale;

/**
 * Which server the harness runs: Redis ({@code redis-server}, {@code redis-sentinel}) or Valkey
 * ({@code valkey-server}, {@code valkey-sentinel}), chosen for a whole test JVM by the system
 * property {@code redis.server} ({@code redis} when unset) or per deployment by
 * {@link RedisOptions#withServer}.
 */
public enum RedisServer {
    REDIS("redis"),
    VALKEY("valkey");

    /** The system property choosing the default server: {@code redis} or {@code valkey}. */
    public static final String PROPERTY = "redis.server";

    private final String name;

    RedisServer(String name) {
        this.name = name;
    }

    /** The server named by {@value #PROPERTY}, REDIS when it is unset or blank. */
    public static RedisServer fromSystemProperty() {
        String value = System.getProperty(PROPERTY, "").trim().toLowerCase(Locale.ROOT);
        if (value.isEmpty()) {
            return REDIS;
        }
        for (RedisServer server : values()) {
            if (server.name.equals(value)) {
                return server;
            }
        }
        throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + " is not a server the harness knows:"
                + " use redis or valkey");
    }

    /** {@code redis} or {@code valkey}, as in the binaries' names. */
    public String binaryPrefix() {
        return name;
    }

    String serverBinary() {
        return RedisBinaries.require(name + "-server");
    }

    String sentinelBinary() {
        return RedisBinaries.require(name + "-sentinel");
    }
}

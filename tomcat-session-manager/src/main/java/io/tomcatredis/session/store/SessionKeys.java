package io.tomcatredis.session.store;

import java.nio.charset.StandardCharsets;

/**
 * The Redis layout of sessions: the one class that knows key names, field names and Lua scripts.
 * This layout is public API; tools may read it.
 *
 * <h2>Keys</h2>
 * <pre>
 *   &lt;keyPrefix&gt;{&lt;id&gt;}      hash   one session
 * </pre>
 * {@code <id>} is the session id without a {@code .jvmRoute} suffix, so every node finds the
 * session whatever route the id carries. It sits inside a Redis Cluster hash tag, so every key of
 * one session lands in one slot. The default {@code keyPrefix} is
 * {@code tomcat-session:<host><contextPath>:}, so two webapps never read each other's sessions.
 *
 * <h2>Fields of the session hash</h2>
 * <pre>
 *   meta:creationTime         creation time, epoch milliseconds, decimal
 *   meta:lastAccessedTime     end of the last request that used the session, epoch ms, decimal
 *   meta:maxInactiveInterval  seconds, decimal; 0 or negative: never expires
 *   meta:principal            the authenticated principal, serialized (only when set)
 *   meta:authType             the authentication type, UTF-8 (only when set)
 *   meta:version              incremented by every save
 *   attr:&lt;name&gt;               one attribute, serialized by the configured serializer
 * </pre>
 * Attribute fields carry the {@code attr:} prefix and metadata fields the {@code meta:} prefix, so
 * no attribute name can ever collide with metadata.
 *
 * <h2>Expiry</h2>
 * Every session key has a TTL of {@code maxInactiveInterval} plus {@link #TTL_GRACE_SECONDS},
 * renewed by every save; a session that never expires gets {@link #NEVER_EXPIRES_TTL_SECONDS}.
 * Keys are written only by saves of sessions that exist: a request with an unknown or expired id
 * never creates one.
 */
public final class SessionKeys {

    public static final String ATTRIBUTE_PREFIX = "attr:";
    public static final String CREATION_TIME = "meta:creationTime";
    public static final String LAST_ACCESSED_TIME = "meta:lastAccessedTime";
    public static final String MAX_INACTIVE_INTERVAL = "meta:maxInactiveInterval";
    public static final String PRINCIPAL = "meta:principal";
    public static final String AUTH_TYPE = "meta:authType";
    public static final String VERSION = "meta:version";

    /** Redis keeps a session this long past its deadline, so that expiry can still read it. */
    public static final long TTL_GRACE_SECONDS = 300;
    /** TTL of a session whose maxInactiveInterval is 0 or negative, renewed by every save. */
    public static final long NEVER_EXPIRES_TTL_SECONDS = 30L * 24 * 3600;

    /**
     * Saves a session in one atomic step. KEYS[1]: the session hash. ARGV[1]: "1" when the session
     * must already exist (a save never resurrects a session that another node removed), "0" to
     * create it afresh. ARGV[2]: TTL in milliseconds. ARGV[3]: n, the number of field/value pairs
     * that follow; after them, the fields to delete. Returns the new version, or -1 when the
     * session no longer exists.
     */
    static final LuaScript SAVE = new LuaScript("""
            if ARGV[1] == '1' then
              if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
            else
              redis.call('DEL', KEYS[1])
            end
            local n = tonumber(ARGV[3])
            if n > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 4, 3 + 2 * n)) end
            if #ARGV > 3 + 2 * n then redis.call('HDEL', KEYS[1], unpack(ARGV, 4 + 2 * n)) end
            local version = redis.call('HINCRBY', KEYS[1], '%s', 1)
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            return version
            """.formatted(VERSION));

    /**
     * Moves a session to a new id in one atomic step, keeping its TTL. KEYS[1]: old key, KEYS[2]:
     * new key. Returns 1 when moved, 0 when the old session no longer exists. Both keys must be in
     * one slot, so this serves standalone and Sentinel deployments.
     */
    static final LuaScript RENAME = new LuaScript("""
            if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
            redis.call('RENAME', KEYS[1], KEYS[2])
            return 1
            """);

    private final String prefix;

    /**
     * @param prefix the {@code keyPrefix}; must not contain braces, which would break the hash tag
     */
    public SessionKeys(String prefix) {
        if (prefix == null || prefix.isEmpty()) {
            throw new IllegalArgumentException("keyPrefix must not be empty");
        }
        if (prefix.indexOf('{') >= 0 || prefix.indexOf('}') >= 0) {
            throw new IllegalArgumentException("keyPrefix must not contain '{' or '}' (they delimit the hash tag)");
        }
        this.prefix = prefix;
    }

    /** The default {@code keyPrefix} for a webapp: {@code tomcat-session:<host><contextPath>:}. */
    public static String defaultPrefix(String hostName, String contextPath) {
        String path = contextPath == null || contextPath.isEmpty() ? "/" : contextPath;
        return "tomcat-session:" + hostName + path + ":";
    }

    public String prefix() {
        return prefix;
    }

    /** The key of the session hash for {@code sessionId}, with or without a jvmRoute suffix. */
    public String sessionKey(String sessionId) {
        return prefix + "{" + baseId(sessionId) + "}";
    }

    byte[] sessionKeyBytes(String sessionId) {
        return sessionKey(sessionId).getBytes(StandardCharsets.UTF_8);
    }

    /** The session id without its {@code .jvmRoute} suffix. */
    public static String baseId(String sessionId) {
        int dot = sessionId.indexOf('.');
        return dot < 0 ? sessionId : sessionId.substring(0, dot);
    }

    public static String attributeField(String attributeName) {
        return ATTRIBUTE_PREFIX + attributeName;
    }
}

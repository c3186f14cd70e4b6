package io.tomcatredis.session.store;

import io.tomcatredis.connection.LuaScript;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import redis.clients.jedis.util.JedisClusterCRC16;

/**
 * The Redis layout of sessions: the one class that knows key names, field names and Lua scripts.
 * This layout is public API; tools may read it.
 *
 * <h2>Keys</h2>
 * <pre>
 *   &lt;keyPrefix&gt;{&lt;id&gt;}              hash        one session
 *   &lt;keyPrefix&gt;{&lt;id&gt;}:data:&lt;name&gt;  any type    a session-scoped structure of the application
 *   &lt;keyPrefix&gt;expirations         sorted set  expiry index: member = session id, score = deadline
 *   &lt;keyPrefix&gt;expirations:{&lt;tag&gt;} sorted set  with Redis Cluster: one index per slot, {@code <tag>}
 *                                           chosen to land in that slot
 * </pre>
 * {@code <id>} is the session id without a {@code .jvmRoute} suffix, so every node finds the
 * session whatever route the id carries. It sits inside a Redis Cluster hash tag, so every key of
 * one session lands in one slot. The default {@code keyPrefix} is
 * {@code tomcat-session:<host><contextPath>:}, so two webapps never read each other's sessions.
 *
 * <h2>Fields of the session hash</h2>
 * <pre>
 *   meta:creationTime           creation time, epoch milliseconds, decimal
 *   meta:lastAccessedTime       end of the last request that used the session, epoch ms, decimal
 *   meta:maxInactiveInterval    seconds, decimal; 0 or negative: never expires
 *   meta:principal              the authenticated principal, serialized (only when set)
 *   meta:authType               the authentication type, UTF-8 (only when set)
 *   meta:activationListeners    names of attributes that are HttpSessionActivationListeners, one per line
 *   meta:dataKeys               names of the session-scoped structures, one per line
 *   meta:version                incremented by every save
 *   attr:&lt;name&gt;                 one attribute, serialized by the configured serializer
 * </pre>
 * Attribute fields carry the {@code attr:} prefix and metadata fields the {@code meta:} prefix, so
 * no attribute name can ever collide with metadata.
 *
 * <h2>Expiry</h2>
 * The expiry index holds each session's deadline ({@code lastAccessedTime + maxInactiveInterval};
 * {@code +inf} for a session that never expires), written by the same atomic script as the session.
 * Every node's background process claims due sessions with {@link #CLAIM_IF_EXPIRED}: the script
 * checks the deadline against the hash and deletes the session in one step, so exactly one node
 * fires the listeners. The index itself lives as long as its longest-lived session. Redis TTLs
 * stay as a safety net: every key of a session lives
 * {@code maxInactiveInterval} plus {@link #TTL_GRACE_SECONDS}, renewed by every save;
 * {@link #NEVER_EXPIRES_TTL_SECONDS} for a session that never expires. Keys are written only by
 * saves of sessions that exist: a request with an unknown or expired id never creates one.
 */
public final class SessionKeys {

    public static final String ATTRIBUTE_PREFIX = "attr:";
    public static final String CREATION_TIME = "meta:creationTime";
    public static final String LAST_ACCESSED_TIME = "meta:lastAccessedTime";
    public static final String MAX_INACTIVE_INTERVAL = "meta:maxInactiveInterval";
    public static final String PRINCIPAL = "meta:principal";
    public static final String AUTH_TYPE = "meta:authType";
    public static final String ACTIVATION_LISTENERS = "meta:activationListeners";
    public static final String DATA_KEYS = "meta:dataKeys";
    public static final String VERSION = "meta:version";
    static final String DATA_INFIX = ":data:";
    static final String EXPIRY_INDEX = "expirations";

    /** Redis keeps a session this long past its deadline, so that expiry can still read it. */
    public static final long TTL_GRACE_SECONDS = 300;
    /** TTL of a session whose maxInactiveInterval is 0 or negative, renewed by every save. */
    public static final long NEVER_EXPIRES_TTL_SECONDS = 30L * 24 * 3600;

    /** Lua: deletes the session-scoped structures listed in the hash KEYS[1]. */
    private static final String DELETE_DATA_KEYS = """
            local names = redis.call('HGET', KEYS[1], '%s')
            if names then
              for name in string.gmatch(names, '[^\\n]+') do redis.call('DEL', KEYS[1] .. '%s' .. name) end
            end
            """.formatted(DATA_KEYS, DATA_INFIX);

    /**
     * Saves a session in one atomic step. KEYS[1]: the session hash, KEYS[2]: the expiry index.
     * ARGV[1]: "1" when the session must already exist (a save never resurrects a session that
     * another node removed), "0" to create it afresh. ARGV[2]: TTL in milliseconds. ARGV[3]: the
     * deadline for the index ("+inf" if none). ARGV[4]: the index member (the session id). ARGV[5]:
     * n, the number of field/value pairs that follow; after them, the fields to delete. Renews the
     * TTL of the session-scoped structures too. Returns the new version, or -1 when the session no
     * longer exists.
     */
    static final LuaScript SAVE = new LuaScript("""
            if ARGV[1] == '1' then
              if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
            else
              redis.call('DEL', KEYS[1])
            end
            local n = tonumber(ARGV[5])
            if n > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 6, 5 + 2 * n)) end
            if #ARGV > 5 + 2 * n then redis.call('HDEL', KEYS[1], unpack(ARGV, 6 + 2 * n)) end
            local version = redis.call('HINCRBY', KEYS[1], '%s', 1)
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            local names = redis.call('HGET', KEYS[1], '%s')
            if names then
              for name in string.gmatch(names, '[^\\n]+') do redis.call('PEXPIRE', KEYS[1] .. '%s' .. name, ARGV[2]) end
            end
            redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
            if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
            return version
            """.formatted(VERSION, DATA_KEYS, DATA_INFIX));

    /**
     * Claims a session for expiry or invalidation: deletes it, its structures and its index entry.
     * KEYS[1]: hash, KEYS[2]: index; ARGV[1]: index member; ARGV[2..]: names of structures created
     * during the current request, not yet listed in the hash. Returns 1 to the one caller that
     * deleted it, 0 to everyone else.
     */
    static final LuaScript CLAIM = new LuaScript(DELETE_DATA_KEYS + """
            for i = 2, #ARGV do redis.call('DEL', KEYS[1] .. '%s' .. ARGV[i]) end
            redis.call('ZREM', KEYS[2], ARGV[1])
            return redis.call('DEL', KEYS[1])
            """.formatted(DATA_INFIX));

    /**
     * Claims a session whose deadline has passed. KEYS[1]: hash, KEYS[2]: index; ARGV[1]: index
     * member, ARGV[2]: now (epoch ms). Returns the hash (HGETALL) to the one caller that claimed it,
     * and false when the session is gone or not due (its index entry is corrected then).
     */
    static final LuaScript CLAIM_IF_EXPIRED = new LuaScript("""
            if redis.call('EXISTS', KEYS[1]) == 0 then
              redis.call('ZREM', KEYS[2], ARGV[1])
              return false
            end
            local f = redis.call('HMGET', KEYS[1], '%s', '%s')
            local max = tonumber(f[2]) or 0
            if max <= 0 then
              redis.call('ZADD', KEYS[2], '+inf', ARGV[1])
              return false
            end
            local deadline = (tonumber(f[1]) or 0) + max * 1000
            if deadline > tonumber(ARGV[2]) then
              redis.call('ZADD', KEYS[2], deadline, ARGV[1])
              return false
            end
            local data = redis.call('HGETALL', KEYS[1])
            """.formatted(LAST_ACCESSED_TIME, MAX_INACTIVE_INTERVAL) + DELETE_DATA_KEYS + """
            redis.call('DEL', KEYS[1])
            redis.call('ZREM', KEYS[2], ARGV[1])
            return data
            """);

    /**
     * Moves a session and its structures to a new id in one atomic step, keeping TTLs and the
     * deadline. KEYS[1]: old hash, KEYS[2]: new hash, KEYS[3]: index; ARGV[1]: old member, ARGV[2]:
     * new member. Returns 1 when moved, 0 when the old session no longer exists. All keys must be
     * in one slot, so this serves standalone and Sentinel deployments.
     */
    static final LuaScript RENAME = new LuaScript("""
            if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
            local names = redis.call('HGET', KEYS[1], '%s')
            if names then
              for name in string.gmatch(names, '[^\\n]+') do
                local from = KEYS[1] .. '%s' .. name
                if redis.call('EXISTS', from) == 1 then redis.call('RENAME', from, KEYS[2] .. '%s' .. name) end
              end
            end
            redis.call('RENAME', KEYS[1], KEYS[2])
            local score = redis.call('ZSCORE', KEYS[3], ARGV[1])
            redis.call('ZREM', KEYS[3], ARGV[1])
            if score then redis.call('ZADD', KEYS[3], score, ARGV[2]) end
            return 1
            """.formatted(DATA_KEYS, DATA_INFIX, DATA_INFIX));

    /**
     * Copies a session into another slot (Redis Cluster id change), first half: KEYS[1]: old hash,
     * KEYS[2]: its index; ARGV[1]: old member. Returns false when the session is gone, else
     * {score, pttl, dump, name1, pttl1, dump1, ...} for the hash and each existing structure.
     */
    static final LuaScript EXPORT = new LuaScript("""
            if redis.call('EXISTS', KEYS[1]) == 0 then return false end
            local out = {redis.call('ZSCORE', KEYS[2], ARGV[1]) or '+inf', redis.call('PTTL', KEYS[1]),
                         redis.call('DUMP', KEYS[1])}
            local names = redis.call('HGET', KEYS[1], '%s')
            if names then
              for name in string.gmatch(names, '[^\\n]+') do
                local key = KEYS[1] .. '%s' .. name
                if redis.call('EXISTS', key) == 1 then
                  table.insert(out, name)
                  table.insert(out, redis.call('PTTL', key))
                  table.insert(out, redis.call('DUMP', key))
                end
              end
            end
            return out
            """.formatted(DATA_KEYS, DATA_INFIX));

    /**
     * Second half of {@link #EXPORT}: KEYS[1]: new hash, KEYS[2]: its index; ARGV: new member, then
     * what EXPORT returned. Restores every key with its TTL and enters the deadline in the index.
     */
    static final LuaScript IMPORT = new LuaScript("""
            local function ttl(value) return math.max(tonumber(value), 0) end
            redis.call('RESTORE', KEYS[1], ttl(ARGV[3]), ARGV[4], 'REPLACE')
            for i = 5, #ARGV, 3 do
              redis.call('RESTORE', KEYS[1] .. '%s' .. ARGV[i], ttl(ARGV[i + 1]), ARGV[i + 2], 'REPLACE')
            end
            redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
            if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
            return 1
            """.formatted(DATA_INFIX));

    private static final int SLOTS = 16384;

    private final String prefix;
    private final boolean slotAligned;

    /**
     * @param prefix the {@code keyPrefix}; must not contain braces, which would break the hash tag
     */
    public SessionKeys(String prefix) {
        this(prefix, false);
    }

    /**
     * @param prefix      the {@code keyPrefix}; must not contain braces, which would break the hash tag
     * @param slotAligned true for Redis Cluster: the expiry index is split into one key per slot,
     *                    {@code <keyPrefix>expirations:{<tag>}}, each in the slot of the sessions it
     *                    indexes, so that scripts touch one slot only
     */
    public SessionKeys(String prefix, boolean slotAligned) {
        this.slotAligned = slotAligned;
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

    /** The expiry index that holds {@code sessionId}'s deadline. */
    public String expiryIndexKey(String sessionId) {
        if (!slotAligned) {
            return prefix + EXPIRY_INDEX;
        }
        return indexKeyOfSlot(JedisClusterCRC16.getSlot(baseId(sessionId)));
    }

    /** Every expiry index key of this prefix: one, or one per Redis Cluster slot. */
    public List<String> expiryIndexKeys() {
        if (!slotAligned) {
            return List.of(prefix + EXPIRY_INDEX);
        }
        List<String> all = new ArrayList<>(SLOTS);
        for (int slot = 0; slot < SLOTS; slot++) {
            all.add(indexKeyOfSlot(slot));
        }
        return all;
    }

    boolean slotAligned() {
        return slotAligned;
    }

    private String indexKeyOfSlot(int slot) {
        return prefix + EXPIRY_INDEX + ":{" + SlotTags.TAGS[slot] + "}";
    }

    /** For each slot, a short hash tag that lands in it, found once by trying counters. */
    private static final class SlotTags {
        static final String[] TAGS = new String[SLOTS];

        static {
            int found = 0;
            for (int candidate = 0; found < SLOTS; candidate++) {
                String tag = Integer.toString(candidate, 36);
                int slot = JedisClusterCRC16.getSlot(tag);
                if (TAGS[slot] == null) {
                    TAGS[slot] = tag;
                    found++;
                }
            }
        }
    }

    /** The key of session-scoped structure {@code name} of {@code sessionId}. */
    public String dataKey(String sessionId, String name) {
        return sessionKey(sessionId) + DATA_INFIX + name;
    }

    public static String attributeField(String attributeName) {
        return ATTRIBUTE_PREFIX + attributeName;
    }
}

package io.tomcatredis.session;

import io.tomcatredis.session.store.SessionKeys;
import jakarta.servlet.http.HttpSession;
import java.util.List;
import java.util.Map;
import java.util.Set;
import redis.clients.jedis.UnifiedJedis;

/**
 * Session-scoped Redis structures: keys that belong to one session, like the profile hash and the
 * recommendation set of the source design.
 *
 * <pre>{@code
 * RedisSessions.Scope scope = RedisSessions.of(request.getSession());
 * scope.sadd("recommendations", "p-17", "p-42");
 * Set<String> products = scope.smembers("recommendations");
 * }</pre>
 *
 * The handle speaks a few Redis commands itself rather than handing out the Jedis client, so the
 * API stays the same when the drop-in JAR relocates Jedis.
 *
 * A key named here lives under the session's hash tag ({@code <keyPrefix>{<id>}:data:<name>}), so
 * it shares the session's Redis Cluster slot. It expires with the session (its TTL is renewed at
 * the end of every request), is deleted when the session is invalidated or times out, and moves
 * with the session when its id changes. Use it inside a request of the session: the end of the
 * request is what records the key in the session.
 */
public final class RedisSessions {

    /** Servlet context attribute under which the manager publishes itself for {@link #of}. */
    static final String CONTEXT_ATTRIBUTE = RedisSessions.class.getName();

    private final RedisSessionManager manager;
    private final UnifiedJedis redis;
    private final SessionKeys keys;

    RedisSessions(RedisSessionManager manager, UnifiedJedis redis, SessionKeys keys) {
        this.manager = manager;
        this.redis = redis;
        this.keys = keys;
    }

    /**
     * The structures of {@code session}.
     *
     * @throws IllegalStateException when the webapp's sessions are not managed by
     *         {@link RedisSessionManager}, or the session is no longer valid
     */
    public static Scope of(HttpSession session) {
        Object registered = session.getServletContext().getAttribute(CONTEXT_ATTRIBUTE);
        if (!(registered instanceof RedisSessions sessions)) {
            throw new IllegalStateException("The sessions of " + session.getServletContext().getContextPath()
                    + " are not managed by " + RedisSessionManager.class.getName());
        }
        RedisSession redisSession = (RedisSession) sessions.manager.findSession(session.getId());
        if (redisSession == null || !redisSession.isLive()) {
            throw new IllegalStateException("The session is no longer valid");
        }
        return new Scope(redisSession, sessions);
    }

    /**
     * A session as Redis holds it.
     *
     * @param key        the session hash
     * @param ttlSeconds its remaining time to live
     * @param fields     field name to value size in bytes
     * @param structures key of each session-scoped structure to its memory usage in bytes (null if absent)
     */
    public record Snapshot(String key, long ttlSeconds, Map<String, Long> fields, Map<String, Long> structures) {
    }

    /** The keys of one session, and the client to use them with. */
    public static final class Scope {
        private final RedisSession session;
        private final RedisSessions sessions;

        private Scope(RedisSession session, RedisSessions sessions) {
            this.session = session;
            this.sessions = sessions;
        }

        /**
         * The key of structure {@code name} of this session, which from now on expires, moves and
         * dies with the session.
         *
         * @param name letters, digits and {@code - _ . :}, at most 200 characters
         */
        public String key(String name) {
            if (name == null || name.isEmpty() || name.length() > 200 || !name.matches("[A-Za-z0-9_.:-]+")) {
                throw new IllegalArgumentException("Structure name must be 1 to 200 letters, digits or '-_.:', got: "
                        + name);
            }
            session.addDataKey(name);
            return sessions.keys.dataKey(session.getIdInternal(), name);
        }

        /**
         * The session as Redis holds it right now (before this request's changes are saved): key,
         * TTL, and the size of every field and structure. For inspection pages and support.
         */
        public Snapshot snapshot() {
            String key = sessions.keys.sessionKey(session.getIdInternal());
            Map<String, Long> fields = new java.util.TreeMap<>();
            redis().hgetAll(key.getBytes(java.nio.charset.StandardCharsets.UTF_8)).forEach((field, value) ->
                    fields.put(new String(field, java.nio.charset.StandardCharsets.UTF_8), (long) value.length));
            Map<String, Long> structures = new java.util.TreeMap<>();
            for (String name : session.dataKeys()) {
                structures.put(sessions.keys.dataKey(session.getIdInternal(), name),
                        redis().memoryUsage(sessions.keys.dataKey(session.getIdInternal(), name)));
            }
            return new Snapshot(key, redis().ttl(key), fields, structures);
        }

        /** SET of a string structure. */
        public void set(String name, String value) {
            redis().set(key(name), value);
        }

        /** GET of a string structure, or null. */
        public String get(String name) {
            return redis().get(key(name));
        }

        public long hset(String name, Map<String, String> fields) {
            return redis().hset(key(name), fields);
        }

        public String hget(String name, String field) {
            return redis().hget(key(name), field);
        }

        public Map<String, String> hgetAll(String name) {
            return redis().hgetAll(key(name));
        }

        public long hdel(String name, String... fields) {
            return redis().hdel(key(name), fields);
        }

        public long sadd(String name, String... members) {
            return redis().sadd(key(name), members);
        }

        public long srem(String name, String... members) {
            return redis().srem(key(name), members);
        }

        public Set<String> smembers(String name) {
            return redis().smembers(key(name));
        }

        public boolean sismember(String name, String member) {
            return redis().sismember(key(name), member);
        }

        public long rpush(String name, String... values) {
            return redis().rpush(key(name), values);
        }

        public List<String> lrange(String name, long start, long stop) {
            return redis().lrange(key(name), start, stop);
        }

        /** Deletes a structure; it stays known to the session (and is recreated by a later write). */
        public boolean delete(String name) {
            return redis().del(key(name)) > 0;
        }

        /** The remaining time to live in seconds, as Redis reports it for the structure's key. */
        public long ttl(String name) {
            return redis().ttl(key(name));
        }

        private UnifiedJedis redis() {
            return sessions.redis;
        }
    }
}

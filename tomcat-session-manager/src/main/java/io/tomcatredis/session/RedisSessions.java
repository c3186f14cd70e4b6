package io.tomcatredis.session;

import io.tomcatredis.session.store.PrincipalIndex;
import io.tomcatredis.session.store.RedisSessionStore;
import io.tomcatredis.session.store.SessionHashFormat;
import jakarta.servlet.ServletContext;
import jakarta.servlet.http.HttpSession;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
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
 * it shares the session's Redis Cluster slot. Every write binds it to the session in the same
 * atomic step: it is listed in the session's {@code meta:dataKeys} and takes the session's TTL, so
 * it never outlives the session, is deleted when the session is invalidated or times out, and
 * moves with the session when its id changes. A session created in the current request is written
 * to Redis before its first structure. Redis trouble surfaces as the same exception as in any
 * session access, which the manager answers with 503.
 *
 * <p>Sign a user out everywhere ("log out of all devices"):
 *
 * <pre>{@code
 * List<RedisSessions.UserSession> devices = RedisSessions.sessionsOf(getServletContext(), request.getRemoteUser());
 * int signedOut = RedisSessions.invalidateAll(getServletContext(), request.getRemoteUser());
 * }</pre>
 *
 * The user name is the principal's {@code getName()}, as Tomcat's authenticators cache it in the
 * session, or, for a session without a principal, the value of {@link #PRINCIPAL_NAME_ATTRIBUTE}
 * (an application that signs users in itself sets it); the sessions are found through the
 * principal index ({@link PrincipalIndex}).
 */
public final class RedisSessions {

    /**
     * For applications that sign users in themselves, without a container principal: a session
     * attribute whose String value names the user the session belongs to, as Spring Session's
     * {@code PRINCIPAL_NAME_INDEX_NAME} does. A session's user is its principal's
     * {@code getName()} when it has a principal, else this attribute's value.
     */
    public static final String PRINCIPAL_NAME_ATTRIBUTE = "io.tomcatredis.session.principalName";

    /** Servlet context attribute under which the manager publishes itself for {@link #of}. */
    static final String CONTEXT_ATTRIBUTE = RedisSessions.class.getName();

    private final RedisSessionManager manager;
    private final RedisSessionStore store;

    RedisSessions(RedisSessionManager manager, RedisSessionStore store) {
        this.manager = manager;
        this.store = store;
    }

    /**
     * A session of one user, as Redis holds it.
     *
     * @param id               the session id as its clients know it (with the route of the node that
     *                         created it or changed it last)
     * @param creationTime     when it was created, epoch milliseconds
     * @param lastAccessedTime when a request last used it, epoch milliseconds by Redis' clock (may lag
     *                         behind the last request by up to {@code touchInterval})
     */
    public record UserSession(String id, long creationTime, long lastAccessedTime) {
    }

    /**
     * The live sessions of user {@code userName} in this webapp, on every node: those whose
     * principal ({@code Principal.getName()}) is that user and whose deadline has not passed, in
     * no particular order. Costs two round trips plus one per 1,000 sessions of the user (see
     * {@link PrincipalIndex#sessions}).
     *
     * @param context the webapp, e.g. {@code request.getServletContext()}
     * @throws IllegalArgumentException when {@code userName} is null
     * @throws IllegalStateException when the webapp's sessions are not managed by {@link RedisSessionManager}
     * @throws io.tomcatredis.session.store.SessionStoreUnavailableException when Redis fails (in a
     *         request, the manager answers it with 503)
     */
    public static List<UserSession> sessionsOf(ServletContext context, String userName) {
        List<UserSession> sessions = new ArrayList<>();
        for (PrincipalIndex.Member member : of(context).manager.sessionsOf(userName)) {
            if (!member.expired()) {
                sessions.add(new UserSession(member.id(), member.creationTime(), member.lastAccessedTime()));
            }
        }
        return List.copyOf(sessions);
    }

    /**
     * Signs user {@code userName} out everywhere: invalidates every session of the user in this
     * webapp, the calling request's own included, as {@code HttpSession.invalidate()} would on each.
     * Each session's listeners ({@code sessionDestroyed}, {@code valueUnbound}) fire exactly once,
     * on the node that wins its claim in Redis; no node serves any of them afterwards (a request in
     * flight on another node loses its changes, as after any invalidation).
     *
     * @return how many sessions this call invalidated
     * @throws IllegalArgumentException when {@code userName} is null
     * @throws IllegalStateException when the webapp's sessions are not managed by {@link RedisSessionManager}
     * @throws io.tomcatredis.session.store.SessionStoreUnavailableException when Redis fails (in a
     *         request, the manager answers it with 503); sessions invalidated before the failure stay
     *         invalidated, the others are untouched
     */
    public static int invalidateAll(ServletContext context, String userName) {
        RedisSessions sessions = of(context);
        return sessions.manager.administratively(() -> sessions.manager.expireSessionsOf(userName));
    }

    private static RedisSessions of(ServletContext context) {
        Object registered = context.getAttribute(CONTEXT_ATTRIBUTE);
        if (!(registered instanceof RedisSessions sessions)) {
            throw new IllegalStateException("The sessions of " + context.getContextPath()
                    + " are not managed by " + RedisSessionManager.class.getName());
        }
        return sessions;
    }

    /**
     * The structures of {@code session}.
     *
     * @throws IllegalStateException when the webapp's sessions are not managed by
     *         {@link RedisSessionManager}, or the session is no longer valid
     */
    public static Scope of(HttpSession session) {
        RedisSessions sessions = of(session.getServletContext());
        RedisSession redisSession = (RedisSession) sessions.manager.administratively(
                () -> sessions.manager.findSession(session.getId()));
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

    /** The keys of one session, and the commands to use them with. */
    public static final class Scope {
        private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[A-Za-z0-9_.:-]{1,200}");

        private final RedisSession session;
        private final RedisSessions sessions;

        private Scope(RedisSession session, RedisSessions sessions) {
            this.session = session;
            this.sessions = sessions;
        }

        /**
         * The key of structure {@code name} of this session.
         *
         * @param name letters, digits and {@code - _ . :}, at most 200 characters
         * @throws IllegalArgumentException for another name
         */
        public String key(String name) {
            if (name == null || !NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("Structure name must be 1 to 200 letters, digits or '-_.:', got: "
                        + name);
            }
            return sessions.store.keys().dataKey(session.getIdInternal(), name);
        }

        /**
         * The session as Redis holds it right now (before this request's changes are saved): key,
         * TTL, and the size of every field and structure. For inspection pages and support.
         */
        public Snapshot snapshot() {
            String key = sessions.store.keys().sessionKey(session.getIdInternal());
            Map<String, Long> fields = new TreeMap<>();
            read(redis -> redis.hgetAll(key.getBytes(StandardCharsets.UTF_8))).forEach((field, value) ->
                    fields.put(new String(field, StandardCharsets.UTF_8), (long) value.length));
            Map<String, Long> structures = new TreeMap<>();
            String names = read(redis -> redis.hget(key, SessionHashFormat.DATA_KEYS));
            if (names != null) {
                for (String name : names.split("\n")) {
                    String dataKey = key(name);
                    structures.put(dataKey, read(redis -> redis.memoryUsage(dataKey)));
                }
            }
            return new Snapshot(key, read(redis -> redis.ttl(key)), fields, structures);
        }

        /** SET of a string structure. */
        public void set(String name, String value) {
            write(name, "SET", value);
        }

        /** GET of a string structure, or null. */
        public String get(String name) {
            String key = key(name);
            return read(redis -> redis.get(key));
        }

        /** HSET; returns the number of fields added. */
        public long hset(String name, Map<String, String> fields) {
            List<String> args = new ArrayList<>(fields.size() * 2);
            fields.forEach((field, value) -> {
                args.add(field);
                args.add(value);
            });
            return count(write(name, "HSET", args.toArray(new String[0])));
        }

        public String hget(String name, String field) {
            String key = key(name);
            return read(redis -> redis.hget(key, field));
        }

        public Map<String, String> hgetAll(String name) {
            String key = key(name);
            return read(redis -> redis.hgetAll(key));
        }

        public long hdel(String name, String... fields) {
            return count(write(name, "HDEL", fields));
        }

        public long sadd(String name, String... members) {
            return count(write(name, "SADD", members));
        }

        public long srem(String name, String... members) {
            return count(write(name, "SREM", members));
        }

        public Set<String> smembers(String name) {
            String key = key(name);
            return read(redis -> redis.smembers(key));
        }

        public boolean sismember(String name, String member) {
            String key = key(name);
            return read(redis -> redis.sismember(key, member));
        }

        public long rpush(String name, String... values) {
            return count(write(name, "RPUSH", values));
        }

        public List<String> lrange(String name, long start, long stop) {
            String key = key(name);
            return read(redis -> redis.lrange(key, start, stop));
        }

        /** Deletes a structure; it stays listed in the session (and is recreated by a later write). */
        public boolean delete(String name) {
            String key = key(name);
            return read(redis -> redis.del(key)) > 0;
        }

        /** The remaining time to live in seconds, as Redis reports it for the structure's key. */
        public long ttl(String name) {
            String key = key(name);
            return read(redis -> redis.ttl(key));
        }

        private Object write(String name, String command, String... arguments) {
            key(name);
            return sessions.manager.inRequest(() -> {
                if (!session.isPersisted()) {
                    // A session created in this request: Redis must hold it before its structures.
                    sessions.manager.repository().save(session, false);
                }
                try {
                    return sessions.store.writeData(session.getIdInternal(), name, command, List.of(arguments));
                } catch (RedisSessionStore.NoSuchSessionException e) {
                    throw new IllegalStateException("The session is no longer valid", e);
                }
            });
        }

        /** Like every Redis call of a request: none once one of the request failed (see {@link RequestScope}). */
        private <T> T read(Function<UnifiedJedis, T> command) {
            return sessions.manager.inRequest(() -> sessions.store.calls().call("structure", command));
        }

        private static long count(Object reply) {
            return reply instanceof Long number ? number : 0;
        }
    }
}

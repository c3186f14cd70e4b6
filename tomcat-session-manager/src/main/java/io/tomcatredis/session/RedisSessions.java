package io.tomcatredis.session;

import io.tomcatredis.session.store.SessionKeys;
import jakarta.servlet.http.HttpSession;
import redis.clients.jedis.UnifiedJedis;

/**
 * Session-scoped Redis structures: keys that belong to one session, like the profile hash and the
 * recommendation set of the source design.
 *
 * <pre>{@code
 * RedisSessions.Scope scope = RedisSessions.of(request.getSession());
 * scope.redis().sadd(scope.key("recommendations"), "p-17", "p-42");
 * }</pre>
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

        /** The Redis client the session manager uses; do not close it. */
        public UnifiedJedis redis() {
            return sessions.redis;
        }
    }
}

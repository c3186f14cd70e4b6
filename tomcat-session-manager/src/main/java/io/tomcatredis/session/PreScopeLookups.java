package io.tomcatredis.session;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The session lookups one thread makes outside any request scope and outside the Host's pipeline:
 * those Tomcat's {@code CoyoteAdapter} makes while it parses a request, before any valve runs. For
 * every {@code JSESSIONID} cookie after the first it asks {@code isRequestedSessionIdValid} (a
 * {@code findSession}) until one is valid, so a request carrying N cookies would cost N Redis
 * loads. Here at most {@value #MAX_REDIS_LOOKUPS} id is looked up in Redis per request; the same
 * id asked again gets the same answer, and any other id is answered "no session" without asking
 * Redis, so Tomcat settles on the last cookie. A browser's usual case, two cookies of different
 * paths, is decided exactly: the first is checked, and if it is not a live session the second is used.
 *
 * <p>The state is reset whenever the thread enters or leaves the Host's pipeline (a request of any
 * context): lookups there (the application, Tomcat's Manager webapp) and administrative calls
 * (JMX operations, {@link RedisSessions}) are never limited. Not thread-safe: one instance per thread.
 */
final class PreScopeLookups {

    /** Redis lookups per request before its scope opens. */
    static final int MAX_REDIS_LOOKUPS = 1;

    private final Map<String, RedisSession> answers = new HashMap<>(2);
    private int unboundedDepth;

    /** Entering the Host's pipeline, or an administrative call: lookups are not limited until {@link #leave}. */
    void enter() {
        unboundedDepth++;
        answers.clear();
    }

    void leave() {
        unboundedDepth--;
        answers.clear();
    }

    boolean isUnbounded() {
        return unboundedDepth > 0;
    }

    /**
     * The answer for {@code id}: remembered, looked up with {@code lookup} while the budget lasts,
     * else null (no session).
     */
    RedisSession find(String id, Function<String, RedisSession> lookup) {
        if (answers.containsKey(id)) {
            return answers.get(id);
        }
        RedisSession found = answers.size() < MAX_REDIS_LOOKUPS ? lookup.apply(id) : null;
        answers.put(id, found);
        return found;
    }
}

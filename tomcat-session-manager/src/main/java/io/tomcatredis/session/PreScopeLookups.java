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
    /**
     * Answers are another request's when the last one is older than this: Tomcat may answer a
     * request without entering the Host's pipeline (a redirect of {@code /app} to {@code /app/}, a
     * refused TRACE), and the thread then parses the next request, maybe another client's on a
     * proxy's shared connection. One request asks about its cookies microseconds apart; a thread
     * descheduled longer between two of them merely looks up once more.
     */
    static final long ANSWERS_VALID_NANOS = 100_000_000;

    private final Map<String, RedisSession> answers = new HashMap<>(2);
    private RedisSession lastAnswer;
    private long lastAnswerNanos;
    private int unboundedDepth;

    /** Entering the Host's pipeline, or an administrative call: lookups are not limited until {@link #leave}. */
    void enter() {
        unboundedDepth++;
        forget();
    }

    void leave() {
        unboundedDepth--;
        forget();
    }

    private void forget() {
        answers.clear();
        lastAnswer = null;
    }

    boolean isUnbounded() {
        return unboundedDepth > 0;
    }

    /**
     * The answer for {@code id}: remembered, looked up with {@code lookup} while the budget lasts,
     * else null (no session).
     */
    RedisSession find(String id, Function<String, RedisSession> lookup) {
        boolean known = answers.containsKey(id);
        // Tomcat asks about a new id only after the last one was no session: else a new request began.
        if (System.nanoTime() - lastAnswerNanos > ANSWERS_VALID_NANOS || !known && lastAnswer != null) {
            answers.clear();
            known = false;
        }
        RedisSession found;
        if (known) {
            found = answers.get(id);
        } else {
            found = answers.size() < MAX_REDIS_LOOKUPS ? lookup.apply(id) : null;
            answers.put(id, found);
        }
        lastAnswer = found;
        lastAnswerNanos = System.nanoTime();
        return found;
    }
}

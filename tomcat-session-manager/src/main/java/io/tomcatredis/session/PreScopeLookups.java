package io.tomcatredis.session;

import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.session.store.SessionStoreUnavailableException;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The session lookups one thread makes outside any request scope and outside the Host's pipeline:
 * those Tomcat's {@code CoyoteAdapter} makes while it parses a request, before any valve runs. For
 * every {@code JSESSIONID} cookie after the first it asks {@code isRequestedSessionIdValid} (a
 * {@code findSession}) about the id chosen so far, until one is valid, so a request carrying N
 * cookies would cost N Redis loads. Here at most {@value #MAX_REDIS_LOOKUPS} sessions are looked
 * up in Redis per request; an id asked again, or another id of the same session (another route
 * suffix), gets the same answer, and any further id is answered "no session" without asking
 * Redis, so Tomcat settles on the last cookie. A user's live session among a few stale cookies
 * (several paths, a sign-in that left an old cookie behind) is found wherever it stands, as with
 * {@code StandardManager}.
 *
 * <p>When Redis fails, the lookup answers "no session" rather than letting the exception reach
 * the connector (which would answer 500 even for a page that never uses the session), asks Redis
 * nothing more for this request, and keeps the failure: the request's scope takes it
 * ({@link #takeFailures}), so a lookup the application makes answers 503 without waiting again.
 *
 * <p>The state is reset whenever the thread enters or leaves the Host's pipeline (a request of any
 * context): lookups there (the application, Tomcat's Manager webapp) and administrative calls
 * (JMX operations, {@link RedisSessions}) are never limited. Not thread-safe: one instance per thread.
 */
final class PreScopeLookups {

    /** Sessions looked up in Redis per request before its scope opens. */
    static final int MAX_REDIS_LOOKUPS = 4;
    /**
     * Answers are another request's when the last one is older than this: Tomcat may answer a
     * request without entering the Host's pipeline (a redirect of {@code /app} to {@code /app/}, a
     * refused TRACE), and the thread then parses the next request, maybe another client's on a
     * proxy's shared connection. One request asks about its cookies microseconds apart; a thread
     * descheduled longer between two of them merely looks up once more.
     */
    static final long ANSWERS_VALID_NANOS = 100_000_000;

    /** Answers by session id without route. */
    private final Map<String, RedisSession> answers = new HashMap<>(4);
    /** Redis failures of this request's lookups, by the id asked. */
    private Map<String, SessionStoreUnavailableException> failures = new HashMap<>(2);
    /** The failures of the request whose pipeline the thread entered, until its scope takes them. */
    private Map<String, SessionStoreUnavailableException> carried = Map.of();
    private RedisSession lastAnswer;
    private long lastAnswerNanos;
    private int unboundedDepth;

    /** Entering the Host's pipeline, or an administrative call: lookups are not limited until {@link #leave}. */
    void enter() {
        if (unboundedDepth++ == 0) {
            carried = isFresh() ? failures : Map.of();
        }
        forget();
    }

    void leave() {
        if (--unboundedDepth == 0) {
            carried = Map.of();
        }
        forget();
    }

    private void forget() {
        answers.clear();
        failures = new HashMap<>(2);
        lastAnswer = null;
    }

    private boolean isFresh() {
        return System.nanoTime() - lastAnswerNanos <= ANSWERS_VALID_NANOS;
    }

    boolean isUnbounded() {
        return unboundedDepth > 0;
    }

    /**
     * The Redis failures of the lookups Tomcat made while it parsed the request whose pipeline the
     * thread is in, by id; each is handed out once.
     */
    Map<String, SessionStoreUnavailableException> takeFailures() {
        Map<String, SessionStoreUnavailableException> taken = carried;
        carried = Map.of();
        return taken;
    }

    /**
     * The answer for {@code id}: remembered, looked up with {@code lookup} while the budget lasts
     * and Redis did not fail, else null (no session).
     */
    RedisSession find(String id, Function<String, RedisSession> lookup) {
        String base = SessionKeys.baseId(id);
        boolean known = answers.containsKey(base);
        // Tomcat asks about a new id only after the last one was no session: else a new request began.
        if (!isFresh() || !known && lastAnswer != null) {
            forget();
            known = false;
        }
        RedisSession found;
        if (known) {
            found = answers.get(base);
        } else {
            found = answers.size() < MAX_REDIS_LOOKUPS && failures.isEmpty() ? lookUp(id, lookup) : null;
            answers.put(base, found);
        }
        lastAnswer = found;
        lastAnswerNanos = System.nanoTime();
        return found;
    }

    private RedisSession lookUp(String id, Function<String, RedisSession> lookup) {
        try {
            return lookup.apply(id);
        } catch (SessionStoreUnavailableException e) {
            failures.put(id, e);
            return null;
        }
    }
}

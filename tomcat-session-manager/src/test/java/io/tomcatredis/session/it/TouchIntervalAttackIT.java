package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.it.CoreScenarioServlet.Gate;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.UnifiedJedis;

/**
 * Attacks on {@code touchInterval} (a request that changed nothing writes nothing while
 * {@code meta:lastAccessedTime} is younger than {@code meta:touchInterval}). Each test is named for
 * the promise of issue 10 it checks: no session expires before its last request plus its
 * interval, whatever another node or a corrupt field does. Node A has the default touchInterval
 * (5 s), node B {@code touchInterval="0"} (an operator rolling the attribute out, or back).
 *
 * <p>"Expires" is read from Redis as the layout defines it: the hash's key TTL (the hard end of the
 * session), its expiry-index score, and the load deadline {@code meta:lastAccessedTime +
 * meta:maxInactiveInterval * 1000 + meta:touchInterval}.
 */
@Tag("tomcat")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TouchIntervalAttackIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    /** The context's default session timeout, ms. */
    private static final long INTERVAL_MILLIS = 1800_000;
    /** SessionKeys.TTL_GRACE_SECONDS in ms: keys outlive the deadline by this much. */
    private static final long GRACE_MILLIS = SessionKeys.TTL_GRACE_SECONDS * 1000;

    private RedisUnderTest redis;
    private TomcatNode nodeA;
    private TomcatNode nodeB;
    /** Configured as node A (the default touchInterval), as the README asks of every node. */
    private TomcatNode nodeC;

    @BeforeAll
    void startNodes() {
        redis = RedisUnderTest.standalone(REDIS.get());
        nodeA = TomcatNode.start("nodeA", redis::configure, TouchIntervalAttackIT::coreScenarios);
        nodeB = TomcatNode.start("nodeB", m -> {
            redis.configure(m);
            m.setProperty("touchInterval", "0");
        }, TouchIntervalAttackIT::coreScenarios);
        nodeC = TomcatNode.start("nodeC", redis::configure, TouchIntervalAttackIT::coreScenarios);
    }

    @AfterAll
    void stopNodes() {
        TomcatNode.closeAll(nodeA, nodeB, nodeC);
        if (redis != null) {
            redis.close();
        }
    }

    @BeforeEach
    void emptyRedis() {
        redis.flushAll();
        DESTROYED.clear();
    }

    @AfterEach
    void openEveryGate() {
        CoreScenarioServlet.GATES.values().forEach(Gate::open);
        CoreScenarioServlet.GATES.clear();
        for (TomcatNode node : new TomcatNode[] {nodeA, nodeB, nodeC}) {
            Await.until(Duration.ofSeconds(30), node.name() + " to finish the requests of the test",
                    () -> node.manager().getLocalSessionCount() == 0);
        }
    }

    static void coreScenarios(Context context) {
        Tomcat.addServlet(context, "core", new CoreScenarioServlet()).setAsyncSupported(true);
        context.addServletMappingDecoded("/core/*", "core");
        Tomcat.addServlet(context, "read", new ReadServlet());
        context.addServletMappingDecoded("/read/*", "read");
        DESTROYED.register(context);
    }

    /** sessionDestroyed calls per session id without route, across the three nodes. */
    static final DestroyedSessions DESTROYED = new DestroyedSessions();

    /**
     * Read-only pages whose response is committed before the servlet returns: {@code /read/big}
     * (a body larger than the response buffer, as most HTML pages), {@code /read/flush}
     * (flushBuffer, as a streaming page). Both only read attribute {@code color}.
     */
    static final class ReadServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            response.setContentType("text/plain;charset=UTF-8");
            HttpSession session = request.getSession(false);
            String color = session == null ? "no session" : String.valueOf(session.getAttribute("color"));
            response.getWriter().write(color);
            if ("/big".equals(request.getPathInfo())) {
                response.getWriter().write(" " + "x".repeat(64 * 1024));
            } else {
                response.flushBuffer();
            }
        }
    }

    private static String read(TomcatNode node, String page) {
        return node.url("").replace("/app/s/", "/app/read/") + page;
    }

    /** A read-only request of {@code browser}'s session on node A, held in the servlet at {@code gate} until it opens. */
    private CompletableFuture<HttpSessionClient.Reply> heldOnNodeA(HttpSessionClient browser, String gateName,
            Gate gate) throws InterruptedException {
        HttpSessionClient tab = new HttpSessionClient();
        tab.sessionId(browser.sessionId());
        CompletableFuture<HttpSessionClient.Reply> readOnly = CompletableFuture.supplyAsync(
                () -> tab.get(core(nodeA, "hold?gate=" + gateName)));
        gate.awaitEntered();
        return readOnly;
    }

    private static String core(TomcatNode node, String pathAndQuery) {
        return node.url("").replace("/app/s/", "/app/core/") + pathAndQuery;
    }

    private UnifiedJedis jedis() {
        return redis.client();
    }

    /** Redis' clock (TIME), epoch ms. */
    private long redisMillis() {
        List<?> time = (List<?>) jedis().sendCommand(Protocol.Command.TIME);
        return Long.parseLong(new String((byte[]) time.get(0), StandardCharsets.US_ASCII)) * 1000
                + Long.parseLong(new String((byte[]) time.get(1), StandardCharsets.US_ASCII)) / 1000;
    }

    private void awaitRedisClockPast(long millis) {
        Await.until(Duration.ofSeconds(30), "Redis' clock to pass " + millis, () -> redisMillis() > millis);
    }

    /** When the session's hash disappears by its TTL, epoch ms by Redis' clock. */
    private long keyExpiresAt(String key) {
        long before = redisMillis();
        long pttl = jedis().pttl(key);
        assertThat(pttl).as("PTTL of " + key).isPositive();
        return before + pttl;
    }

    /** The load deadline as load.lua and claim.lua compute it from the hash. */
    private long loadDeadline(String key) {
        return Long.parseLong(jedis().hget(key, "meta:lastAccessedTime"))
                + Long.parseLong(jedis().hget(key, "meta:maxInactiveInterval")) * 1000
                + Long.parseLong(jedis().hget(key, "meta:touchInterval"));
    }

    private double indexScore(String sessionId) {
        return jedis().zscore(redis.indexKey(sessionId), SessionKeys.baseId(sessionId));
    }

    /**
     * Leaves the session as a save {@code ageMillis} ago would have left it: access time, TTL and
     * index entry all that old (the default interval, touchInterval 5 s).
     */
    private long agedBy(String sessionId, long ageMillis) {
        String key = redis.sessionKey(sessionId);
        long savedAt = redisMillis() - ageMillis;
        jedis().hset(key, "meta:lastAccessedTime", Long.toString(savedAt));
        jedis().pexpire(key, INTERVAL_MILLIS + 5_000 + GRACE_MILLIS - ageMillis);
        jedis().zadd(redis.indexKey(sessionId), savedAt + INTERVAL_MILLIS + 5_000, SessionKeys.baseId(sessionId));
        return savedAt;
    }

    // ============================================================ broken promises (failing)

    /**
     * A read-only request on node A, in flight while node B (touchInterval 0) saves the session
     * twice. A loaded meta:touchInterval 5000 and skips its write; B's first save still counts the
     * stored 5000, but it writes 0, so B's second save counts 0: the deadline becomes B's second
     * save + interval, before A's request + interval. Expected: every deadline at or after A's
     * request end + interval. Actual: up to touchInterval (5 s by default) earlier.
     */
    @Test
    void sessionNeverExpiresBeforeAReadOnlyRequestPlusItsIntervalWhenAnotherNodeSavesTwiceWithASmallerTouchInterval()
            throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=blue"));
        String key = redis.sessionKey(browser.sessionId());
        assertThat(jedis().hget(key, "meta:touchInterval")).isEqualTo("5000");

        Gate gate = CoreScenarioServlet.gate("read-only-on-A");
        CompletableFuture<HttpSessionClient.Reply> readOnly = heldOnNodeA(browser, "read-only-on-A", gate);

        long versionBefore = Long.parseLong(jedis().hget(key, "meta:version"));
        browser.ok(nodeB.url("set?name=color&value=red"));
        browser.ok(nodeB.url("set?name=color&value=green"));
        assertThat(jedis().hget(key, "meta:version")).as("B saved twice").isEqualTo(Long.toString(versionBefore + 2));
        long secondSave = Long.parseLong(jedis().hget(key, "meta:lastAccessedTime"));
        awaitRedisClockPast(secondSave + 500);
        long releasedAt = redisMillis();
        gate.open();
        assertThat(readOnly.get(30, TimeUnit.SECONDS).status()).isEqualTo(200);

        long lastRequestPlusInterval = releasedAt + INTERVAL_MILLIS;
        assertThat(loadDeadline(key)).as("load deadline after A's read-only request").isGreaterThanOrEqualTo(
                lastRequestPlusInterval);
        assertThat(indexScore(browser.sessionId())).as("expiry index score").isGreaterThanOrEqualTo(
                (double) lastRequestPlusInterval);
    }

    /**
     * meta:lastAccessedTime a day in the future (corrupt, or written before Redis' clock stepped
     * back): A judges the access "recorded" for a day and never writes, so the key TTL set by the
     * last save is never renewed and the hash vanishes while the user keeps reading. Before
     * touchInterval every request's save renewed the TTL. Expected: after a read-only request, the
     * hash lives at least that request + interval. Actual: it dies at the old TTL.
     */
    @Test
    void sessionNeverExpiresBeforeAReadOnlyRequestPlusItsIntervalWhenItsAccessTimeIsInTheFuture() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=blue"));
        String key = redis.sessionKey(browser.sessionId());
        agedBy(browser.sessionId(), 306_000);
        jedis().hset(key, "meta:lastAccessedTime", Long.toString(redisMillis() + 86_400_000L));
        long requestAt = redisMillis();

        assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("blue");

        assertThat(keyExpiresAt(key)).as("when the hash's TTL ends").isGreaterThanOrEqualTo(requestAt + INTERVAL_MILLIS);
    }

    /**
     * meta:touchInterval corrupt and huge (written by hand, a bad import): A trusts it (clamped to an
     * hour) and skips writing for an hour after meta:lastAccessedTime, although the last save's TTL
     * only counted the touch interval that save wrote (5 s) plus the 300 s grace. Expected: after a
     * read-only request the hash lives at least that request + interval. Actual: it dies at the
     * old TTL, while in use.
     */
    @Test
    void sessionNeverExpiresBeforeAReadOnlyRequestPlusItsIntervalWhenItsTouchIntervalIsCorruptAndHuge() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=blue"));
        String key = redis.sessionKey(browser.sessionId());
        agedBy(browser.sessionId(), 306_000);
        jedis().hset(key, "meta:touchInterval", "99999999999");
        long requestAt = redisMillis();

        assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("blue");

        assertThat(keyExpiresAt(key)).as("when the hash's TTL ends").isGreaterThanOrEqualTo(requestAt + INTERVAL_MILLIS);
    }

    /**
     * A read-only page whose response is committed before the servlet returns (a body larger than
     * the buffer, or flushBuffer): the scope's save before commit skips an access-only save, and
     * the save at the end then skips it again as "saved earlier in the same request", so the access
     * time is never written, however old it is. Expected: the TTL (and deadline) renewed to at
     * least the request + interval. Actual: left as the last writing request set it, so a user
     * who only reads such pages loses the session an interval after the last change.
     */
    @ParameterizedTest
    @ValueSource(strings = {"big", "flush"})
    void sessionNeverExpiresBeforeAReadOnlyRequestPlusItsIntervalWhenTheResponseIsCommittedEarly(String page) {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=blue"));
        String key = redis.sessionKey(browser.sessionId());
        agedBy(browser.sessionId(), 306_000);
        long requestAt = redisMillis();

        assertThat(browser.ok(read(nodeA, page))).startsWith("blue");

        assertThat(Long.parseLong(jedis().hget(key, "meta:lastAccessedTime"))).as("access time written")
                .isGreaterThanOrEqualTo(requestAt);
        assertThat(keyExpiresAt(key)).as("when the hash's TTL ends").isGreaterThanOrEqualTo(requestAt + INTERVAL_MILLIS);
    }

    // ============================================================ promises that held (regression)

    /** The control of the two tests above: a sane, old access time is written by a read-only request. */
    @Test
    void readOnlyRequestRenewsTheTtlOfASessionLastSavedLongAgo() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=blue"));
        String key = redis.sessionKey(browser.sessionId());
        agedBy(browser.sessionId(), 306_000);
        long requestAt = redisMillis();

        assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("blue");

        assertThat(keyExpiresAt(key)).isGreaterThanOrEqualTo(requestAt + INTERVAL_MILLIS);
        assertThat(loadDeadline(key)).isGreaterThanOrEqualTo(requestAt + INTERVAL_MILLIS);
        assertThat(indexScore(browser.sessionId())).isGreaterThanOrEqualTo((double) requestAt + INTERVAL_MILLIS);
    }

    /**
     * meta:touchInterval values that are not a plain decimal (Java reads them as 0) make the read
     * write the access time, so the TTL is renewed; none crashes the request.
     */
    @ParameterizedTest
    @ValueSource(strings = {"nan", "inf", "-inf", "-5", "12.5", "0x1388", "1e9", " 5000", ""})
    void readOnlyRequestRenewsTheTtlWhenTouchIntervalIsNotADecimal(String corrupt) {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=blue"));
        String key = redis.sessionKey(browser.sessionId());
        agedBy(browser.sessionId(), 306_000);
        jedis().hset(key, "meta:touchInterval", corrupt);
        long requestAt = redisMillis();

        assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("blue");

        assertThat(keyExpiresAt(key)).isGreaterThanOrEqualTo(requestAt + INTERVAL_MILLIS);
        assertThat(jedis().hget(key, "meta:touchInterval")).isEqualTo("5000");
    }

    /** The stored touch interval is at most a tenth of the interval; 0 for a session that never expires. */
    @ParameterizedTest
    @ValueSource(ints = {1, 10, 11, 60, 0, -1})
    void storedTouchIntervalIsATenthOfAShortIntervalAndZeroWhenTheSessionNeverExpires(int seconds) {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("max-inactive?value=" + seconds));
        String key = redis.sessionKey(browser.sessionId());

        long expected = seconds <= 0 ? 0 : Math.min(5_000, seconds * 100L);
        assertThat(jedis().hget(key, "meta:touchInterval")).isEqualTo(Long.toString(expected));
        if (seconds <= 0) {
            assertThat(jedis().pttl(key)).as("never expires: the long TTL").isGreaterThan(INTERVAL_MILLIS);
        }
    }

    /**
     * A 2 s session read every few hundred ms (touch interval 200 ms, below the 1 s margin, so every
     * read writes) outlives several intervals; then, idle, it expires.
     */
    @Test
    void shortIntervalSessionStaysAliveUnderReadOnlyRequestsAndExpiresWhenIdle() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=blue"));
        browser.ok(nodeA.url("max-inactive?value=2"));
        long start = redisMillis();
        int reads = 0;
        while (redisMillis() < start + 5_000) {
            TomcatNode node = reads++ % 2 == 0 ? nodeA : nodeB;
            long lastAt = Long.parseLong(jedis().hget(redis.sessionKey(browser.sessionId()), "meta:lastAccessedTime"));
            assertThat(browser.ok(node.url("get?name=color"))).as("read " + reads).isEqualTo("blue");
            awaitRedisClockPast(lastAt + 500);
        }
        String key = redis.sessionKey(browser.sessionId());
        awaitRedisClockPast(loadDeadline(key));
        assertThat(browser.ok(nodeB.url("get?name=color"))).isEqualTo("no session");
    }

    /**
     * A 2 s session (touch interval 200 ms) read on A: the sweep of every node before the deadline
     * (last access + 2 s + 200 ms) expires nothing; once Redis' clock passed it, the sweeps of all
     * three nodes, run together, expire it once: sessionDestroyed fires once.
     */
    @Test
    void shortSessionIsSweptOnceAfterItsDeadlineAndNeverBefore() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=blue"));
        browser.ok(nodeA.url("max-inactive?value=2"));
        assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("blue");
        String key = redis.sessionKey(browser.sessionId());
        String baseId = SessionKeys.baseId(browser.sessionId());

        for (TomcatNode node : new TomcatNode[] {nodeA, nodeB, nodeC}) {
            node.manager().processExpires();
        }
        long sweptAt = redisMillis();
        if (sweptAt < loadDeadline(key)) {
            assertThat(DESTROYED.calls()).as("swept before the deadline").doesNotContainKey(baseId);
            assertThat(jedis().exists(key)).isTrue();
        }

        awaitRedisClockPast(loadDeadline(key));
        List<CompletableFuture<Void>> sweeps = java.util.stream.Stream.of(nodeA, nodeB, nodeC)
                .map(node -> CompletableFuture.runAsync(() -> node.manager().processExpires())).toList();
        for (CompletableFuture<Void> sweep : sweeps) {
            sweep.get(30, TimeUnit.SECONDS);
        }
        assertThat(DESTROYED.calls().get(baseId)).as("sessionDestroyed calls").hasValue(1);
        assertThat(jedis().exists(key)).isFalse();
        assertThat(browser.ok(nodeB.url("get?name=color"))).isEqualTo("no session");
    }

    /**
     * Redis frozen while a read-only request whose access time is recent is in flight: the request
     * needs no write, so it answers 200 at once rather than 503 (its deadline already covers it).
     */
    @Test
    void readOnlyRequestWithARecentAccessTimeCompletesWhileRedisIsFrozen() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=blue"));
        Gate gate = CoreScenarioServlet.gate("read-only-while-frozen");
        CompletableFuture<HttpSessionClient.Reply> readOnly = heldOnNodeA(browser, "read-only-while-frozen", gate);
        redis.pauseMasters();
        try {
            gate.open();
            HttpSessionClient.Reply reply = readOnly.get(30, TimeUnit.SECONDS);
            assertThat(reply.status()).isEqualTo(200);
            assertThat(reply.body()).isEqualTo("held");
        } finally {
            redis.resumeMasters();
        }
        assertThat(browser.ok(nodeB.url("get?name=color"))).isEqualTo("blue");
    }

    /** Node A skips writes for a recent access; node B (touchInterval 0) writes every access it judges. */
    @Test
    void nodeWithTouchIntervalZeroWritesItsOwnAccessOnceItHasSavedTheSession() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeB.url("set?name=color&value=blue"));
        String key = redis.sessionKey(browser.sessionId());
        assertThat(jedis().hget(key, "meta:touchInterval")).isEqualTo("0");
        String written = jedis().hget(key, "meta:version");

        assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("blue");

        assertThat(jedis().hget(key, "meta:version")).as("a stored touch interval of 0: every access written")
                .isNotEqualTo(written);
        assertThat(jedis().hget(key, "meta:touchInterval")).isEqualTo("5000");
    }

    /** Changes other than attributes still save within the touch interval: an in-place mutation. */
    @Test
    void inPlaceMutationWithinTheTouchIntervalIsSaved() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("cart-add?value=apple"));
        browser.ok(nodeA.url("cart-add?value=pear"));
        assertThat(browser.ok(nodeB.url("get?name=cart"))).isEqualTo("[apple, pear]");
    }

    /**
     * A BASIC login on an existing session within the touch interval caches the principal in Redis
     * (under the id Tomcat changed on authentication).
     */
    @Test
    void loginWithinTheTouchIntervalIsSaved() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=blue"));
        String basic = "Basic " + Base64.getEncoder().encodeToString("ann:secret".getBytes(StandardCharsets.UTF_8));

        assertThat(browser.get(nodeA.url("secure/whoami"), "Authorization", basic).body()).isEqualTo("ann BASIC");

        String key = redis.sessionKey(browser.sessionId());
        assertThat(jedis().hexists(key, "meta:principal")).isTrue();
        assertThat(jedis().hget(key, "meta:authType")).isEqualTo("BASIC");
        assertThat(browser.ok(nodeB.url("secure/whoami"))).isEqualTo("ann BASIC");
    }

    /** changeSessionId and invalidate within the touch interval reach Redis. */
    @Test
    void idChangeAndInvalidationWithinTheTouchIntervalAreSaved() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=blue"));
        String oldId = browser.sessionId();
        String newId = browser.ok(nodeA.url("change-id"));
        browser.sessionId(newId);
        assertThat(browser.ok(nodeB.url("get?name=color"))).isEqualTo("blue");
        assertThat(jedis().hget(redis.sessionKey(newId), "meta:id")).isEqualTo(newId);
        assertThat(jedis().exists(redis.sessionKey(oldId))).isFalse();

        browser.ok(nodeA.url("invalidate"));
        assertThat(jedis().exists(redis.sessionKey(newId))).isFalse();
        assertThat(browser.ok(nodeB.url("get?name=color"))).isEqualTo("no session");
    }

    /**
     * One save on node B (touchInterval 0) during a read-only request of A, here a shorter interval
     * (20 s): A loaded meta:touchInterval 5000 and skips its write; B's save counts the stored 5000
     * in the index score, but writes meta:touchInterval 0, and load.lua, claim.lua and the Java
     * load judge the deadline from the hash: meta:lastAccessedTime (B's save) + 20 s + 0, before
     * A's request + 20 s. Expected: the load deadline at or after A's request + interval. Actual:
     * earlier by however long A's request outlasted B's save (up to the touch interval).
     */
    @Test
    void sessionNeverExpiresBeforeAReadOnlyRequestPlusItsIntervalWhenAnotherNodeWritesASmallerTouchIntervalOnce()
            throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=blue"));
        String key = redis.sessionKey(browser.sessionId());
        Gate gate = CoreScenarioServlet.gate("read-only-while-shortened");
        CompletableFuture<HttpSessionClient.Reply> readOnly = heldOnNodeA(browser, "read-only-while-shortened", gate);

        browser.ok(nodeB.url("max-inactive?value=20"));
        long saved = Long.parseLong(jedis().hget(key, "meta:lastAccessedTime"));
        awaitRedisClockPast(saved + 500);
        long releasedAt = redisMillis();
        gate.open();
        assertThat(readOnly.get(30, TimeUnit.SECONDS).status()).isEqualTo(200);

        assertThat(jedis().hget(key, "meta:maxInactiveInterval")).isEqualTo("20");
        assertThat(indexScore(browser.sessionId())).as("index score").isGreaterThanOrEqualTo((double) releasedAt + 20_000);
        assertThat(loadDeadline(key)).as("load deadline, " + jedis().hgetAll(key).keySet())
                .isGreaterThanOrEqualTo(releasedAt + 20_000);
    }

    /**
     * As above with every node configured alike (the default 5 s): node C shortens the interval to
     * 20 s during A's read-only request, so its save writes meta:touchInterval 2000 (a tenth of 20
     * s) while A skipped relying on the 5000 it loaded. Expected: the load deadline at or after A's
     * request + 20 s. Actual: C's save + 22 s, earlier when A's request ended more than 2 s after
     * C's save (A still skips up to 4 s after the access time it loaded).
     */
    @Test
    void sessionNeverExpiresBeforeAReadOnlyRequestPlusItsIntervalWhenAnotherNodeWithTheSameTouchIntervalShortensTheInterval()
            throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=blue"));
        String key = redis.sessionKey(browser.sessionId());
        Gate gate = CoreScenarioServlet.gate("read-only-while-shortened-by-c");
        CompletableFuture<HttpSessionClient.Reply> readOnly = heldOnNodeA(browser, "read-only-while-shortened-by-c", gate);

        browser.ok(nodeC.url("max-inactive?value=20"));
        long saved = Long.parseLong(jedis().hget(key, "meta:lastAccessedTime"));
        awaitRedisClockPast(saved + 2_500);
        long releasedAt = redisMillis();
        gate.open();
        assertThat(readOnly.get(30, TimeUnit.SECONDS).status()).isEqualTo(200);

        assertThat(loadDeadline(key)).as("load deadline").isGreaterThanOrEqualTo(releasedAt + 20_000);
        assertThat(indexScore(browser.sessionId())).as("index score").isGreaterThanOrEqualTo((double) releasedAt + 20_000);
    }

    /**
     * The same on one node: the shortening request shares the session object with the held
     * read-only request, whose save then is not skipped (the object's stored touch interval is
     * cleared by the save), so the deadline covers the held request.
     */
    @Test
    void intervalShortenedByAnotherRequestOfTheSameNodeDuringAReadOnlyRequestStillCoversThatRequest()
            throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=blue"));
        String key = redis.sessionKey(browser.sessionId());
        Gate gate = CoreScenarioServlet.gate("read-only-while-shortened-here");
        CompletableFuture<HttpSessionClient.Reply> readOnly = heldOnNodeA(browser, "read-only-while-shortened-here", gate);

        browser.ok(nodeA.url("max-inactive?value=20"));
        long saved = Long.parseLong(jedis().hget(key, "meta:lastAccessedTime"));
        awaitRedisClockPast(saved + 500);
        long releasedAt = redisMillis();
        gate.open();
        assertThat(readOnly.get(30, TimeUnit.SECONDS).status()).isEqualTo(200);

        assertThat(jedis().hget(key, "meta:maxInactiveInterval")).isEqualTo("20");
        assertThat(loadDeadline(key)).isGreaterThanOrEqualTo(releasedAt + 20_000);
        assertThat(indexScore(browser.sessionId())).isGreaterThanOrEqualTo((double) releasedAt + 20_000);
    }

    /** A session made never-expiring on B while A's read-only request is in flight stays never-expiring. */
    @Test
    void sessionMadeNeverExpiringDuringAReadOnlyRequestStaysNeverExpiring() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=blue"));
        String key = redis.sessionKey(browser.sessionId());
        Gate gate = CoreScenarioServlet.gate("read-only-while-unlimited");
        CompletableFuture<HttpSessionClient.Reply> readOnly = heldOnNodeA(browser, "read-only-while-unlimited", gate);

        browser.ok(nodeB.url("max-inactive?value=-1"));
        gate.open();
        assertThat(readOnly.get(30, TimeUnit.SECONDS).status()).isEqualTo(200);

        assertThat(jedis().hget(key, "meta:maxInactiveInterval")).isEqualTo("-1");
        assertThat(jedis().pttl(key)).isGreaterThan(INTERVAL_MILLIS);
        assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("blue");
    }
}

package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;

/**
 * Loads answered from the near cache with no round trip ({@code nearCacheStalenessMillis}): a
 * session's next request on a node uses the hash the node read before, while Redis' invalidation
 * messages are current. The promise: a change acknowledged by Redis (another node's save, a tool's
 * edit, an invalidation) is seen by every request that begins {@value #BOUND_MILLIS} ms after it,
 * this node's own changes at once, and nothing is answered from the cache while Redis may have
 * sent something the node did not hear (Redis paused, subscription lost).
 */
@Tag("tomcat")
@Tag("valkey")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NearCacheTrackingIT {

    static final int BOUND_MILLIS = 300;
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    static final DestroyedSessions DESTROYED = new DestroyedSessions();

    private RedisUnderTest redis;
    private RedisCommands commands;
    private TomcatNode nodeA;
    private TomcatNode nodeB;

    @BeforeAll
    void startNodes() {
        redis = RedisUnderTest.standalone(REDIS.get());
        commands = new RedisCommands(() -> List.of(REDIS.get().node()));
        nodeA = TomcatNode.start("trackA", this::configure, NearCacheTrackingIT::pages);
        nodeB = TomcatNode.start("trackB", this::configure, NearCacheTrackingIT::pages);
    }

    private void configure(io.tomcatredis.session.RedisSessionManager manager) {
        redis.configure(manager);
        manager.setProperty("nearCacheStalenessMillis", Integer.toString(BOUND_MILLIS));
    }

    static void pages(Context context) {
        Tomcat.addServlet(context, "list", new NearCacheIT.ListServlet());
        context.addServletMappingDecoded("/list/*", "list");
        Tomcat.addServlet(context, "core", new CoreScenarioServlet()).setAsyncSupported(true);
        context.addServletMappingDecoded("/core/*", "core");
        DESTROYED.register(context);
    }

    @AfterAll
    void stopNodes() {
        TomcatNode.closeAll(nodeA, nodeB);
        if (redis != null) {
            redis.close();
        }
    }

    @BeforeEach
    void emptyRedis() {
        REDIS.get().node().resume();
        redis.flushAll();
        DESTROYED.clear();
        Await.until(WAIT, "invalidations current on both nodes",
                () -> nodeA.manager().isNearCacheTrackingCurrent() && nodeB.manager().isNearCacheTrackingCurrent());
    }

    private static String list(TomcatNode node, String pathAndQuery) {
        return node.url("").replace("/app/s/", "/app/list/") + pathAndQuery;
    }

    private static String core(TomcatNode node, String pathAndQuery) {
        return node.url("").replace("/app/s/", "/app/core/") + pathAndQuery;
    }

    private static String listOf(String shown) {
        return shown.startsWith("[") ? shown.substring(0, shown.indexOf(" @")) : shown;
    }

    private String hashKey(HttpSessionClient browser) {
        return RedisUnderTest.PREFIX + "{" + SessionKeys.baseId(browser.sessionId()) + "}";
    }

    /** Repeats {@code url} until a request of it needs no Redis command; returns that answer. */
    private String answeredWithoutRedis(HttpSessionClient browser, String url) {
        return commands.untilAnsweredWithoutRedis(() -> browser.ok(url));
    }

    /**
     * Requests {@code url} until one shows what {@code fresh} accepts, and checks that every request
     * that began {@link #BOUND_MILLIS} after {@code changedAtNanos} did.
     */
    private void seenWithinTheBound(HttpSessionClient browser, String url, long changedAtNanos, Predicate<String> fresh) {
        long boundNanos = Duration.ofMillis(BOUND_MILLIS).toNanos();
        Await.until(WAIT, "the change seen and a request begun after the bound", () -> {
            long began = System.nanoTime();
            String shown = browser.get(url).body();
            boolean isFresh = fresh.test(shown);
            if (began - changedAtNanos > boundNanos) {
                assertThat(isFresh).as("request begun %d ms after the change answered %s",
                        (began - changedAtNanos) / 1_000_000, shown).isTrue();
                return true;
            }
            return false;
        });
    }

    @Test
    void anUnchangedSessionIsAnsweredWithoutRedisWithTheObjectItsLastRequestUsed() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(list(nodeA, "new"));
        browser.ok(list(nodeA, "append?value=1"));
        String first = browser.ok(list(nodeA, "show"));
        long hits = nodeA.manager().getNearCacheHitCount();

        String second = answeredWithoutRedis(browser, list(nodeA, "show"));

        assertThat(listOf(second)).isEqualTo("[1]");
        assertThat(second.substring(second.indexOf(" @"))).isEqualTo(first.substring(first.indexOf(" @")));
        assertThat(nodeA.manager().getNearCacheHitCount()).isGreaterThan(hits);
    }

    @Test
    void thisNodesOwnChangeIsSeenAtOnce() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(list(nodeA, "new"));
        answeredWithoutRedis(browser, list(nodeA, "show"));

        browser.ok(list(nodeA, "append?value=mine"));

        assertThat(listOf(browser.ok(list(nodeA, "show")))).isEqualTo("[mine]");
        browser.ok(nodeA.url("set?name=color&value=red"));
        assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("red");
    }

    @Test
    void anExpiryThisNodeDecidedOutsideAnyRequestIsSeenAtOnce() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=red"));
        answeredWithoutRedis(browser, nodeA.url("get?name=color"));

        nodeA.manager().expireSession(browser.sessionId());

        assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("no session");
    }

    @Test
    void aChangeSavedByAnotherNodeIsSeenWithinTheBound() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(list(nodeA, "new"));
        answeredWithoutRedis(browser, list(nodeA, "show"));

        browser.ok(list(nodeB, "append?value=from-B"));
        long changed = System.nanoTime();

        seenWithinTheBound(browser, list(nodeA, "show"), changed, shown -> listOf(shown).equals("[from-B]"));
    }

    @Test
    void anEditByAToolIsSeenWithinTheBound() {
        HttpSessionClient other = new HttpSessionClient();
        other.ok(nodeB.url("set?name=color&value=green"));
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=red"));
        answeredWithoutRedis(browser, nodeA.url("get?name=color"));

        try (Jedis jedis = REDIS.get().node().client()) {
            byte[] green = jedis.hget(hashKey(other).getBytes(), "attr:color".getBytes());
            jedis.hset(hashKey(browser).getBytes(), "attr:color".getBytes(), green);
        }
        long changed = System.nanoTime();

        seenWithinTheBound(browser, nodeA.url("get?name=color"), changed, "green"::equals);
    }

    @Test
    void anInvalidationOnAnotherNodeIsSeenWithinTheBoundAndListenersFireOnce() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=red"));
        answeredWithoutRedis(browser, nodeA.url("get?name=color"));
        String id = SessionKeys.baseId(browser.sessionId());

        browser.ok(nodeB.url("invalidate"));
        long changed = System.nanoTime();

        seenWithinTheBound(browser, nodeA.url("get?name=color"), changed, "no session"::equals);
        assertThat(DESTROYED.calls().get(id)).as("sessionDestroyed, once, on node B").hasValue(1);
    }

    @Test
    void aSecondRequestOfASessionInFlightSharesItsObjectWithoutRedis() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=red"));
        answeredWithoutRedis(browser, nodeA.url("get?name=color"));
        CoreScenarioServlet.Gate gate = CoreScenarioServlet.gate("track-inflight");
        CompletableFuture<HttpSessionClient.Reply> held = CompletableFuture.supplyAsync(
                () -> browser.get(core(nodeA, "hold?gate=track-inflight")));
        try {
            gate.awaitEntered();
            assertThat(answeredWithoutRedis(browser, nodeA.url("get?name=color"))).as("while a request of it is in flight")
                    .isEqualTo("red");

            browser.ok(nodeB.url("set?name=color&value=blue"));
            long changed = System.nanoTime();
            seenWithinTheBound(browser, nodeA.url("get?name=color"), changed, "blue"::equals);
        } finally {
            gate.open();
            CoreScenarioServlet.GATES.remove("track-inflight");
        }
        assertThat(held.get(60, TimeUnit.SECONDS).status()).isEqualTo(200);
        assertThat(browser.ok(nodeB.url("get?name=color"))).isEqualTo("blue");
    }

    @Test
    void nothingIsAnsweredFromTheCacheWhileRedisDoesNotAnswer() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=red"));
        answeredWithoutRedis(browser, nodeA.url("get?name=color"));

        REDIS.get().node().pause();
        HttpSessionClient.Reply reply;
        try {
            Await.until(WAIT, "invalidations no longer current", () -> !nodeA.manager().isNearCacheTrackingCurrent());
            reply = browser.get(nodeA.url("get?name=color"));
        } finally {
            REDIS.get().node().resume();
        }

        assertThat(reply.status()).as("Redis must be read, and it is paused: " + reply.body()).isEqualTo(503);
        Await.until(WAIT, "invalidations current again", () -> nodeA.manager().isNearCacheTrackingCurrent());
        assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("red");
    }

    @Test
    void aSessionWhoseDeadlinePassedIsNotAnsweredFromTheCache() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=red"));
        browser.ok(nodeA.url("max-inactive?value=1"));
        answeredWithoutRedis(browser, nodeA.url("get?name=color"));
        try (Jedis jedis = REDIS.get().node().client()) {
            long lastAccess = Long.parseLong(jedis.hget(hashKey(browser), "meta:lastAccessedTime"));
            long slack = Long.parseLong(jedis.hget(hashKey(browser), "meta:touchInterval"));
            // The deadline by Redis' clock, and the 1 s margin of the node's estimate of that clock.
            Await.until(WAIT, "the deadline passed by Redis' clock", () -> {
                List<String> time = jedis.time();
                long now = Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
                return now > lastAccess + 1_000 + slack + 1_000;
            });
        }

        assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("no session");
    }
}

package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.testsupport.Await;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.UnifiedJedis;

/**
 * The core session suite: two embedded Tomcat nodes sharing one Redis deployment; every request
 * may go to either node. Each topology (standalone, TLS with ACL, Sentinel, Cluster) runs it
 * through a subclass.
 */
@Tag("tomcat")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class CoreSessionSuite {

    private TomcatNode node1;
    private TomcatNode node2;
    private RedisCommands commands;
    private RedisUnderTest redis;

    /** The deployment under test, started by the subclass's extension. */
    abstract RedisUnderTest redisUnderTest();

    @BeforeAll
    void startNodes() {
        redis = redisUnderTest();
        node1 = TomcatNode.start("node1", redis::configure);
        node2 = TomcatNode.start("node2", redis::configure);
        commands = redis.commands();
    }

    @AfterAll
    void stopNodes() {
        if (node1 != null) {
            node1.close();
        }
        if (node2 != null) {
            node2.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @BeforeEach
    void emptyRedis() {
        redis.flushAll();
        commands.reset();
    }

    @Test
    void requestThatNeverTouchesTheSessionSendsNoCommand() {
        HttpSessionClient anonymous = new HttpSessionClient();

        assertThat(anonymous.ok(node2.url("none"))).isEqualTo("no session touched");
        assertThat(anonymous.ok(node1.url("none"))).isEqualTo("no session touched");

        assertThat(commands.sessionCommands()).isZero();
    }

    @Test
    void requestWithSessionCookieLoadsOnceForTomcatsAuthenticatorAndWritesNothing() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(node1.url("set?name=a&value=1"));
        commands.reset();

        // Tomcat's authenticator reads the cached principal from the session of every request
        // that carries a session cookie, even when the application never touches the session.
        assertThat(browser.ok(node2.url("none"))).isEqualTo("no session touched");

        assertThat(commands.sessionCommands()).as("the access time is recent: not written").isEqualTo(1);
    }

    @Test
    void attributeSetOnOneNodeIsReadOnTheOtherWithOneLoadAndNoWrite() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(node1.url("set?name=color&value=blue"));
        commands.reset();

        assertThat(browser.ok(node2.url("get?name=color"))).isEqualTo("blue");

        Map<String, Long> calls = commands.calls();
        System.out.println("commandstats of 1 read-only request: " + calls);
        assertThat(calls.getOrDefault("hgetall", 0L)).as("one plain load").isEqualTo(1);
        assertThat(calls.getOrDefault("evalsha", 0L) + calls.getOrDefault("eval", 0L))
                .as("no save: nothing changed, the access time is recent").isZero();
    }

    /**
     * A request that changes nothing leaves an access time younger than {@code touchInterval} (5 s
     * by default, less the 1 s margin of the node's estimate of Redis' clock) alone; the deadline
     * counts {@code meta:touchInterval}, so it still covers that request. An older one is written.
     */
    @Test
    void readOnlyRequestWritesTheAccessTimeOnlyOnceItIsOlderThanTheTouchInterval() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(node1.url("set?name=color&value=blue"));
        String key = redis.sessionKey(browser.sessionId());
        UnifiedJedis jedis = redis.client();
        assertThat(jedis.hget(key, "meta:touchInterval")).isEqualTo("5000");
        long threeSecondsAgo = redisMillis(jedis, key) - 3_000;
        jedis.hset(key, "meta:lastAccessedTime", Long.toString(threeSecondsAgo));
        commands.reset();
        long readAt = redisMillis(jedis, key);

        assertThat(browser.ok(node2.url("get?name=color"))).isEqualTo("blue");

        assertThat(commands.calls()).doesNotContainKeys("evalsha", "eval");
        assertThat(jedis.hget(key, "meta:lastAccessedTime")).isEqualTo(Long.toString(threeSecondsAgo));
        assertThat(threeSecondsAgo + 1800_000 + 5_000).as("the deadline covers the read").isGreaterThan(readAt + 1800_000);

        long tenSecondsAgo = redisMillis(jedis, key) - 10_000;
        jedis.hset(key, "meta:lastAccessedTime", Long.toString(tenSecondsAgo));
        commands.reset();
        readAt = redisMillis(jedis, key);

        assertThat(browser.ok(node1.url("get?name=color"))).isEqualTo("blue");

        assertThat(commands.calls().getOrDefault("evalsha", 0L) + commands.calls().getOrDefault("eval", 0L))
                .as("the access time written").isEqualTo(1);
        long written = Long.parseLong(jedis.hget(key, "meta:lastAccessedTime"));
        assertThat(written).isGreaterThanOrEqualTo(readAt);
        assertThat(jedis.zscore(redis.indexKey(browser.sessionId()), SessionKeys.baseId(browser.sessionId())))
                .isEqualTo(written + 1800_000.0 + 5_000);
    }

    /** Redis' clock (TIME), on the node that holds {@code key}. */
    private static long redisMillis(UnifiedJedis jedis, String key) {
        Object reply = jedis.sendCommand(key.getBytes(StandardCharsets.UTF_8), Protocol.Command.TIME);
        java.util.List<?> time = (java.util.List<?>) reply;
        return Long.parseLong(new String((byte[]) time.get(0), StandardCharsets.US_ASCII)) * 1000
                + Long.parseLong(new String((byte[]) time.get(1), StandardCharsets.US_ASCII)) / 1000;
    }

    @Test
    void writingRequestCostsOneLoadAndOneAtomicSave() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(node1.url("cart-add?value=apple"));
        commands.reset();

        browser.ok(node2.url("cart-add?value=pear"));
        browser.ok(node1.url("set?name=color&value=red"));

        Map<String, Long> calls = commands.calls();
        System.out.println("commandstats of 2 writing requests: " + calls);
        assertThat(calls.getOrDefault("hgetall", 0L)).as("a plain load each").isEqualTo(2);
        assertThat(calls.getOrDefault("evalsha", 0L) + calls.getOrDefault("eval", 0L))
                .as("a save script each").isEqualTo(2);
        // Not sessionCommands(): it counts DEL too, and the background expiry sweep's DEL of a
        // claim key (a session of an earlier test, claimed around this test's reset) is no
        // round trip of these requests.
    }

    @Test
    void sessionIsOneHashWithMetadataAndAttributeFieldsAndATtl() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(node1.url("set?name=color&value=blue"));
        String id = browser.sessionId();
        String key = redis.sessionKey(id);

        {
            UnifiedJedis jedis = redis.client();
            assertThat(jedis.type(key)).isEqualTo("hash");
            assertThat(jedis.hkeys(key)).containsExactlyInAnyOrder("meta:creationTime", "meta:lastAccessedTime",
                    "meta:maxInactiveInterval", "meta:version", "meta:touchInterval", "meta:id", "attr:color");
            assertThat(jedis.hget(key, "meta:id")).isEqualTo(id);
            assertThat(jedis.hget(key, "meta:maxInactiveInterval")).isEqualTo("1800");
            assertThat(jedis.ttl(key)).isBetween(1800L, 1800L + 5 + SessionKeys.TTL_GRACE_SECONDS);
            assertThat(redis.keys()).containsExactlyInAnyOrder(key, redis.indexKey(id));
            for (String written : redis.keys()) {
                assertThat(jedis.ttl(written)).as("TTL of " + written).isPositive();
            }
            assertThat(jedis.zscore(redis.indexKey(id), SessionKeys.baseId(id)))
                    .isEqualTo(Double.parseDouble(jedis.hget(key, "meta:lastAccessedTime")) + 1800_000 + 5_000);
        }
    }

    @Test
    void attributeNamedLikeMetadataDoesNotCollide() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(node1.url("set?name=meta:creationTime&value=oops"));
        assertThat(browser.ok(node2.url("get?name=meta:creationTime"))).isEqualTo("oops");
        assertThat(browser.ok(node2.url("id"))).endsWith("new=false");
    }

    @Test
    void inPlaceMutationWithoutSetAttributeIsKept() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(node1.url("cart-add?value=apple"));
        browser.ok(node2.url("cart-add?value=pear"));
        browser.ok(node1.url("cart-add?value=plum"));

        assertThat(browser.ok(node2.url("get?name=cart"))).isEqualTo("[apple, pear, plum]");
    }

    @Test
    void readOnlyRequestRewritesNoAttribute() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(node1.url("cart-add?value=apple"));
        browser.ok(node1.url("set?name=color&value=blue"));
        long written = node1.manager().getBytesWritten() + node2.manager().getBytesWritten();

        browser.ok(node2.url("get?name=cart"));

        long writtenByRead = node1.manager().getBytesWritten() + node2.manager().getBytesWritten() - written;
        assertThat(writtenByRead).as("bytes of a save that only renews lastAccessedTime").isLessThan(160);
    }

    @Test
    void concurrentRequestsOnTwoNodesKeepBothAttributes() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(node1.url("create"));
        SessionServlet.BARRIERS.put("both", new CountDownLatch(2));
        HttpSessionClient tab1 = new HttpSessionClient();
        HttpSessionClient tab2 = new HttpSessionClient();
        tab1.sessionId(browser.sessionId());
        tab2.sessionId(browser.sessionId());

        CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> tab1.ok(node1.url("set?name=a&value=1&barrier=both")));
        CompletableFuture<String> second = CompletableFuture.supplyAsync(() -> tab2.ok(node2.url("set?name=b&value=2&barrier=both")));
        first.get();
        second.get();

        assertThat(browser.ok(node1.url("get?name=a"))).isEqualTo("1");
        assertThat(browser.ok(node2.url("get?name=b"))).isEqualTo("2");
    }

    @Test
    void invalidateRemovesTheSessionFromRedisForEveryNode() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(node1.url("set?name=a&value=1"));
        String id = browser.sessionId();

        browser.ok(node2.url("invalidate"));

        {
            UnifiedJedis jedis = redis.client();
            assertThat(redis.keys()).isEmpty();
        }
        assertThat(browser.ok(node1.url("get?name=a"))).isEqualTo("no session");
        assertThat(browser.sessionId()).isEqualTo(id);
        {
            UnifiedJedis jedis = redis.client();
            assertThat(redis.keys()).as("an unknown id never creates a key").isEmpty();
        }
    }

    @Test
    void saveOfARequestInFlightNeverResurrectsASessionInvalidatedOnAnotherNode() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(node1.url("set?name=a&value=1"));
        SessionServlet.BARRIERS.put("held", new CountDownLatch(2));
        HttpSessionClient slowTab = new HttpSessionClient();
        slowTab.sessionId(browser.sessionId());
        CompletableFuture<String> slow = CompletableFuture.supplyAsync(
                () -> slowTab.ok(node1.url("set?name=b&value=2&barrier=held")));
        Await.until(Duration.ofSeconds(10), "the slow request to hold its session",
                () -> SessionServlet.BARRIERS.get("held").getCount() == 1);

        browser.ok(node2.url("invalidate"));
        SessionServlet.BARRIERS.get("held").countDown();
        slow.get();

        {
            UnifiedJedis jedis = redis.client();
            assertThat(redis.keys()).isEmpty();
        }
    }

    @Test
    void changeSessionIdMovesTheDataAndTheOldIdStopsWorkingEverywhere() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(node1.url("set?name=user&value=ann"));
        String oldId = browser.sessionId();

        String newId = browser.ok(node2.url("change-id"));

        assertThat(newId).isNotEqualTo(oldId);
        assertThat(browser.sessionId()).isEqualTo(newId);
        assertThat(browser.ok(node1.url("get?name=user"))).isEqualTo("ann");
        HttpSessionClient attacker = new HttpSessionClient();
        attacker.sessionId(oldId);
        assertThat(attacker.ok(node1.url("get?name=user"))).isEqualTo("no session");
        {
            UnifiedJedis jedis = redis.client();
            assertThat(redis.keys()).containsExactlyInAnyOrder(
                    redis.sessionKey(newId),
                    redis.indexKey(newId));
            assertThat(jedis.zrange(redis.indexKey(newId), 0, -1)).containsExactly(SessionKeys.baseId(newId));
            assertThat(jedis.hget(redis.sessionKey(newId), "meta:id")).as("the id clients know").isEqualTo(newId);
        }
    }

    @Test
    void idWithAnotherNodesJvmRouteIsFound() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(node1.url("set?name=a&value=1"));
        assertThat(browser.sessionId()).endsWith(".node1");

        assertThat(browser.ok(node2.url("get?name=a"))).isEqualTo("1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ABC", "*", "{0123456789ABCDEF0123456789ABCDEF}", "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
            "0123456789ABCDEF0123456789ABCDEF.", "0123456789ABCDEF0123456789ABCDEF.no{de}", "LONG"})
    void malformedIdIsRejectedBeforeAnyRedisCallAndGetsANewSession(String malformed) {
        String id = malformed.equals("LONG") ? "A".repeat(10_000) : malformed;
        HttpSessionClient browser = new HttpSessionClient();
        browser.sessionId(id);

        HttpSessionClient.Reply reply = browser.get(node1.url("get?name=a"));

        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.body()).isEqualTo("no session");
        assertThat(commands.sessionCommands()).isZero();
        String created = browser.ok(node1.url("create"));
        assertThat(created).isNotEqualTo(id).matches("[0-9A-F]{32}\\.node1");
    }

    @Test
    void wellFormedUnknownIdCostsOneLookupAndCreatesNoKey() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.sessionId("0123456789ABCDEF0123456789ABCDEF.node1");

        assertThat(browser.ok(node2.url("get?name=a"))).isEqualTo("no session");

        assertThat(commands.sessionCommands()).isEqualTo(1);
        assertThat(commands.calls().getOrDefault("hgetall", 0L)).as("one plain load").isEqualTo(1);
        assertThat(redis.keys()).isEmpty();
    }

    @Test
    void nonSerializableAttributeIsSkippedWithOneWarningAndTheRequestSucceeds() {
        try (CapturedLog warnings = CapturedLog.of("io.tomcatredis.session.RedisSessionManager")) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(node1.url("unserializable?name=thread"));
            browser.ok(node1.url("unserializable?name=thread"));

            assertThat(browser.ok(node2.url("get?name=ok"))).isEqualTo("stored");
            assertThat(browser.ok(node2.url("get?name=thread"))).isEqualTo("null");
            assertThat(warnings.messages()).filteredOn(m -> m.contains("'thread'")).hasSize(1);
        }
    }

    @Test
    void corruptAttributeIsDroppedWithAWarningAndTheSessionLivesOn() {
        try (CapturedLog warnings = CapturedLog.of("io.tomcatredis.session.RedisSessionManager")) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(node1.url("set?name=good&value=1"));
            browser.ok(node1.url("set?name=bad&value=2"));
            {
            UnifiedJedis jedis = redis.client();
                String key = redis.sessionKey(browser.sessionId());
                jedis.hset(key.getBytes(StandardCharsets.UTF_8), "attr:bad".getBytes(StandardCharsets.UTF_8),
                        new byte[] {1, 42, 42, 42, -1, -1, 7});
            }

            assertThat(browser.ok(node2.url("get?name=good"))).isEqualTo("1");
            assertThat(warnings.messages()).as("attributes are decoded lazily").noneMatch(m -> m.contains("'bad'"));
            assertThat(browser.ok(node2.url("get?name=bad"))).isEqualTo("null");
            assertThat(browser.ok(node2.url("get?name=good"))).isEqualTo("1");
            assertThat(warnings.messages()).anyMatch(m -> m.contains("'bad'"));
        }
    }

    @Test
    void authenticatedPrincipalCachedInTheSessionIsKnownOnTheOtherNode() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(node1.url("create"));
        String basic = "Basic " + java.util.Base64.getEncoder().encodeToString("ann:secret".getBytes(StandardCharsets.UTF_8));
        assertThat(browser.get(node1.url("secure/whoami"), "Authorization", basic).body()).isEqualTo("ann BASIC");

        assertThat(browser.ok(node2.url("secure/whoami"))).isEqualTo("ann BASIC");
        {
            UnifiedJedis jedis = redis.client();
            String key = redis.sessionKey(browser.sessionId());
            assertThat(jedis.hget(key, "meta:authType")).isEqualTo("BASIC");
            assertThat(jedis.hexists(key, "meta:principal")).isTrue();
        }
        assertThat(new HttpSessionClient().get(node2.url("secure/whoami")).status()).isEqualTo(401);
    }

    @Test
    void restartedNodeStillServesEverySession() {
        HttpSessionClient ann = new HttpSessionClient();
        HttpSessionClient bob = new HttpSessionClient();
        ann.ok(node1.url("set?name=user&value=ann"));
        bob.ok(node1.url("set?name=user&value=bob"));

        node1.restart();

        assertThat(ann.ok(node1.url("get?name=user"))).isEqualTo("ann");
        assertThat(bob.ok(node1.url("get?name=user"))).isEqualTo("bob");
    }

    @Test
    void statisticsAreCounted() {
        HttpSessionClient browser = new HttpSessionClient();
        // Counters are cumulative over the suite: only their deltas say what these requests did.
        long saves = node1.manager().getSaves();
        long loads = node1.manager().getLoads();
        long bytesWritten = node1.manager().getBytesWritten();
        browser.ok(node1.url("set?name=a&value=1"));
        browser.ok(node1.url("get?name=a"));

        assertThat(node1.manager().getSaves() - saves).as("the read changed nothing: no save").isEqualTo(1);
        assertThat(node1.manager().getLoads() - loads).as("the read's load").isEqualTo(1);
        assertThat(node1.manager().getBytesWritten() - bytesWritten).as("the new session's bytes").isPositive();
        assertThat(node1.manager().getMaxSaveMillis()).isPositive();
        assertThat(node1.manager().getRoundTripsPerRequest()).isBetween(0.1, 2.0);
    }

    @Test
    void redisDownAnswers503FastAndRecoversWithoutRestart() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(node1.url("set?name=a&value=1"));
        redis.pauseMasters();
        try {
            long start = System.nanoTime();
            HttpSessionClient.Reply reply = browser.get(node2.url("get?name=a"));
            long millis = (System.nanoTime() - start) / 1_000_000;

            assertThat(reply.status()).isEqualTo(503);
            assertThat(reply.body()).doesNotContain("Exception").doesNotContain("at io.tomcatredis");
            assertThat(millis).isLessThan(redis.unavailableMillis());
            HttpSessionClient.Reply page = browser.get(node2.url("none"));
            assertThat(page.status()).as("a page that never uses the session still renders").isEqualTo(200);
            assertThat(page.setSessionId()).as("no replacement session is handed out").isEmpty();
            HttpSessionClient.Reply create = browser.get(node1.url("create"));
            assertThat(create.status()).as("no fresh session while the real one cannot be read").isEqualTo(503);
            assertThat(create.setSessionId()).isEmpty();
            assertThat(new HttpSessionClient().get(node1.url("none")).status()).isEqualTo(200);
        } finally {
            redis.resumeMasters();
        }
        Await.until(Duration.ofSeconds(30), "session requests to succeed again",
                () -> browser.get(node2.url("get?name=a")).body().equals("1"));
    }
}

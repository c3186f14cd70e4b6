package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;

/**
 * Attacks on the local tier ({@code localTierBytes}): two nodes with the tier and one without on
 * one real Redis. A local hit must answer exactly what a Redis lookup would (same copy or none,
 * same conditional, range and HEAD answers, never a shared copy to a request the Redis path
 * would render for), and no copy outlives what the shared store says is gone: a flush of Redis
 * or a lost listeners key (Redis' own eviction, a DEL) must not let a later purge go unheard.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LocalTierAttackIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private static final Duration BOUND = Duration.ofSeconds(30);
    private static final AtomicInteger PAGES = new AtomicInteger();

    private CacheNode a;
    private CacheNode b;
    /** The tier off: what the Redis path answers. */
    private CacheNode plain;

    private static Map<String, String> params(String uri, String... namesAndValues) {
        Map<String, String> params = new HashMap<>(Map.of("redisUri", uri, "include", "/catalog/* 60",
                "allowedHosts", "127.0.0.1", "localTierBytes", "1000000", "localTierMaxLagMillis", "10000"));
        for (int i = 0; i < namesAndValues.length; i += 2) {
            params.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return params;
    }

    @BeforeAll
    void start() {
        a = CacheNode.start("attack-a", params(REDIS.get().uri()));
        b = CacheNode.start("attack-b", params(REDIS.get().uri()));
        plain = CacheNode.start("attack-plain", params(REDIS.get().uri(), "localTierBytes", "0"));
    }

    @AfterAll
    void stop() {
        a.close();
        b.close();
        plain.close();
    }

    @BeforeEach
    void ready() {
        serving(a);
        serving(b);
    }

    private static void serving(CacheNode node) {
        Await.until(BOUND, "the local tier serves", () -> node.cache().statistics().isLocalTierServing());
    }

    private static String page() {
        return "/catalog/attack-" + PAGES.incrementAndGet();
    }

    /** B answers {@code path} from its local tier (rendered once, on A). */
    private void heldByB(String path, String... headers) {
        assertThat(Http.get(a.url(path), headers).text()).endsWith("#1");
        Await.until(BOUND, "B keeps a copy", () -> {
            long before = b.cache().statistics().getLocalHits();
            assertThat(Http.get(b.url(path), headers).text()).endsWith("#1");
            return b.cache().statistics().getLocalHits() == before + 1;
        });
    }

    private void bLetGo(long copiesBefore) {
        Await.until(BOUND, "B's copy leaves its tier", () -> b.cache().statistics().getLocalTierCount() < copiesBefore);
    }

    // --- What the shared store says is gone, without a script of ours ---

    @Test
    void aFlushOfRedisIsNotServedByALocalTier() {
        String path = page();
        heldByB(path);
        long copies = b.cache().statistics().getLocalTierCount();
        try (Jedis jedis = REDIS.get().node().client()) {
            jedis.flushAll();
        }
        bLetGo(copies);
        assertThat(Http.get(b.url(path)).text()).endsWith("#2");
    }

    @Test
    void aPurgeMadeWhileTheListenersKeyWasGoneIsNotHiddenFromTheOtherNode() {
        String path = page();
        heldByB(path);
        long copies = b.cache().statistics().getLocalTierCount();
        try (Jedis jedis = REDIS.get().node().client()) {
            // What a volatile-* maxmemory policy, or an operator's DEL, does to a key with a TTL.
            jedis.del(jedis.keys("*{cache}listeners").toArray(new String[0]));
        }
        assertThat(a.cache().evictUrl(a.url(path))).isEqualTo(1);
        bLetGo(copies);
        assertThat(Http.get(b.url(path)).text()).endsWith("#2");
    }

    @Test
    void aPurgeMadeWhileTheSubscriptionWasKilledIsNotServedAfterItIsBack() {
        String path = page();
        heldByB(path);
        try (Jedis jedis = REDIS.get().node().client()) {
            java.util.Set<String> before = pubSubClientIds(jedis);
            // Every node's subscription goes; the purge's message reaches nobody.
            jedis.clientKill(redis.clients.jedis.params.ClientKillParams.clientKillParams()
                    .type(redis.clients.jedis.args.ClientType.PUBSUB));
            assertThat(a.cache().evictUrl(a.url(path))).isEqualTo(1);
            // Readiness: both nodes saw the loss (each opened a new subscription), and B serves again.
            Await.until(BOUND, "both nodes subscribed again", () -> {
                java.util.Set<String> now = pubSubClientIds(jedis);
                now.removeAll(before);
                return now.size() == 2;
            });
        }
        serving(b);
        assertThat(Http.get(b.url(path)).text()).endsWith("#2");
    }

    private static java.util.Set<String> pubSubClientIds(Jedis jedis) {
        java.util.Set<String> ids = new java.util.HashSet<>();
        jedis.clientList().lines().filter(line -> line.contains("name=tomcat-redis-cache-invalidations")
                && line.contains("sub=1")).forEach(line -> ids.add(line.substring(3, line.indexOf(' '))));
        return ids;
    }

    @Test
    void aRestartedRedisLeavesNothingInTheTier() {
        try (StandaloneRedis own = StandaloneRedis.start();
             CacheNode node = CacheNode.start("attack-restart", params(own.uri()))) {
            serving(node);
            String path = page();
            Http.get(node.url(path));
            Await.until(BOUND, "a copy is kept", () -> {
                Http.get(node.url(path));
                return node.cache().statistics().getLocalHits() > 0;
            });
            own.node().restart();
            long localHits = node.cache().statistics().getLocalHits();
            Http.Reply reply = Http.get(node.url(path));
            assertThat(reply.text()).as("Redis lost the entry: never the old copy").doesNotEndWith("#1");
            assertThat(node.cache().statistics().getLocalHits()).isEqualTo(localHits);
            serving(node);
        }
    }

    // --- A local hit answers what the Redis path answers ---

    @Test
    void credentialsNeverGetTheLocalCopyTheRedisPathWouldRenderFor() {
        String path = page();
        heldByB(path);
        // Raw requests: HttpClient drops a Proxy-Authorization it did not make.
        for (String credential : List.of("Authorization: Basic YWxpY2U6c2VjcmV0", "Authorization: Bearer token",
                "Cookie: JSESSIONID=abc", "Proxy-Authorization: Basic YWxpY2U6c2VjcmV0", "authorization: x")) {
            long localHits = b.cache().statistics().getLocalHits();
            Http.Reply fromRedisPath = Http.rawGetReply(plain.port(), "/shop" + path, "127.0.0.1", credential);
            Http.Reply fromTier = Http.rawGetReply(b.port(), "/shop" + path, "127.0.0.1", credential);
            assertThat(fromRedisPath.text()).as(credential + " (Redis path)").doesNotEndWith("#1");
            assertThat(fromTier.text()).as(credential).doesNotEndWith("#1");
            assertThat(b.cache().statistics().getLocalHits()).as(credential).isEqualTo(localHits);
        }
    }

    @Test
    void oddRequestLinesGetFromTheTierWhatTheRedisPathGives() {
        String path = page();
        heldByB(path);
        String[] odd = {path + ";jsessionid=ABCDEF", "/shop" + path.replace("/catalog/", "/catalog//"),
            path.replace("attack", "%61ttack"), path + "?", path + ";x=1", path.replace("/catalog/", "/catalog/./"),
            path + "?a=1&b=2"};
        for (String line : odd) {
            String target = line.startsWith("/shop") ? line : "/shop" + line;
            Http.Reply fromRedisPath = Http.rawGetReply(plain.port(), target, "127.0.0.1");
            Http.Reply fromTier = Http.rawGetReply(b.port(), target, "127.0.0.1");
            assertThat(fromTier.status()).as(line).isEqualTo(fromRedisPath.status());
            assertThat(fromTier.text().endsWith("#1")).as(line + ": the shared copy exactly when the Redis path serves it")
                    .isEqualTo(fromRedisPath.text().endsWith("#1"));
        }
    }

    /**
     * Request headers the cache reads (request directives, negotiation, forwarding): for each, a
     * page held by B and by the tier-off node alike is asked once with it; the tier serves its
     * shared copy exactly when the Redis path does, with the same status and encoding.
     */
    @Test
    void requestHeadersGetFromTheTierWhatTheRedisPathGives() {
        String[][] requests = {{"Cache-Control", "no-cache"}, {"Pragma", "no-cache"}, {"Cache-Control", "max-age=0"},
            {"Cache-Control", "no-store"}, {"Cache-Control", "min-fresh=3600"}, {"Cache-Control", "only-if-cached"},
            {"Accept-Encoding", "gzip"}, {"Accept-Language", "fr"}, {"X-Forwarded-Host", "evil.example"},
            {"Forwarded", "host=evil.example"}, {"X-Forwarded-Proto", "https"}, {"X-Requested-With", "XMLHttpRequest"},
            {"Accept", "application/json"}};
        for (String[] headers : requests) {
            String what = String.join(": ", headers);
            String forPlain = page();
            heldByB(forPlain);
            Http.get(plain.url(forPlain));
            Http.Reply fromRedisPath = Http.get(plain.url(forPlain), headers);
            String forTier = page();
            heldByB(forTier);
            Http.Reply fromTier = Http.get(b.url(forTier), headers);
            assertThat(fromTier.text().endsWith("#1")).as(what + ": the shared copy exactly when the Redis path serves it")
                    .isEqualTo(fromRedisPath.text().endsWith("#1"));
            assertThat(fromTier.status()).as(what).isEqualTo(fromRedisPath.status());
            assertThat(fromTier.header("Content-Encoding")).as(what).isEqualTo(fromRedisPath.header("Content-Encoding"));
            assertThat(fromTier.header("Vary")).as(what).isEqualTo(fromRedisPath.header("Vary"));
        }
    }

    @Test
    void conditionalRangeAndHeadAnswersFromTheTierAreTheRedisPaths() {
        String path = "/catalog/validated?v=" + PAGES.incrementAndGet();
        heldByB(path);
        String[][] requests = {{"If-None-Match", "\"v1\""}, {"If-None-Match", "\"other\""},
            {"If-Modified-Since", "Wed, 21 Oct 2026 07:28:00 GMT"}, {"If-Modified-Since", "Wed, 21 Oct 2015 07:28:00 GMT"},
            {"Range", "bytes=0-3"}, {"Range", "bytes=0-3", "If-Range", "\"v1\""}, {"Range", "bytes=0-3", "If-Range", "\"v0\""},
            {"Range", "bytes=99999-"}};
        for (String[] headers : requests) {
            long localHits = b.cache().statistics().getLocalHits();
            Http.Reply fromRedisPath = Http.get(plain.url(path), headers);
            Http.Reply fromTier = Http.get(b.url(path), headers);
            String what = String.join(" ", headers);
            assertThat(b.cache().statistics().getLocalHits()).as(what + ": a local hit").isEqualTo(localHits + 1);
            assertThat(fromTier.status()).as(what).isEqualTo(fromRedisPath.status());
            assertThat(fromTier.text()).as(what).isEqualTo(fromRedisPath.text());
            assertThat(fromTier.header("ETag")).as(what).isEqualTo(fromRedisPath.header("ETag"));
            assertThat(fromTier.header("Content-Range")).as(what).isEqualTo(fromRedisPath.header("Content-Range"));
        }
        Http.Reply head = Http.send("HEAD", b.url(path));
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(head.header("Content-Length")).isEqualTo(Http.send("HEAD", plain.url(path)).header("Content-Length"));
    }

    @Test
    void aCopyIsNotServedOnceItsEntryIsNoLongerFresh() {
        // max-age=1, stale-while-revalidate=60: the Redis path answers STALE (and refreshes) after a second.
        String path = "/catalog/short?attack=" + PAGES.incrementAndGet();
        Http.get(a.url(path));
        Http.get(b.url(path));
        long stored = System.currentTimeMillis();
        Http.get(b.url(path));
        Await.until(BOUND, "the entry's second of freshness is over", () -> System.currentTimeMillis() > stored + 1100);
        long localHits = b.cache().statistics().getLocalHits();
        Http.Reply reply = Http.get(b.url(path));
        assertThat(b.cache().statistics().getLocalHits()).as("stale: never from the tier").isEqualTo(localHits);
        assertThat(reply.cache()).isNotEqualTo("HIT");
    }

    @Test
    void anUnsafeRequestOnTheNodeHoldingTheCopyDropsItAtOnceAndAFailedOneKeepsIt() {
        String path = page();
        heldByB(path);
        // PageServlet has no doPut: 405, and an unsafe request that failed evicts nothing (as without the tier).
        assertThat(Http.send("PUT", b.url(path)).status()).isEqualTo(405);
        assertThat(Http.get(b.url(path)).text()).endsWith("#1");
        assertThat(Http.send("POST", b.url(path)).status()).isLessThan(400);
        assertThat(Http.get(b.url(path)).text()).as("no wait for the message").endsWith("#2");
    }

    @Test
    void aPurgeOfAnUncanonicalUrlFormIsSeenAtOnceByTheNodeThatMadeIt() {
        String path = page();
        heldByB(path);
        assertThat(b.cache().evictUrl(b.url(path.replace("/catalog/", "/catalog/./")))).isEqualTo(1);
        assertThat(Http.get(b.url(path)).text()).as("no wait: the purging node drops its copy itself").endsWith("#2");
    }

    // --- Bounds and lifecycle ---

    @Test
    void manyDistinctLongUrlsStayWithinTheByteBound() {
        try (CacheNode small = CacheNode.start("attack-many", params(REDIS.get().uri(), "localTierBytes", "30000"))) {
            serving(small);
            String longQuery = "q=" + "x".repeat(1500);
            for (int i = 0; i < 60; i++) {
                String path = page() + "?" + longQuery;
                Http.get(small.url(path));
                Http.get(small.url(path));
                assertThat(small.cache().statistics().getLocalTierBytes()).isLessThanOrEqualTo(30000L);
            }
            assertThat(small.cache().statistics().getLocalTierCount()).isBetween(1L, 59L);
        }
    }

    @Test
    void aTierOfOneByteKeepsNothingAndServesFromRedis() {
        try (CacheNode tiny = CacheNode.start("attack-tiny", params(REDIS.get().uri(), "localTierBytes", "1"))) {
            serving(tiny);
            String path = page();
            Http.get(tiny.url(path));
            for (int i = 0; i < 3; i++) {
                Http.Reply reply = Http.get(tiny.url(path));
                assertThat(reply.cache()).isEqualTo("HIT");
                assertThat(reply.text()).endsWith("#1");
            }
            assertThat(tiny.cache().statistics().getLocalHits()).isZero();
            assertThat(tiny.cache().statistics().getLocalTierCount()).isZero();
            assertThat(tiny.cache().statistics().getLocalTierBytes()).isZero();
        }
    }

    @Test
    void stoppingTheWebappStopsTheSubscriberThreadsAndItsConnection() {
        try (StandaloneRedis own = StandaloneRedis.start(); Jedis jedis = own.node().client()) {
            long threadsBefore = tierThreads();
            CacheNode node = CacheNode.start("attack-stop", params(own.uri()));
            serving(node);
            assertThat(tierThreads()).isEqualTo(threadsBefore + 2);
            assertThat(jedis.clientList()).contains("tomcat-redis-cache-invalidations");
            node.close();
            Await.until(BOUND, "the reader and heartbeat threads end", () -> tierThreads() == threadsBefore);
            Await.until(BOUND, "the subscribed connection is closed",
                    () -> !jedis.clientList().contains("tomcat-redis-cache-invalidations"));
            assertThat(jedis.pubsubNumSub("tomcat-cache:/shop{cache}invalidations").values()).containsOnly(0L);
        }
    }

    @Test
    void reloadingTheWebappLeavesOneSubscriberAndItsThreads() {
        try (StandaloneRedis own = StandaloneRedis.start(); Jedis jedis = own.node().client()) {
            long threadsBefore = tierThreads();
            try (CacheNode node = CacheNode.start("attack-reload", params(own.uri()))) {
                serving(node);
                for (int i = 0; i < 3; i++) {
                    node.reload();
                    serving(node);
                }
                Await.until(BOUND, "the old filters' threads end", () -> tierThreads() == threadsBefore + 2);
                Await.until(BOUND, "one subscribed connection", () -> subscribers(jedis) == 1);
                // (The servlet instance added by the harness is not re-created by a reload: no page is asked for.)
                assertThat(node.cache().statistics().isLocalTierServing()).isTrue();
            }
            Await.until(BOUND, "every thread ends", () -> tierThreads() == threadsBefore);
            Await.until(BOUND, "no subscribed connection", () -> subscribers(jedis) == 0);
        }
    }

    @Test
    void stoppingTheWebappWhileRedisIsDownEndsTheSubscriberThreads() {
        try (StandaloneRedis own = StandaloneRedis.start()) {
            long threadsBefore = tierThreads();
            CacheNode node = CacheNode.start("attack-stop-down", params(own.uri()));
            serving(node);
            own.node().stop();
            Await.until(BOUND, "the tier stops serving", () -> !node.cache().statistics().isLocalTierServing());
            node.close();
            Await.until(BOUND, "the reader and heartbeat threads end", () -> tierThreads() == threadsBefore);
        }
    }

    private static long subscribers(Jedis jedis) {
        return jedis.clientList().lines().filter(line -> line.contains("name=tomcat-redis-cache-invalidations")
                && line.contains("sub=1")).count();
    }

    private static long tierThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(name -> name.startsWith("tomcat-redis-cache-invalidations ")
                        || name.startsWith("tomcat-redis-cache-heartbeat "))
                .count();
    }
}

package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import io.tomcatredis.testsupport.TcpProxy;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;

/**
 * Issue 15: the page cache's local tier ({@code localTierBytes}), two nodes on one real Redis.
 * A copy in node B's heap is never served after node A removed or replaced its entry (a purge, a
 * tag eviction, the byte budget), once B has received the message (what the tests wait for: the
 * copy leaving B's tier, as a subscriber's delivery lag is bounded, not zero); a broken or hung
 * invalidation channel drops the whole tier; the byte bound holds; personal data rules apply
 * unchanged; and with the tier off, a hit costs what it cost before.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag("valkey")
class LocalTierIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private static final Duration BOUND = Duration.ofSeconds(30);
    private static final AtomicInteger PAGES = new AtomicInteger();

    private CacheNode a;
    private CacheNode b;

    private static Map<String, String> params(String uri, String... namesAndValues) {
        Map<String, String> params = new HashMap<>(Map.of("redisUri", uri, "include", "/catalog/* 60",
                "allowedHosts", "127.0.0.1", "localTierBytes", "1000000",
                // A loaded machine may delay a heartbeat by a second: only the paused-Redis test needs the bound.
                "localTierMaxLagMillis", "10000"));
        for (int i = 0; i < namesAndValues.length; i += 2) {
            params.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return params;
    }

    @BeforeAll
    void start() {
        a = CacheNode.start("local-a", params(REDIS.get().uri(), "maxCacheBytes", "200000"));
        b = CacheNode.start("local-b", params(REDIS.get().uri(), "maxCacheBytes", "200000"));
    }

    @AfterAll
    void stop() {
        a.close();
        b.close();
    }

    @BeforeEach
    void ready() {
        PageServlet.RENDERS.clear();
        serving(a);
        serving(b);
    }

    /** Readiness: the node's subscription is confirmed and its heartbeat answered. */
    private static void serving(CacheNode node) {
        Await.until(BOUND, "the local tier serves", () -> node.cache().statistics().isLocalTierServing());
    }

    private static String page() {
        return "/catalog/local-" + PAGES.incrementAndGet();
    }

    /** B answers {@code path} from its local tier: one Redis hit puts the copy there, the next is served from it. */
    private void heldByB(String path) {
        assertThat(Http.get(a.url(path)).text()).endsWith("#1");
        Await.until(BOUND, "B keeps a copy", () -> {
            long before = b.cache().statistics().getLocalHits();
            Http.Reply reply = Http.get(b.url(path));
            assertThat(reply.text()).endsWith("#1");
            return b.cache().statistics().getLocalHits() == before + 1;
        });
    }

    private void bLetGo(long copiesBefore) {
        Await.until(BOUND, "B's copy leaves its tier", () -> b.cache().statistics().getLocalTierCount() < copiesBefore);
    }

    @Test
    void aLocalHitIsAHitWithItsOwnCounter() {
        String path = page();
        heldByB(path);
        long hits = b.cache().statistics().getHits();
        long localHits = b.cache().statistics().getLocalHits();
        Http.Reply reply = Http.get(b.url(path));
        assertThat(reply.cache()).isEqualTo("HIT");
        assertThat(reply.header("Cache-Status").orElseThrow()).contains("hit");
        assertThat(reply.header("Age")).isPresent();
        assertThat(b.cache().statistics().getHits()).isEqualTo(hits + 1);
        assertThat(b.cache().statistics().getLocalHits()).isEqualTo(localHits + 1);
        assertThat(PageServlet.RENDERS.get(path).get()).isEqualTo(1);
    }

    @Test
    void aPurgeOnANodeIsNeverServedByTheOthersLocalTier() {
        String path = page();
        heldByB(path);
        long copies = b.cache().statistics().getLocalTierCount();
        assertThat(a.cache().evictUrl(a.url(path))).isEqualTo(1);
        bLetGo(copies);
        assertThat(Http.get(b.url(path)).text()).endsWith("#2");
    }

    @Test
    void aPurgeIsSeenAtOnceByTheNodeThatMadeIt() {
        String path = page();
        heldByB(path);
        assertThat(b.cache().evictUrl(b.url(path))).isEqualTo(1);
        assertThat(Http.get(b.url(path)).text()).as("no wait: the purging node drops its copy itself").endsWith("#2");
    }

    @Test
    void aTagEvictionOnANodeIsNeverServedByTheOthersLocalTier() {
        String path = "/catalog/tagged?tags=lt-" + PAGES.incrementAndGet();
        heldByB(path);
        long copies = b.cache().statistics().getLocalTierCount();
        assertThat(a.cache().evictTag(path.substring(path.indexOf('=') + 1))).isEqualTo(1);
        bLetGo(copies);
        assertThat(Http.get(b.url(path)).text()).endsWith("#2");
    }

    @Test
    void anUnsafeRequestOnANodeIsNeverServedByTheOthersLocalTier() {
        String path = page();
        heldByB(path);
        long copies = b.cache().statistics().getLocalTierCount();
        assertThat(Http.send("POST", a.url(path)).status()).isLessThan(400);
        bLetGo(copies);
        assertThat(Http.get(b.url(path)).text()).endsWith("#2");
    }

    @Test
    void anEntryTheByteBudgetEvictsIsNeverServedByALocalTier() {
        String path = page();
        heldByB(path);
        long copies = b.cache().statistics().getLocalTierCount();
        // Renders on A until the budget (maxCacheBytes 200000) evicts B's page, least recently used in Redis.
        Await.until(BOUND, "the budget evicts the page", () -> {
            Http.get(a.url("/catalog/big?kb=20&filler=" + PAGES.incrementAndGet()));
            return b.cache().statistics().getLocalTierCount() < copies;
        });
        assertThat(Http.get(b.url(path)).text()).endsWith("#2");
    }

    @Test
    void aVariantsCopyGoesWithItsUrl() {
        String path = "/catalog/language?v=" + PAGES.incrementAndGet();
        assertThat(Http.get(a.url(path), "Accept-Language", "fr").text()).endsWith("#1");
        Await.until(BOUND, "B keeps the marker and the variant", () -> {
            long before = b.cache().statistics().getLocalHits();
            assertThat(Http.get(b.url(path), "Accept-Language", "fr").text()).isEqualTo("lang fr #1");
            return b.cache().statistics().getLocalHits() == before + 1;
        });
        assertThat(Http.get(b.url(path), "Accept-Language", "de").text()).as("another variant").isEqualTo("lang de #2");
        long copies = b.cache().statistics().getLocalTierCount();
        assertThat(a.cache().evictUrl(a.url(path))).isEqualTo(2);
        bLetGo(copies);
        assertThat(Http.get(b.url(path), "Accept-Language", "fr").text()).isEqualTo("lang fr #3");
    }

    @Test
    void aCopyForAnonymousVisitorsIsNotServedToARequestWithCredentials() {
        String path = page();
        heldByB(path);
        long localHits = b.cache().statistics().getLocalHits();
        Http.Reply personal = Http.get(b.url(path), "Cookie", "SESSION=alice");
        assertThat(personal.text()).endsWith("#2");
        assertThat(b.cache().statistics().getLocalHits()).isEqualTo(localHits);
    }

    @Test
    void theByteBoundHoldsAndAnEntryLargerThanItIsNotKept() {
        try (CacheNode small = CacheNode.start("local-small", params(REDIS.get().uri(), "localTierBytes", "6000"))) {
            serving(small);
            for (int i = 0; i < 40; i++) {
                String path = page();
                Http.get(small.url(path));
                Http.get(small.url(path));
                assertThat(small.cache().statistics().getLocalTierBytes()).isBetween(1L, 6000L);
            }
            assertThat(small.cache().statistics().getLocalTierCount()).isBetween(1L, 39L);
            String big = "/catalog/big?kb=8&one=" + PAGES.incrementAndGet();
            Http.get(small.url(big));
            Http.get(small.url(big));
            long localHits = small.cache().statistics().getLocalHits();
            assertThat(Http.get(small.url(big)).cache()).isEqualTo("HIT");
            assertThat(small.cache().statistics().getLocalHits()).as("larger than the tier: from Redis")
                    .isEqualTo(localHits);
        }
    }

    @Test
    void aCutInvalidationChannelDropsTheWholeTierAndNothingStaleIsServed() {
        try (TcpProxy proxy = TcpProxy.forwardingTo(REDIS.get().node());
             CacheNode cut = CacheNode.start("local-cut", params(proxy.uri(), "timeoutMillis", "500",
                     "circuitBreakerMillis", "200"))) {
            serving(cut);
            String path = page();
            Http.get(cut.url(path));
            Await.until(BOUND, "a copy is kept", () -> {
                Http.get(cut.url(path));
                return cut.cache().statistics().getLocalHits() > 0;
            });
            proxy.close();
            Await.until(BOUND, "the tier stops serving and drops its copies",
                    () -> !cut.cache().statistics().isLocalTierServing()
                            && cut.cache().statistics().getLocalTierCount() == 0);
            long localHits = cut.cache().statistics().getLocalHits();
            Http.Reply reply = Http.get(cut.url(path));
            assertThat(reply.text()).endsWith("#2");
            assertThat(cut.cache().statistics().getLocalHits()).isEqualTo(localHits);
        }
    }

    @Test
    void aPausedRedisStopsTheTierWithinItsLagBoundAndItResumesAfter() {
        try (CacheNode paused = CacheNode.start("local-paused", params(REDIS.get().uri(), "timeoutMillis", "500",
                "circuitBreakerMillis", "200", "localTierMaxLagMillis", "200"))) {
            serving(paused);
            String path = page();
            Http.get(paused.url(path));
            Await.until(BOUND, "a copy is kept", () -> {
                Http.get(paused.url(path));
                return paused.cache().statistics().getLocalHits() > 0;
            });
            REDIS.get().node().pause();
            try {
                Await.until(BOUND, "no PONG: the tier stops serving and drops its copies",
                        () -> !paused.cache().statistics().isLocalTierServing()
                                && paused.cache().statistics().getLocalTierCount() == 0);
                long localHits = paused.cache().statistics().getLocalHits();
                assertThat(Http.get(paused.url(path)).text()).as("Redis unreachable: rendered").endsWith("#2");
                assertThat(paused.cache().statistics().getLocalHits()).isEqualTo(localHits);
            } finally {
                REDIS.get().node().resume();
            }
            serving(paused);
        }
    }

    @Test
    void withTheTierOffAHitCostsOneEvalshaAsBefore() {
        // A Redis of its own: the other nodes' heartbeats are not counted.
        try (StandaloneRedis own = StandaloneRedis.start();
             CacheNode off = CacheNode.start("local-off", params(own.uri(), "localTierBytes", "0"));
             Jedis jedis = own.node().client()) {
            String path = page();
            Http.get(off.url(path));
            Http.get(off.url(path));
            jedis.configResetStat();
            for (int i = 0; i < 3; i++) {
                assertThat(Http.get(off.url(path)).cache()).isEqualTo("HIT");
            }
            String stats = jedis.info("commandstats");
            assertThat(stats).contains("cmdstat_evalsha:calls=3,").doesNotContain("cmdstat_pttl")
                    .doesNotContain("cmdstat_publish").doesNotContain("cmdstat_subscribe");
            assertThat(off.cache().statistics().getLocalHits()).isZero();
            assertThat(off.cache().statistics().isLocalTierServing()).isFalse();
        }
    }
}

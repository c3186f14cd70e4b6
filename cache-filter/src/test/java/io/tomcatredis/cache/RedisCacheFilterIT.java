package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.management.ObjectName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Two embedded Tomcat nodes with the cache filter on one real Redis. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag("valkey")
class RedisCacheFilterIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private CacheNode one;
    private CacheNode two;

    @BeforeAll
    void start() {
        Map<String, String> params = Map.of("redisUri", REDIS.get().uri(), "include",
                "/static/* 86400, /catalog/* 60", "exclude", "/catalog/admin/*", "allowedHosts",
                "127.0.0.1, localhost", "maxEntryBytes", "20000", "lockTimeoutMillis", "10000",
                "timeoutMillis", "500", "circuitBreakerMillis", "300");
        one = CacheNode.start("cache1", params);
        two = CacheNode.start("cache2", params);
    }

    @AfterAll
    void stop() {
        one.close();
        two.close();
    }

    @BeforeEach
    void empty() {
        REDIS.get().flushAll();
        PageServlet.RENDERS.clear();
        PageServlet.failing = false;
    }

    @Test
    void coldUrlIsRenderedOnceFor200ConcurrentRequestsOverTwoNodes() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(50);
        List<Future<Http.Reply>> replies = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < 200; i++) {
            CacheNode node = i % 2 == 0 ? one : two;
            replies.add(pool.submit(() -> Http.get(node.url("/catalog/page?id=7&sleep=300"))));
        }
        Set<String> bodies = new HashSet<>();
        int hits = 0;
        for (Future<Http.Reply> reply : replies) {
            Http.Reply r = reply.get();
            assertThat(r.status()).isEqualTo(200);
            bodies.add(r.text());
            hits += r.cache().equals("HIT") ? 1 : 0;
        }
        pool.shutdown();
        long millis = (System.nanoTime() - start) / 1_000_000;
        System.out.printf("200 concurrent requests for one cold URL over 2 nodes: %d render(s), %d hits, %d ms%n",
                PageServlet.renders("/catalog/page?id=7&sleep=300"), hits, millis);

        assertThat(PageServlet.renders("/catalog/page?id=7&sleep=300")).isEqualTo(1);
        assertThat(bodies).containsExactly("page /catalog/page 7 #1");
        assertThat(hits).isEqualTo(199);
    }

    @Test
    void everyKeyTheCacheWritesHasATtl() {
        Http.get(one.url("/catalog/tagged?tags=t1"));
        Http.get(one.url("/catalog/private"));
        Http.get(one.url("/catalog/language"), "Accept-Language", "en");
        try (var jedis = REDIS.get().node().client()) {
            Set<String> keys = jedis.keys("*");
            assertThat(keys).isNotEmpty();
            for (String key : keys) {
                assertThat(jedis.ttl(key)).as("TTL of " + key).isPositive();
            }
        }
    }

    @Test
    void hitOnTheOtherNodeIsTheStoredRenderWithAgeValidatorAndXCache() {
        Http.Reply miss = Http.get(one.url("/catalog/page?id=1"));
        Http.Reply hit = Http.get(two.url("/catalog/page?id=1"));

        assertThat(hit.cache()).as(one.cache().statistics().getBypassesByReason()).isEqualTo("HIT");
        assertThat(PageServlet.renders("/catalog/page?id=1")).as("rendered once, for the miss").isEqualTo(1);
        assertThat(hit.text()).isEqualTo(miss.text()).isEqualTo("page /catalog/page 1 #1");
        assertThat(hit.header("Age")).hasValueSatisfying(age -> assertThat(Long.parseLong(age)).isBetween(0L, 60L));
        assertThat(hit.header("ETag")).hasValueSatisfying(tag -> assertThat(tag).startsWith("\""))
                .isEqualTo(miss.header("ETag"));
        assertThat(hit.header("Content-Type")).hasValue("text/html;charset=UTF-8");
    }

    @Test
    void pageThatReadsTheUsersSessionIsNeverServedToAnotherUser() {
        String session = loginAs("alice");
        Http.Reply alice = Http.get(one.url("/catalog/hello"), "Cookie", session);
        assertThat(alice.text()).startsWith("Hello alice");

        Http.Reply guest = Http.get(two.url("/catalog/hello"));
        Http.Reply guestAgain = Http.get(one.url("/catalog/hello"));
        // Sessions are per node in this test (no session manager shared): Alice stays on node one.
        Http.Reply aliceAgain = Http.get(one.url("/catalog/hello"), "Cookie", session);

        assertThat(guest.text()).startsWith("Hello guest");
        assertThat(guestAgain.text()).isEqualTo(guest.text());
        assertThat(guestAgain.cache()).isEqualTo("HIT");
        assertThat(aliceAgain.text()).startsWith("Hello alice");
        assertThat(aliceAgain.cache()).isEqualTo("BYPASS");
    }

    private String loginAs(String user) {
        Http.Reply login = Http.get(one.url("/session/login?user=" + user));
        return login.header("Set-Cookie").orElseThrow().split(";")[0];
    }

    @Test
    void responseThatSetsACookieIsNeverReplayed() {
        Http.Reply first = Http.get(one.url("/catalog/cookie"));
        Http.Reply second = Http.get(two.url("/catalog/cookie"));

        assertThat(first.header("Set-Cookie")).hasValue("tracking=t1");
        assertThat(second.header("Set-Cookie")).hasValue("tracking=t2");
        assertThat(PageServlet.renders("/catalog/cookie")).isEqualTo(2);
    }

    @Test
    void pageBuiltFromCookieOrAuthorizationIsNotShared() {
        Http.get(one.url("/catalog/reads-cookie"), "Cookie", "theme=dark");
        Http.Reply other = Http.get(two.url("/catalog/reads-cookie"));
        assertThat(other.text()).isEqualTo("theme null");

        Http.get(one.url("/catalog/page?id=auth"), "Authorization", "Basic YTpi");
        Http.Reply again = Http.get(two.url("/catalog/page?id=auth"), "Authorization", "Basic YTpi");
        Http.Reply anonymous = Http.get(two.url("/catalog/page?id=auth"));
        assertThat(again.text()).endsWith("#2");
        assertThat(anonymous.text()).as("nothing rendered for credentials was stored").endsWith("#3");
    }

    @Test
    void forwardedHostAndHostVariationsNeverChangeWhatAnotherClientReceives() {
        Http.Reply poisoned = Http.get(one.url("/catalog/links"), "X-Forwarded-Host", "evil.example");
        assertThat(poisoned.text()).contains("evil.example");

        Http.Reply clean = Http.get(two.url("/catalog/links"));
        assertThat(clean.text()).doesNotContain("evil.example").contains("127.0.0.1");

        String otherHost = Http.rawGet(one.port(), "/shop/catalog/page?id=9", "evil.example");
        assertThat(otherHost).contains("X-Cache: BYPASS").contains("page /catalog/page 9 #1");
        Http.Reply normal = Http.get(two.url("/catalog/page?id=9"));
        assertThat(normal.text()).isEqualTo("page /catalog/page 9 #2");

        String upper = Http.rawGet(one.port(), "/shop/catalog/page?id=9", "127.0.0.1:" + two.port());
        assertThat(upper).contains("X-Cache: HIT").contains("#2");
    }

    @Test
    void conditionalRequestsGet304WithTheirHeadersAndNoBody() {
        Http.Reply first = Http.get(one.url("/catalog/validated"));
        String etag = first.header("ETag").orElseThrow();
        assertThat(etag).isEqualTo("\"v1\"");

        Http.Reply byTag = Http.get(two.url("/catalog/validated"), "If-None-Match", "\"x\", W/\"v1\"");
        Http.Reply byStar = Http.get(two.url("/catalog/validated"), "If-None-Match", "*");
        Http.Reply byDate = Http.get(two.url("/catalog/validated"), "If-Modified-Since",
                "Thu, 22 Oct 2026 07:28:00 GMT");
        Http.Reply tagWins = Http.get(two.url("/catalog/validated"), "If-None-Match", "\"other\"",
                "If-Modified-Since", "Thu, 22 Oct 2026 07:28:00 GMT");

        for (Http.Reply reply : List.of(byTag, byStar, byDate)) {
            assertThat(reply.status()).isEqualTo(304);
            assertThat(reply.body()).isEmpty();
            assertThat(reply.header("ETag")).hasValue("\"v1\"");
            assertThat(reply.header("Date")).isPresent();
        }
        assertThat(tagWins.status()).isEqualTo(200);
        assertThat(tagWins.text()).isEqualTo("validated #1");
    }

    @Test
    void headIsAnsweredFromTheGetEntryAndNeverStoredItself() {
        Http.Reply head = Http.send("HEAD", one.url("/catalog/page?id=h"));
        assertThat(head.body()).isEmpty();
        Http.Reply get = Http.get(two.url("/catalog/page?id=h"));
        assertThat(get.cache()).isEqualTo("MISS");
        assertThat(get.text()).isNotEmpty();

        Http.Reply headHit = Http.send("HEAD", one.url("/catalog/page?id=h"));
        assertThat(headHit.cache()).isEqualTo("HIT");
        assertThat(headHit.body()).isEmpty();
        assertThat(headHit.header("Content-Length")).hasValue(Integer.toString(get.body().length));
    }

    @Test
    void compressibleBodyIsServedAsTheApplicationWroteItToEveryClient() throws IOException {
        // Byte identity (README, "Serving and stampedes"): the container, not the cache, compresses.
        Http.Reply plainMiss = Http.get(one.url("/static/app.css"));
        Http.Reply accepting = Http.get(two.url("/static/app.css"), "Accept-Encoding", "br;q=1, gzip;q=0.5");
        Http.Reply refused = Http.get(two.url("/static/app.css"), "Accept-Encoding", "gzip;q=0, identity");
        Http.Reply plain = Http.get(one.url("/static/app.css"));

        assertThat(accepting.cache()).isEqualTo("HIT");
        for (Http.Reply reply : List.of(plainMiss, accepting, refused, plain)) {
            assertThat(reply.header("Content-Encoding")).isEmpty();
            assertThat(reply.header("Vary")).isEmpty();
            assertThat(reply.header("Content-Length")).hasValue(Integer.toString(reply.body().length));
            assertThat(reply.text()).isEqualTo(plainMiss.text());
        }
        // As Tomcat itself answers: setContentType("text/css") keeps the charset set before.
        assertThat(plain.header("Content-Type")).hasValue("text/css;charset=UTF-8");
        assertThat(PageServlet.renders("/static/app.css")).isEqualTo(1);
    }

    @Test
    void errorsAndRedirectsKeepTheirStatusAndOnlyStorableOnesAreStored() {
        Http.Reply missing = Http.get(one.url("/catalog/missing"));
        Http.Reply missingAgain = Http.get(two.url("/catalog/missing"));
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missingAgain.status()).isEqualTo(404);
        assertThat(PageServlet.renders("/catalog/missing")).isEqualTo(2);

        Http.Reply moved = Http.get(one.url("/catalog/moved"));
        Http.Reply movedAgain = Http.get(two.url("/catalog/moved"));
        assertThat(moved.status()).isEqualTo(302);
        assertThat(movedAgain.status()).isEqualTo(302);
        assertThat(movedAgain.header("Location")).isPresent();

        Http.Reply gone = Http.get(one.url("/catalog/gone"));
        Http.Reply goneAgain = Http.get(two.url("/catalog/gone"));
        assertThat(gone.status()).isEqualTo(410);
        assertThat(goneAgain.status()).isEqualTo(410);
        assertThat(goneAgain.cache()).isEqualTo("HIT");
        assertThat(goneAgain.text()).isEqualTo("gone for good #1");
    }

    @Test
    void oversizedBodyIsStreamedWholeAndNotStored() {
        Http.Reply big = Http.get(one.url("/catalog/big?kb=50"));
        Http.Reply again = Http.get(two.url("/catalog/big?kb=50"));

        assertThat(big.body()).hasSize(50 * 1024);
        assertThat(again.body()).hasSize(50 * 1024);
        assertThat(PageServlet.renders("/catalog/big?kb=50")).isEqualTo(2);
    }

    @Test
    void privateResponsesAreNeverStoredAndExcludedPathsBypass() {
        Http.get(one.url("/catalog/private"));
        Http.get(two.url("/catalog/private"));
        assertThat(PageServlet.renders("/catalog/private")).isEqualTo(2);

        assertThat(Http.get(one.url("/catalog/admin/x")).cache()).isEqualTo("BYPASS");
        assertThat(Http.get(one.url("/elsewhere")).cache()).isEqualTo("BYPASS");
    }

    @Test
    void evictingATagRemovesEveryEntryCarryingItOnAllNodes() {
        Http.Reply a = Http.get(one.url("/catalog/tagged?tags=product-42+catalog"));
        Http.get(one.url("/catalog/tagged?tags=product-7+catalog"));
        assertThat(a.header("X-Cache-Tags")).isEmpty();
        assertThat(Http.get(two.url("/catalog/tagged?tags=product-42+catalog")).cache()).isEqualTo("HIT");

        assertThat(one.cache().evictTag("product-42")).isEqualTo(1);
        // A render that looks up in the eviction's own millisecond counts as begun before it (the
        // safe side) and is not stored: render the next one once Redis' clock has moved past it.
        afterRedisMillisecondOfNow();

        assertThat(Http.get(two.url("/catalog/tagged?tags=product-42+catalog")).cache()).isEqualTo("MISS");
        assertThat(Http.get(two.url("/catalog/tagged?tags=product-7+catalog")).cache()).isEqualTo("HIT");
        assertThat(two.cache().evictTag("catalog")).isEqualTo(2);
    }

    @Test
    void successfulPostEvictsTheEntryOfItsUrl() {
        Http.get(one.url("/catalog/page?id=p"));
        assertThat(Http.get(two.url("/catalog/page?id=p")).cache()).isEqualTo("HIT");

        Http.send("POST", two.url("/catalog/page?id=p"));

        assertThat(Http.get(one.url("/catalog/page?id=p")).cache()).isEqualTo("MISS");
    }

    @Test
    void varyHeaderKeysTheEntry() {
        Http.Reply english = Http.get(one.url("/catalog/language"), "Accept-Language", "en");
        Http.Reply french = Http.get(two.url("/catalog/language"), "Accept-Language", "fr");
        Http.Reply englishAgain = Http.get(two.url("/catalog/language"), "Accept-Language", "en");

        assertThat(english.text()).startsWith("lang en");
        assertThat(french.text()).startsWith("lang fr");
        assertThat(englishAgain.text()).isEqualTo(english.text());
        assertThat(englishAgain.cache()).isEqualTo("HIT");
    }

    @Test
    void staleCopyIsServedAtOnceAndRefreshedOnce() {
        Http.get(one.url("/catalog/short"));
        Await.until(Duration.ofSeconds(10), "the entry to go stale",
                () -> Http.get(two.url("/catalog/short")).cache().equals("STALE"));
        Await.until(Duration.ofSeconds(10), "the refreshed entry",
                () -> Http.get(one.url("/catalog/short")).text().equals("short #2"));
        assertThat(PageServlet.renders("/catalog/short")).isEqualTo(2);

        PageServlet.failing = true;
        Await.until(Duration.ofSeconds(10), "the entry to go stale again",
                () -> Http.get(two.url("/catalog/short")).cache().equals("STALE"));
        Await.until(Duration.ofSeconds(10), "the failed refresh", () -> PageServlet.renders("/catalog/short") >= 3);
        Http.Reply staleIfError = Http.get(one.url("/catalog/short"));
        assertThat(staleIfError.status()).as("a failed refresh keeps the stale copy").isEqualTo(200);
        assertThat(staleIfError.text()).as("the failed render (500, #3) was not stored").isEqualTo("short #2");
    }

    @Test
    void redisStoppedMidRunPassesRequestsThroughAndCachingResumesAfterwards() {
        Http.get(one.url("/catalog/page?id=r"));
        REDIS.get().node().stop();
        try {
            for (int i = 0; i < 5; i++) {
                long start = System.nanoTime();
                Http.Reply reply = Http.get((i % 2 == 0 ? one : two).url("/catalog/page?id=r"));
                assertThat(reply.status()).isEqualTo(200);
                assertThat(reply.text()).startsWith("page /catalog/page r");
                assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(3000);
            }
        } finally {
            REDIS.get().node().start();
        }
        // Each node's circuit closes on its own: wait until both serve the entry one of them stored.
        Await.until(Duration.ofSeconds(10), "caching to resume on both nodes", () -> {
            Http.get(one.url("/catalog/page?id=r2"));
            return Http.get(two.url("/catalog/page?id=r2")).cache().equals("HIT")
                    && Http.get(one.url("/catalog/page?id=r2")).cache().equals("HIT");
        });
    }

    @Test
    void countersAreReadableOverJmx() throws Exception {
        Http.get(one.url("/catalog/page?id=j"));
        Http.get(one.url("/catalog/page?id=j"));
        Http.get(one.url("/catalog/cookie"));

        var server = ManagementFactory.getPlatformMBeanServer();
        Set<ObjectName> names = server.queryNames(new ObjectName("io.tomcatredis:type=RedisCacheFilter,*"), null);
        long hits = 0;
        long stores = 0;
        long bytes = 0;
        String reasons = "";
        for (ObjectName name : names) {
            hits += (Long) server.getAttribute(name, "Hits");
            stores += (Long) server.getAttribute(name, "Stores");
            reasons += server.getAttribute(name, "BypassesByReason");
            bytes = Math.max(bytes, (Long) server.getAttribute(name, "BytesStored"));
        }
        assertThat(names).hasSize(2);
        assertThat(hits).isPositive();
        assertThat(stores).isPositive();
        assertThat(bytes).as("both nodes read the one budget of the stored entry").isPositive();
        assertThat(reasons).contains("set-cookie");
    }

    private static void afterRedisMillisecondOfNow() {
        try (var jedis = REDIS.get().node().client()) {
            long now = redisMillis(jedis.time());
            while (redisMillis(jedis.time()) <= now) {
                Thread.onSpinWait();
            }
        }
    }

    private static long redisMillis(List<String> time) {
        return Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
    }
}

package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import io.tomcatredis.testsupport.Await;
import redis.clients.jedis.Jedis;
import org.apache.catalina.Context;
import org.apache.catalina.servlets.DefaultServlet;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 14: HTTP semantics that clients cannot bend. The application always renders a neutral
 * request; the filter answers conditional and range requests itself (RFC 9110 sections 13 and
 * 14), so static files of Tomcat's DefaultServlet are stored and served as hits. Two nodes on one
 * real Redis.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag("valkey")
class CacheSemanticsIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    /** The sample shop's style sheet, served by DefaultServlet as in the real distribution. */
    static final byte[] CSS = css();

    /** Long enough that a back-off outlives the requests of a test on a loaded machine. */
    static final long LOCK_TIMEOUT_MILLIS = 20_000;

    private CacheNode one;
    private CacheNode two;

    @BeforeAll
    void start() {
        Map<String, String> params = Map.of("redisUri", REDIS.get().uri(), "include",
                "/static/* 86400, /catalog/* 60", "allowedHosts", "127.0.0.1, localhost", "lockTimeoutMillis",
                Long.toString(LOCK_TIMEOUT_MILLIS), "staleSeconds", "60");
        one = CacheNode.start("semantics1", params, CacheSemanticsIT::withStaticFiles);
        two = CacheNode.start("semantics2", params, CacheSemanticsIT::withStaticFiles);
    }

    /** Tomcat's DefaultServlet serving the webapp's files under /static/*. */
    static void withStaticFiles(Context context) {
        try {
            Path files = Files.createDirectories(Path.of(context.getDocBase(), "static"));
            Files.write(files.resolve("shop.css"), CSS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Tomcat.addServlet(context, "static", new DefaultServlet());
        context.addServletMappingDecoded("/static/*", "static", false);
    }

    private static byte[] css() {
        try {
            return Files.readAllBytes(Path.of("..", "sample-webapp", "src", "main", "webapp", "static", "shop.css"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
        PageServlet.gate = CompletableFuture.completedFuture(null);
    }

    /** The cache's keys of one kind ("e" entries, "l" leases, "p" marks) in Redis. */
    private static Set<String> keys(String kind) {
        try (Jedis jedis = REDIS.get().node().client()) {
            return jedis.keys("*{cache}" + kind + ":*");
        }
    }

    /** Makes every entry stale, as time would. */
    private static void expireEveryEntry() {
        try (Jedis jedis = REDIS.get().node().client()) {
            for (String key : jedis.keys("*{cache}e:*")) {
                jedis.hset(key, "fresh", "1");
            }
        }
    }

    // 1. The render sees a neutral request; the filter answers conditionals and ranges.

    @Test
    void staticFileOfTheDefaultServletIsAHitOnBothNodesWithItsOwnValidators() {
        Http.Reply miss = Http.get(one.url("/static/shop.css"));
        Http.Reply hitTwo = Http.get(two.url("/static/shop.css"));
        Http.Reply hitOne = Http.get(one.url("/static/shop.css"));

        assertThat(miss.status()).isEqualTo(200);
        assertThat(miss.body()).isEqualTo(CSS);
        assertThat(hitTwo.cache()).as(two.cache().statistics().getBypassesByReason()).isEqualTo("HIT");
        assertThat(hitOne.cache()).isEqualTo("HIT");
        assertThat(hitTwo.body()).isEqualTo(CSS);
        assertThat(hitTwo.header("ETag")).isEqualTo(miss.header("ETag")).hasValueSatisfying(
                etag -> assertThat(etag).startsWith("W/\""));
        assertThat(hitTwo.header("Last-Modified")).isEqualTo(miss.header("Last-Modified")).isPresent();
    }

    @Test
    void browserRevalidatingItsCopyOfAColdUrlGets304AndTheFullPageIsStoredForEveryone() {
        Http.Reply revalidation = Http.get(one.url("/catalog/validated"), "If-None-Match", "\"v1\"");
        Http.Reply plain = Http.get(two.url("/catalog/validated"));

        assertThat(revalidation.status()).isEqualTo(304);
        assertThat(revalidation.body()).isEmpty();
        assertThat(revalidation.header("ETag")).hasValue("\"v1\"");
        assertThat(plain.cache()).isEqualTo("HIT");
        assertThat(plain.text()).isEqualTo("validated #1");

        String since = Http.get(two.url("/static/shop.css")).header("Last-Modified").orElseThrow();
        REDIS.get().flushAll();
        Http.Reply bySince = Http.get(two.url("/static/shop.css"), "If-Modified-Since", since);
        Http.Reply cssPlain = Http.get(one.url("/static/shop.css"));
        assertThat(bySince.status()).isEqualTo(304);
        assertThat(bySince.body()).isEmpty();
        assertThat(cssPlain.cache()).isEqualTo("HIT");
        assertThat(cssPlain.body()).isEqualTo(CSS);
    }

    @Test
    void theApplicationNeverSeesTheClientsConditionalAndRangeHeaders() {
        Http.Reply first = Http.get(one.url("/catalog/sees-conditionals"), "If-None-Match", "\"x\"",
                "If-Modified-Since", "Wed, 21 Oct 2015 07:28:00 GMT", "If-Unmodified-Since",
                "Wed, 21 Oct 2099 07:28:00 GMT", "If-Match", "*");
        Http.Reply hit = Http.get(two.url("/catalog/sees-conditionals"));

        assertThat(first.status()).isEqualTo(200);
        assertThat(first.text()).isEqualTo("seen null false null false null false null false null false null false -1 #1");
        assertThat(hit.cache()).as(two.cache().statistics().getBypassesByReason()).isEqualTo("HIT");
        assertThat(hit.text()).isEqualTo(first.text());
    }

    @Test
    void aSingleRangeIs206AnUnsatisfiableOne416AndSeveralTheFull200() {
        int length = CSS.length;
        Http.Reply cold = Http.get(one.url("/static/shop.css"), "Range", "bytes=0-3");
        Http.Reply suffix = Http.get(two.url("/static/shop.css"), "Range", "bytes=-5");
        Http.Reply open = Http.get(two.url("/static/shop.css"), "Range", "bytes=" + (length - 2) + "-");
        Http.Reply beyond = Http.get(one.url("/static/shop.css"), "Range", "bytes=" + length + "-");
        Http.Reply several = Http.get(two.url("/static/shop.css"), "Range", "bytes=0-1,5-6");
        Http.Reply plain = Http.get(two.url("/static/shop.css"));

        assertThat(cold.status()).isEqualTo(206);
        assertThat(cold.header("Content-Range")).hasValue("bytes 0-3/" + length);
        assertThat(cold.body()).isEqualTo(slice(0, 4));
        assertThat(suffix.status()).isEqualTo(206);
        assertThat(suffix.cache()).isEqualTo("HIT");
        assertThat(suffix.body()).isEqualTo(slice(length - 5, length));
        assertThat(suffix.header("Content-Range")).hasValue("bytes " + (length - 5) + "-" + (length - 1) + "/" + length);
        assertThat(open.body()).isEqualTo(slice(length - 2, length));
        assertThat(beyond.status()).isEqualTo(416);
        assertThat(beyond.header("Content-Range")).hasValue("bytes */" + length);
        assertThat(beyond.body()).isEmpty();
        assertThat(several.status()).isEqualTo(200);
        assertThat(several.body()).isEqualTo(CSS);
        assertThat(plain.cache()).isEqualTo("HIT");
        assertThat(plain.body()).isEqualTo(CSS);
    }

    @Test
    void ifRangeGetsTheRangeOnlyWhileTheValidatorStillMatches() {
        String lastModified = Http.get(one.url("/static/shop.css")).header("Last-Modified").orElseThrow();
        Http.Reply current = Http.get(two.url("/static/shop.css"), "Range", "bytes=1-2", "If-Range", lastModified);
        Http.Reply changed = Http.get(two.url("/static/shop.css"), "Range", "bytes=1-2", "If-Range",
                "Wed, 21 Oct 2015 07:28:00 GMT");
        Http.Reply weakTag = Http.get(two.url("/catalog/validated"), "Range", "bytes=1-2", "If-Range", "\"v1\"");
        Http.Reply otherTag = Http.get(one.url("/catalog/validated"), "Range", "bytes=1-2", "If-Range", "\"v2\"");

        assertThat(current.status()).isEqualTo(206);
        assertThat(current.body()).isEqualTo(slice(1, 3));
        assertThat(changed.status()).isEqualTo(200);
        assertThat(changed.body()).isEqualTo(CSS);
        assertThat(weakTag.status()).as("\"v1\" is the page's strong tag").isEqualTo(206);
        assertThat(weakTag.text()).isEqualTo("al");
        assertThat(otherTag.status()).isEqualTo(200);
        assertThat(otherTag.text()).isEqualTo("validated #1");
    }

    @Test
    void failedPreconditionsAre412AndTheEntryIsStoredAnyway() {
        Http.Reply noMatch = Http.get(one.url("/catalog/validated"), "If-Match", "\"v2\"");
        Http.Reply match = Http.get(two.url("/catalog/validated"), "If-Match", "\"x\", \"v1\"");
        Http.Reply star = Http.get(two.url("/catalog/validated"), "If-Match", "*");
        Http.Reply modifiedSince = Http.get(two.url("/catalog/validated"), "If-Unmodified-Since",
                "Wed, 21 Oct 2015 07:28:00 GMT");
        Http.Reply unmodified = Http.get(one.url("/catalog/validated"), "If-Unmodified-Since",
                "Wed, 21 Oct 2026 07:28:00 GMT");
        Http.Reply ifMatchWins = Http.get(one.url("/catalog/validated"), "If-Match", "\"v1\"",
                "If-Unmodified-Since", "Wed, 21 Oct 2015 07:28:00 GMT");

        assertThat(noMatch.status()).isEqualTo(412);
        assertThat(noMatch.body()).isEmpty();
        assertThat(match.status()).isEqualTo(200);
        assertThat(match.cache()).isEqualTo("HIT");
        assertThat(star.status()).isEqualTo(200);
        assertThat(modifiedSince.status()).isEqualTo(412);
        assertThat(unmodified.status()).isEqualTo(200);
        assertThat(ifMatchWins.status()).isEqualTo(200);
        assertThat(PageServlet.renders("/catalog/validated")).isEqualTo(1);
    }

    // 2. No status caused by the client's request marks a URL for others; failures back off; leases end.

    @Test
    void statusesTheRequestCausedNeverSwitchCachingOffForOthers() {
        for (String status : new String[] {"304", "206", "406", "412", "416", "503", "400", "429"}) {
            REDIS.get().flushAll();
            PageServlet.RENDERS.clear();
            Http.Reply odd = Http.get(one.url("/catalog/status-from-header"), "X-Status", status);
            Http.Reply plain = Http.get(two.url("/catalog/status-from-header"));
            Http.Reply again = Http.get(one.url("/catalog/status-from-header"));

            assertThat(odd.status()).as(status).isEqualTo(Integer.parseInt(status));
            assertThat(plain.status()).as(status).isEqualTo(200);
            assertThat(again.cache()).as(status).isEqualTo("HIT");
            assertThat(again.text()).as(status).isEqualTo("status page #2");
        }
    }

    @Test
    void aServerErrorOfTheMomentLeavesTheUrlCacheableOnceItRecovers() {
        PageServlet.failing = true;
        Http.Reply failed = Http.get(one.url("/catalog/flaky"));
        PageServlet.failing = false;
        Http.Reply recovered = Http.get(two.url("/catalog/flaky"));
        Http.Reply hit = Http.get(one.url("/catalog/flaky"));

        assertThat(failed.status()).isEqualTo(503);
        assertThat(recovered.status()).isEqualTo(200);
        assertThat(hit.cache()).isEqualTo("HIT");
        assertThat(hit.text()).isEqualTo("flaky #2");
    }

    @Test
    void aUrlUncacheableByItselfIsStillPassedWithoutWaiting() {
        Http.get(one.url("/catalog/private"));
        Http.Reply passed = Http.get(two.url("/catalog/private"));

        assertThat(passed.cache()).isEqualTo("MISS");
        assertThat(two.cache().statistics().getBypassesByReason()).contains("uncacheable-url");
    }

    @Test
    void aFailingRefreshOfAStaleEntryBacksOffInsteadOfRunningOnEveryRequest() {
        Http.get(one.url("/catalog/flaky"));
        expireEveryEntry();
        PageServlet.failing = true;

        Http.Reply stale = Http.get(two.url("/catalog/flaky"));
        Await.until(Duration.ofSeconds(10), "the failed refresh", () -> PageServlet.renders("/catalog/flaky") == 2);
        Await.until(Duration.ofSeconds(10), "the refresh lease kept as the back-off", () -> keys("l").size() == 1);
        for (int i = 0; i < 4; i++) {
            Http.Reply again = Http.get((i % 2 == 0 ? one : two).url("/catalog/flaky"));
            assertThat(again.cache()).isEqualTo("STALE");
            assertThat(again.text()).isEqualTo("flaky #1");
        }

        assertThat(stale.cache()).isEqualTo("STALE");
        assertThat(PageServlet.renders("/catalog/flaky")).as("no refresh during the back-off").isEqualTo(2);
        try (Jedis jedis = REDIS.get().node().client()) {
            String lease = keys("l").iterator().next();
            assertThat(jedis.pttl(lease)).isPositive().isLessThanOrEqualTo(LOCK_TIMEOUT_MILLIS);
        }
    }

    @Test
    void aLeaseLeftBehindStopsBlockingWhenItExpires() {
        // What a node leaves when Redis timed out after taking the lease: a lease with its TTL.
        Http.get(one.url("/catalog/page?id=warm"));
        String lease = keys("e").iterator().next().replace("{cache}e:", "{cache}l:");
        REDIS.get().flushAll();
        try (Jedis jedis = REDIS.get().node().client()) {
            jedis.psetex(lease, 300, "gone-node");
        }
        PageServlet.RENDERS.clear();
        Http.Reply waited = Http.get(two.url("/catalog/page?id=warm"));
        Await.until(Duration.ofSeconds(10), "the entry", () -> Http.get(one.url("/catalog/page?id=warm")).cache()
                .equals("HIT"));

        assertThat(waited.status()).isEqualTo(200);
        assertThat(two.cache().statistics().getBypassesByReason()).doesNotContain("lock-timeout");
        assertThat(PageServlet.renders("/catalog/page?id=warm")).isEqualTo(1);
    }

    // 3. HEAD never creates, refreshes or changes an entry.

    @Test
    void headNeverCreatesRefreshesNorChangesAnEntry() {
        Http.Reply coldHead = Http.send("HEAD", one.url("/catalog/flaky"));
        assertThat(coldHead.cache()).isEqualTo("MISS");
        assertThat(keys("e")).isEmpty();

        Http.Reply get = Http.get(two.url("/catalog/flaky"));
        expireEveryEntry();
        Http.Reply staleHead = Http.send("HEAD", one.url("/catalog/flaky"));
        assertThat(staleHead.cache()).isEqualTo("STALE");
        assertThat(staleHead.body()).isEmpty();
        assertThat(keys("l")).as("no refresh lease taken by a HEAD").isEmpty();
        Http.Reply staleGet = Http.get(two.url("/catalog/flaky"));

        assertThat(staleGet.cache()).isEqualTo("STALE");
        assertThat(staleGet.text()).isEqualTo(get.text()).isEqualTo("flaky #2");
        Await.until(Duration.ofSeconds(10), "the refresh by the GET",
                () -> Http.get(one.url("/catalog/flaky")).text().equals("flaky #3"));
        assertThat(PageServlet.renders("/catalog/flaky")).isEqualTo(3);
    }

    // 4. An eviction always wins over a render that began before it.

    /** Starts a render of {@code page} on node one, runs {@code eviction} while it renders, then lets it end. */
    private void evictDuringRender(String page, Runnable eviction) throws Exception {
        PageServlet.gate = new CompletableFuture<>();
        CompletableFuture<Http.Reply> slow = CompletableFuture.supplyAsync(() -> Http.get(one.url(page)));
        try {
            Await.until(Duration.ofSeconds(10), "the render to begin", () -> PageServlet.renders(page) == 1);
            eviction.run();
        } finally {
            PageServlet.gate.complete(null);
        }
        assertThat(slow.get(30, TimeUnit.SECONDS).text()).isEqualTo("gated #1");
        Http.Reply after = Http.get(two.url(page));
        assertThat(after.cache()).as(page).isEqualTo("MISS");
        assertThat(after.text()).as(page).isEqualTo("gated #2");
        assertThat(Http.get(one.url(page)).cache()).as("renders after the eviction are stored").isEqualTo("HIT");
    }

    @Test
    void aPostToTheUrlWinsOverARenderThatBeganBeforeIt() throws Exception {
        evictDuringRender("/catalog/gated?id=post", () -> assertThat(
                Http.send("POST", two.url("/catalog/gated?id=post")).status()).isEqualTo(200));
    }

    @Test
    void evictUrlWinsOverARenderThatBeganBeforeIt() throws Exception {
        evictDuringRender("/catalog/gated?id=url",
                () -> two.cache().evictUrl("http://127.0.0.1/shop/catalog/gated?id=url"));
    }

    @Test
    void evictTagWinsOverARenderThatBeganBeforeIt() throws Exception {
        evictDuringRender("/catalog/gated?id=tag&tags=product-7", () -> one.cache().evictTag("product-7"));
        assertThat(one.cache().statistics().getBypassesByReason()).contains("evicted");
    }

    // 5. An unreadable entry is a miss: deleted, rendered, stored afresh, with no wait.

    @Test
    void anUnreadableEntryIsAMissRenderedAndStoredAfreshWithoutWaiting() {
        Map<String, java.util.function.Consumer<Jedis>> corruptions = new java.util.LinkedHashMap<>();
        corruptions.put("status not a number", jedis -> hsetAll(jedis, "status", "abc".getBytes()));
        corruptions.put("status out of range", jedis -> hsetAll(jedis, "status", "1234".getBytes()));
        corruptions.put("gzip flag on a plain body", jedis -> hsetAll(jedis, "gzip", "1".getBytes()));
        corruptions.put("truncated body", jedis -> {
            for (String key : jedis.keys("*{cache}e:*")) {
                byte[] body = jedis.hget(key.getBytes(), "body".getBytes());
                jedis.hset(key.getBytes(), "body".getBytes(), java.util.Arrays.copyOf(body, body.length / 2));
            }
        });
        corruptions.put("length", jedis -> hsetAll(jedis, "length", "-5".getBytes()));
        corruptions.put("headers", jedis -> hsetAll(jedis, "headers", "no colon here\n".getBytes()));
        corruptions.put("fresh", jedis -> hsetAll(jedis, "fresh", "soon".getBytes()));
        corruptions.put("format", jedis -> jedis.keys("*{cache}e:*").forEach(key -> jedis.hdel(key, "format")));
        corruptions.put("not a hash", jedis -> jedis.keys("*{cache}e:*").forEach(key -> {
            jedis.del(key);
            jedis.set(key, "garbage");
        }));
        long lockTimeouts = lockTimeouts();
        for (var corruption : corruptions.entrySet()) {
            for (String page : new String[] {"/static/shop.css", "/catalog/page?id=corrupt"}) {
                REDIS.get().flushAll();
                PageServlet.RENDERS.clear();
                Http.Reply stored = Http.get(one.url(page));
                assertThat(keys("e")).as(page).hasSize(1);
                try (Jedis jedis = REDIS.get().node().client()) {
                    corruption.getValue().accept(jedis);
                }
                Http.Reply miss = Http.get(two.url(page));
                Http.Reply hit = Http.get(one.url(page));

                String what = corruption.getKey() + " " + page;
                assertThat(miss.status()).as(what).isEqualTo(200);
                assertThat(miss.cache()).as(what).isEqualTo("MISS");
                assertThat(hit.cache()).as(what).isEqualTo("HIT");
                assertThat(hit.body()).as(what).isEqualTo(miss.body());
                if (page.startsWith("/static")) {
                    assertThat(miss.body()).as(what).isEqualTo(CSS);
                } else {
                    assertThat(miss.text()).as(what).isEqualTo("page /catalog/page corrupt #2");
                    assertThat(stored.text()).isEqualTo("page /catalog/page corrupt #1");
                }
            }
        }
        assertThat(lockTimeouts()).as("nobody waited").isEqualTo(lockTimeouts);
    }

    @Test
    void aVaryMarkerWhereAVariantBelongsIsUnreadableToo() {
        String page = "/catalog/lines?cc=public&cc=max-age=60";
        Http.get(one.url(page), "X-Theme", "dark");
        try (Jedis jedis = REDIS.get().node().client()) {
            for (String key : jedis.keys("*{cache}e:*")) {
                if (!jedis.hexists(key, "vary")) {
                    jedis.del(key);
                    jedis.hset(key, "vary", "x-theme");
                }
            }
        }
        long lockTimeouts = lockTimeouts();
        Http.Reply miss = Http.get(two.url(page), "X-Theme", "dark");
        Http.Reply hit = Http.get(one.url(page), "X-Theme", "dark");

        assertThat(miss.cache()).isEqualTo("MISS");
        assertThat(miss.text()).isEqualTo("theme dark #2");
        assertThat(hit.cache()).isEqualTo("HIT");
        assertThat(lockTimeouts()).isEqualTo(lockTimeouts);
    }

    private static void hsetAll(Jedis jedis, String field, byte[] value) {
        for (String key : jedis.keys("*{cache}e:*")) {
            jedis.hset(key.getBytes(), field.getBytes(), value);
        }
    }

    private long lockTimeouts() {
        long count = 0;
        for (CacheNode node : new CacheNode[] {one, two}) {
            java.util.regex.Matcher matcher = java.util.regex.Pattern.compile("lock-timeout=(\\d+)")
                    .matcher(node.cache().statistics().getBypassesByReason());
            count += matcher.find() ? Long.parseLong(matcher.group(1)) : 0;
        }
        return count;
    }

    // 6. Several Cache-Control or Vary lines combined (RFC 9110 5.3); invalid freshness is stale.

    @Test
    void severalVaryLinesKeyTheEntryOnEveryHeaderTheyName() {
        Http.Reply dark = Http.get(one.url("/catalog/lines?cc=public&cc=max-age=60"), "X-Theme", "dark");
        Http.Reply light = Http.get(two.url("/catalog/lines?cc=public&cc=max-age=60"), "X-Theme", "light");
        Http.Reply darkAgain = Http.get(two.url("/catalog/lines?cc=public&cc=max-age=60"), "X-Theme", "dark");

        assertThat(dark.text()).isEqualTo("theme dark #1");
        assertThat(light.text()).isEqualTo("theme light #2");
        assertThat(darkAgain.cache()).isEqualTo("HIT");
        assertThat(darkAgain.text()).isEqualTo("theme dark #1");
    }

    @Test
    void directivesOfEveryCacheControlLineApplyAndInvalidFreshnessIsStaleNotTheRulesTtl() {
        for (String query : new String[] {"cc=public&cc=no-store", "cc=max-age=-1", "cc=public&cc=max-age=-1",
                "cc=max-age=1.5", "cc=max-age=60&cc=max-age=0", "cc=s-maxage=60,%20max-age=5&cc=s-maxage=abc",
                "cc=private=%22Set-Cookie,%20max-age=60%22"}) {
            String page = "/catalog/lines?" + query;
            Http.get(one.url(page));
            Http.Reply again = Http.get(two.url(page));
            assertThat(again.cache()).as(query).isNotEqualTo("HIT");
            assertThat(PageServlet.renders(page)).as(query).isEqualTo(2);
        }
        Http.get(one.url("/catalog/lines?cc=public&cc=max-age=60"));
        assertThat(Http.get(two.url("/catalog/lines?cc=public&cc=max-age=60")).cache()).isEqualTo("HIT");
    }

    @Test
    void noCacheOnAnyLineOfTheRequestsCacheControlOrPragmaIsHonoured() {
        Http.get(one.url("/catalog/page?id=lines"));
        Http.Reply second = Http.rawGetReply(two.port(), "/shop/catalog/page?id=lines", "127.0.0.1",
                "Cache-Control: max-stale=5", "Cache-Control: no-cache");
        Http.Reply pragma = Http.rawGetReply(two.port(), "/shop/catalog/page?id=lines", "127.0.0.1",
                "Pragma: x", "Pragma: no-cache");

        assertThat(second.cache()).isEqualTo("BYPASS");
        assertThat(pragma.cache()).isEqualTo("BYPASS");
    }

    // 7. RFC 9211 Cache-Status on every response the filter handles.

    @Test
    void cacheStatusSaysWhatTheCacheDidOnEveryResponse() {
        Http.Reply stored = Http.get(one.url("/catalog/page?id=status"));
        Http.Reply hit = Http.get(two.url("/catalog/page?id=status"));
        Http.Reply notStored = Http.get(one.url("/catalog/cookie"));
        Http.Reply bypassed = Http.get(one.url("/elsewhere"));
        Http.Reply noCache = Http.get(two.url("/catalog/page?id=status"), "Cache-Control", "no-cache");
        Http.Reply credentialed = Http.get(one.url("/catalog/page?id=status"), "Cookie", "theme=dark");
        Http.Reply post = Http.send("POST", two.url("/catalog/page?id=status"));
        Http.Reply sendError = Http.get(one.url("/catalog/missing"));
        Http.get(one.url("/catalog/flaky"));
        expireEveryEntry();
        Http.Reply stale = Http.get(two.url("/catalog/flaky"));

        assertThat(stored.header("Cache-Status")).hasValue("tomcat-redis; fwd=uri-miss; fwd-status=200; stored");
        assertThat(hit.header("Cache-Status")).hasValueSatisfying(value -> assertThat(value)
                .matches("tomcat-redis; hit; ttl=(59|60)"));
        assertThat(notStored.header("Cache-Status")).hasValue(
                "tomcat-redis; fwd=uri-miss; fwd-status=200; detail=set-cookie");
        assertThat(bypassed.header("Cache-Status")).hasValue("tomcat-redis; fwd=bypass; detail=not-included");
        assertThat(noCache.header("Cache-Status")).hasValue("tomcat-redis; fwd=request; detail=request-no-cache");
        assertThat(post.header("Cache-Status")).hasValue("tomcat-redis; fwd=method; detail=method");
        assertThat(credentialed.header("Cache-Status")).hasValue(
                "tomcat-redis; fwd=miss; fwd-status=200; detail=credentials");
        assertThat(sendError.status()).isEqualTo(404);
        assertThat(sendError.header("Cache-Status")).hasValue(
                "tomcat-redis; fwd=uri-miss; fwd-status=404; detail=sendError");
        assertThat(stale.header("Cache-Status")).hasValueSatisfying(value -> assertThat(value)
                .matches("tomcat-redis; hit; ttl=-\\d+"));
        assertThat(stale.cache()).isEqualTo("STALE");
    }

    // 7. Tags from the headers CDNs speak; RFC 9875 Cache-Group-Invalidation.

    @Test
    void tagsOfEveryCdnHeaderAreTagsAndNeverReachTheClient() {
        for (String tag : new String[] {"sk-b", "ct-a", "xk-a", "cg-b"}) {
            Http.Reply miss = Http.get(one.url("/catalog/cdn-tagged"));
            Http.Reply hit = Http.get(two.url("/catalog/cdn-tagged"));
            assertThat(hit.cache()).as(tag).isEqualTo("HIT");
            for (Http.Reply reply : new Http.Reply[] {miss, hit}) {
                for (String header : new String[] {"Surrogate-Key", "Cache-Tag", "xkey", "Cache-Groups"}) {
                    assertThat(reply.header(header)).as(header).isEmpty();
                }
            }
            assertThat(one.cache().evictTag(tag)).as(tag).isEqualTo(1);
            assertThat(Http.get(two.url("/catalog/cdn-tagged")).cache()).as(tag).isEqualTo("MISS");
        }
    }

    @Test
    void cacheGroupInvalidationOnASuccessfulPostEvictsTheGroups() {
        Http.get(one.url("/catalog/cdn-tagged"));
        Http.get(one.url("/catalog/tagged?tags=other"));
        Http.Reply post = Http.send("POST", two.url("/catalog/cart?invalidate=%22x%22,%20%22cg-a%22"));
        Http.Reply after = Http.get(one.url("/catalog/cdn-tagged"));
        Http.Reply untouched = Http.get(two.url("/catalog/tagged?tags=other"));

        assertThat(post.status()).isEqualTo(200);
        assertThat(after.cache()).isEqualTo("MISS");
        assertThat(after.text()).isEqualTo("cdn-tagged #2");
        assertThat(untouched.cache()).isEqualTo("HIT");
    }

    @Test
    void cdnCacheControlIsTheSharedCachesTtlAndReachesTheCdnInFront() {
        Http.Reply first = Http.get(one.url("/catalog/lines?cc=max-age=0&cdn=max-age=600"));
        Http.Reply hit = Http.get(two.url("/catalog/lines?cc=max-age=0&cdn=max-age=600"));
        Http.get(one.url("/catalog/lines?cc=max-age=600&cdn=no-store"));
        Http.Reply notStored = Http.get(two.url("/catalog/lines?cc=max-age=600&cdn=no-store"));

        assertThat(hit.cache()).isEqualTo("HIT");
        assertThat(hit.header("Cache-Status")).hasValueSatisfying(v -> assertThat(v).matches(".*hit; ttl=(599|600)"));
        assertThat(hit.header("CDN-Cache-Control")).isEqualTo(first.header("CDN-Cache-Control")).hasValue("max-age=600");
        assertThat(notStored.cache()).isEqualTo("MISS");
    }

    private static byte[] slice(int from, int to) {
        return java.util.Arrays.copyOfRange(CSS, from, to);
    }

}

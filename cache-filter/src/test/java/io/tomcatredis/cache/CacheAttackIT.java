package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.catalina.Context;
import org.apache.catalina.servlets.DefaultServlet;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 13, the adversarial pass: other inputs of the same kinds as the issue's, odd request
 * lines and Redis paused, against the application of {@link CacheSafetyIT} on two nodes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CacheAttackIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private CacheNode one;
    private CacheNode two;

    @BeforeAll
    void start() {
        Map<String, String> params = Map.of("redisUri", REDIS.get().uri(), "include", "/catalog/* 60, /p/* 60",
                "exclude", "/p/private/*", "allowedHosts", "127.0.0.1, localhost", "ignoredCookies", "_ga*",
                "timeoutMillis", "300", "circuitBreakerMillis", "200");
        one = CacheNode.start("attack1", params, CacheAttackIT::withStaticFiles);
        two = CacheNode.start("attack2", params, CacheAttackIT::withStaticFiles);
    }

    /** The application of CacheSafetyIT, plus Tomcat's DefaultServlet serving files at /catalog/files/*. */
    static void withStaticFiles(Context context) {
        CacheSafetyIT.applicationAhead(context);
        try {
            Path files = Files.createDirectories(Path.of(context.getDocBase(), "catalog", "files"));
            Files.writeString(files.resolve("app.css"), "body { color: #333; }\n".repeat(100));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Tomcat.addServlet(context, "files", new DefaultServlet());
        context.addServletMappingDecoded("/catalog/files/*", "files", false);
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
    }

    private void assertCachedCopyIsByteIdentical(String path) {
        String miss = Http.rawGet(one.port(), "/shop" + path, "127.0.0.1");
        String hit = Http.rawGet(two.port(), "/shop" + path, "127.0.0.1");
        String uncached = Http.rawGet(two.port(), "/shop" + path, "127.0.0.1", "Cache-Control: no-cache");
        assertThat(hit).as(path).contains("X-Cache: HIT");
        assertThat(uncached).as(path).contains("X-Cache: BYPASS");
        assertThat(CacheSafetyIT.comparable(hit)).as(path).isEqualTo(CacheSafetyIT.comparable(miss))
                .isEqualTo(CacheSafetyIT.comparable(uncached));
    }

    @Test
    void charsetFromTheLocaleEncodingMappingAndContentLanguageAreKept() {
        assertCachedCopyIsByteIdentical("/catalog/japanese");
        assertThat(Http.rawGet(two.port(), "/shop/catalog/japanese", "127.0.0.1"))
                .contains("charset=Shift_JIS").contains("Content-Language: ja-JP");
    }

    @Test
    void aCharsetSetAfterTheWriterIsIgnoredAsTheContainerDoes() {
        assertCachedCopyIsByteIdentical("/catalog/late-charset");
        assertThat(Http.rawGet(two.port(), "/shop/catalog/late-charset", "127.0.0.1"))
                .contains("Content-Type: text/plain;charset=UTF-8");
    }

    @Test
    void binaryBodiesAndHeaderValuesWithControlAndNonAsciiCharactersAreReplayedVerbatim() {
        assertCachedCopyIsByteIdentical("/catalog/png");
        assertCachedCopyIsByteIdentical("/catalog/odd-headers");
        assertThat(Http.rawGet(two.port(), "/shop/catalog/odd-headers", "127.0.0.1"))
                .doesNotContainIgnoringCase("\r\nSet-Cookie");
    }

    @Test
    void staticFilesOfTheContainersDefaultServletAreCachedAndRangeRequestsPass() {
        Http.Reply miss = Http.get(one.url("/catalog/files/app.css"));
        Http.Reply hit = Http.get(two.url("/catalog/files/app.css"));
        Http.Reply range = Http.get(two.url("/catalog/files/app.css"), "Range", "bytes=0-3");

        assertThat(miss.status()).isEqualTo(200);
        assertThat(hit.cache()).as(two.cache().statistics().getBypassesByReason()).isEqualTo("HIT");
        assertThat(hit.text()).isEqualTo(miss.text()).startsWith("body { color");
        assertThat(hit.header("Last-Modified")).isEqualTo(miss.header("Last-Modified")).isPresent();
        assertThat(range.status()).as("the container answers ranges").isEqualTo(206);
        assertThat(range.text()).isEqualTo("body");
    }

    @Test
    void aHeadWithCredentialsNeverReplacesTheEntryOfTheGet() {
        Http.Reply anonymous = Http.get(one.url("/catalog/public-greeting"));
        Http.Reply head = Http.send("HEAD", two.url("/catalog/public-greeting"), "Cookie", "SESSION=alice");
        Http.Reply again = Http.get(two.url("/catalog/public-greeting"));

        assertThat(head.body()).isEmpty();
        assertThat(again.cache()).isEqualTo("HIT");
        assertThat(again.text()).isEqualTo(anonymous.text()).isEqualTo("welcome true #1");
    }

    @Test
    void requestsWaitingForTheFirstRenderOfAVaryingPageGetTheirVariant() throws Exception {
        var pool = java.util.concurrent.Executors.newFixedThreadPool(6);
        try {
            List<java.util.concurrent.Future<Http.Reply>> replies = new java.util.ArrayList<>();
            for (int i = 0; i < 6; i++) {
                CacheNode node = i % 2 == 0 ? one : two;
                String language = i < 3 ? "en" : "de";
                replies.add(pool.submit(() -> Http.get(node.url("/catalog/language?sleep=300"), "Accept-Language",
                        language)));
            }
            for (int i = 0; i < 6; i++) {
                Http.Reply reply = replies.get(i).get(30, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(reply.status()).isEqualTo(200);
                assertThat(reply.text()).startsWith("lang " + (i < 3 ? "en" : "de"));
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void aPathCannotForgeTheKeyOfAQueryOrOfAVariant() {
        Http.rawGet(one.port(), "/shop/catalog/page%3Fid=7", "127.0.0.1");
        // (The page counts renders by path and query: the forged path shares the counter, not the entry.)
        assertThat(Http.get(two.url("/catalog/page?id=7")).text()).startsWith("page /catalog/page 7 #");

        Http.get(one.url("/catalog/language"), "Accept-Language", "en");
        Http.rawGet(one.port(), "/shop/catalog/language%7Cvary%7Caccept-language=de", "127.0.0.1");
        Http.rawGet(one.port(), "/shop/catalog/language%0Avary%0Aaccept-language=de", "127.0.0.1");
        assertThat(Http.get(two.url("/catalog/language"), "Accept-Language", "de").text()).startsWith("lang de");
    }

    @Test
    void aSessionAFilterAheadCreatedIsNeverShared() {
        Http.Reply first = Http.get(one.url("/catalog/encoded-links?ahead=session"));
        Http.Reply second = Http.get(one.url("/catalog/encoded-links?ahead=session"));
        assertThat(first.text()).contains("jsessionid");
        assertThat(second.text()).contains("jsessionid").isNotEqualTo(first.text());
    }

    @Test
    void emptyCredentialsAndCookieHeadersCountAsWhatTheyAre() {
        Http.Reply anonymous = Http.get(one.url("/catalog/greeting"));
        Http.Reply emptyCookie = Http.rawGetReply(two.port(), "/shop/catalog/greeting", "127.0.0.1", "Cookie: ");
        Http.Reply emptyAuthorization = Http.rawGetReply(two.port(), "/shop/catalog/greeting", "127.0.0.1",
                "Authorization: ");
        Http.Reply twoCookieHeaders = Http.rawGetReply(two.port(), "/shop/catalog/greeting", "127.0.0.1",
                "Cookie: _ga=1", "Cookie: SESSION=mallory");

        assertThat(emptyCookie.text()).as("no cookie in it: anonymous").isEqualTo(anonymous.text());
        assertThat(emptyAuthorization.cache()).isNotEqualTo("HIT");
        assertThat(twoCookieHeaders.text()).startsWith("Hello mallory");
    }

    @Test
    void oddRequestLinesAndHostsPassOrAreKeyedAsTheContainerRoutesThem() {
        Http.get(one.url("/catalog/page?id=odd"));
        String absoluteForm = Http.rawGet(two.port(), "http://127.0.0.1:" + two.port()
                + "/shop/catalog/page?id=odd", "127.0.0.1:" + two.port());
        assertThat(absoluteForm).contains("page /catalog/page odd");
        String trailingDot = Http.rawGet(two.port(), "/shop/catalog/page?id=odd", "localhost.");
        assertThat(trailingDot).doesNotContain("X-Cache: HIT");
        String upperCase = Http.rawGet(two.port(), "/shop/catalog/page?id=odd", "LOCALHOST");
        assertThat(upperCase).contains("X-Cache: BYPASS");
        String doubleEncoded = Http.rawGet(two.port(), "/shop/p/x/%252e%252e/private/data", "127.0.0.1");
        assertThat(doubleEncoded).as("a literal %2e%2e segment is no traversal")
                .contains("page /p/x/%2e%2e/private/data");
        String backslash = Http.rawGet(two.port(), "/shop/p/x/..%5Cprivate/data", "127.0.0.1");
        assertThat(backslash).doesNotContain("X-Cache: HIT");
    }

    @Test
    void redisPausedPassesRequestsOnBothNodesAndNothingWrongIsServedAfterwards() {
        Http.get(one.url("/catalog/greeting"));
        REDIS.get().node().pause();
        try {
            for (int i = 0; i < 4; i++) {
                CacheNode node = i % 2 == 0 ? one : two;
                Http.Reply alice = Http.get(node.url("/catalog/greeting"), "Cookie", "SESSION=alice");
                Http.Reply anonymous = Http.get(node.url("/catalog/locale"), "Accept-Language", i < 2 ? "de" : "fr");
                assertThat(alice.status()).isEqualTo(200);
                assertThat(alice.text()).startsWith("Hello alice");
                assertThat(anonymous.text()).startsWith("locale " + (i < 2 ? "de" : "fr"));
            }
        } finally {
            REDIS.get().node().resume();
        }
        Await.until(Duration.ofSeconds(10), "caching to resume on both nodes", () -> {
            Http.get(one.url("/catalog/page?id=paused"));
            return Http.get(two.url("/catalog/page?id=paused")).cache().equals("HIT")
                    && Http.get(one.url("/catalog/page?id=paused")).cache().equals("HIT");
        });
        assertThat(Http.get(two.url("/catalog/greeting"), "Cookie", "SESSION=bob").text()).startsWith("Hello bob");
        assertThat(Http.get(two.url("/catalog/greeting")).text()).startsWith("Hello guest");
    }
}

package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;
import org.apache.catalina.Context;
import org.apache.catalina.servlets.DefaultServlet;
import org.apache.catalina.startup.Tomcat;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Issue 14 under attack: inputs of the same kinds as the issue's failing inputs (conditional and
 * range headers in odd forms, corrupt Redis data of other kinds, statuses and evictions a client
 * can cause, freshness directives, tags and the memory budget) on two nodes over one real Redis.
 * Tests named as a rule are pins of behaviour that holds; the others pin a defect found here (see
 * the Javadoc of each).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CacheSemanticsAttackIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    /** The sample shop's style sheet, served by DefaultServlet as in the real distribution. */
    static final byte[] CSS = css();

    /** A static file larger than {@link #MAX_ENTRY_BYTES}: it goes through to the client unstored. */
    static final byte[] BIG = big();

    static final int MAX_ENTRY_BYTES = 64 * 1024;

    private CacheNode one;
    private CacheNode two;

    @BeforeAll
    void start() {
        Map<String, String> params = Map.of("redisUri", REDIS.get().uri(), "include",
                "/static/* 86400, /catalog/* 60", "allowedHosts", "127.0.0.1, localhost", "lockTimeoutMillis",
                "1000", "staleSeconds", "60", "maxEntryBytes", Integer.toString(MAX_ENTRY_BYTES),
                // A failure caused by corrupt data must show on the next request, not hide behind the breaker.
                "circuitBreakerMillis", "0");
        one = CacheNode.start("attack1", params, CacheSemanticsAttackIT::withStaticFiles);
        two = CacheNode.start("attack2", params, CacheSemanticsAttackIT::withStaticFiles);
    }

    /** Tomcat's DefaultServlet serving shop.css, an empty file and a file too large to store under /static/*. */
    static void withStaticFiles(Context context) {
        try {
            Path files = Files.createDirectories(Path.of(context.getDocBase(), "static"));
            Files.write(files.resolve("shop.css"), CSS);
            Files.write(files.resolve("empty.txt"), new byte[0]);
            Files.write(files.resolve("big.txt"), BIG);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Tomcat.addServlet(context, "static", new DefaultServlet());
        context.addServletMappingDecoded("/static/*", "static", false);
        Tomcat.addServlet(context, "surrogate", new SurrogateServlet());
        context.addServletMappingDecoded("/catalog/surrogate", "surrogate", false);
    }

    /** A page whose Surrogate-Control ({@code sc}) and Cache-Control ({@code cc}) come from its query. */
    static final class SurrogateServlet extends HttpServlet {
        static final AtomicInteger RENDERS = new AtomicInteger();

        @Override
        protected void doGet(HttpServletRequest request,
                HttpServletResponse response) throws IOException {
            if (request.getParameter("sc") != null) {
                response.setHeader("Surrogate-Control", request.getParameter("sc"));
            }
            if (request.getParameter("cc") != null) {
                response.setHeader("Cache-Control", request.getParameter("cc"));
            }
            response.setContentType("text/plain;charset=UTF-8");
            response.getWriter().write("surrogate #" + RENDERS.incrementAndGet());
        }
    }

    private static byte[] css() {
        try {
            return Files.readAllBytes(Path.of("..", "sample-webapp", "src", "main", "webapp", "static", "shop.css"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] big() {
        byte[] bytes = new byte[3 * MAX_ENTRY_BYTES];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) ('a' + i % 26);
        }
        return bytes;
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

    /** The cache's keys of one kind ("e" entries, "l" leases, "p" marks, "x" eviction times) in Redis. */
    private static Set<String> keys(String kind) {
        try (Jedis jedis = REDIS.get().node().client()) {
            return jedis.keys("*{cache}" + kind + ":*");
        }
    }

    private static void expireEveryEntry() {
        try (Jedis jedis = REDIS.get().node().client()) {
            for (String key : jedis.keys("*{cache}e:*")) {
                jedis.hset(key, "fresh", "1");
            }
        }
    }

    private static byte[] slice(byte[] bytes, int from, int to) {
        return Arrays.copyOfRange(bytes, from, to);
    }

    // Finding (resolved by the design): one strong ETag for two representations.

    /**
     * Was a FINDING: a compressible page stored gzipped was sent with {@code Content-Encoding:
     * gzip} to clients that accepted it and identity to the others, under one strong {@code ETag}
     * (RFC 9110 8.8.3). The filter no longer sends gzip itself: an entry stored gzipped is decoded
     * on delivery, so every client gets the one representation the application wrote, and its
     * strong validator stays right for it. Pinned here: no content coding whatever the client
     * accepts, one ETag for both nodes, and a download resumed with {@code If-Range} of that ETag
     * gets the right bytes.
     */
    @Test
    void gzipAndIdentityCopiesOfAnEntryNeverShareOneStrongEtag() {
        String page = "/catalog/big?kb=2";
        Http.Reply identity = Http.get(one.url(page));
        Http.Reply gzip = Http.get(two.url(page), "Accept-Encoding", "gzip");
        assertThat(gzip.cache()).isEqualTo("HIT");
        assertThat(gzip.header("Content-Encoding")).as("one representation: the application's").isEmpty();
        assertThat(identity.header("Content-Encoding")).isEmpty();
        assertThat(gzip.body()).isEqualTo(identity.body());

        String etag = gzip.header("ETag").orElseThrow();
        Http.Reply resumed = Http.get(one.url(page), "Accept-Encoding", "gzip", "Range", "bytes=10-",
                "If-Range", etag);

        assertThat(etag).isEqualTo(identity.header("ETag").orElseThrow());
        assertThat(resumed.status()).isEqualTo(206);
        assertThat(resumed.header("Content-Encoding")).isEmpty();
        assertThat(resumed.body()).isEqualTo(slice(identity.body(), 10, identity.body().length));
    }

    // Finding: a corrupt gzip body passes the intact check.

    /**
     * FINDING. An entry whose gzip body has its header and ISIZE trailer intact but a corrupt
     * CRC (or deflate data) passes {@code CachedResponse.bodyIntact}; a client without
     * {@code Accept-Encoding: gzip}, or with a {@code Range}, then gets a 500 from
     * {@code Delivery.gunzip} (UncheckedIOException), on every request until the entry expires.
     * Expected (issue 14: "an unreadable entry is a miss"): 200, rendered and stored afresh.
     */
    @Test
    void aGzipBodyWithACorruptChecksumIsAMissNeverAServerError() {
        String page = "/catalog/big?kb=2";
        Http.Reply stored = Http.get(one.url(page));
        try (Jedis jedis = REDIS.get().node().client()) {
            for (String key : jedis.keys("*{cache}e:*")) {
                assertThat(jedis.hget(key, "gzip")).isEqualTo("1");
                byte[] body = jedis.hget(key.getBytes(StandardCharsets.UTF_8), "body".getBytes(StandardCharsets.UTF_8));
                body[body.length - 8] ^= 0x5a;
                jedis.hset(key.getBytes(StandardCharsets.UTF_8), "body".getBytes(StandardCharsets.UTF_8), body);
            }
        }
        Http.Reply plain = Http.get(two.url(page));
        Http.Reply ranged = Http.get(one.url(page), "Range", "bytes=0-9");

        assertThat(plain.status()).as("identity copy of a corrupt gzip body").isEqualTo(200);
        assertThat(plain.body()).isEqualTo(stored.body());
        assertThat(ranged.status()).isEqualTo(206);
        assertThat(Http.get(two.url(page), "Accept-Encoding", "gzip").body()).as("sent as the application wrote it")
                .isEqualTo(stored.body());
        try (Jedis jedis = REDIS.get().node().client()) {
            for (String key : jedis.keys("*{cache}e:*")) {
                byte[] body = jedis.hget(key.getBytes(StandardCharsets.UTF_8), "body".getBytes(StandardCharsets.UTF_8));
                assertThat(gunzip(body)).as("stored afresh").isEqualTo(stored.body());
            }
        }
    }

    private static byte[] gunzip(byte[] body) {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // Finding: bookkeeping keys of the wrong type or value switch the cache off for good.

    /**
     * FINDING. Bookkeeping keys that are corrupt (another type, a value that is not a number)
     * make every LOOKUP or STORE script fail with WRONGTYPE or a Lua error: each request is
     * counted as "Redis unavailable" (the breaker trips, {@code redis-unavailable}) and nothing is
     * ever stored again, with no TTL on the corrupt key to end it. LOOKUP already deletes an entry
     * key of another type; the bookkeeping keys get no such repair. Expected: the corrupt key is
     * deleted (or ignored) and logged, and the page is stored and a HIT on the other node.
     */
    @Test
    void corruptBookkeepingKeysAreRepairedAndNeverSwitchTheCacheOff() {
        String page = "/catalog/tagged?tags=bk";
        Http.get(one.url(page));
        String entry = keys("e").iterator().next();
        String prefix = entry.substring(0, entry.indexOf("{cache}") + "{cache}".length());
        String hash = entry.substring(entry.indexOf("{cache}e:") + "{cache}e:".length());
        Map<String, Consumer<Jedis>> corruptions = new LinkedHashMap<>();
        corruptions.put("lru a string", jedis -> jedis.set(prefix + "lru", "garbage"));
        corruptions.put("sizes a string", jedis -> jedis.set(prefix + "sizes", "garbage"));
        corruptions.put("bytes not a number", jedis -> jedis.set(prefix + "bytes", "garbage"));
        corruptions.put("pass mark a hash", jedis -> jedis.hset(prefix + "p:" + hash, "x", "1"));
        corruptions.put("eviction time not a number", jedis -> jedis.set(prefix + "x:" + hash, "garbage"));
        corruptions.put("tag set a string", jedis -> jedis.set(prefix + "t:bk", "garbage"));
        corruptions.put("tag eviction time not a number", jedis -> jedis.set(prefix + "xt:bk", "garbage"));
        SoftAssertions softly = new SoftAssertions();
        for (var corruption : corruptions.entrySet()) {
            REDIS.get().flushAll();
            try (Jedis jedis = REDIS.get().node().client()) {
                corruption.getValue().accept(jedis);
            }
            Http.Reply first = Http.get(one.url(page));
            Http.Reply second = Http.get(two.url(page));
            softly.assertThat(first.status()).as(corruption.getKey()).isEqualTo(200);
            softly.assertThat(second.cache()).as(corruption.getKey() + ": " + first.header("Cache-Status") + " then "
                    + second.header("Cache-Status")).isEqualTo("HIT");
        }
        softly.assertAll();
    }

    /**
     * FINDING. When the STORE script fails (here: an ACL denies a command it calls; the
     * same for any script error or a Redis timeout after the lease was taken), {@code
     * PageCache.finish} trips the breaker but never releases the lease: every other request for the
     * URL, on every node, waits {@code lockTimeoutMillis} (5 s by default) for a render that already
     * ended. Expected: the lease is released (RELEASE, best effort) when the store fails.
     */
    @Test
    void aStoreRedisRefusesLeavesNoLeaseForOthersToWaitOn() {
        String page = "/catalog/page?id=refused-store";
        Http.get(one.url(page));
        String entry = keys("e").iterator().next();
        String prefix = entry.substring(0, entry.indexOf("{cache}") + "{cache}".length());
        REDIS.get().flushAll();
        Http.Reply refused;
        // A corrupt sizes key is now repaired by STORE: the store is refused instead by an ACL that
        // denies MEMORY (called by STORE only, after the lease was taken).
        try (Jedis jedis = REDIS.get().node().client()) {
            jedis.aclSetUser("default", "-memory");
            try {
                refused = Http.get(one.url(page));
            } finally {
                jedis.aclSetUser("default", "+memory");
            }
        }

        assertThat(refused.status()).isEqualTo(200);
        assertThat(refused.header("Cache-Status")).hasValue(
                "tomcat-redis; fwd=uri-miss; fwd-status=200; detail=redis-unavailable");
        assertThat(keys("l")).as("the lease of a render that has ended").isEmpty();
    }

    /**
     * FINDING. An entry without its {@code etag} field is read as an entry with the validator "",
     * and {@code Delivery.serve} sends {@code ETag:} with an empty value, which is not an
     * entity-tag (RFC 9110 8.8.3); clients and CDNs then revalidate with garbage. Expected: an
     * entry missing a field it always has is unreadable (a miss, rendered and stored afresh).
     */
    @Test
    void anEntryMissingItsValidatorIsUnreadableNotServedWithAnEmptyEtag() {
        String page = "/catalog/page?id=no-etag";
        Http.get(one.url(page));
        try (Jedis jedis = REDIS.get().node().client()) {
            for (String key : jedis.keys("*{cache}e:*")) {
                jedis.hdel(key, "etag");
            }
        }
        Http.Reply served = Http.get(two.url(page));

        assertThat(served.status()).isEqualTo(200);
        assertThat(served.header("ETag")).as("served %s", served.header("Cache-Status"))
                .hasValueSatisfying(etag -> assertThat(etag).matches("(W/)?\"[^\"]*\""));
    }

    // Finding: a render too large to store ignores the client's preconditions and range.

    /**
     * FINDING. The render is neutral (no conditional or range headers); when it turns out too
     * large to store ({@code maxEntryBytes}) it goes through to the client as the full 200, so a
     * cold {@code If-None-Match} that matches gets the whole body instead of 304, a failing
     * {@code If-Match} gets 200 instead of the 412 RFC 9110 13.1.1 requires, and a video or
     * download resumed with {@code Range} gets the whole file where DefaultServlet alone answered
     * 206 (again after every {@code p:} mark expires). Expected: the filter answers the client's
     * headers on the response that goes through (validators and Content-Length are set before the
     * body), or does not neutralise a request whose URL is marked pass.
     */
    @Test
    void aRenderTooLargeToStoreStillAnswersTheClientsPreconditionsAndRange() {
        // The node's own: each node wrote its copy of the file at its own time, so their weak ETags differ.
        String etag = Http.get(two.url("/static/big.txt")).header("ETag").orElseThrow();
        REDIS.get().flushAll();
        Http.Reply revalidated = Http.get(two.url("/static/big.txt"), "If-None-Match", etag);
        REDIS.get().flushAll();
        Http.Reply ranged = Http.get(one.url("/static/big.txt"), "Range", "bytes=0-9");
        REDIS.get().flushAll();
        Http.Reply failed = Http.get(two.url("/static/big.txt"), "If-Match", "\"not-the-file\"");

        SoftAssertions softly = new SoftAssertions();
        softly.assertThat(revalidated.status()).as("If-None-Match " + etag + ", body of %d bytes, %s",
                revalidated.body().length, revalidated.header("Cache-Status")).isEqualTo(304);
        softly.assertThat(ranged.status()).as("Range bytes=0-9, body of %d bytes", ranged.body().length)
                .isEqualTo(206);
        softly.assertThat(ranged.body()).isEqualTo(slice(BIG, 0, 10));
        softly.assertThat(ranged.header("Content-Range")).hasValue("bytes 0-9/" + BIG.length);
        softly.assertThat(failed.status()).as("If-Match of another tag").isEqualTo(412);
        softly.assertAll();
    }

    // Finding: obsolete HTTP-date formats in conditionals are ignored.

    /**
     * FINDING. {@code HttpCaching.httpDate} parses only the IMF-fixdate; RFC 9110 5.6.7 says a
     * recipient MUST accept the obsolete RFC 850 and asctime formats too (Tomcat's DefaultServlet
     * does, through FastHttpDateFormat). A revalidation with {@code If-Modified-Since} in those
     * formats gets the full 200 instead of 304, and an {@code If-Unmodified-Since} before the
     * file's date gets 200 instead of 412.
     */
    @Test
    void conditionalDatesInTheObsoleteFormatsAreHonoured() {
        String lastModified = Http.get(one.url("/static/shop.css")).header("Last-Modified").orElseThrow();
        ZonedDateTime modified = ZonedDateTime.parse(lastModified, DateTimeFormatter.RFC_1123_DATE_TIME);
        String rfc850 = DateTimeFormatter.ofPattern("EEEE, dd-MMM-yy HH:mm:ss 'GMT'", Locale.US)
                .format(modified.withZoneSameInstant(ZoneOffset.UTC));
        String asctime = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US)
                .format(modified.withZoneSameInstant(ZoneOffset.UTC));
        String rfc850Before = DateTimeFormatter.ofPattern("EEEE, dd-MMM-yy HH:mm:ss 'GMT'", Locale.US)
                .format(modified.minusDays(1).withZoneSameInstant(ZoneOffset.UTC));

        Http.Reply imf = Http.get(two.url("/static/shop.css"), "If-Modified-Since", lastModified);
        Http.Reply byRfc850 = Http.get(two.url("/static/shop.css"), "If-Modified-Since", rfc850);
        Http.Reply byAsctime = Http.get(one.url("/static/shop.css"), "If-Modified-Since", asctime);
        Http.Reply unmodifiedSince = Http.get(one.url("/static/shop.css"), "If-Unmodified-Since", rfc850Before);

        assertThat(imf.status()).isEqualTo(304);
        SoftAssertions softly = new SoftAssertions();
        softly.assertThat(byRfc850.status()).as("If-Modified-Since: " + rfc850).isEqualTo(304);
        softly.assertThat(byAsctime.status()).as("If-Modified-Since: " + asctime).isEqualTo(304);
        softly.assertThat(unmodifiedSince.status()).as("If-Unmodified-Since: " + rfc850Before).isEqualTo(412);
        softly.assertAll();
    }

    // Finding: must-revalidate and s-maxage entries served stale.

    /**
     * FINDING. With {@code staleSeconds} configured, an expired entry whose response said
     * {@code must-revalidate}, {@code proxy-revalidate} or {@code s-maxage} (which "also implies the
     * semantics of proxy-revalidate", RFC 9111 5.2.2.10) is served STALE; RFC 9111 5.2.2.2 and
     * 5.2.2.8: a shared cache MUST NOT reuse it stale without revalidating. {@code EntryFactory}
     * gives every entry the configured stale window. Expected: a MISS (render) once it expires.
     */
    @Test
    void mustRevalidateProxyRevalidateAndSMaxageEntriesAreNeverServedStale() {
        SoftAssertions softly = new SoftAssertions();
        for (String cc : new String[] {"max-age=60,%20must-revalidate", "max-age=60,%20proxy-revalidate",
                "s-maxage=60", "max-age=60"}) {
            String page = "/catalog/lines?cc=" + cc;
            Http.get(one.url(page));
            assertThat(Http.get(two.url(page)).cache()).as(cc).isEqualTo("HIT");
            expireKeepingTheStaleWindow();
            Http.Reply expired = Http.get(two.url(page));
            softly.assertThat(expired.cache()).as(cc + ": " + expired.header("Cache-Status").orElse(""))
                    .isEqualTo(cc.equals("max-age=60") ? "STALE" : "MISS");
        }
        softly.assertAll();
    }

    /** Every entry expired a millisecond ago by Redis' clock, with the stale window (field and key TTL) it was stored with. */
    private static void expireKeepingTheStaleWindow() {
        try (Jedis jedis = REDIS.get().node().client()) {
            List<String> time = jedis.time();
            long now = Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
            for (String key : jedis.keys("*{cache}e:*")) {
                if (!jedis.hexists(key, "stale")) {
                    continue; // not an entry (a Vary marker)
                }
                long window = Long.parseLong(jedis.hget(key, "stale")) - Long.parseLong(jedis.hget(key, "fresh"));
                jedis.hset(key, Map.of("fresh", Long.toString(now - 1), "stale", Long.toString(now - 1 + window)));
                // The key lives until the end of its stale window, as STORE set it: gone now if it had none.
                jedis.pexpireAt(key, now - 1 + window);
            }
        }
    }

    // Finding: the Edge Architecture form of Surrogate-Control's max-age is read as stale.

    /**
     * FINDING. Surrogate-Control (Edge Architecture Specification 1.0, the form Akamai and Fastly
     * read) defines {@code max-age=delta[+delta]}: a freshness lifetime and an optional stale
     * window. {@code HttpCaching.seconds} rejects {@code 60+30} as "not an integer", which counts as
     * stale: a response the application said to keep 60 s (and whose Cache-Control allows it) is
     * never stored ({@code detail=ttl}). Expected: a TTL of 60 s (and 30 s more of stale window),
     * a HIT on the other node.
     */
    @Test
    void surrogateControlMaxAgeWithItsStaleExtensionIsAFreshnessLifetime() {
        String page = "/catalog/surrogate?sc=max-age%3D60%2B30";
        Http.Reply first = Http.get(one.url(page));
        Http.Reply second = Http.get(two.url(page));
        String plain = "/catalog/surrogate?sc=max-age%3D60";
        Http.get(one.url(plain));

        assertThat(Http.get(two.url(plain)).cache()).as("the plain form is honoured").isEqualTo("HIT");
        assertThat(second.cache()).as("first %s, then %s", first.header("Cache-Status"), second.header("Cache-Status"))
                .isEqualTo("HIT");
        assertThat(second.header("Cache-Status")).hasValueSatisfying(v -> assertThat(v).matches(".*hit; ttl=(59|60)"));
    }

    // Finding: any client can grow Redis outside the budget with POSTs.

    /**
     * FINDING. Every successful POST (or any unsafe method) to any URL writes an {@code x:}
     * eviction time for 10 minutes, whether or not anything of that URL is cached or rendering.
     * A client with random query strings grows Redis by one key per request, none of it counted in
     * {@code maxCacheBytes}: in the shared {@code noeviction} Redis the budget exists for, sessions
     * are then refused. Expected: an eviction of a URL with no entry, lease or mark leaves nothing
     * (a render in flight always holds a lease or follows a mark), or its memory is in the budget.
     */
    @Test
    void postsToUrlsWithNothingCachedLeaveNothingBehindInRedis() {
        for (int i = 0; i < 200; i++) {
            assertThat(Http.send("POST", (i % 2 == 0 ? one : two).url("/catalog/search?q=" + i)).status())
                    .isEqualTo(200);
        }

        assertThat(keys("x")).as("eviction times of URLs never cached").isEmpty();
    }

    // Finding: tag headers reach the client on the paths that bypass the capture.

    /**
     * FINDING. Tags are stripped only where the response goes through {@code CapturingResponse}
     * (a render) or {@code Delivery} (an entry). Where the filter hands the real response to the
     * application ({@code PageCache.bypass} and {@code uncached}: a request with
     * {@code Cache-Control: no-cache}, a HEAD of a cold URL, a URL marked pass, a lock timeout,
     * Redis down), {@code Surrogate-Key}, {@code Cache-Tag}, {@code xkey} and {@code Cache-Groups}
     * reach the client, and a CDN in front purges or groups by tags the operator asked to strip.
     * Expected (issue 14: "tags stripped by default"): none of them on any response of an included URL.
     */
    @Test
    void tagHeadersNeverReachTheClientOnResponsesThatBypassTheCache() {
        Http.Reply noCache = Http.get(one.url("/catalog/cdn-tagged"), "Cache-Control", "no-cache");
        Http.Reply coldHead = Http.send("HEAD", two.url("/catalog/cdn-tagged"));

        SoftAssertions softly = new SoftAssertions();
        for (Http.Reply reply : new Http.Reply[] {noCache, coldHead}) {
            for (String header : new String[] {"Surrogate-Key", "Cache-Tag", "xkey", "Cache-Groups"}) {
                softly.assertThat(reply.header(header)).as(header + " on " + reply.header("Cache-Status").orElse(""))
                        .isEmpty();
            }
        }
        softly.assertAll();
    }

    // Pin (passes): the budget with many tags per entry.

    /**
     * The budget counts entries that carry many tags of their own within 20 % of their real
     * {@code MEMORY USAGE}, tag sets included.
     */
    @Test
    void entriesWithManyTagsOfTheirOwnAreCountedWithinTwentyPercentOfRealMemory() {
        for (int i = 0; i < 300; i++) {
            StringBuilder tags = new StringBuilder();
            for (int t = 0; t < 20; t++) {
                tags.append(t == 0 ? "" : ",").append("item-").append(i).append('-').append(t);
            }
            assertThat(Http.get((i % 2 == 0 ? one : two).url("/catalog/tagged?tags=" + tags)).status())
                    .isEqualTo(200);
        }
        try (Jedis jedis = REDIS.get().node().client()) {
            String bytesKey = keys("e").iterator().next().replaceAll("\\{cache}e:.*", "{cache}bytes");
            long counted = Long.parseLong(jedis.get(bytesKey));
            long used = memoryUsage(jedis);

            assertThat(keys("e")).hasSize(300);
            assertThat((double) counted / used).as("counted %d, MEMORY USAGE %d", counted, used).isBetween(0.8, 1.2);
        }
    }

    /**
     * Pin (passes): small pages with {@code Vary} (a marker and a {@code v:} set per URL besides
     * the variant) are still counted within 20 % of their MEMORY USAGE.
     */
    @Test
    void varyingPagesAreCountedWithinTwentyPercentOfRealMemory() {
        for (int i = 0; i < 300; i++) {
            assertThat(Http.get((i % 2 == 0 ? one : two).url("/catalog/lines?cc=public&cc=max-age=60&n=" + i),
                    "X-Theme", "dark").status()).isEqualTo(200);
        }
        try (Jedis jedis = REDIS.get().node().client()) {
            String bytesKey = keys("e").iterator().next().replaceAll("\\{cache}e:.*", "{cache}bytes");
            long counted = Long.parseLong(jedis.get(bytesKey));
            long used = memoryUsage(jedis);

            assertThat(keys("e")).as("a marker and a variant per URL").hasSize(600);
            assertThat((double) counted / used).as("counted %d, MEMORY USAGE %d", counted, used).isBetween(0.8, 1.2);
        }
    }

    private static long memoryUsage(Jedis jedis) {
        long total = 0;
        String cursor = ScanParams.SCAN_POINTER_START;
        do {
            ScanResult<String> page = jedis.scan(cursor, new ScanParams().match("*{cache}*").count(1000));
            for (String key : page.getResult()) {
                Long usage = jedis.memoryUsage(key, 0);
                total += usage == null ? 0 : usage;
            }
            cursor = page.getCursor();
        } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
        return total;
    }

    // Pin (passes): RFC 9875 Cache-Group-Invalidation racing a render on the other node.

    @Test
    void cacheGroupInvalidationOfAPostOnOneNodeWinsOverARenderOnTheOther() throws Exception {
        String page = "/catalog/gated?id=group&tags=product-9";
        PageServlet.gate = new CompletableFuture<>();
        CompletableFuture<Http.Reply> slow = CompletableFuture.supplyAsync(() -> Http.get(one.url(page)));
        try {
            Await.until(Duration.ofSeconds(10), "the render to begin",
                    () -> PageServlet.renders(page) == 1);
            assertThat(Http.send("POST", two.url("/catalog/cart?invalidate=%22product-9%22")).status()).isEqualTo(200);
        } finally {
            PageServlet.gate.complete(null);
        }
        assertThat(slow.get(30, TimeUnit.SECONDS).text()).isEqualTo("gated #1");
        Http.Reply after = Http.get(two.url(page));

        assertThat(after.cache()).isEqualTo("MISS");
        assertThat(after.text()).isEqualTo("gated #2");
        assertThat(Http.get(one.url(page)).cache()).isEqualTo("HIT");
    }

    // Pin (passes): an eviction on one node wins over the background refresh of a stale entry on the other.

    @Test
    void evictUrlOnOneNodeWinsOverTheBackgroundRefreshOfAStaleEntryOnTheOther() throws Exception {
        String page = "/catalog/gated?id=stale-refresh";
        assertThat(Http.get(one.url(page)).text()).isEqualTo("gated #1");
        expireEveryEntry();
        PageServlet.gate = new CompletableFuture<>();
        try {
            Http.Reply stale = Http.get(one.url(page));
            assertThat(stale.cache()).isEqualTo("STALE");
            Await.until(Duration.ofSeconds(10), "the refresh to begin",
                    () -> PageServlet.renders(page) == 2);
            assertThat(two.cache().evictUrl("http://127.0.0.1/shop" + page)).isEqualTo(1);
        } finally {
            PageServlet.gate.complete(null);
        }
        Await.until(Duration.ofSeconds(10), "the refresh to end",
                () -> keys("l").isEmpty());
        Http.Reply after = Http.get(two.url(page));

        assertThat(after.cache()).isEqualTo("MISS");
        assertThat(after.text()).isEqualTo("gated #3");
    }

    // Pins (pass): ranges in odd forms.

    @Test
    void oddRangeHeadersOnAHitAreAnsweredAsRfc9110Says() {
        int length = CSS.length;
        Http.get(one.url("/static/shop.css"));
        Http.Reply upper = Http.get(two.url("/static/shop.css"), "Range", "BYTES=0-1");
        Http.Reply backwards = Http.get(two.url("/static/shop.css"), "Range", "bytes=5-2");
        Http.Reply zeroSuffix = Http.get(one.url("/static/shop.css"), "Range", "bytes=-0");
        Http.Reply otherUnit = Http.get(one.url("/static/shop.css"), "Range", "items=0-1");
        Http.Reply hugeLast = Http.get(two.url("/static/shop.css"), "Range", "bytes=0-99999999999999999999999");
        Http.Reply hugeFirst = Http.get(two.url("/static/shop.css"), "Range", "bytes=99999999999999999999999-");
        Http.Reply hugeSuffix = Http.get(one.url("/static/shop.css"), "Range", "bytes=-99999999999999999999999");
        Http.Reply many = Http.get(one.url("/static/shop.css"), "Range", "bytes=" + "0-0,".repeat(1500) + "0-0");
        Http.Reply overlapping = Http.get(two.url("/static/shop.css"), "Range", "bytes=0-5,2-8");
        Http.Reply trailingComma = Http.get(two.url("/static/shop.css"), "Range", "bytes=1-2,");
        Http.Reply head = Http.send("HEAD", one.url("/static/shop.css"), "Range", "bytes=0-1");

        assertThat(upper.status()).as("the unit is case-insensitive (RFC 9110 14.1)").isEqualTo(206);
        assertThat(upper.body()).isEqualTo(slice(CSS, 0, 2));
        assertThat(backwards.status()).as("an invalid range is ignored").isEqualTo(200);
        assertThat(backwards.body()).isEqualTo(CSS);
        assertThat(zeroSuffix.status()).as("a zero suffix is unsatisfiable (RFC 9110 14.1.1)").isEqualTo(416);
        assertThat(zeroSuffix.header("Content-Range")).hasValue("bytes */" + length);
        assertThat(otherUnit.status()).isEqualTo(200);
        assertThat(hugeLast.status()).isEqualTo(206);
        assertThat(hugeLast.header("Content-Range")).hasValue("bytes 0-" + (length - 1) + "/" + length);
        assertThat(hugeLast.header("Content-Length")).hasValue(Integer.toString(length));
        assertThat(hugeFirst.status()).isEqualTo(416);
        assertThat(hugeSuffix.status()).isEqualTo(206);
        assertThat(hugeSuffix.body()).isEqualTo(CSS);
        assertThat(many.status()).as("many ranges: the whole file, no multipart work").isEqualTo(200);
        assertThat(many.body()).isEqualTo(CSS);
        assertThat(overlapping.status()).isEqualTo(200);
        assertThat(trailingComma.status()).as("empty list elements do not count (RFC 9110 5.6.1)").isEqualTo(206);
        assertThat(trailingComma.body()).isEqualTo(slice(CSS, 1, 3));
        assertThat(head.status()).as("Range is defined for GET only").isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(head.header("Content-Length")).hasValue(Integer.toString(length));
        assertThat(PageServlet.RENDERS).isEmpty();
    }

    @Test
    void aRangeOfAnEmptyFileIs416AndOfAStoredErrorStatusIsIgnored() {
        Http.get(one.url("/static/empty.txt"));
        Http.Reply empty = Http.get(two.url("/static/empty.txt"), "Range", "bytes=0-");
        Http.get(one.url("/catalog/gone"));
        Http.Reply gone = Http.get(two.url("/catalog/gone"), "Range", "bytes=0-3");

        assertThat(empty.status()).isEqualTo(416);
        assertThat(empty.header("Content-Range")).hasValue("bytes */0");
        assertThat(gone.cache()).isEqualTo("HIT");
        assertThat(gone.status()).as("a range applies to a 200 only").isEqualTo(410);
        assertThat(gone.text()).isEqualTo("gone for good #1");
    }

    // Pins (pass): preconditions in odd forms.

    @Test
    void preconditionsWithWeakTagsListsStarsAndMalformedValuesFollowRfc9110() {
        Http.get(one.url("/catalog/validated"));
        String cssTag = Http.get(one.url("/static/shop.css")).header("ETag").orElseThrow();
        Http.Reply weakNoneMatch = Http.get(two.url("/catalog/validated"), "If-None-Match", "W/\"v1\"");
        Http.Reply spacedList = Http.get(two.url("/catalog/validated"), "If-None-Match", " \"a\" ,\t\"v1\" ");
        Http.Reply twoLines = Http.rawGetReply(two.port(), "/shop/catalog/validated", "127.0.0.1",
                "If-None-Match: \"a\"", "If-None-Match: \"v1\"");
        Http.Reply star = Http.get(one.url("/catalog/validated"), "If-None-Match", "*");
        Http.Reply unquoted = Http.get(one.url("/catalog/validated"), "If-None-Match", "v1");
        Http.Reply weakIfMatch = Http.get(two.url("/catalog/validated"), "If-Match", "W/\"v1\"");
        Http.Reply weakFileIfMatch = Http.get(two.url("/static/shop.css"), "If-Match", cssTag);
        Http.Reply noneMatchWinsOverSince = Http.get(one.url("/catalog/validated"), "If-None-Match", "\"x\"",
                "If-Modified-Since", "Wed, 21 Oct 2099 07:28:00 GMT");
        Http.Reply invalidSince = Http.get(one.url("/catalog/validated"), "If-Modified-Since", "yesterday");

        assertThat(weakNoneMatch.status()).as("weak comparison (RFC 9110 13.1.2)").isEqualTo(304);
        assertThat(spacedList.status()).isEqualTo(304);
        assertThat(twoLines.status()).as("several lines are one list").isEqualTo(304);
        assertThat(star.status()).isEqualTo(304);
        assertThat(unquoted.status()).isEqualTo(200);
        assertThat(unquoted.text()).isEqualTo("validated #1");
        assertThat(weakIfMatch.status()).as("strong comparison (RFC 9110 13.1.1)").isEqualTo(412);
        assertThat(cssTag).startsWith("W/");
        assertThat(weakFileIfMatch.status()).isEqualTo(412);
        assertThat(noneMatchWinsOverSince.status()).isEqualTo(200);
        assertThat(invalidSince.status()).isEqualTo(200);
        assertThat(PageServlet.renders("/catalog/validated")).isEqualTo(1);
    }

    @Test
    void preconditionsAreIgnoredOnAStoredErrorStatus() {
        Http.get(one.url("/catalog/gone"));
        Http.Reply noneMatchStar = Http.get(two.url("/catalog/gone"), "If-None-Match", "*");
        Http.Reply ifMatch = Http.get(two.url("/catalog/gone"), "If-Match", "\"nope\"");

        assertThat(noneMatchStar.status()).as("RFC 9110 13.2.1: only a 2xx is subject to them").isEqualTo(410);
        assertThat(ifMatch.status()).isEqualTo(410);
        assertThat(ifMatch.cache()).isEqualTo("HIT");
    }

    @Test
    void notModifiedCarriesTheValidatorAndTheCacheHeadersOfThe200AndNoBody() {
        String page = "/catalog/lines?cc=public&cc=max-age=60";
        Http.Reply full = Http.get(one.url(page));
        String etag = full.header("ETag").orElseThrow();
        Http.Reply notModified = Http.get(two.url(page), "If-None-Match", etag);
        Http.Reply headNotModified = Http.send("HEAD", one.url(page), "If-None-Match", etag);

        for (Http.Reply reply : new Http.Reply[] {notModified, headNotModified}) {
            assertThat(reply.status()).isEqualTo(304);
            assertThat(reply.body()).isEmpty();
            assertThat(reply.header("ETag")).hasValue(etag);
            assertThat(reply.headers().allValues("Cache-Control")).isEqualTo(full.headers().allValues("Cache-Control"));
            assertThat(reply.headers().allValues("Vary")).containsAll(full.headers().allValues("Vary"));
            assertThat(reply.header("Content-Length").orElse("0")).isEqualTo("0");
            assertThat(reply.cache()).isEqualTo("HIT");
        }
    }

    // Pin (passes): Cache-Status syntax on the answers the filter builds itself.

    @Test
    void cacheStatusOfAnswersBuiltFromAnEntryIsAnRfc9211Hit() {
        Http.get(one.url("/static/shop.css"));
        String etag = Http.get(two.url("/static/shop.css")).header("ETag").orElseThrow();
        for (Http.Reply reply : new Http.Reply[] {
                Http.get(two.url("/static/shop.css"), "If-None-Match", etag),
                Http.get(one.url("/static/shop.css"), "Range", "bytes=0-1"),
                Http.get(one.url("/static/shop.css"), "Range", "bytes=999999-"),
                Http.get(two.url("/static/shop.css"), "If-Match", "\"x\"")}) {
            assertThat(reply.header("Cache-Status")).as("status %d", reply.status())
                    .hasValueSatisfying(value -> assertThat(value).matches("tomcat-redis; hit; ttl=\\d+"));
        }
    }
}

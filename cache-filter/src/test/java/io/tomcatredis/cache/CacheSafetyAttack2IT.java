package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 13, second adversarial pass: what applications do ahead of the cache filter in other ways
 * than {@link CacheSafetyIT}'s (a {@code ThreadLocal} filled from a custom token header, as Spring's
 * {@code SecurityContextHolder}/{@code LocaleContextHolder}/{@code RequestContextHolder} are; a
 * request wrapper that only answers {@code getRemoteUser}; a locale set on the response ahead; a
 * valve setting the principal), fidelity of headers set ahead and overridden, HEAD, and Redis
 * paused in the middle of a render. Two nodes on one real Redis.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CacheSafetyAttack2IT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    /** The user an authentication filter ahead found, as Spring Security's SecurityContextHolder keeps it. */
    static final ThreadLocal<String> USER = new ThreadLocal<>();
    /** The locale a filter ahead resolved, as Spring's RequestContextFilter fills LocaleContextHolder. */
    static final ThreadLocal<Locale> LOCALE = new ThreadLocal<>();
    /** The container's request and response, as Spring's RequestContextHolder keeps them. */
    static final ThreadLocal<HttpServletRequest> CURRENT_REQUEST = new ThreadLocal<>();
    static final ThreadLocal<HttpServletResponse> CURRENT_RESPONSE = new ThreadLocal<>();

    static final Map<String, AtomicInteger> RENDERS = new java.util.concurrent.ConcurrentHashMap<>();
    static volatile CountDownLatch entered = new CountDownLatch(1);
    static volatile CountDownLatch proceed = new CountDownLatch(0);

    private CacheNode one;
    private CacheNode two;

    @BeforeAll
    void start() {
        Map<String, String> params = Map.of("redisUri", REDIS.get().uri(), "include", "/catalog/* 60, /p/* 60",
                "exclude", "/p/private/*", "allowedHosts", "127.0.0.1, localhost", "ignoredCookies", "_ga*",
                "timeoutMillis", "300", "circuitBreakerMillis", "200");
        one = CacheNode.start("attack2a", params, CacheSafetyAttack2IT::application);
        two = CacheNode.start("attack2b", params, CacheSafetyAttack2IT::application);
    }

    static void application(Context context) {
        context.setResponseCharacterEncoding("UTF-8");
        context.setCookies(false);
        context.getPipeline().addValve(new PrincipalValve());
        FilterDef ahead = new FilterDef();
        ahead.setFilterName("ahead2");
        ahead.setFilter(new Ahead());
        context.addFilterDef(ahead);
        FilterMap map = new FilterMap();
        map.setFilterName("ahead2");
        map.addURLPattern("/*");
        context.addFilterMap(map);
        org.apache.catalina.startup.Tomcat.addServlet(context, "attack2", new Pages());
        context.addServletMappingDecoded("/catalog/a/*", "attack2");
    }

    @AfterAll
    void stop() {
        one.close();
        two.close();
    }

    @BeforeEach
    void empty() {
        REDIS.get().flushAll();
        RENDERS.clear();
        PageServlet.RENDERS.clear();
    }

    // --- Authentication done ahead of the filter, in other ways than a cookie and a request attribute.

    @Test
    void userFoundAheadFromATokenHeaderAndKeptInAThreadLocalIsNeverServedToOthers() {
        Http.Reply alice = Http.get(one.url("/catalog/a/tl-user"), "X-Auth-Token", "alice");
        Http.Reply anonymous = Http.get(two.url("/catalog/a/tl-user"));

        assertThat(alice.text()).startsWith("Hello alice");
        assertThat(anonymous.text()).as("X-Cache %s of the anonymous request", anonymous.cache())
                .startsWith("Hello guest");
    }

    @Test
    void userFoundAheadFromATokenHeaderIntoARequestAttributeIsNotServedTheAnonymousPage() {
        Http.Reply anonymous = Http.get(one.url("/catalog/a/attr-user"));
        Http.Reply again = Http.get(two.url("/catalog/a/attr-user"));
        Http.Reply bob = Http.get(two.url("/catalog/a/attr-user"), "X-Api-Key", "bob");

        assertThat(anonymous.text()).startsWith("Hello guest");
        assertThat(again.cache()).isEqualTo("HIT");
        assertThat(bob.text()).as("X-Cache %s for a user a filter ahead signed in", bob.cache())
                .startsWith("Hello bob");
    }

    @Test
    void remoteUserOfARequestWrapperAheadIsNotServedTheAnonymousPage() {
        Http.Reply anonymous = Http.get(one.url("/catalog/a/remote-user"));
        Http.Reply carol = Http.get(two.url("/catalog/a/remote-user"), "X-Remote-User", "carol");
        Http.Reply anonymousAfter = Http.get(one.url("/catalog/a/remote-user"));

        assertThat(anonymous.text()).startsWith("user null");
        assertThat(carol.text()).as("X-Cache %s for a user a wrapper ahead signed in", carol.cache())
                .startsWith("user carol");
        assertThat(anonymousAfter.text()).startsWith("user null");
    }

    @Test
    void principalSetByAValveIsPassedBothWays() {
        Http.Reply anonymous = Http.get(one.url("/catalog/a/remote-user"));
        Http.Reply dave = Http.get(two.url("/catalog/a/remote-user"), "X-Valve-User", "dave");
        Http.Reply daveAgain = Http.get(one.url("/catalog/a/remote-user"), "X-Valve-User", "dave");
        Http.Reply anonymousAfter = Http.get(two.url("/catalog/a/remote-user"));

        assertThat(dave.text()).startsWith("user dave");
        assertThat(dave.cache()).isEqualTo("BYPASS");
        assertThat(anonymousAfter.cache()).as("anonymous %s, dave %s, dave again %s, %s", anonymous.cache(),
                dave.cache(), daveAgain.cache(), two.cache().statistics().getBypassesByReason()).isEqualTo("HIT");
        assertThat(daveAgain.text()).startsWith("user dave");
        assertThat(anonymousAfter.text()).isEqualTo(anonymous.text()).startsWith("user null");
    }

    @Test
    void concurrentSignedInAndAnonymousClientsOnTwoNodesEachGetTheirOwnPage() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<String[]>> replies = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                CacheNode node = i % 2 == 0 ? one : two;
                String who = i % 3 == 0 ? null : "u" + (i % 5);
                String path = "/catalog/a/" + (i % 2 == 0 ? "tl-user" : "remote-user") + "?n=" + (i % 4);
                replies.add(pool.submit(() -> {
                    Http.Reply reply = who == null ? Http.get(node.url(path))
                            : Http.get(node.url(path), i2(path) ? "X-Auth-Token" : "X-Remote-User", who);
                    String expected = (i2(path) ? "Hello " : "user ") + (who == null ? (i2(path) ? "guest" : "null")
                            : who);
                    return new String[] {expected, reply.text(), path + " as " + who + " " + reply.cache()};
                }));
            }
            List<String> wrong = new ArrayList<>();
            for (Future<String[]> reply : replies) {
                String[] r = reply.get(60, TimeUnit.SECONDS);
                if (!r[1].startsWith(r[0] + " ")) {
                    wrong.add(r[2] + " expected " + r[0] + " got " + r[1]);
                }
            }
            assertThat(wrong).as("replies rendered for another client").isEmpty();
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(30, TimeUnit.SECONDS);
        }
    }

    private static boolean i2(String path) {
        return path.contains("tl-user");
    }

    // --- Locale inputs the filter cannot see.

    @Test
    void localeAFilterAheadSetOnTheResponseIsNotServedToAnotherLanguage() {
        Http.Reply german = Http.get(one.url("/catalog/a/response-locale?la"), "Accept-Language", "de");
        Http.Reply french = Http.get(two.url("/catalog/a/response-locale?la"), "Accept-Language", "fr");

        assertThat(german.text()).startsWith("lang de");
        assertThat(french.text()).as("X-Cache %s", french.cache()).startsWith("lang fr");
    }

    @Test
    void localeAFilterAheadKeptInAThreadLocalIsNotServedToAnotherLanguage() {
        Http.Reply german = Http.get(one.url("/catalog/a/tl-locale"), "Accept-Language", "de");
        Http.Reply french = Http.get(two.url("/catalog/a/tl-locale"), "Accept-Language", "fr");

        assertThat(german.text()).startsWith("lang de");
        assertThat(french.text()).as("X-Cache %s", french.cache()).startsWith("lang fr");
    }

    @Test
    void aLocaleResolvedAheadIsRenderedForEachLanguageAndStillCachedForTheSameOne() {
        String[][] cases = {{"es", "it", "es", "it"}, {"de-DE,de;q=0.9", "de-AT,de;q=0.9", "de-DE", "de-AT"},
            {"en;q=0.5,fr", "en,fr;q=0.5", "fr", "en"}};
        for (int i = 0; i < cases.length; i++) {
            String[] c = cases[i];
            for (String page : new String[] {"/catalog/a/response-locale?la&case=" + i,
                "/catalog/a/tl-locale?case=" + i, "/catalog/a/sets-locale?case=" + i}) {
                Http.Reply first = Http.get(one.url(page), "Accept-Language", c[0]);
                Http.Reply other = Http.get(two.url(page), "Accept-Language", c[1]);
                Http.Reply again = Http.get(two.url(page), "Accept-Language", c[0]);
                assertThat(first.text()).as(page).startsWith("lang " + c[2] + " #");
                assertThat(other.text()).as("%s X-Cache %s", page, other.cache()).startsWith("lang " + c[3] + " #");
                assertThat(again.cache()).as(page).isEqualTo("HIT");
                assertThat(again.text()).isEqualTo(first.text());
            }
        }
    }

    @Test
    void aLocaleSetAheadGivesTheCachedCopyTheContentLanguageOfTheUncachedOne() {
        String page = "/shop/catalog/a/response-locale?la&byte";
        String miss = Http.rawGet(one.port(), page, "127.0.0.1", "Accept-Language: pt-BR");
        String hit = Http.rawGet(two.port(), page, "127.0.0.1", "Accept-Language: pt-BR");
        String uncached = Http.rawGet(two.port(), page, "127.0.0.1", "Accept-Language: pt-BR",
                "Cache-Control: no-cache");
        assertThat(uncached).contains("Content-Language: pt-BR");
        assertThat(hit).contains("X-Cache: HIT");
        assertThat(CacheSafetyIT.comparable(hit)).isEqualTo(CacheSafetyIT.comparable(miss));
        assertThat(CacheSafetyIT.comparable(uncached)).as("rendered again")
                .isEqualTo(CacheSafetyIT.comparable(miss).replace("#1", "#2"));
    }

    @Test
    void localeResolvedFromACookieIsNotShared() {
        Http.Reply german = Http.get(one.url("/catalog/a/tl-locale"), "Cookie", "lang=de");
        Http.Reply plain = Http.get(two.url("/catalog/a/tl-locale"));
        assertThat(german.text()).startsWith("lang de");
        assertThat(plain.text()).startsWith("lang ").doesNotContain("de");
    }

    @Test
    void acceptLanguageVariantsOfAVaryingPageEachGetTheirOwn() {
        String[] languages = {"de", "de-DE", "DE", "de;q=0.9", "fr, de", "de,fr"};
        for (String language : languages) {
            Http.get(one.url("/catalog/language"), "Accept-Language", language);
        }
        for (String language : languages) {
            Http.Reply reply = Http.get(two.url("/catalog/language"), "Accept-Language", language);
            assertThat(reply.text()).as(language).startsWith("lang " + language + " #");
        }
    }

    // --- A session made during the render through the container's own request (not the wrapper).

    @Test
    void aSessionTheRenderCreatesThroughTheContainersRequestIsNeverShared() {
        Http.Reply first = Http.get(one.url("/catalog/a/holder-session"));
        Http.Reply second = Http.get(two.url("/catalog/a/holder-session"));

        assertThat(first.text()).contains("jsessionid=");
        assertThat(second.text()).as("X-Cache %s: handed the first visitor's session", second.cache())
                .isNotEqualTo(first.text());
    }

    @Test
    void aSessionIdPrintedFromTheContainersRequestIsNeverShared() {
        Http.Reply first = Http.get(one.url("/catalog/a/holder-cart"));
        Http.Reply second = Http.get(two.url("/catalog/a/holder-cart"));

        assertThat(first.text()).startsWith("cart ");
        assertThat(second.text()).as("X-Cache %s: handed the first visitor's cart", second.cache())
                .isNotEqualTo(first.text());
    }

    // --- Paths and session ids in the URL.

    @Test
    void sessionIdParametersAndPathTricksNeverReachAnExcludedEntry() {
        String session = Http.get(one.url("/session/login?user=alice")).text().substring("logged in ".length());
        for (String raw : new String[] {"/shop/p/private/data;JSESSIONID=" + session,
                "/shop;jsessionid=" + session + "/p/private/data", "/shop/p/private/data;jsessionid=" + session,
                "/shop/p/x/.%2e/private/data", "/shop/p/x/%2e./private/data", "/shop/p/x/%2E%2e/private/data",
                "/shop/p/%2e/private/data", "/shop/p/private/./data", "/shop/p/x/..;/private/data",
                "/shop/p/private%2Fdata", "/shop/p/x/..%2Fprivate/data", "/shop/p/x/%2e%2e%5Cprivate/data"}) {
            String first = Http.rawGet(one.port(), raw, "127.0.0.1");
            String second = Http.rawGet(two.port(), raw, "127.0.0.1");
            assertThat(second).as(raw).doesNotContain("X-Cache: HIT");
            assertThat(first).as(raw).doesNotContain("X-Cache: HIT");
        }
        assertThat(Http.get(two.url("/p/private/data")).cache()).isEqualTo("BYPASS");
    }

    @Test
    void aFullWidthLetterIsAnotherPathForTheContainerAndForTheCache() {
        String first = Http.rawGet(one.port(), "/shop/p/%EF%BD%90rivate/data", "127.0.0.1");
        assertThat(first).contains("page /p/\uff50rivate/data");
        Http.Reply excluded = Http.get(two.url("/p/private/data"));
        assertThat(excluded.cache()).isEqualTo("BYPASS");
        assertThat(excluded.text()).startsWith("page /p/private/data");
    }

    // --- Headers: injection, several lines ahead, overrides of what a filter ahead set.

    @Test
    void oddHeaderNamesAndValuesAreReplayedByteForByte() {
        assertCachedCopyIsByteIdentical("/catalog/a/odd-names");
        String hit = Http.rawGet(two.port(), "/shop/catalog/a/odd-names", "127.0.0.1");
        assertThat(hit).doesNotContainIgnoringCase("\r\nSet-Cookie").doesNotContainIgnoringCase("\r\nX-Injected");
    }

    @Test
    void severalCacheControlLinesAheadAreAllHonoured() {
        for (String ahead : new String[] {"cc-lines", "cc-upper", "cc-quoted", "expires-zero"}) {
            String page = "/catalog/a/plain?id=" + ahead + "&ahead2=" + ahead;
            Http.get(one.url(page));
            Http.Reply again = Http.get(two.url(page));
            assertThat(again.cache()).as(ahead).isNotEqualTo("HIT");
        }
    }

    @Test
    void aHeaderTheApplicationReplacesIsSentOnceAsWithoutTheCache() {
        // A filter ahead sets a default (X-Frame-Options: DENY); the page replaces it with setHeader.
        assertCachedCopyIsByteIdentical("/catalog/a/override?ahead2=xfo");
    }

    @Test
    void aCacheControlTheApplicationReplacesIsSentOnceAsWithoutTheCache() {
        // Ahead: Cache-Control: public, max-age=60; the page makes it private: never stored, and sent as the page said.
        String miss = Http.rawGet(one.port(), "/shop/catalog/a/make-private?ahead2=public", "127.0.0.1");
        String uncached = Http.rawGet(two.port(), "/shop/catalog/a/make-private?ahead2=public", "127.0.0.1",
                "Cache-Control: no-cache");
        assertThat(miss).doesNotContain("X-Cache: HIT");
        assertThat(CacheSafetyIT.comparable(miss).replace("X-Cache: MISS\r\n", ""))
                .isEqualTo(CacheSafetyIT.comparable(uncached));
    }

    @Test
    void headersSetAheadAreReplacedJoinedOrRemovedOnTheCachedCopyAsWithoutTheCache() {
        // Set ahead in another spelling of the name: one line, the spelling ahead, the page's value.
        assertCachedCopyIsByteIdentical("/catalog/a/override?ahead2=xfo-lower");
        // Added ahead and added by the page: both lines.
        assertCachedCopyIsByteIdentical("/catalog/a/add-policy?ahead2=policy");
        // Set ahead (public), removed by the page: no Cache-Control at all, stored for the rule's TTL.
        assertCachedCopyIsByteIdentical("/catalog/a/remove-cache-control?ahead2=public");
        assertThat(Http.rawGet(two.port(), "/shop/catalog/a/remove-cache-control?ahead2=public", "127.0.0.1"))
                .doesNotContainIgnoringCase("Cache-Control");
        // A date set by the page on a single-digit day: formatted as the container formats it.
        assertCachedCopyIsByteIdentical("/catalog/a/dated");
        assertThat(Http.rawGet(two.port(), "/shop/catalog/a/dated", "127.0.0.1"))
                .contains("Last-Modified: Sun, 01 Nov 2026 08:05:09 GMT");
    }

    @Test
    void aPageMakingAResponseSharedAheadPrivateInAnotherSpellingIsNeverStored() {
        for (int i = 0; i < 2; i++) {
            String miss = Http.rawGet((i == 0 ? one : two).port(), "/shop/catalog/a/make-private-lower?ahead2=public",
                    "127.0.0.1");
            assertThat(miss).doesNotContain("X-Cache: HIT").contains("Cache-Control: PRIVATE")
                    .doesNotContain("max-age=60");
        }
    }

    @Test
    void twoHeaderLinesAndOneCommaSeparatedLineOfAVaryHeaderAreNotOneVariant() {
        // Tomcat keeps the lines apart and getHeader answers the first: the pages differ.
        String poisoned = Http.rawGet(one.port(), "/shop/catalog/language", "127.0.0.1", "Accept-Language: de",
                "Accept-Language: fr");
        assertThat(poisoned).contains("lang de #");
        Http.Reply victim = Http.get(two.url("/catalog/language"), "Accept-Language", "de,fr");
        assertThat(victim.text()).as("X-Cache %s", victim.cache()).startsWith("lang de,fr #");
    }

    @Test
    void aCookieOrCharsetAFilterAheadSetsInOtherSpellingsCountsAsTheApplications() {
        Http.get(one.url("/catalog/a/plain?id=lower-cookie&ahead2=lower-cookie"));
        Http.Reply again = Http.get(two.url("/catalog/a/plain?id=lower-cookie&ahead2=lower-cookie"));
        assertThat(again.cache()).isNotEqualTo("HIT");
        // A charset set ahead (CharacterEncodingFilter), then a content type without one: as the container does.
        assertCachedCopyIsByteIdentical("/catalog/a/euro?ahead2=latin9");
    }

    // --- HEAD.

    @Test
    void aHeadAnsweredFromTheEntryHasTheHeadersOfAnUncachedHead() {
        Http.get(one.url("/catalog/a/plain?id=head"));
        Http.Reply head = Http.send("HEAD", two.url("/catalog/a/plain?id=head"));
        Http.Reply uncached = Http.send("HEAD", two.url("/catalog/a/plain?id=head"), "Cache-Control", "no-cache");
        assertThat(head.cache()).isEqualTo("HIT");
        assertThat(head.header("Content-Type")).isEqualTo(uncached.header("Content-Type"));
        assertThat(head.header("Content-Length")).isEqualTo(uncached.header("Content-Length"));
        assertThat(head.body()).isEmpty();
    }

    // --- Redis paused while a render holds its lease.

    @Test
    void redisPausedDuringARenderStillDeliversThePageAndNoWrongOneLater() throws Exception {
        entered = new CountDownLatch(1);
        proceed = new CountDownLatch(1);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Http.Reply> reply = pool.submit(() -> Http.get(one.url("/catalog/a/latched"), "Cookie",
                    "SESSION=erin"));
            assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
            REDIS.get().node().pause();
            try {
                proceed.countDown();
                Http.Reply erin = reply.get(30, TimeUnit.SECONDS);
                assertThat(erin.status()).isEqualTo(200);
                assertThat(erin.text()).startsWith("latched erin");
            } finally {
                REDIS.get().node().resume();
            }
        } finally {
            proceed.countDown();
            pool.shutdown();
        }
        io.tomcatredis.testsupport.Await.until(java.time.Duration.ofSeconds(10), "caching to resume on both nodes",
                () -> {
                    Http.get(one.url("/catalog/page?id=resumed"));
                    return Http.get(two.url("/catalog/page?id=resumed")).cache().equals("HIT")
                            && Http.get(one.url("/catalog/page?id=resumed")).cache().equals("HIT");
                });
        assertThat(Http.get(two.url("/catalog/a/latched")).text()).startsWith("latched guest");
    }

    private void assertCachedCopyIsByteIdentical(String path) {
        String miss = Http.rawGet(one.port(), "/shop" + path, "127.0.0.1");
        String hit = Http.rawGet(two.port(), "/shop" + path, "127.0.0.1");
        String uncached = Http.rawGet(two.port(), "/shop" + path, "127.0.0.1", "Cache-Control: no-cache");
        assertThat(hit).as(path).contains("X-Cache: HIT");
        assertThat(CacheSafetyIT.comparable(hit)).as(path).isEqualTo(CacheSafetyIT.comparable(uncached));
        assertThat(CacheSafetyIT.comparable(miss)).as(path).isEqualTo(CacheSafetyIT.comparable(uncached));
    }

    /** Sets the principal from {@code X-Valve-User}, as an SSO valve (or AJP's REMOTE_USER) does. */
    static final class PrincipalValve extends ValveBase {
        PrincipalValve() {
            super(true);
        }

        @Override
        public void invoke(Request request, Response response) throws IOException, ServletException {
            String user = request.getHeader("X-Valve-User");
            if (user != null) {
                request.setUserPrincipal(() -> user);
            }
            getNext().invoke(request, response);
        }
    }

    /** What applications map ahead of the cache: holders in ThreadLocals, wrappers, response defaults. */
    static final class Ahead implements Filter {
        @Override
        public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
                throws IOException, ServletException {
            HttpServletRequest request = (HttpServletRequest) req;
            HttpServletResponse response = (HttpServletResponse) res;
            CURRENT_REQUEST.set(request);
            CURRENT_RESPONSE.set(response);
            USER.set(request.getHeader("X-Auth-Token"));
            String lang = null;
            if (request.getCookies() != null) {
                for (jakarta.servlet.http.Cookie cookie : request.getCookies()) {
                    if (cookie.getName().equals("lang")) {
                        lang = cookie.getValue();
                    } else if (cookie.getName().equals("SESSION")) {
                        USER.set(cookie.getValue());
                    }
                }
            }
            LOCALE.set(lang != null ? Locale.forLanguageTag(lang) : request.getLocale());
            String apiKey = request.getHeader("X-Api-Key");
            if (apiKey != null) {
                request.setAttribute("user", apiKey);
            }
            if (request.getParameter("la") != null) {
                response.setLocale(request.getLocale());
            }
            String ahead = request.getParameter("ahead2");
            if (ahead != null) {
                switch (ahead) {
                    case "cc-lines" -> {
                        response.addHeader("Cache-Control", "max-age=60");
                        response.addHeader("Cache-Control", "private");
                    }
                    case "cc-upper" -> response.addHeader("cache-control", "NO-STORE");
                    case "cc-quoted" -> response.addHeader("Cache-Control", "public, private=\"X-User\", max-age=60");
                    case "expires-zero" -> response.addHeader("Expires", "0");
                    case "xfo" -> response.setHeader("X-Frame-Options", "DENY");
                    case "xfo-lower" -> response.setHeader("x-frame-options", "DENY");
                    case "policy" -> response.addHeader("X-Policy", "ahead");
                    case "public" -> response.setHeader("Cache-Control", "public, max-age=60");
                    case "lower-cookie" -> response.setHeader("set-cookie", "visitor=v" + System.nanoTime());
                    case "latin9" -> response.setCharacterEncoding("ISO-8859-15");
                    default -> throw new IllegalArgumentException(ahead);
                }
            }
            String remoteUser = request.getHeader("X-Remote-User");
            HttpServletRequest next = remoteUser == null ? request : new HttpServletRequestWrapper(request) {
                @Override
                public String getRemoteUser() {
                    return remoteUser;
                }
            };
            try {
                chain.doFilter(next, response);
            } finally {
                USER.remove();
                LOCALE.remove();
                CURRENT_REQUEST.remove();
                CURRENT_RESPONSE.remove();
            }
        }
    }

    /** The pages, each printing who and what it was rendered for. */
    static final class Pages extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response)
                throws IOException, ServletException {
            String path = request.getPathInfo();
            int render = RENDERS.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
            response.setContentType("text/html;charset=UTF-8");
            switch (path) {
                case "/tl-user" -> {
                    String user = USER.get();
                    response.getWriter().write("Hello " + (user == null ? "guest" : user) + " #" + render);
                }
                case "/attr-user" -> {
                    Object user = request.getAttribute("user");
                    response.getWriter().write("Hello " + (user == null ? "guest" : user) + " #" + render);
                }
                case "/remote-user" -> response.getWriter().write("user " + request.getRemoteUser() + " #" + render);
                case "/response-locale" -> response.getWriter().write("lang " + response.getLocale().toLanguageTag()
                        + " #" + render);
                case "/tl-locale" -> response.getWriter().write("lang " + LOCALE.get().toLanguageTag() + " #" + render);
                case "/holder-session" -> {
                    // A helper reaching for the container's request and response (RequestContextHolder).
                    CURRENT_REQUEST.get().getSession(true).setAttribute("visits", render);
                    response.getWriter().write("<a href=\"" + CURRENT_RESPONSE.get().encodeURL(
                            request.getContextPath() + "/catalog/next") + "\">next</a> #" + render);
                }
                case "/holder-cart" -> response.getWriter().write("cart " + CURRENT_REQUEST.get().getSession(true)
                        .getId() + " #" + render);
                case "/odd-names" -> {
                    response.setHeader("X-Name\r\nSet-Cookie", "evil=1");
                    response.setHeader("X-Colon: in", "name");
                    response.setHeader("X-Fold", "a\r\n b");
                    response.setHeader("X-Nul", "a\u0000\r\nX-Injected: 1");
                    response.setHeader("X-Pad", "  padded  ");
                    response.setHeader("X-Empty", "");
                    response.addHeader("X-Multi", "one");
                    response.addHeader("X-Multi", "two, three");
                    response.getWriter().write("odd names");
                }
                case "/override" -> {
                    response.setHeader("X-Frame-Options", "SAMEORIGIN");
                    response.getWriter().write("override");
                }
                case "/euro" -> {
                    response.setContentType("text/html");
                    response.getWriter().write("price 5 \u20ac");
                }
                case "/sets-locale" -> {
                    // As JSTL's fmt tags do: the response takes the request's locale.
                    response.setLocale(request.getLocale());
                    response.getWriter().write("lang " + response.getLocale().toLanguageTag() + " #" + render);
                }
                case "/dated" -> {
                    response.setDateHeader("Last-Modified", java.time.Instant.parse("2026-11-01T08:05:09Z")
                            .toEpochMilli());
                    response.getWriter().write("dated");
                }
                case "/add-policy" -> {
                    response.addHeader("X-Policy", "page");
                    response.getWriter().write("policies");
                }
                case "/remove-cache-control" -> {
                    response.setHeader("Cache-Control", null);
                    response.getWriter().write("removed");
                }
                case "/make-private-lower" -> {
                    response.setHeader("cache-control", "PRIVATE");
                    response.getWriter().write("made private");
                }
                case "/make-private" -> {
                    response.setHeader("Cache-Control", "private");
                    response.getWriter().write("made private");
                }
                case "/latched" -> {
                    entered.countDown();
                    try {
                        proceed.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    String user = USER.get();
                    response.getWriter().write("latched " + (user == null ? "guest" : user));
                }
                default -> response.getWriter().write("plain " + path + " " + request.getParameter("id"));
            }
        }
    }
}

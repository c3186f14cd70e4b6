package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.Enumeration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 13, third pass: other inputs of the kinds {@link CacheSafetyAttack3IT} found, end to end
 * on two nodes of one real Redis: another proxy's identity header, one a wrapper ahead hides after
 * using it, an attribute a wrapper ahead answers without listing it, a country locale from a
 * header configured in {@code ignoredHeaders} (keyed, so cached per country), Surrogate-Control set
 * ahead, a long body after a prefix written ahead, a page trying the writer after the stream, an
 * included servlet setting headers, a page built from If-None-Match, and a browser's header set.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CacheSafetyKinds13IT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    static final ThreadLocal<String> USER = new ThreadLocal<>();
    static final Map<String, AtomicInteger> RENDERS = new ConcurrentHashMap<>();
    /** Holds a refresh of {@code /k/stale} until released; counts the renders inside it. */
    static volatile CountDownLatch refreshGate = new CountDownLatch(0);
    static final AtomicInteger HELD = new AtomicInteger();

    private CacheNode one;
    private CacheNode two;

    @BeforeAll
    void start() {
        Map<String, String> params = Map.of("redisUri", REDIS.get().uri(), "include", "/k/* 60",
                "allowedHosts", "127.0.0.1", "ignoredHeaders", "CF-IPCountry", "timeoutMillis", "300", "staleSeconds", "60");
        one = CacheNode.start("kinds13a", params, CacheSafetyKinds13IT::application);
        two = CacheNode.start("kinds13b", params, CacheSafetyKinds13IT::application);
    }

    static void application(Context context) {
        context.setResponseCharacterEncoding("UTF-8");
        FilterDef ahead = new FilterDef();
        ahead.setFilterName("ahead13");
        ahead.setFilter(new Ahead());
        context.addFilterDef(ahead);
        FilterMap map = new FilterMap();
        map.setFilterName("ahead13");
        map.addURLPattern("/*");
        context.addFilterMap(map);
        Tomcat.addServlet(context, "kinds13", new Pages());
        context.addServletMappingDecoded("/k/*", "kinds13");
        Tomcat.addServlet(context, "fragment13", new Fragment());
        context.addServletMappingDecoded("/fragment", "fragment13");
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
    }

    @Test
    void aStaleCopyReachesTheClientWholeWhileItsRefreshIsStillRendering() {
        // Bodies are framed by the container now: the stale answer must be complete before the refresh ends.
        Http.get(one.url("/k/stale"));
        refreshGate = new CountDownLatch(1);
        try {
            Await.until(Duration.ofSeconds(20), "a stale copy", () -> {
                Http.Reply reply = Http.get(two.url("/k/stale"));
                if (!reply.cache().equals("STALE")) {
                    return false;
                }
                assertThat(reply.text()).isEqualTo("stale #1");
                return true;
            });
            // The answer is complete before the refresh has even started rendering, or while it renders:
            // the refresh starts, and is held by the gate, with the client's answer already in hand.
            Await.until(Duration.ofSeconds(20), "the refresh rendering after the client has its answer",
                    () -> HELD.get() == 1);
        } finally {
            refreshGate.countDown();
        }
    }

    @Test
    void anotherAuthenticatingProxysIdentityHeaderIsCredentials() {
        Http.Reply alice = Http.get(one.url("/k/who?proxy"), "X-Auth-Request-Email", "alice@example.com");
        Http.Reply anonymous = Http.get(two.url("/k/who?proxy"));
        assertThat(alice.text()).startsWith("Hello alice@example.com #");
        assertThat(anonymous.text()).as("X-Cache %s", anonymous.cache()).startsWith("Hello guest #");
    }

    @Test
    void anIdentityHeaderAWrapperAheadHidesAfterUsingItIsCredentials() {
        Http.Reply alice = Http.get(one.url("/k/who?hide"), "X-Auth-Request-Email", "alice@example.com");
        Http.Reply anonymous = Http.get(two.url("/k/who?hide"));
        assertThat(alice.text()).startsWith("Hello alice@example.com #");
        assertThat(anonymous.text()).as("X-Cache %s", anonymous.cache()).startsWith("Hello guest #");
    }

    @Test
    void anAttributeAWrapperAheadAnswersWithoutListingItIsNeverServedToOthers() {
        Http.Reply staff = Http.get(one.url("/k/prices"), "X-Forwarded-For", "10.1.2.3");
        Http.Reply outsider = Http.get(two.url("/k/prices"), "X-Forwarded-For", "203.0.113.7");
        Http.Reply again = Http.get(one.url("/k/prices"));
        assertThat(staff.text()).startsWith("prices for staff #");
        assertThat(outsider.text()).as("X-Cache %s", outsider.cache()).startsWith("prices for public #");
        assertThat(again.text()).startsWith("prices for public #");
        assertThat(again.cache()).isEqualTo("HIT");
    }

    @Test
    void aCountryLocaleSetAheadFromAnIgnoredHeaderIsCachedPerCountry() {
        Http.Reply german = Http.get(one.url("/k/geo"), "CF-IPCountry", "DE");
        Http.Reply germanAgain = Http.get(two.url("/k/geo"), "CF-IPCountry", "DE");
        Http.Reply french = Http.get(two.url("/k/geo"), "CF-IPCountry", "FR");
        Http.Reply none = Http.get(one.url("/k/geo"));

        assertThat(german.text()).startsWith("lang de-DE #1");
        assertThat(germanAgain.cache()).isEqualTo("HIT");
        assertThat(germanAgain.text()).isEqualTo(german.text());
        assertThat(germanAgain.header("Content-Language")).isEqualTo(german.header("Content-Language"))
                .hasValue("de-DE");
        assertThat(french.text()).as("X-Cache %s", french.cache()).startsWith("lang fr-FR #2");
        assertThat(none.text()).doesNotContain("de-DE").doesNotContain("fr-FR");
    }

    @Test
    void surrogateControlNoStoreSetAheadPasses() {
        Http.Reply first = Http.get(one.url("/k/plain?surrogate"));
        Http.Reply second = Http.get(two.url("/k/plain?surrogate"));
        assertThat(first.cache()).isEqualTo("BYPASS");
        assertThat(second.cache()).isEqualTo("BYPASS");
    }

    @Test
    void aLongBodyAfterAPrefixWrittenAheadIsSentAsWithoutTheCache() {
        String miss = Http.rawGet(one.port(), "/shop/k/long?prefix", "127.0.0.1");
        String hit = Http.rawGet(two.port(), "/shop/k/long?prefix", "127.0.0.1");
        String uncached = Http.rawGet(two.port(), "/shop/k/long?prefix", "127.0.0.1", "Cache-Control: no-cache");
        assertThat(hit).contains("X-Cache: HIT");
        assertThat(CacheSafetyAttack3IT.semantic(uncached)).endsWith("x".repeat(20_000));
        assertThat(CacheSafetyAttack3IT.semantic(hit)).isEqualTo(CacheSafetyAttack3IT.semantic(uncached));
        assertThat(CacheSafetyAttack3IT.semantic(miss)).isEqualTo(CacheSafetyAttack3IT.semantic(uncached));
    }

    @Test
    void aPageTryingTheWriterAfterTheStreamGetsTheContainersAnswer() {
        String miss = Http.rawGet(one.port(), "/shop/k/reverse", "127.0.0.1");
        String hit = Http.rawGet(two.port(), "/shop/k/reverse", "127.0.0.1");
        assertThat(hit).contains("X-Cache: HIT");
        assertThat(CacheSafetyAttack3IT.semantic(miss)).endsWith("head refused");
        assertThat(CacheSafetyAttack3IT.semantic(hit)).endsWith("head refused");
    }

    @Test
    void whatAnIncludedServletSetsOnTheResponseIsIgnoredOnTheCachedCopy() {
        String miss = Http.rawGet(one.port(), "/shop/k/include", "127.0.0.1");
        String hit = Http.rawGet(two.port(), "/shop/k/include", "127.0.0.1");
        String uncached = Http.rawGet(two.port(), "/shop/k/include", "127.0.0.1", "Cache-Control: no-cache");
        assertThat(uncached).startsWith("HTTP/1.1 200").doesNotContain("X-Included").doesNotContain("Set-Cookie");
        assertThat(hit).contains("X-Cache: HIT");
        assertThat(CacheSafetyAttack3IT.semantic(hit)).isEqualTo(CacheSafetyAttack3IT.semantic(uncached));
        assertThat(CacheSafetyAttack3IT.semantic(miss)).isEqualTo(CacheSafetyAttack3IT.semantic(uncached));
    }

    @Test
    void aPageBuiltFromIfNoneMatchIsNotServedToRequestsWithoutIt() {
        Http.Reply tagged = Http.get(one.url("/k/tag"), "If-None-Match", "\"v7\"");
        Http.Reply plain = Http.get(two.url("/k/tag"));
        // The render sees the neutral request (issue 14), without the validator: the whole page for both.
        assertThat(tagged.text()).as("X-Cache %s", tagged.cache()).startsWith("changes after nothing #");
        assertThat(plain.text()).as("X-Cache %s", plain.cache()).startsWith("changes after nothing #");
    }

    @Test
    void aBrowsersHeadersLeaveThePageCacheable() {
        String[] chrome = {"sec-ch-ua: \"Chromium\";v=\"130\", \"Not?A_Brand\";v=\"99\"", "sec-ch-ua-mobile: ?0",
            "sec-ch-ua-platform: \"Linux\"", "Upgrade-Insecure-Requests: 1",
            "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0.0.0 Safari/537.36",
            "Accept: text/html,application/xhtml+xml,*/*;q=0.8", "Sec-Fetch-Site: none", "Sec-Fetch-Mode: navigate",
            "Sec-Fetch-User: ?1", "Sec-Fetch-Dest: document", "Accept-Encoding: gzip, deflate, br, zstd",
            "Accept-Language: en-US,en;q=0.9", "Priority: u=0, i", "X-Forwarded-For: 203.0.113.9",
            "X-Forwarded-Proto: http", "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"};
        String first = Http.rawGet(one.port(), "/shop/k/plain?browser", "127.0.0.1", chrome);
        String second = Http.rawGet(two.port(), "/shop/k/plain?browser", "127.0.0.1", chrome);
        assertThat(first).contains("X-Cache: MISS");
        assertThat(second).contains("X-Cache: HIT");
    }

    /** What applications map ahead of the cache. */
    static final class Ahead implements Filter {
        @Override
        public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
                throws IOException, ServletException {
            HttpServletRequest request = (HttpServletRequest) req;
            HttpServletResponse response = (HttpServletResponse) res;
            // oauth2-proxy's header, optionally hidden from what follows once used.
            USER.set(request.getHeader("X-Auth-Request-Email"));
            if (request.getParameter("hide") != null) {
                request = new HttpServletRequestWrapper(request) {
                    @Override
                    public String getHeader(String name) {
                        return name.equalsIgnoreCase("X-Auth-Request-Email") ? null : super.getHeader(name);
                    }

                    @Override
                    public Enumeration<String> getHeaders(String name) {
                        return name.equalsIgnoreCase("X-Auth-Request-Email") ? Collections.emptyEnumeration()
                                : super.getHeaders(name);
                    }

                    @Override
                    public Enumeration<String> getHeaderNames() {
                        return Collections.enumeration(Collections.list(super.getHeaderNames()).stream()
                                .filter(n -> !n.equalsIgnoreCase("X-Auth-Request-Email")).toList());
                    }
                };
            }
            // Staff by address, answered by a wrapper that does not list the attribute.
            String forwarded = request.getHeader("X-Forwarded-For");
            if (forwarded != null && forwarded.startsWith("10.")) {
                request = new HttpServletRequestWrapper(request) {
                    @Override
                    public Object getAttribute(String name) {
                        return name.equals("staff") ? Boolean.TRUE : super.getAttribute(name);
                    }
                };
            }
            String country = request.getHeader("CF-IPCountry");
            if (country != null) {
                response.setLocale(country.equals("DE") ? Locale.GERMANY : Locale.FRANCE);
            }
            if (request.getParameter("surrogate") != null) {
                response.setHeader("Surrogate-Control", "no-store");
            }
            if (request.getParameter("prefix") != null) {
                response.getOutputStream().write(")]}',\n".getBytes(StandardCharsets.UTF_8));
            }
            try {
                chain.doFilter(request, response);
            } finally {
                USER.remove();
            }
        }
    }

    /** Included by {@code /k/include}: sets what the container ignores for an include. */
    static final class Fragment extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            response.setStatus(404);
            response.setContentType("text/plain;charset=ISO-8859-1");
            response.setHeader("X-Included", "yes");
            response.addCookie(new Cookie("fragment", "1"));
            response.setLocale(Locale.JAPAN);
            response.getWriter().write("<i>fragment</i>");
        }
    }

    static final class Pages extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response)
                throws IOException, ServletException {
            String path = request.getPathInfo();
            int render = RENDERS.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
            switch (path) {
                case "/who" -> text(response, "Hello " + (USER.get() == null ? "guest" : USER.get()) + " #" + render);
                case "/prices" -> text(response, "prices for " + (request.getAttribute("staff") != null ? "staff"
                        : "public") + " #" + render);
                case "/geo" -> text(response, "lang " + response.getLocale().toLanguageTag() + " #" + render);
                case "/long" -> {
                    response.setContentType("application/json");
                    response.getOutputStream().write("x".repeat(20_000).getBytes(StandardCharsets.UTF_8));
                }
                case "/reverse" -> {
                    response.setContentType("text/plain;charset=UTF-8");
                    ServletOutputStream out = response.getOutputStream();
                    out.write("head ".getBytes(StandardCharsets.UTF_8));
                    try {
                        response.getWriter().write("writer");
                    } catch (IllegalStateException e) {
                        out.write("refused".getBytes(StandardCharsets.UTF_8));
                    }
                }
                case "/include" -> {
                    response.setContentType("text/html;charset=UTF-8");
                    response.getWriter().write("<p>head</p>");
                    request.getRequestDispatcher("/fragment").include(request, response);
                    response.getWriter().write("<p>tail</p>");
                }
                case "/tag" -> {
                    String tag = request.getHeader("If-None-Match");
                    text(response, "changes after " + (tag == null ? "nothing" : tag) + " #" + render);
                }
                case "/stale" -> {
                    response.setHeader("Cache-Control", "max-age=1");
                    if (render > 1) {
                        HELD.incrementAndGet();
                        try {
                            refreshGate.await(20, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        } finally {
                            HELD.decrementAndGet();
                        }
                    }
                    text(response, "stale #" + render);
                }
                default -> text(response, "plain " + path + " #" + render);
            }
        }

        private static void text(HttpServletResponse response, String text) throws IOException {
            response.setContentType("text/html;charset=UTF-8");
            response.getWriter().write(text);
        }
    }
}

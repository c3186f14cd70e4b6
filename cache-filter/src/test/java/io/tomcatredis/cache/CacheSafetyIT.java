package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.catalina.Context;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 13: nothing personal and nothing poisoned, with an application as people build it in
 * front of the cache: an authentication filter mapped ahead of it, a webapp-wide response
 * encoding, URL session tracking (cookies off). Two nodes on one real Redis; each test sends the
 * personal or odd request first, then the plain one to the other node.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CacheSafetyIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private CacheNode one;
    private CacheNode two;

    @BeforeAll
    void start() {
        Map<String, String> params = Map.of("redisUri", REDIS.get().uri(), "include", "/catalog/* 60, /p/* 60",
                "exclude", "/p/private/*", "allowedHosts", "127.0.0.1, localhost", "ignoredCookies",
                "_ga*, consent");
        one = CacheNode.start("safe1", params, CacheSafetyIT::applicationAhead);
        two = CacheNode.start("safe2", params, CacheSafetyIT::applicationAhead);
    }

    /** What the webapp declares and maps ahead of the cache filter. */
    static void applicationAhead(Context context) {
        context.setResponseCharacterEncoding("UTF-8");
        context.addLocaleEncodingMappingParameter("ja", "Shift_JIS");
        context.setCookies(false);
        FilterDef auth = new FilterDef();
        auth.setFilterName("auth");
        auth.setFilter(new AheadFilter());
        context.addFilterDef(auth);
        FilterMap map = new FilterMap();
        map.setFilterName("auth");
        map.addURLPattern("/*");
        context.addFilterMap(map);
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

    @Test
    void userPutInARequestAttributeByAFilterAheadIsNeverServedToAnonymousClients() {
        Http.Reply alice = Http.get(one.url("/catalog/greeting"), "Cookie", "SESSION=alice");
        Http.Reply bob = Http.get(one.url("/catalog/greeting"), "Authorization", "Bearer bob");
        Http.Reply anonymous = Http.get(two.url("/catalog/greeting"));
        Http.Reply anonymousAgain = Http.get(one.url("/catalog/greeting"));

        assertThat(alice.text()).startsWith("Hello alice");
        assertThat(bob.text()).startsWith("Hello bob");
        assertThat(anonymous.text()).startsWith("Hello guest");
        assertThat(anonymousAgain.text()).isEqualTo(anonymous.text());
        assertThat(anonymousAgain.cache()).isEqualTo("HIT");

        Http.Reply aliceAfter = Http.get(two.url("/catalog/greeting"), "Cookie", "SESSION=alice");
        assertThat(aliceAfter.text()).as("a signed-in user is not served the anonymous page").startsWith(
                "Hello alice");
    }

    @Test
    void cookiesListedInIgnoredCookiesDoNotKeepAClientFromTheSharedEntry() {
        Http.Reply anonymous = Http.get(one.url("/catalog/greeting"));
        Http.Reply analytics = Http.get(two.url("/catalog/greeting"), "Cookie", "_ga=GA1.2.3; consent=yes");
        Http.Reply mixed = Http.get(two.url("/catalog/greeting"), "Cookie", "_ga=GA1.2.3; SESSION=carol");

        assertThat(analytics.cache()).isEqualTo("HIT");
        assertThat(analytics.text()).isEqualTo(anonymous.text());
        assertThat(mixed.text()).startsWith("Hello carol");
    }

    @Test
    void pageBuiltFromTheLocaleIsNotServedToAnotherLanguage() {
        for (String page : new String[] {"/catalog/locale", "/catalog/locales", "/catalog/locale-ahead?ahead=locale"}) {
            Http.Reply german = Http.get(one.url(page), "Accept-Language", "de");
            Http.Reply french = Http.get(two.url(page), "Accept-Language", "fr");
            assertThat(german.text()).as(page).contains("de");
            assertThat(french.text()).as(page).contains("fr").doesNotContain("de");
        }
    }

    @Test
    void urlSessionTrackingIsNeverStoredNorServed() {
        String session = Http.get(one.url("/session/login?user=alice")).text().substring("logged in ".length());

        Http.Reply tracked = Http.get(one.url("/catalog/encoded-links;jsessionid=" + session));
        assertThat(tracked.text()).contains(";jsessionid=" + session);
        Http.Reply other = Http.get(two.url("/catalog/encoded-links"));
        Http.Reply otherOnOne = Http.get(one.url("/catalog/encoded-links"));

        assertThat(other.text()).doesNotContain("jsessionid");
        assertThat(otherOnOne.text()).doesNotContain("jsessionid");
        assertThat(PageServlet.renders("/catalog/encoded-links")).isGreaterThanOrEqualTo(2);
    }

    @Test
    void rulesMatchThePathTheContainerRoutesOn() {
        for (String raw : new String[] {"/shop/p/x/%2e%2e/private/data", "/shop/p/x/%2E%2E/private/data",
                "/shop/p//private/data", "/shop/p/./private/data", "/shop/p/%70rivate/data",
                "/shop/p/private;x=1/data"}) {
            String first = Http.rawGet(one.port(), raw, "127.0.0.1");
            String second = Http.rawGet(two.port(), raw, "127.0.0.1");
            assertThat(first).as(raw).contains("page /p/private/data").doesNotContain("X-Cache: HIT");
            assertThat(second).as(raw).contains("page /p/private/data").doesNotContain("X-Cache: HIT");
        }
        assertThat(PageServlet.renders("/p/private/data")).isEqualTo(12);
    }

    @Test
    void headerValuesWithCrLfAreReplayedVerbatimNeverSplit() {
        String miss = Http.rawGet(one.port(), "/shop/catalog/crlf", "127.0.0.1");
        String hit = Http.rawGet(two.port(), "/shop/catalog/crlf", "127.0.0.1");
        String uncached = Http.rawGet(two.port(), "/shop/catalog/crlf", "127.0.0.1", "Cache-Control: no-cache");

        assertThat(hit).contains("X-Cache: HIT");
        assertThat(hit).doesNotContainIgnoringCase("\r\nSet-Cookie").doesNotContainIgnoringCase("\r\nX-Injected");
        assertThat(comparable(hit)).isEqualTo(comparable(miss)).isEqualTo(comparable(uncached));
    }

    @Test
    void responseCharacterEncodingOfTheWebappIsKeptByteForByte() {
        String miss = Http.rawGet(one.port(), "/shop/catalog/euro", "127.0.0.1");
        String hit = Http.rawGet(two.port(), "/shop/catalog/euro", "127.0.0.1");
        String uncached = Http.rawGet(two.port(), "/shop/catalog/euro", "127.0.0.1", "Cache-Control: no-cache");

        assertThat(uncached).contains("charset=UTF-8").endsWith("price 5 \u20ac");
        assertThat(hit).contains("X-Cache: HIT");
        assertThat(comparable(hit)).isEqualTo(comparable(miss)).isEqualTo(comparable(uncached));
    }

    @Test
    void headersSetOnTheResponseAheadOfTheFilterCountAsTheApplications() {
        for (String ahead : new String[] {"private", "no-store", "cookie"}) {
            String page = "/catalog/page?id=ahead-" + ahead + "&ahead=" + ahead;
            Http.get(one.url(page));
            Http.Reply again = Http.get(two.url(page));
            assertThat(again.cache()).as(ahead).isNotEqualTo("HIT");
            assertThat(PageServlet.renders(page)).as(ahead).isEqualTo(2);
        }
        Http.Reply german = Http.get(one.url("/catalog/language-ahead?ahead=vary"), "Accept-Language", "de");
        Http.Reply french = Http.get(two.url("/catalog/language-ahead?ahead=vary"), "Accept-Language", "fr");
        assertThat(german.text()).contains("de");
        assertThat(french.text()).contains("fr");
    }

    /**
     * A raw response without what differs between any two responses (Date) and what the cache adds
     * (X-Cache, Cache-Status, Age, and the validator it computes when the application set none).
     */
    static String comparable(String raw) {
        return Arrays.stream(raw.split("\r\n", -1))
                .filter(line -> !line.startsWith("Date: ") && !line.startsWith("X-Cache: ") && !line.startsWith("Age: ")
                        && !line.startsWith("Cache-Status: ")
                        && !line.startsWith("ETag: "))
                .collect(Collectors.joining("\r\n"));
    }
}

package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Tomcat asks the manager about every {@code JSESSIONID} cookie of a request, before any valve
 * runs, until one is valid: without a bound, N cookies cost N Redis loads (issue 11). The manager
 * looks up at most {@value #PRE_SCOPE_LOOKUPS} sessions per request then (README, "What a request
 * costs").
 */
@Tag("tomcat")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RequestAmplificationIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    /** Sessions looked up in Redis per request while Tomcat parses it. */
    private static final int PRE_SCOPE_LOOKUPS = 4;

    private RedisUnderTest redis;
    private TomcatNode node;
    private String ownerId;

    @BeforeAll
    void startNode() {
        redis = RedisUnderTest.standalone(REDIS.get());
        node = TomcatNode.start("amp", redis::configure);
    }

    @AfterAll
    void stopNode() {
        node.close();
        redis.close();
    }

    @BeforeEach
    void ownerSession() {
        redis.flushAll();
        HttpSessionClient owner = new HttpSessionClient();
        owner.ok(node.url("set?name=a&value=mine"));
        ownerId = owner.sessionId();
    }

    @Test
    void thirtyOneSessionCookiesCostAtMostFiveRoundTrips_regressionOneLoadPerCookie() {
        List<String> cookies = unknownIds(31);
        redis.commands().reset();

        RawHttp.Reply reply = get("get?name=a", cookies);

        assertThat(reply.body()).isEqualTo("no session");
        // The checks of the first four cookies, the load of the last.
        assertThat(redis.commands().sessionCommands()).isLessThanOrEqualTo(PRE_SCOPE_LOOKUPS + 1);
    }

    @Test
    void ownSessionAfterThirtyUnknownCookiesIsFoundWithinSixRoundTrips() {
        List<String> cookies = unknownIds(30);
        cookies.add(ownerId);
        redis.commands().reset();

        assertThat(get("get?name=a", cookies).body()).isEqualTo("mine");
        // The checks of the first four cookies, the load of the last, the save of the access time.
        assertThat(redis.commands().sessionCommands()).isLessThanOrEqualTo(PRE_SCOPE_LOOKUPS + 2);
    }

    @Test
    void ownSessionAmongTheFirstFourCookiesIsUsedAsByStandardManager() {
        List<String> cookies = unknownIds(30);
        cookies.add(PRE_SCOPE_LOOKUPS - 1, ownerId);
        redis.commands().reset();

        assertThat(get("get?name=a", cookies).body()).isEqualTo("mine");
        assertThat(redis.commands().sessionCommands()).isLessThanOrEqualTo(PRE_SCOPE_LOOKUPS + 2);
    }

    @Test
    void malformedCookiesBeforeTheOwnSessionUseNoneOfTheLookups() {
        List<String> cookies = new ArrayList<>(List.of("x", "not-hex-" + "Z".repeat(24), "1234", "%00", "{}"));
        cookies.addAll(unknownIds(PRE_SCOPE_LOOKUPS - 1));
        cookies.add(ownerId);
        cookies.addAll(unknownIds(5));
        redis.commands().reset();

        assertThat(get("get?name=a", cookies).body()).isEqualTo("mine");
        assertThat(redis.commands().sessionCommands()).isLessThanOrEqualTo(PRE_SCOPE_LOOKUPS + 2);
    }

    @Test
    void routeSuffixesOfOneUnknownIdCostOneCheck() {
        String unknown = SessionKeys.baseId(unknownIds(1).get(0));
        List<String> cookies = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            cookies.add(unknown + ".r" + i);
        }
        redis.commands().reset();

        assertThat(get("get?name=a", cookies).body()).isEqualTo("no session");
        // The check of the first cookie (every other one is the same session), the load of the last.
        assertThat(redis.commands().sessionCommands()).isLessThanOrEqualTo(2);
    }

    @Test
    void ownSessionBeforeThirtyUnknownCookiesIsFound() {
        List<String> cookies = new ArrayList<>(List.of(ownerId));
        cookies.addAll(unknownIds(30));
        redis.commands().reset();

        assertThat(get("get?name=a", cookies).body()).isEqualTo("mine");
        assertThat(redis.commands().sessionCommands()).isLessThanOrEqualTo(3);
    }

    @Test
    void ofTwoCookiesTheLiveOneIsUsedWhicheverComesFirst() {
        String unknown = unknownIds(1).get(0);

        assertThat(get("get?name=a", List.of(unknown, ownerId)).body()).isEqualTo("mine");
        assertThat(get("get?name=a", List.of(ownerId, unknown)).body()).isEqualTo("mine");
    }

    @Test
    void administrativeLookupsOutsideRequestsAreNotLimited() {
        HttpSessionClient second = new HttpSessionClient();
        second.ok(node.url("set?name=a&value=theirs"));

        // JMX calls run on threads that never carry a request; each must reach Redis.
        for (int i = 0; i < 3; i++) {
            assertThat(node.manager().getSessionAttribute(ownerId, "a")).isEqualTo("mine");
            assertThat(node.manager().getSessionAttribute(second.sessionId(), "a")).isEqualTo("theirs");
            assertThat(node.manager().getCreationTimestamp(ownerId)).isPositive();
        }
        node.manager().expireSession(second.sessionId());
        assertThat(redis.client().exists(redis.sessionKey(second.sessionId()))).isFalse();
    }

    private RawHttp.Reply get(String path, List<String> cookieValues) {
        StringBuilder cookie = new StringBuilder();
        for (String value : cookieValues) {
            cookie.append(cookie.isEmpty() ? "" : "; ").append("JSESSIONID=").append(value);
        }
        RawHttp.Reply reply = RawHttp.get(node.port(), "/app/s/" + path, List.of(cookie.toString()), 10_000);
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return reply;
    }

    /** Well-formed ids (as long as the node's) that no node ever issued. */
    private List<String> unknownIds(int count) {
        String base = SessionKeys.baseId(ownerId);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String hex = String.format(Locale.ROOT, "%0" + base.length() + "X", i + 1);
            ids.add(hex.substring(hex.length() - base.length()) + ".amp");
        }
        return ids;
    }
}

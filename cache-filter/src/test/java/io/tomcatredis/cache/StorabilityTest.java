package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Phase 5 on its own: the response speaks first, then what the render read, then credentials and freshness. */
class StorabilityTest {

    private static final MutableClock CLOCK = new MutableClock(1_800_000_000_000L);
    private static final CacheRequest ANONYMOUS = new CacheRequest(false, "https://h/p", "https://h/p", "", 60,
            false, Set.of());
    private static final CacheRequest CREDENTIALED = new CacheRequest(false, "https://h/p", "https://h/p", "", 60,
            true, Set.of());
    private static final ObservedRequest.Observation NOTHING = new ObservedRequest.Observation(Set.of(), Set.of(),
            false);

    private static CapturingResponse.Rendered rendered(int status, String... headerPairs) {
        return rendered(status, List.of(), headerPairs);
    }

    private static CapturingResponse.Rendered rendered(int status, List<CachedResponse.Header> ahead,
            String... headerPairs) {
        List<CachedResponse.Header> headers = new ArrayList<>();
        for (int i = 0; i < headerPairs.length; i += 2) {
            headers.add(new CachedResponse.Header(headerPairs[i], headerPairs[i + 1]));
        }
        return new CapturingResponse.Rendered(status, headers, Set.of(), Set.of(), ahead, "text/html;charset=UTF-8",
                null, false, false, false, new byte[0], null);
    }

    private static BypassReason reason(CacheRequest request, ObservedRequest.Observation observed,
            CapturingResponse.Rendered rendered) {
        return Storability.decide(request, observed, rendered, CLOCK).reason();
    }

    private static ObservedRequest.Observation read(BypassReason... reads) {
        return new ObservedRequest.Observation(Set.of(reads), Set.of(), true);
    }

    @Test
    void aPlainPageIsStoredForTheRulesTtl() {
        Storability.Decision decision = Storability.decide(ANONYMOUS, NOTHING, rendered(200), CLOCK);
        assertThat(decision.storable()).isTrue();
        assertThat(decision.ttlSeconds()).isEqualTo(60);
        assertThat(decision.vary()).isEmpty();
    }

    @Test
    void aHeadNeverStores() {
        CacheRequest head = new CacheRequest(true, "https://h/p", "https://h/p", "", 60, false, Set.of());
        assertThat(reason(head, NOTHING, rendered(200, "Cache-Control", "public"))).isEqualTo(BypassReason.METHOD);
    }

    @Test
    void theResponseSpeaksFirst() {
        assertThat(reason(ANONYMOUS, NOTHING, rendered(500))).isEqualTo(BypassReason.STATUS);
        assertThat(reason(ANONYMOUS, NOTHING, rendered(200, "Set-Cookie", "a=b"))).isEqualTo(BypassReason.SET_COOKIE);
        assertThat(reason(ANONYMOUS, NOTHING, rendered(200, "Cache-Control", "no-cache")))
                .isEqualTo(BypassReason.CACHE_CONTROL);
        assertThat(reason(ANONYMOUS, NOTHING, rendered(200, "Vary", "Accept-Language, *")))
                .isEqualTo(BypassReason.VARY_STAR);
        assertThat(reason(ANONYMOUS, NOTHING, rendered(200, "Content-Encoding", "br"))).isEqualTo(BypassReason.ENCODED);
        assertThat(reason(ANONYMOUS, read(BypassReason.PERSONAL_SESSION), rendered(500, "Cache-Control", "private")))
                .as("status before what was read").isEqualTo(BypassReason.STATUS);
        CapturingResponse.Rendered encoded = new CapturingResponse.Rendered(200, List.of(), Set.of(), Set.of(),
                List.of(), null, null, false, true, false, new byte[0], null);
        assertThat(reason(ANONYMOUS, NOTHING, encoded)).isEqualTo(BypassReason.SESSION_IN_URL);
        CapturingResponse.Rendered flushed = new CapturingResponse.Rendered(200, List.of(), Set.of(), Set.of(),
                List.of(), null, BypassReason.FLUSHED, false, false, false, new byte[0], null);
        assertThat(reason(ANONYMOUS, NOTHING, flushed)).isEqualTo(BypassReason.FLUSHED);
    }

    @Test
    void surrogateControlNoStoreForbidsStorageFromTheApplicationOrAhead() {
        for (String value : new String[] {"no-store", "max-age=60, no-store", "no-store;varnish", "No-Store-Remote"}) {
            assertThat(reason(ANONYMOUS, NOTHING, rendered(200, "Surrogate-Control", value))).as(value)
                    .isEqualTo(BypassReason.CACHE_CONTROL);
        }
        assertThat(reason(ANONYMOUS, NOTHING, rendered(200, List.of(new CachedResponse.Header("Surrogate-Control",
                "no-store")), "Cache-Control", "max-age=60"))).isEqualTo(BypassReason.CACHE_CONTROL);
        assertThat(reason(ANONYMOUS, NOTHING, rendered(200, "Surrogate-Control", "max-age=60, content=\"ESI/1.0\"")))
                .isNull();
    }

    @Test
    void aPageThatReadBackAHeaderSetAheadIsNotStored() {
        CapturingResponse.Rendered nonce = new CapturingResponse.Rendered(200, List.of(), Set.of(), Set.of(),
                List.of(), "text/html", null, false, false, false, new byte[0], null, true);
        assertThat(reason(ANONYMOUS, NOTHING, nonce)).isEqualTo(BypassReason.AHEAD_HEADER);
    }

    @Test
    void headersOnTheResponseAheadOfTheFilterCountAsTheApplications() {
        List<CachedResponse.Header> ahead = List.of(new CachedResponse.Header("Cache-Control", "no-store"));
        assertThat(reason(ANONYMOUS, NOTHING, rendered(200, ahead))).isEqualTo(BypassReason.CACHE_CONTROL);
        List<CachedResponse.Header> cookie = List.of(new CachedResponse.Header("Set-Cookie", "v=1"));
        assertThat(reason(ANONYMOUS, NOTHING, rendered(200, cookie))).isEqualTo(BypassReason.SET_COOKIE);
    }

    @Test
    void aHeaderTheApplicationReplacedCountsAsItsValueAloneNotNextToWhatWasSetAhead() {
        List<CachedResponse.Header> publicAhead = List.of(
                new CachedResponse.Header("Cache-Control", "public, max-age=60"));
        CapturingResponse.Rendered madePrivate = new CapturingResponse.Rendered(200,
                List.of(new CachedResponse.Header("Cache-Control", "private")), Set.of("cache-control"), Set.of(),
                publicAhead, null, null, false, false, false, new byte[0], null);
        assertThat(madePrivate.values("Cache-Control")).containsExactly("private");
        assertThat(reason(ANONYMOUS, NOTHING, madePrivate)).isEqualTo(BypassReason.CACHE_CONTROL);

        List<CachedResponse.Header> noStoreAhead = List.of(new CachedResponse.Header("Cache-Control", "no-store"));
        CapturingResponse.Rendered madeShared = new CapturingResponse.Rendered(200,
                List.of(new CachedResponse.Header("cache-control", "max-age=30")), Set.of("cache-control"),
                Set.of(), noStoreAhead, null, null, false, false, false, new byte[0], null);
        Storability.Decision decision = Storability.decide(ANONYMOUS, NOTHING, madeShared, CLOCK);
        assertThat(decision.storable()).as("the client gets max-age=30 alone").isTrue();
        assertThat(decision.ttlSeconds()).isEqualTo(30);

        CapturingResponse.Rendered added = new CapturingResponse.Rendered(200,
                List.of(new CachedResponse.Header("Cache-Control", "max-age=30")), Set.of(), Set.of(), noStoreAhead,
                null, null, false, false, false, new byte[0], null);
        assertThat(reason(ANONYMOUS, NOTHING, added)).as("added next to no-store").isEqualTo(BypassReason.CACHE_CONTROL);
    }

    @Test
    void whatTheRenderReadMakesItUnstorableUnlessTheResponseVariesOnIt() {
        assertThat(reason(ANONYMOUS, read(BypassReason.PERSONAL_USER, BypassReason.CONNECTION), rendered(200)))
                .isEqualTo(BypassReason.PERSONAL_USER);
        ObservedRequest.Observation header = new ObservedRequest.Observation(Set.of(), Set.of("x-theme"), false);
        assertThat(reason(ANONYMOUS, header, rendered(200))).isEqualTo(BypassReason.UNKEYED_HEADER);
        Storability.Decision varied = Storability.decide(ANONYMOUS, header, rendered(200, "Vary", "X-Theme"), CLOCK);
        assertThat(varied.storable()).isTrue();
        assertThat(varied.vary()).isEqualTo("x-theme");
    }

    @Test
    void headersKeyedAheadOfTheFilterAreNotVariedOnAgain() {
        CacheRequest aheadVary = new CacheRequest(false, "https://h/p", "https://h/p\nvary\naccept-language=de",
                "accept-language", 60, false, Set.of());
        ObservedRequest.Observation read = new ObservedRequest.Observation(Set.of(), Set.of("accept-language"), false);
        List<CachedResponse.Header> ahead = List.of(new CachedResponse.Header("Vary", "Accept-Language"));
        Storability.Decision decision = Storability.decide(aheadVary, read, rendered(200, ahead), CLOCK);
        assertThat(decision.storable()).isTrue();
        assertThat(decision.vary()).isEmpty();
    }

    @Test
    void aCredentialedRequestStoresOnlyWhatTheResponseSaysMayBeShared() {
        assertThat(reason(CREDENTIALED, NOTHING, rendered(200))).isEqualTo(BypassReason.CREDENTIALS);
        assertThat(reason(CREDENTIALED, NOTHING, rendered(200, "Cache-Control", "max-age=60")))
                .isEqualTo(BypassReason.CREDENTIALS);
        Storability.Decision shared = Storability.decide(CREDENTIALED, NOTHING,
                rendered(200, "Cache-Control", "public, max-age=30"), CLOCK);
        assertThat(shared.storable()).isTrue();
        assertThat(shared.shared()).isTrue();
        assertThat(shared.ttlSeconds()).isEqualTo(30);
        assertThat(reason(CREDENTIALED, NOTHING, rendered(200, "Cache-Control", "s-maxage=10"))).isNull();
    }

    @Test
    void explicitFreshnessWinsOverTheRule() {
        assertThat(Storability.decide(ANONYMOUS, NOTHING, rendered(200, "Cache-Control", "max-age=5, s-maxage=7"),
                CLOCK).ttlSeconds()).isEqualTo(7);
        String inTwoMinutes = java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.withZone(java.time.ZoneOffset.UTC)
                .format(CLOCK.instant().plusSeconds(120));
        assertThat(Storability.decide(ANONYMOUS, NOTHING, rendered(200, "Expires", inTwoMinutes), CLOCK).ttlSeconds())
                .isEqualTo(120);
        assertThat(reason(ANONYMOUS, NOTHING, rendered(200, "Expires", "0"))).isEqualTo(BypassReason.TTL);
        assertThat(reason(ANONYMOUS, NOTHING, rendered(200, "Cache-Control", "max-age=0"))).isEqualTo(BypassReason.TTL);
    }

    @Test
    void invalidFreshnessIsStaleNeverTheRulesTtl() {
        assertThat(reason(ANONYMOUS, NOTHING, rendered(200, "Cache-Control", "max-age=-1"))).isEqualTo(BypassReason.TTL);
        assertThat(reason(ANONYMOUS, NOTHING, rendered(200, "Cache-Control", "public", "Cache-Control",
                "s-maxage=x"))).isEqualTo(BypassReason.TTL);
        assertThat(reason(ANONYMOUS, NOTHING, rendered(200, "Cache-Control", "max-age=60", "Cache-Control",
                "max-age=30"))).isEqualTo(BypassReason.TTL);
        assertThat(Storability.decide(ANONYMOUS, NOTHING, rendered(200, "Cache-Control", "public", "Cache-Control",
                "max-age=30"), CLOCK).ttlSeconds()).isEqualTo(30);
    }

    @Test
    void aTargetedFieldGivesTheSharedCachesTtlAndMayForbidStorage() {
        assertThat(Storability.decide(ANONYMOUS, NOTHING, rendered(200, "Cache-Control", "max-age=5",
                "CDN-Cache-Control", "max-age=600"), CLOCK).ttlSeconds()).isEqualTo(600);
        assertThat(Storability.decide(ANONYMOUS, NOTHING, rendered(200, "Cache-Control", "max-age=5",
                "Surrogate-Control", "max-age=300, content=\"ESI/1.0\""), CLOCK).ttlSeconds()).isEqualTo(300);
        assertThat(Storability.decide(ANONYMOUS, NOTHING, rendered(200, "CDN-Cache-Control", "max-age=600",
                "Surrogate-Control", "max-age=300"), CLOCK).ttlSeconds()).as("CDN-Cache-Control first").isEqualTo(600);
        assertThat(Storability.decide(ANONYMOUS, NOTHING, rendered(200, "Cache-Control", "max-age=5",
                "Surrogate-Control", "max-age=300;edge1"), CLOCK).ttlSeconds()).as("for another surrogate")
                .isEqualTo(5);
        assertThat(reason(ANONYMOUS, NOTHING, rendered(200, "CDN-Cache-Control", "no-store")))
                .isEqualTo(BypassReason.CACHE_CONTROL);
        assertThat(reason(ANONYMOUS, NOTHING, rendered(200, "Cache-Control", "private", "CDN-Cache-Control",
                "max-age=600"))).as("Cache-Control: private still keeps it out").isEqualTo(BypassReason.CACHE_CONTROL);
        assertThat(reason(ANONYMOUS, NOTHING, rendered(200, "CDN-Cache-Control", "max-age=-1")))
                .isEqualTo(BypassReason.TTL);
    }
}

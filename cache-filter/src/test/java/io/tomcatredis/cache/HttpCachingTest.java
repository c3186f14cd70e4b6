package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Cache-Control over several lines (RFC 9110 5.3) and delta-seconds (RFC 9111 1.2.2, 4.2.1). */
class HttpCachingTest {

    @Test
    void directivesOfEveryLineAreCombinedAndQuotedCommasDoNotSplit() {
        Map<String, String> directives = HttpCaching.cacheControl(List.of("public, max-age=60",
                "private=\"Set-Cookie, X-Id\"", " , s-maxage=\"30\""));
        assertThat(directives).containsEntry("public", "").containsEntry("max-age", "60")
                .containsEntry("private", "Set-Cookie, X-Id").containsEntry("s-maxage", "30").hasSize(4);
        assertThat(HttpCaching.cacheControl(List.of())).isEmpty();
    }

    @Test
    void aDirectiveGivenTwiceWithDifferentValuesIsStale() {
        Map<String, String> directives = HttpCaching.cacheControl(List.of("max-age=60", "max-age=0"));
        assertThat(HttpCaching.seconds(directives, "max-age")).isZero();
        Map<String, String> same = HttpCaching.cacheControl(List.of("max-age=60", "MAX-AGE=60"));
        assertThat(HttpCaching.seconds(same, "max-age")).isEqualTo(60);
    }

    @Test
    void invalidDeltaSecondsAreStaleNeverAbsentAndHugeOnesAreCapped() {
        for (String invalid : new String[] {"-1", "1.5", "", "abc", "+5", " 5"}) {
            assertThat(HttpCaching.seconds(Map.of("max-age", invalid), "max-age")).as(invalid).isZero();
        }
        assertThat(HttpCaching.seconds(Map.of(), "max-age")).isEqualTo(-1);
        assertThat(HttpCaching.seconds(Map.of("max-age", "99999999999999999999"), "max-age"))
                .isEqualTo(2_147_483_648L);
        assertThat(HttpCaching.seconds(Map.of("max-age", "120"), "max-age")).isEqualTo(120);
    }

    @Test
    void varyLinesAreCombined() {
        assertThat(HttpCaching.varyNames(List.of("Accept-Language", "X-Theme, accept-encoding", ""))).isEqualTo(
                "accept-language,x-theme");
    }

    @Test
    void httpDatesAreReadInTheImfFixdateAndBothObsoleteForms() {
        long now = HttpCaching.httpDate("Sun, 29 Nov 2026 12:00:00 GMT");
        long expected = 784111777000L;
        assertThat(HttpCaching.httpDate("Sun, 06 Nov 1994 08:49:37 GMT", now)).isEqualTo(expected);
        assertThat(HttpCaching.httpDate("Sunday, 06-Nov-94 08:49:37 GMT", now)).as("RFC 850").isEqualTo(expected);
        assertThat(HttpCaching.httpDate("Sun Nov  6 08:49:37 1994", now)).as("asctime").isEqualTo(expected);
        assertThat(HttpCaching.httpDate("Wed Nov 16 08:49:37 1994", now)).as("asctime, two-digit day")
                .isEqualTo(expected + 10 * 86_400_000L);
        assertThat(HttpCaching.httpDate("Thursday, 06-Nov-25 08:49:37 GMT", now)).as("RFC 850, recent year")
                .isEqualTo(HttpCaching.httpDate("Thu, 06 Nov 2025 08:49:37 GMT", now));
        for (String invalid : new String[] {"yesterday", "", "Mon, 06 Nov 1994 08:49:37 GMT", "06-Nov-94"}) {
            assertThat(HttpCaching.httpDate(invalid, now)).as(invalid).isEqualTo(-1);
        }
        assertThat(HttpCaching.httpDate(null, now)).isEqualTo(-1);
    }

    @Test
    void surrogateControlMaxAgeWithAnExtensionIsALifetimeAndAStaleWindow() {
        Map<String, String> extended = HttpCaching.targetedControl(List.of(), List.of("max-age=60+30"));
        assertThat(HttpCaching.seconds(extended, "max-age")).isEqualTo(60);
        assertThat(HttpCaching.seconds(extended, "stale-if-error")).isEqualTo(30);
        Map<String, String> longer = HttpCaching.targetedControl(List.of(), List.of("max-age=60+30, stale-if-error=90"));
        assertThat(HttpCaching.seconds(longer, "stale-if-error")).isEqualTo(90);
        Map<String, String> invalid = HttpCaching.targetedControl(List.of(), List.of("max-age=60+x"));
        assertThat(HttpCaching.seconds(invalid, "max-age")).isEqualTo(60);
        assertThat(HttpCaching.seconds(invalid, "stale-if-error")).as("an invalid extension: none").isZero();
        assertThat(HttpCaching.seconds(HttpCaching.targetedControl(List.of(), List.of("max-age=+30")), "max-age"))
                .as("no lifetime: stale").isZero();
        assertThat(HttpCaching.targetedControl(List.of("max-age=5"), List.of("max-age=60+30")))
                .as("CDN-Cache-Control wins").isEqualTo(Map.of("max-age", "5"));
    }
}

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
}

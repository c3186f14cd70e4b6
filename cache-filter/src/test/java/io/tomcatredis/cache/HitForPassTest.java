package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.cache.CacheStore.Mark;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Only what lies in the URL itself marks it "pass" for everyone; what a client can cause leaves "miss". */
class HitForPassTest {

    private static final ObservedRequest.Observation NOTHING_READ = new ObservedRequest.Observation(Set.of(), Set.of(),
            false);

    @Test
    void aResponseUncacheableByItselfWithNothingReadMarksPass() {
        assertThat(HitForPass.mark(BypassReason.CACHE_CONTROL, 200, NOTHING_READ, false)).isEqualTo(Mark.PASS);
        assertThat(HitForPass.mark(BypassReason.OVERSIZED, 200, NOTHING_READ, false)).isEqualTo(Mark.PASS);
        assertThat(HitForPass.mark(BypassReason.STATUS, 302, NOTHING_READ, false)).isEqualTo(Mark.PASS);
        assertThat(HitForPass.mark(BypassReason.STATUS, 405, NOTHING_READ, false)).isEqualTo(Mark.PASS);
    }

    @Test
    void statusesARequestCausesMarkMiss() {
        for (int status : new int[] {206, 304, 400, 406, 412, 416, 429, 500, 502, 503, 504}) {
            assertThat(HitForPass.mark(BypassReason.STATUS, status, NOTHING_READ, false)).as("" + status)
                    .isEqualTo(Mark.MISS);
        }
    }

    @Test
    void aRenderThatReadTheRequestOrIsNotInherentMarksMiss() {
        assertThat(HitForPass.mark(BypassReason.CACHE_CONTROL, 200,
                new ObservedRequest.Observation(Set.of(), Set.of("x-debug"), false), false)).isEqualTo(Mark.MISS);
        assertThat(HitForPass.mark(BypassReason.CACHE_CONTROL, 200,
                new ObservedRequest.Observation(EnumSet.of(BypassReason.CONNECTION), Set.of(), false), false))
                .isEqualTo(Mark.MISS);
        assertThat(HitForPass.mark(BypassReason.CACHE_CONTROL, 200,
                new ObservedRequest.Observation(Set.of(), Set.of(), true), false)).isEqualTo(Mark.MISS);
        assertThat(HitForPass.mark(BypassReason.SET_COOKIE, 200, NOTHING_READ, false)).isEqualTo(Mark.MISS);
        assertThat(HitForPass.mark(BypassReason.UNKEYED_HEADER, 200, NOTHING_READ, false)).isEqualTo(Mark.MISS);
    }

    @Test
    void aRequestWithCredentialsLeavesNoMark() {
        assertThat(HitForPass.mark(BypassReason.CACHE_CONTROL, 200, NOTHING_READ, true)).isEqualTo(Mark.NONE);
    }
}

package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;

import io.tomcatredis.cache.CacheStatus.Outcome;
import jakarta.servlet.http.HttpServletResponse;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** RFC 9211 Cache-Status members for every outcome, and the switches. */
class CacheStatusTest {

    private static CachedResponse entry(long freshUntil) {
        return new CachedResponse("https://h/p", 200, List.of(), new byte[0], false, 0, "\"e\"", 0, freshUntil,
                freshUntil + 60_000, Set.of(), false, false, null, Set.of(), Set.of());
    }

    @Test
    void everyOutcomeHasItsParameters() {
        assertThat(Outcome.served("HIT", entry(62_500), 20_000)).isEqualTo(new Outcome("HIT", "hit; ttl=42"));
        assertThat(Outcome.served("STALE", entry(20_000), 23_000)).isEqualTo(new Outcome("STALE", "hit; ttl=-3"));
        assertThat(Outcome.served("STALE", entry(20_000), 20_500).parameters()).isEqualTo("hit; ttl=-1");
        assertThat(Outcome.collapsed()).isEqualTo(new Outcome("HIT", "fwd=uri-miss; collapsed"));
        assertThat(Outcome.rendered("uri-miss", 200, null)).isEqualTo(new Outcome("MISS",
                "fwd=uri-miss; fwd-status=200; stored"));
        assertThat(Outcome.rendered("vary-miss", 404, BypassReason.SET_COOKIE)).isEqualTo(new Outcome("MISS",
                "fwd=vary-miss; fwd-status=404; detail=set-cookie"));
        assertThat(Outcome.rendered("stale", 200, BypassReason.PERSONAL_SESSION).parameters())
                .endsWith("detail=personal:session");
        assertThat(Outcome.uncached(BypassReason.UNCACHEABLE_URL)).isEqualTo(new Outcome("MISS",
                "fwd=uri-miss; detail=uncacheable-url"));
        assertThat(Outcome.bypassed(BypassReason.NOT_INCLUDED)).isEqualTo(new Outcome("BYPASS",
                "fwd=bypass; detail=not-included"));
        assertThat(Outcome.bypassed(BypassReason.METHOD).parameters()).isEqualTo("fwd=method; detail=method");
        assertThat(Outcome.bypassed(BypassReason.REQUEST_NO_CACHE).parameters())
                .isEqualTo("fwd=request; detail=request-no-cache");
    }

    @Test
    void eachHeaderCanBeSwitchedOff() {
        HttpServletResponse both = mock(HttpServletResponse.class);
        new CacheStatus("shop", true, true).write(Outcome.collapsed(), both);
        verify(both).setHeader("Cache-Status", "shop; fwd=uri-miss; collapsed");
        verify(both).setHeader("X-Cache", "HIT");

        HttpServletResponse none = mock(HttpServletResponse.class);
        new CacheStatus("shop", false, false).write(Outcome.collapsed(), none);
        verify(none, never()).setHeader(anyString(), anyString());

        HttpServletResponse method = mock(HttpServletResponse.class);
        new CacheStatus("shop", true, true).write(Outcome.bypassed(BypassReason.METHOD), method);
        verify(method).setHeader("Cache-Status", "shop; fwd=method; detail=method");
        verify(method, never()).setHeader(org.mockito.ArgumentMatchers.eq("X-Cache"), anyString());
    }
}

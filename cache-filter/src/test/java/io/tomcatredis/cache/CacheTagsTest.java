package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Tags from every header CDNs use for them, RFC 9875 group lists, and the forwarded header. */
class CacheTagsTest {

    private static CachedResponse.Header header(String name, String value) {
        return new CachedResponse.Header(name, value);
    }

    @Test
    void everyTagHeaderCountsInItsOwnSyntax() {
        assertThat(CacheTags.read(List.of(header("X-Cache-Tags", "a b,c"), header("Surrogate-Key", "d  e"),
                header("cache-tag", "f,g"), header("XKey", "h"), header("Cache-Groups", "\"i\", \"j\";x=1, \"k l\""),
                header("X-Other", "z")))).containsExactly("a", "b", "c", "d", "e", "f", "g", "h", "i", "j");
    }

    @Test
    void groupListsFollowRfc8941AndAMalformedLineCountsAsNone() {
        assertThat(CacheTags.groups(List.of("\"a\", \"b\\\"c\"", "\"d\""))).containsExactly("a", "b\"c", "d");
        assertThat(CacheTags.groups(List.of("a, \"b\""))).isEmpty();
        assertThat(CacheTags.groups(List.of("\"open"))).isEmpty();
        assertThat(CacheTags.groups(List.of(""))).isEmpty();
    }

    @Test
    void tagsAreFormattedForTheHeaderTheyAreForwardedUnder() {
        assertThat(CacheTags.format("Surrogate-Key", List.of("a", "b"))).isEqualTo("a b");
        assertThat(CacheTags.format("Cache-Tag", List.of("a", "b"))).isEqualTo("a,b");
        assertThat(CacheTags.format("Cache-Groups", List.of("a", "b\"c"))).isEqualTo("\"a\", \"b\\\"c\"");
    }

    @Test
    void aHitForwardsItsTagsUnderTheConfiguredHeader() throws Exception {
        CachedResponse entry = new CachedResponse("https://h/p", 200, List.of(), new byte[] {'x'}, false, 1, "\"e\"",
                0, Long.MAX_VALUE / 2, Long.MAX_VALUE / 2, Set.of("b", "a"), false, false, null, Set.of(), Set.of());
        HttpServletRequest request = mock(HttpServletRequest.class);
        when(request.getMethod()).thenReturn("GET");
        HttpServletResponse response = mock(HttpServletResponse.class);
        when(response.getOutputStream()).thenReturn(mock(ServletOutputStream.class));

        new Delivery(new MutableClock(0), new CacheStatus("c", false, false), "Surrogate-Key").serve(entry,
                CacheStatus.Outcome.collapsed(), request, response);

        verify(response).setHeader("Surrogate-Key", "a b");
    }
}

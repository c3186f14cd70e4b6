package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Building an entry: a compressible body is stored gzipped, unless the response says no-transform. */
class EntryFactoryTest {

    private static final MutableClock CLOCK = new MutableClock(1_800_000_000_000L);
    private static final byte[] PAGE = "<li>product</li>".repeat(40).getBytes(StandardCharsets.UTF_8);

    private static CachedResponse build(Map<String, String> control) {
        CapturingResponse.Rendered rendered = new CapturingResponse.Rendered(200, List.of(), Set.of(), Set.of(),
                List.of(), "text/html;charset=UTF-8", null, false, false, false, PAGE, null);
        return new EntryFactory(0, CLOCK).build("https://h/p", rendered, new Storability.Decision(null, 60, control,
                "", Map.of()), false);
    }

    @Test
    void aCompressibleBodyIsStoredGzippedUnlessTheResponseForbidsTransformations() {
        CachedResponse gzipped = build(Map.of());
        assertThat(gzipped.gzipped()).isTrue();
        assertThat(gzipped.body().length).isLessThan(PAGE.length);

        CachedResponse untouched = build(Map.of("no-transform", ""));
        assertThat(untouched.gzipped()).isFalse();
        assertThat(untouched.body()).isEqualTo(PAGE);
    }

    private static long staleWindowSeconds(Map<String, String> control, Map<String, String> targeted) {
        CapturingResponse.Rendered rendered = new CapturingResponse.Rendered(200, List.of(), Set.of(), Set.of(),
                List.of(), "text/plain", null, false, false, false, PAGE, null);
        CachedResponse entry = new EntryFactory(60, CLOCK).build("https://h/p", rendered,
                new Storability.Decision(null, 10, control, "", targeted), false);
        return (entry.staleUntil() - entry.freshUntil()) / 1000;
    }

    @Test
    void mustRevalidateProxyRevalidateAndSMaxageAllowOnlyTheStaleWindowTheResponseGrants() {
        assertThat(staleWindowSeconds(Map.of("max-age", "10"), Map.of())).as("the configured window").isEqualTo(60);
        assertThat(staleWindowSeconds(Map.of("stale-while-revalidate", "90"), Map.of())).isEqualTo(90);
        for (String revalidate : new String[] {"must-revalidate", "proxy-revalidate", "s-maxage"}) {
            assertThat(staleWindowSeconds(Map.of(revalidate, "10"), Map.of())).as(revalidate).isZero();
            assertThat(staleWindowSeconds(Map.of(), Map.of(revalidate, "10"))).as("targeted " + revalidate).isZero();
            assertThat(staleWindowSeconds(Map.of(revalidate, "10", "stale-while-revalidate", "5"), Map.of()))
                    .as(revalidate + " with its own grant").isEqualTo(5);
            assertThat(staleWindowSeconds(Map.of(revalidate, "10"), Map.of("stale-if-error", "7")))
                    .as(revalidate + " with a targeted grant").isEqualTo(7);
        }
    }
}

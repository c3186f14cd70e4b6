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
                ""), false);
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
}

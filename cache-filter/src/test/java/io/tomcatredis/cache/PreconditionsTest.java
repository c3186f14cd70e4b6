package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import io.tomcatredis.cache.Preconditions.Result;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** RFC 9110 13.2.2, answered from a held response. */
class PreconditionsTest {

    private static final String MODIFIED = "Wed, 21 Oct 2026 07:28:00 GMT";
    private static final String EARLIER = "Tue, 20 Oct 2026 07:28:00 GMT";
    private static final String LATER = "Thu, 22 Oct 2026 07:28:00 GMT";

    private final HttpServletRequest request = mock(HttpServletRequest.class);
    private final Map<String, List<String>> headers = new HashMap<>();

    @BeforeEach
    void get() {
        when(request.getMethod()).thenReturn("GET");
        when(request.getHeader(org.mockito.ArgumentMatchers.anyString())).thenAnswer(call -> {
            List<String> values = headers.get(call.<String>getArgument(0).toLowerCase());
            return values == null ? null : values.get(0);
        });
        when(request.getHeaders(org.mockito.ArgumentMatchers.anyString())).thenAnswer(call -> Collections.enumeration(
                headers.getOrDefault(call.<String>getArgument(0).toLowerCase(), List.of())));
    }

    private Result with(String name, String... values) {
        headers.put(name.toLowerCase(), List.of(values));
        return Preconditions.evaluate(request, 200, "\"v1\"", MODIFIED);
    }

    @Test
    void noPreconditionsProceed() {
        assertThat(Preconditions.evaluate(request, 200, "\"v1\"", MODIFIED)).isEqualTo(Result.PROCEED);
    }

    @Test
    void ifNoneMatchComparesWeaklyAcrossListsAndLinesAndWinsOverIfModifiedSince() {
        assertThat(with("If-None-Match", "\"x\", W/\"v1\"")).isEqualTo(Result.NOT_MODIFIED);
        assertThat(with("If-None-Match", "\"x\"", "\"v1\"")).isEqualTo(Result.NOT_MODIFIED);
        assertThat(with("If-None-Match", "*")).isEqualTo(Result.NOT_MODIFIED);
        assertThat(with("If-None-Match", "\"a,b\"")).isEqualTo(Result.PROCEED);
        headers.put("if-modified-since", List.of(LATER));
        assertThat(with("If-None-Match", "\"other\"")).isEqualTo(Result.PROCEED);
    }

    @Test
    void ifModifiedSinceIsNotModifiedAtOrAfterTheLastModificationAndIgnoredWhenInvalid() {
        assertThat(with("If-Modified-Since", MODIFIED)).isEqualTo(Result.NOT_MODIFIED);
        assertThat(with("If-Modified-Since", LATER)).isEqualTo(Result.NOT_MODIFIED);
        assertThat(with("If-Modified-Since", EARLIER)).isEqualTo(Result.PROCEED);
        assertThat(with("If-Modified-Since", "yesterday")).isEqualTo(Result.PROCEED);
        assertThat(Preconditions.evaluate(request, 200, "\"v1\"", null)).isEqualTo(Result.PROCEED);
    }

    @Test
    void ifMatchComparesStronglyAndFailsWith412() {
        assertThat(with("If-Match", "\"v1\"")).isEqualTo(Result.PROCEED);
        assertThat(with("If-Match", "*")).isEqualTo(Result.PROCEED);
        assertThat(with("If-Match", "W/\"v1\"")).isEqualTo(Result.PRECONDITION_FAILED);
        assertThat(with("If-Match", "\"v2\"")).isEqualTo(Result.PRECONDITION_FAILED);
        assertThat(with("If-Match", "not-a-tag")).isEqualTo(Result.PRECONDITION_FAILED);
        headers.clear();
        headers.put("if-match", List.of("\"v1\""));
        assertThat(Preconditions.evaluate(request, 200, "W/\"v1\"", MODIFIED)).isEqualTo(Result.PRECONDITION_FAILED);
    }

    @Test
    void ifUnmodifiedSinceFailsAfterAChangeAndIsIgnoredUnderIfMatchOrWithoutADate() {
        assertThat(with("If-Unmodified-Since", EARLIER)).isEqualTo(Result.PRECONDITION_FAILED);
        assertThat(with("If-Unmodified-Since", MODIFIED)).isEqualTo(Result.PROCEED);
        assertThat(Preconditions.evaluate(request, 200, "\"v1\"", null)).isEqualTo(Result.PROCEED);
        assertThat(with("If-Match", "\"v1\"")).isEqualTo(Result.PROCEED);
    }

    @Test
    void preconditionsOfANon2xxResponseAreIgnored() {
        headers.put("if-match", List.of("\"v2\""));
        assertThat(Preconditions.evaluate(request, 404, "\"v1\"", MODIFIED)).isEqualTo(Result.PROCEED);
        headers.put("if-none-match", List.of("*"));
        assertThat(Preconditions.evaluate(request, 301, "\"v1\"", MODIFIED)).isEqualTo(Result.PROCEED);
    }

    @Test
    void ifRangeHoldsForTheStrongTagOrTheExactDateOnly() {
        assertThat(Preconditions.rangeApplies(request, "\"v1\"", MODIFIED)).isTrue();
        headers.put("if-range", List.of("\"v1\""));
        assertThat(Preconditions.rangeApplies(request, "\"v1\"", MODIFIED)).isTrue();
        assertThat(Preconditions.rangeApplies(request, "W/\"v1\"", MODIFIED)).isFalse();
        headers.put("if-range", List.of("W/\"v1\""));
        assertThat(Preconditions.rangeApplies(request, "\"v1\"", MODIFIED)).isFalse();
        headers.put("if-range", List.of(MODIFIED));
        assertThat(Preconditions.rangeApplies(request, "\"v1\"", MODIFIED)).isTrue();
        headers.put("if-range", List.of(LATER));
        assertThat(Preconditions.rangeApplies(request, "\"v1\"", MODIFIED)).isFalse();
        headers.put("if-range", List.of("garbage"));
        assertThat(Preconditions.rangeApplies(request, "\"v1\"", MODIFIED)).isFalse();
    }
}

package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import jakarta.servlet.http.HttpServletRequest;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The render never sees the client's conditional and range headers, in any spelling or accessor. */
class NeutralRequestTest {

    private final HttpServletRequest real = mock(HttpServletRequest.class);
    private final NeutralRequest neutral = new NeutralRequest(real);

    @Test
    void conditionalAndRangeHeadersAreAbsentOtherHeadersAreNot() {
        when(real.getHeader("if-none-match")).thenReturn("\"x\"");
        when(real.getHeader("Accept")).thenReturn("text/html");
        when(real.getHeaders("RANGE")).thenReturn(Collections.enumeration(List.of("bytes=0-1")));
        when(real.getDateHeader("If-Modified-Since")).thenReturn(1L);
        when(real.getIntHeader("If-Match")).thenReturn(1);
        when(real.getHeaderNames()).thenReturn(Collections.enumeration(List.of("Accept", "If-Range",
                "if-unmodified-since", "Range")));

        assertThat(neutral.getHeader("if-none-match")).isNull();
        assertThat(neutral.getHeader("Accept")).isEqualTo("text/html");
        assertThat(neutral.getHeaders("RANGE").hasMoreElements()).isFalse();
        assertThat(neutral.getDateHeader("If-Modified-Since")).isEqualTo(-1);
        assertThat(neutral.getIntHeader("If-Match")).isEqualTo(-1);
        assertThat(Collections.list(neutral.getHeaderNames())).containsExactly("Accept");
    }
}

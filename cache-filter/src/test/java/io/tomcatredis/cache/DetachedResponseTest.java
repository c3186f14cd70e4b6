package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

import jakarta.servlet.http.HttpServletResponse;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** The background refresh renders from what the real response held when the filter was reached. */
class DetachedResponseTest {

    @Test
    void theLocaleAndCharsetAFilterAheadSetAreWhereTheRefreshStarts() {
        DetachedResponse detached = new DetachedResponse(mock(HttpServletResponse.class), "ISO-8859-15",
                Locale.forLanguageTag("de-AT"));
        assertThat(detached.getLocale()).isEqualTo(Locale.forLanguageTag("de-AT"));
        assertThat(detached.getCharacterEncoding()).isEqualTo("ISO-8859-15");

        detached.setContentType("text/html");
        assertThat(detached.getContentType()).as("not set explicitly: not in the content type").isEqualTo("text/html");
        detached.setCharacterEncoding("ISO-8859-15");
        assertThat(detached.getContentType()).isEqualTo("text/html;charset=ISO-8859-15");
    }

    /** Issue 17: Servlet 4.0's setStatus(int, String) (an override on Tomcat 9) stays detached too. */
    @Test
    void servlet4sSetStatusWithAMessageIsKeptAndNeverReachesTheWrappedResponse() {
        HttpServletResponse real = mock(HttpServletResponse.class);
        DetachedResponse detached = new DetachedResponse(real, null, Locale.ROOT);
        detached.setStatus(410, "Gone");
        assertThat(detached.getStatus()).isEqualTo(410);
        org.mockito.Mockito.verifyNoInteractions(real);
    }

    @Test
    void withoutAnEncodingTheContainersDefaultApplies() {
        DetachedResponse detached = new DetachedResponse(mock(HttpServletResponse.class), null, Locale.ROOT);
        assertThat(detached.getCharacterEncoding()).isEqualTo("ISO-8859-1");
    }
}

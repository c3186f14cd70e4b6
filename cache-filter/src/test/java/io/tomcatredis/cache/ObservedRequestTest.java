package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Phase 4, the request side: what a read tells the storability decision. */
class ObservedRequestTest {

    private static final CacheSettings SETTINGS = CacheSettings.parse(Map.of("include", "/*", "allowedHosts", "h",
            "ignoredCookies", "_ga*")::get, "");
    private static final CacheRequest REQUEST = new CacheRequest(false, "http://h/p", "http://h/p", "", 60, false,
            Set.of("user"));

    private final HttpServletRequest real = mock(HttpServletRequest.class);
    private final ObservedRequest observed = new ObservedRequest(real, REQUEST, SETTINGS);

    @Test
    void nothingReadNothingObserved() {
        observed.getParameter("id");
        observed.getQueryString();
        observed.getServletPath();
        assertThat(observed.observation().reads()).isEmpty();
        assertThat(observed.observation().askedForIdentity()).isFalse();
    }

    @Test
    void theLocaleAndAcceptLanguageArePartOfTheKeySoReadingThemIsNoReason() {
        observed.getLocale();
        observed.getLocales();
        observed.getHeader("Accept-Language");
        assertThat(observed.observation().reads()).isEmpty();
        assertThat(observed.observation().headersRead()).isEmpty();
    }

    @Test
    void validatorsAndCodingsTheCacheAnswersAreNeutralOnlyWhileTheRequestDoesNotCarryThem() {
        observed.getHeader("If-Modified-Since");
        observed.getHeader("If-None-Match");
        observed.getDateHeader("Accept-Encoding");
        assertThat(observed.observation().headersRead()).isEmpty();

        when(real.getHeader("If-Modified-Since")).thenReturn("Sun, 01 Nov 2026 00:00:00 GMT");
        when(real.getHeader("accept-encoding")).thenReturn("gzip");
        observed.getDateHeader("If-Modified-Since");
        observed.getHeaders("accept-encoding");
        assertThat(observed.observation().headersRead()).containsExactlyInAnyOrder("if-modified-since",
                "accept-encoding");
    }

    @Test
    void attributesSetAheadOfTheFilterAreObservedThoseSetDuringTheRenderAreNot() {
        when(real.getAttribute("user")).thenReturn("alice");
        when(real.getAttribute("model")).thenReturn("m");
        observed.setAttribute("model", "m");
        observed.getAttribute("model");
        observed.getAttribute("absent");
        assertThat(observed.observation().reads()).isEmpty();

        observed.getAttribute("user");
        assertThat(observed.observation().reads()).containsExactly(BypassReason.AHEAD_ATTRIBUTE);
    }

    @Test
    void anAttributeAWrapperAheadAnswersWithoutListingItCountsAsSetAhead() {
        when(real.getAttribute("staff")).thenReturn(Boolean.TRUE);
        when(real.getAttribute("jakarta.servlet.forward.request_uri")).thenReturn("/a");
        when(real.getAttribute("org.apache.catalina.jsp_file")).thenReturn("/a.jsp");
        observed.getAttribute("jakarta.servlet.forward.request_uri");
        observed.getAttribute("org.apache.catalina.jsp_file");
        assertThat(observed.observation().reads()).as("the container's own").isEmpty();
        observed.getAttribute("staff");
        assertThat(observed.observation().reads()).containsExactly(BypassReason.AHEAD_ATTRIBUTE);
    }

    @Test
    void tlsAttributesAndAddressesAreTheConnections() {
        when(real.getAttribute("jakarta.servlet.request.X509Certificate")).thenReturn(new Object());
        observed.getAttribute("jakarta.servlet.request.X509Certificate");
        assertThat(observed.observation().reads()).containsExactly(BypassReason.CONNECTION);
    }

    @Test
    void ignoredCookiesAreLookedForButNotPersonal() {
        when(real.getCookies()).thenReturn(new Cookie[] {new Cookie("_ga", "1")});
        when(real.getHeaders("Cookie")).thenReturn(Collections.enumeration(List.of("_ga=1")));
        observed.getCookies();
        observed.getHeader("Cookie");
        assertThat(observed.observation().reads()).isEmpty();
        assertThat(observed.observation().askedForIdentity()).isTrue();

        when(real.getCookies()).thenReturn(new Cookie[] {new Cookie("_ga", "1"), new Cookie("sid", "2")});
        observed.getCookies();
        assertThat(observed.observation().reads()).containsExactly(BypassReason.PERSONAL_COOKIE);
    }

    @Test
    void aCookieHeaderHidingASessionBehindAnIgnoredCookieIsPersonalWhateverTheContainerParsed() {
        // Tomcat drops the malformed cookie; a parser splitting on commas reads SESSION=alice.
        when(real.getCookies()).thenReturn(null);
        when(real.getHeaders("Cookie")).thenAnswer(i -> Collections.enumeration(List.of("_ga=GA1.2.3, SESSION=alice")));
        when(real.getHeaders("cookie")).thenAnswer(i -> Collections.enumeration(List.of("_ga=GA1.2.3, SESSION=alice")));
        observed.getCookies();
        assertThat(observed.observation().reads()).containsExactly(BypassReason.PERSONAL_COOKIE);

        ObservedRequest byHeader = new ObservedRequest(real, REQUEST, SETTINGS);
        byHeader.getHeader("cookie");
        assertThat(byHeader.observation().reads()).containsExactly(BypassReason.PERSONAL_COOKIE);
    }

    /** Issue 17: Servlet 4.0's spelling (an override on Tomcat 9) is observed like the current one. */
    @Test
    void servlet4sIsRequestedSessionIdFromUrlIsObservedLikeTheCurrentSpelling() {
        when(real.isRequestedSessionIdFromURL()).thenReturn(true);
        assertThat(observed.isRequestedSessionIdFromUrl()).isTrue();
        assertThat(observed.observation().reads()).containsExactly(BypassReason.PERSONAL_SESSION);
    }

    @Test
    void lookingForASessionThatIsNotThereIsAskingNotPersonal() {
        observed.getSession(false);
        observed.getRemoteUser();
        assertThat(observed.observation().reads()).isEmpty();
        assertThat(observed.observation().askedForIdentity()).isTrue();
        observed.getSession();
        assertThat(observed.observation().reads()).containsExactly(BypassReason.PERSONAL_SESSION);
    }

    @Test
    void headersOutsideTheKeyAndTheHeaderNamesAreObserved() {
        observed.getHeader("X-Theme");
        observed.getHeader("Accept-Encoding");
        observed.getHeader("Host");
        observed.getHeaderNames();
        assertThat(observed.observation().headersRead()).containsExactlyInAnyOrder("x-theme", "host");
        assertThat(observed.observation().reads()).containsExactly(BypassReason.HEADER_NAMES);
    }
}

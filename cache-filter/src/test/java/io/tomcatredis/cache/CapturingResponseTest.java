package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mockito.InOrder;

/** Phase 4, the response side: what is held back, what goes through, and what the decision learns. */
class CapturingResponseTest {

    private final HttpServletResponse real = mock(HttpServletResponse.class);
    private final ByteArrayOutputStream sent = new ByteArrayOutputStream();
    private CapturingResponse capture;

    @BeforeEach
    void setUp() throws IOException {
        when(real.getCharacterEncoding()).thenReturn("UTF-8");
        when(real.getOutputStream()).thenReturn(new ServletOutputStream() {
            @Override
            public void write(int b) {
                sent.write(b);
            }

            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setWriteListener(WriteListener listener) {
            }
        });
        capture = new CapturingResponse(real, 10);
    }

    @Test
    void bodyAndHeadersAreHeldBackAndTheCharsetIsTheRealResponses() {
        capture.setHeader("X-A", "1");
        PrintWriter writer = capture.getWriter();
        writer.write("\u20ac");
        CapturingResponse.Rendered rendered = capture.rendered();

        assertThat(rendered.body()).isEqualTo("\u20ac".getBytes(StandardCharsets.UTF_8));
        assertThat(sent.size()).isZero();
        verify(real, never()).setHeader("X-A", "1");
        verify(real).setCharacterEncoding("UTF-8");
        assertThat(capture.isCommitted()).isFalse();
    }

    @Test
    void oversizedBodyGoesThroughWholeAndInOrder() throws IOException {
        PrintWriter writer = capture.getWriter();
        writer.write("abcdef");
        writer.flush();
        writer.write("ghijkl");
        writer.flush();
        writer.write("mn");
        writer.flush();

        assertThat(capture.throughReason()).isEqualTo(BypassReason.OVERSIZED);
        assertThat(sent.toString(StandardCharsets.UTF_8)).isEqualTo("abcdefghijklmn");
    }

    @Test
    void theWriterAndTheStreamExcludeEachOtherAsInTheContainerUntilAReset() throws IOException {
        capture.getWriter().write("head ");
        assertThatThrownBy(capture::getOutputStream).isInstanceOf(IllegalStateException.class)
                .hasMessage("getWriter() has already been called for this response");
        capture.getWriter().write("tail");
        assertThat(capture.rendered().body()).isEqualTo("head tail".getBytes(StandardCharsets.UTF_8));

        CapturingResponse other = new CapturingResponse(real, 100);
        other.getOutputStream().write('x');
        assertThatThrownBy(other::getWriter).isInstanceOf(IllegalStateException.class)
                .hasMessage("getOutputStream() has already been called for this response");
        when(real.getHeaderNames()).thenReturn(List.of());
        other.reset();
        other.getWriter().write("y");
        assertThat(other.rendered().body()).isEqualTo("y".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theStreamIsRefusedAsByTheContainerWhenAFilterAheadTookTheWriter() throws IOException {
        when(real.getOutputStream()).thenThrow(new IllegalStateException("getWriter() has already been called"));
        assertThatThrownBy(capture::getOutputStream).isInstanceOf(IllegalStateException.class);
        capture.getWriter().write("fallback");
        assertThat(capture.rendered().body()).isEqualTo("fallback".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void whatAnIncludedResourceSetsOnTheResponseIsIgnoredAsByTheContainer() throws IOException {
        java.util.concurrent.atomic.AtomicBoolean including = new java.util.concurrent.atomic.AtomicBoolean();
        CapturingResponse page = new CapturingResponse(real, 100, null, including::get, (reason, status) -> { });
        page.setContentType("text/html;charset=UTF-8");
        page.getOutputStream().write("<p>".getBytes(StandardCharsets.UTF_8));
        including.set(true);
        page.setStatus(404);
        page.setContentType("text/plain");
        page.setHeader("ETag", "\"f\"");
        page.addHeader("Last-Modified", "Sun, 01 Nov 2026 08:05:09 GMT");
        page.addCookie(new jakarta.servlet.http.Cookie("a", "1"));
        page.setLocale(java.util.Locale.GERMANY);
        page.sendError(500);
        page.reset();
        page.getOutputStream().write("snippet".getBytes(StandardCharsets.UTF_8));
        including.set(false);

        CapturingResponse.Rendered rendered = page.rendered();
        assertThat(rendered.status()).isEqualTo(200);
        assertThat(rendered.headers()).isEmpty();
        assertThat(rendered.setsCookie()).isFalse();
        assertThat(rendered.locale()).isNull();
        assertThat(rendered.through()).isNull();
        assertThat(rendered.body()).isEqualTo("<p>snippet".getBytes(StandardCharsets.UTF_8));
        verify(real).setContentType("text/html;charset=UTF-8");
        verify(real, never()).setContentType("text/plain");
        verify(real, never()).setLocale(java.util.Locale.GERMANY);
        verify(real, never()).reset();
    }

    @Test
    void readingBackAHeaderSetAheadThatTheApplicationDidNotReplaceIsNoticed() {
        when(real.getHeaders("Content-Security-Policy")).thenReturn(List.of("script-src 'nonce-n1'"));
        when(real.getHeaders("X-Frame-Options")).thenReturn(List.of("DENY"));
        when(real.getHeaderNames()).thenReturn(List.of("Content-Security-Policy", "X-Frame-Options"));
        capture.setHeader("X-Frame-Options", "SAMEORIGIN");
        assertThat(capture.getHeader("X-Frame-Options")).isEqualTo("SAMEORIGIN");
        assertThat(capture.containsHeader("X-Other")).isFalse();
        assertThat(capture.rendered().aheadHeaderRead()).as("replaced, or absent").isFalse();

        for (Runnable read : List.<Runnable>of(() -> capture.getHeader("Content-Security-Policy"),
                () -> capture.getHeaders("Content-Security-Policy"),
                () -> capture.containsHeader("Content-Security-Policy"), () -> capture.getHeaderNames())) {
            capture = new CapturingResponse(real, 10);
            capture.setHeader("X-Frame-Options", "SAMEORIGIN");
            read.run();
            assertThat(capture.rendered().aheadHeaderRead()).isTrue();
        }
    }

    @Test
    void everyRedirectFormGoesThroughToTheRealResponse() throws IOException {
        capture.sendRedirect("/a", 301, false);
        assertThat(capture.throughReason()).isEqualTo(BypassReason.SEND_REDIRECT);
        verify(real).sendRedirect("/a", 301, false);

        CapturingResponse second = new CapturingResponse(real, 10);
        second.sendRedirect("/b", true);
        verify(real).sendRedirect("/b", true);
        assertThat(second.rendered().through()).isEqualTo(BypassReason.SEND_REDIRECT);
    }

    @Test
    void aUrlEncodedWithTheSessionIdIsNoticed() {
        when(real.encodeURL("/next")).thenReturn("/next");
        capture.encodeURL("/next");
        assertThat(capture.rendered().sessionEncoded()).isFalse();

        when(real.encodeURL("/next")).thenReturn("/next;jsessionid=S");
        capture.encodeURL("/next");
        assertThat(capture.rendered().sessionEncoded()).isTrue();
    }

    /**
     * Issue 17: on Tomcat 9 (the javax JAR) these are overrides of Servlet 4.0's deprecated
     * methods, which the wrapper would otherwise pass to the real response past the capture
     * (Tomcat9JarIT checks that they override there).
     */
    @Test
    void servlet4sDeprecatedSpellingsAreCapturedLikeTheCurrentOnes() {
        capture.setStatus(404, "Not here");
        assertThat(capture.getStatus()).isEqualTo(404);
        verify(real, never()).setStatus(org.mockito.ArgumentMatchers.anyInt());

        when(real.encodeURL("/next")).thenReturn("/next;jsessionid=S");
        assertThat(capture.encodeUrl("/next")).isEqualTo("/next;jsessionid=S");
        assertThat(capture.rendered().sessionEncoded()).isTrue();
    }

    @Test
    void aRedirectUrlEncodedWithTheSessionIdThroughServlet4sSpellingIsNoticed() {
        when(real.encodeRedirectURL("/next")).thenReturn("/next;jsessionid=S");
        assertThat(capture.encodeRedirectUrl("/next")).isEqualTo("/next;jsessionid=S");
        assertThat(capture.rendered().sessionEncoded()).isTrue();
    }

    @Test
    void headersOnTheRealResponseAreSeenByTheApplicationAndTheDecision() {
        when(real.getHeaders("Cache-Control")).thenReturn(List.of("private"));
        when(real.getHeader("Cache-Control")).thenReturn("private");
        when(real.getHeaders("Set-Cookie")).thenReturn(List.of());
        when(real.getHeaders("Vary")).thenReturn(List.of());
        when(real.getHeaders("Content-Encoding")).thenReturn(List.of());
        when(real.getHeaders("Expires")).thenReturn(List.of());

        assertThat(capture.getHeader("Cache-Control")).isEqualTo("private");
        assertThat(capture.rendered().values("Cache-Control")).containsExactly("private");
    }

    @Test
    void aHeaderSetAheadAndReplacedByTheApplicationIsSeenAndSentAsTheApplicationSetIt() {
        when(real.getHeaders("X-Frame-Options")).thenReturn(List.of("DENY"));
        when(real.getHeaders("Cache-Control")).thenReturn(List.of("public, max-age=60"));
        when(real.getHeaderNames()).thenReturn(List.of("X-Frame-Options", "Cache-Control"));
        capture.addHeader("Cache-Control", "no-transform");
        capture.setHeader("x-frame-options", "SAMEORIGIN");
        capture.setHeader("Cache-Control", "private");

        assertThat(capture.getHeaders("X-Frame-Options")).containsExactly("SAMEORIGIN");
        assertThat(capture.getHeader("Cache-Control")).isEqualTo("private");
        assertThat(capture.getHeaderNames()).containsExactly("X-Frame-Options", "Cache-Control");
        CapturingResponse.Rendered rendered = capture.rendered();
        assertThat(rendered.values("Cache-Control")).containsExactly("private");
        assertThat(rendered.replaced()).containsExactlyInAnyOrder("x-frame-options", "cache-control");

        capture.sendHeadersTo(real);
        InOrder order = inOrder(real);
        order.verify(real).addHeader("Cache-Control", "no-transform");
        order.verify(real).setHeader("x-frame-options", "SAMEORIGIN");
        order.verify(real).setHeader("Cache-Control", "private");
        verify(real, never()).addHeader("x-frame-options", "SAMEORIGIN");
    }

    @Test
    void aResetRemovesWhatWasSetAheadAlsoFromTheCachedCopy() {
        when(real.getHeaderNames()).thenReturn(List.of("X-Frame-Options"));
        capture.addHeader("X-A", "1");
        capture.reset();
        capture.addHeader("X-B", "2");

        CapturingResponse.Rendered rendered = capture.rendered();
        assertThat(rendered.headers()).containsExactly(new CachedResponse.Header("X-B", "2"));
        assertThat(rendered.removed()).containsExactly("x-frame-options");
        verify(real).reset();
    }

    @Test
    void dateHeadersAreFormattedAsTheContainerFormatsThem() {
        long firstOfMonth = java.time.Instant.parse("2026-11-01T08:05:09Z").toEpochMilli();
        capture.setDateHeader("Last-Modified", firstOfMonth);
        capture.addDateHeader("X-Date", firstOfMonth + 86_400_000L * 20);
        assertThat(capture.getHeader("Last-Modified"))
                .isEqualTo(org.apache.tomcat.util.http.FastHttpDateFormat.formatDate(firstOfMonth))
                .isEqualTo("Sun, 01 Nov 2026 08:05:09 GMT");
        assertThat(capture.getHeader("X-Date"))
                .isEqualTo(org.apache.tomcat.util.http.FastHttpDateFormat.formatDate(firstOfMonth + 86_400_000L * 20));
    }

    @Test
    void cookiesAndHeaderCallsAreSentInTheOrderTheApplicationMadeThem() {
        jakarta.servlet.http.Cookie cookie = new jakarta.servlet.http.Cookie("a", "1");
        capture.setHeader("Set-Cookie", "b=2");
        capture.addCookie(cookie);
        capture.setHeader(CapturingResponse.TAGS_HEADER, "t");
        assertThat(capture.rendered().setsCookie()).isTrue();

        capture.sendHeadersTo(real);
        InOrder order = inOrder(real);
        order.verify(real).setHeader("Set-Cookie", "b=2");
        order.verify(real).addCookie(cookie);
        verify(real, never()).setHeader(CapturingResponse.TAGS_HEADER, "t");
    }

    @Test
    void trailersAndFlushesMakeItUnstorable() throws IOException {
        capture.setTrailerFields(java.util.Map::of);
        assertThat(capture.rendered().trailers()).isTrue();

        capture.getWriter().write("x");
        capture.flushBuffer();
        InOrder order = inOrder(real);
        order.verify(real).setStatus(200);
        order.verify(real).flushBuffer();
        assertThat(sent.toString(StandardCharsets.UTF_8)).isEqualTo("x");
        assertThat(capture.throughReason()).isEqualTo(BypassReason.FLUSHED);
    }

    @Test
    void nonBlockingWritesGoThrough() throws IOException {
        capture.getOutputStream().setWriteListener(mock(WriteListener.class));
        assertThat(capture.throughReason()).isEqualTo(BypassReason.ASYNC);
        assertThat(sent.size()).isZero();
    }

    /** A GET of the client, with the request headers the application rendered without. */
    private static jakarta.servlet.http.HttpServletRequest client(String... headers) {
        jakarta.servlet.http.HttpServletRequest request = mock(jakarta.servlet.http.HttpServletRequest.class);
        when(request.getMethod()).thenReturn("GET");
        for (int i = 0; i < headers.length; i += 2) {
            when(request.getHeader(headers[i])).thenReturn(headers[i + 1]);
            when(request.getHeaders(headers[i])).thenReturn(java.util.Collections.enumeration(List.of(headers[i + 1])));
        }
        when(request.getHeaders(org.mockito.ArgumentMatchers.argThat(name -> !List.of(headers).contains(name))))
                .thenAnswer(invocation -> java.util.Collections.emptyEnumeration());
        return request;
    }

    private String goThroughOversized(jakarta.servlet.http.HttpServletRequest client, long declaredLength)
            throws IOException {
        CapturingResponse page = new CapturingResponse(real, 10, client, () -> false, (reason, status) -> { });
        when(real.getHeader("ETag")).thenReturn("\"v1\"");
        page.setHeader("ETag", "\"v1\"");
        if (declaredLength >= 0) {
            page.setContentLengthLong(declaredLength);
        }
        ServletOutputStream out = page.getOutputStream();
        out.write("abcdefgh".getBytes(StandardCharsets.UTF_8));
        out.write("ijklmn".getBytes(StandardCharsets.UTF_8));
        assertThat(page.throughReason()).isEqualTo(BypassReason.OVERSIZED);
        page.setStatus(HttpServletResponse.SC_OK);
        return sent.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aRangeOfAResponseGoingThroughIsAnsweredFromItsDeclaredLength() throws IOException {
        assertThat(goThroughOversized(client("Range", "bytes=2-11"), 14)).isEqualTo("cdefghijkl");
        verify(real).setStatus(HttpServletResponse.SC_PARTIAL_CONTENT);
        verify(real).setHeader("Content-Range", "bytes 2-11/14");
        verify(real).setContentLength(10);
    }

    @Test
    void aRangeNoByteSatisfiesIs416AndWithoutADeclaredLengthTheFullBody() throws IOException {
        assertThat(goThroughOversized(client("Range", "bytes=20-"), 14)).isEmpty();
        verify(real).setStatus(HttpServletResponse.SC_REQUESTED_RANGE_NOT_SATISFIABLE);
        verify(real).setHeader("Content-Range", "bytes */14");

        sent.reset();
        assertThat(goThroughOversized(client("Range", "bytes=2-4"), -1)).isEqualTo("abcdefghijklmn");
    }

    @Test
    void preconditionsOfAResponseGoingThroughAre304Or412WithNoBodyAndTheStatusStays() throws IOException {
        assertThat(goThroughOversized(client("If-None-Match", "W/\"v1\""), 14)).isEmpty();
        verify(real).setStatus(HttpServletResponse.SC_NOT_MODIFIED);

        assertThat(goThroughOversized(client("If-Match", "\"v2\""), 14)).isEmpty();
        verify(real).setStatus(HttpServletResponse.SC_PRECONDITION_FAILED);
        verify(real, org.mockito.Mockito.times(2)).setStatus(HttpServletResponse.SC_OK);

        assertThat(goThroughOversized(client("If-Match", "\"v1\""), 14)).as("a precondition that holds")
                .isEqualTo("abcdefghijklmn");
    }
}

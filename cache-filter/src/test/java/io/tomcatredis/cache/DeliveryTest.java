package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

/** Phase 6 on its own: the body goes out as the application wrote it, framed by the container. */
class DeliveryTest {

    private static final MutableClock CLOCK = new MutableClock(1_800_000_000_000L);
    private static final String PAGE = "<p>\u20ac " + "product ".repeat(40) + "</p>";

    private final HttpServletRequest request = mock(HttpServletRequest.class);
    private final HttpServletResponse response = mock(HttpServletResponse.class);
    private final ByteArrayOutputStream sent = new ByteArrayOutputStream();

    private static CachedResponse entry(boolean gzipped) throws IOException {
        byte[] raw = PAGE.getBytes(StandardCharsets.UTF_8);
        byte[] body = raw;
        if (gzipped) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
                gzip.write(raw);
            }
            body = out.toByteArray();
        }
        return new CachedResponse("https://h/p", 200, List.of(new CachedResponse.Header("Content-Type",
                "text/html;charset=UTF-8")), body, gzipped, raw.length, "\"e\"", CLOCK.millis(), CLOCK.millis() + 60_000,
                CLOCK.millis() + 60_000, Set.of(), false, false, null, Set.of(), Set.of());
    }

    private void stream() throws IOException {
        when(response.getOutputStream()).thenReturn(new ServletOutputStream() {
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
    }

    private void serve(CachedResponse entry) throws IOException {
        new Delivery(CLOCK, new CacheStatus("c", true, true), null).serve(entry,
                CacheStatus.Outcome.served("HIT", entry, CLOCK.millis()), request, response);
    }

    @Test
    void aGetIsSentAsWrittenWhateverTheClientAcceptsAndTheContainerFramesIt() throws IOException {
        when(request.getMethod()).thenReturn("GET");
        when(request.getHeader("Accept-Encoding")).thenReturn("gzip, deflate, br");
        stream();
        serve(entry(true));

        assertThat(sent.toString(StandardCharsets.UTF_8)).isEqualTo(PAGE);
        verify(response, never()).setHeader("Content-Encoding", "gzip");
        verify(response, never()).addHeader("Vary", "Accept-Encoding");
        verify(response, never()).setContentLength(anyInt());
        verify(response, never()).setContentLengthLong(anyLong());
        verify(response, never()).flushBuffer();
    }

    @Test
    void aHeadGetsTheLengthOfTheBody() throws IOException {
        when(request.getMethod()).thenReturn("HEAD");
        stream();
        serve(entry(true));

        verify(response).setContentLength(PAGE.getBytes(StandardCharsets.UTF_8).length);
        assertThat(sent.size()).isZero();
    }

    @Test
    void aRangeOfAGzippedEntryCountsBytesAsWrittenWithContentRangeAndThePartsLength() throws IOException {
        when(request.getMethod()).thenReturn("GET");
        when(request.getHeader("Range")).thenReturn("bytes=0-4");
        stream();
        serve(entry(true));

        int length = PAGE.getBytes(StandardCharsets.UTF_8).length;
        verify(response).setStatus(HttpServletResponse.SC_PARTIAL_CONTENT);
        verify(response).setHeader("Content-Range", "bytes 0-4/" + length);
        verify(response).setContentLength(5);
        assertThat(sent.toByteArray()).containsExactly(Arrays.copyOf(PAGE.getBytes(StandardCharsets.UTF_8), 5));
    }

    @Test
    void whenAFilterAheadTookTheWriterTheBodyGoesThroughItNeverAnError() throws IOException {
        when(request.getMethod()).thenReturn("GET");
        when(response.getOutputStream()).thenThrow(new IllegalStateException("getWriter() has already been called"));
        StringWriter text = new StringWriter();
        text.write(")]}',\n");
        when(response.getWriter()).thenReturn(new PrintWriter(text));
        when(response.getCharacterEncoding()).thenReturn("UTF-8");
        serve(entry(false));

        assertThat(text.toString()).isEqualTo(")]}',\n" + PAGE);
    }

    @Test
    void completingAResponseClosesTheBodyItWasWrittenTo() throws IOException {
        ServletOutputStream stream = mock(ServletOutputStream.class);
        when(response.getOutputStream()).thenReturn(stream);
        Delivery.complete(response);
        verify(stream).close();

        HttpServletResponse writerTaken = mock(HttpServletResponse.class);
        PrintWriter writer = mock(PrintWriter.class);
        when(writerTaken.getOutputStream()).thenThrow(new IllegalStateException("getWriter() has already been called"));
        when(writerTaken.getWriter()).thenReturn(writer);
        Delivery.complete(writerTaken);
        verify(writer).close();
    }

    @Test
    void aCharacterSplitAcrossWritesThroughTheWriterArrivesWhole() throws IOException {
        when(response.getOutputStream()).thenThrow(new IllegalStateException("getWriter() has already been called"));
        StringWriter text = new StringWriter();
        when(response.getWriter()).thenReturn(new PrintWriter(text));
        when(response.getCharacterEncoding()).thenReturn("UTF-8");
        var out = Delivery.bodyOf(response);
        byte[] euro = "a\u20acb".getBytes(StandardCharsets.UTF_8);
        new ByteArrayInputStream(euro).transferTo(new java.io.OutputStream() {
            @Override
            public void write(int b) throws IOException {
                out.write(b);
            }
        });
        out.flush();
        assertThat(text.toString()).isEqualTo("a\u20acb");
    }
}

package io.tomcatredis.cache;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/**
 * Phase 6: writes to the client an entry (conditional answers, HEAD) or a rendered response that
 * was not stored, with {@code X-Cache} saying which. The body goes out as the application wrote
 * it, whatever the entry's storage: the container frames it ({@code Content-Length} or chunks,
 * its own compression) as it frames the uncached response, counting what a filter ahead of this
 * one already wrote; a GET never gets a length of ours.
 */
final class Delivery {

    private final Clock clock;

    Delivery(Clock clock) {
        this.clock = clock;
    }

    /** An entry, as a HIT, STALE, or the MISS that just stored it. */
    void serve(CachedResponse entry, String outcome, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        if (entry.locale() != null) {
            // Before the content type: an explicit charset in it wins, as it did for the application.
            response.setLocale(Locale.forLanguageTag(entry.locale()));
        }
        List<CachedResponse.Header> lines = new ArrayList<>();
        for (CachedResponse.Header header : entry.headers()) {
            if (header.name().equalsIgnoreCase("Content-Type")) {
                response.setContentType(header.value());
            } else {
                lines.add(header);
            }
        }
        // Set as the application set them: replacing, not joining, what a filter ahead set on this request.
        ResponseHeaders.replay(lines, entry.replaced(), entry.removed(), response);
        long age = Math.max(0, (clock.millis() - entry.storedAt()) / 1000);
        response.setHeader("Age", Long.toString(age));
        response.setHeader("X-Cache", outcome);
        if (entry.header("ETag") == null) {
            response.setHeader("ETag", entry.etag());
        }
        if (entry.status() == 200 && HttpCaching.notModified(request, entry.etag(), entry.header("Last-Modified"))) {
            response.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
            response.setContentType(null);
            return;
        }
        response.setStatus(entry.status());
        if (entry.status() == HttpServletResponse.SC_NO_CONTENT) {
            return;
        }
        // Stored gzipped to save memory; sent as written (byte identity with the uncached page).
        byte[] body = entry.gzipped() ? gunzip(entry.body()) : entry.body();
        send(body, request, response);
    }

    /** A HEAD gets the length of the GET's body; a GET's is left to the container, as without the cache. */
    private static void send(byte[] body, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        if (request.getMethod().equals("HEAD")) {
            response.setContentLength(body.length);
            return;
        }
        // Not flushed: the container commits at the end, so it can still compute the length.
        bodyOf(response).write(body);
    }

    /**
     * The body of {@code response} as bytes: its output stream or, when a filter ahead of this one
     * took its writer (the container then refuses the stream, {@code IllegalStateException}), the
     * writer, decoding in the response's charset: what the application wrote through its own
     * writer in that charset comes out unchanged.
     */
    static OutputStream bodyOf(HttpServletResponse response) throws IOException {
        try {
            return response.getOutputStream();
        } catch (IllegalStateException e) {
            Charset charset;
            try {
                charset = Charset.forName(response.getCharacterEncoding());
            } catch (RuntimeException unknown) {
                charset = StandardCharsets.ISO_8859_1;
            }
            return new DecodingStream(response.getWriter(), charset);
        }
    }

    /**
     * Ends {@code response} now, framed by the container ({@code Content-Length} computed from
     * what was written, as at the end of a request), so the client has all of it while this
     * thread goes on (refreshing a stale entry).
     */
    static void complete(HttpServletResponse response) throws IOException {
        try {
            response.getOutputStream().close();
        } catch (IllegalStateException writerTaken) {
            response.getWriter().close();
        }
    }

    /** A rendered response that was held back and not stored, as a MISS. */
    static void deliverUnstored(CapturingResponse capture, CapturingResponse.Rendered rendered,
            HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.setHeader("X-Cache", "MISS");
        capture.sendHeadersTo(response);
        send(rendered.body(), request, response);
    }

    /** Bytes to a writer, decoded with a charset; a character split across writes is kept until it is whole. */
    private static final class DecodingStream extends OutputStream {
        private final Writer writer;
        private final CharsetDecoder decoder;
        private ByteBuffer pending = ByteBuffer.allocate(0);

        DecodingStream(Writer writer, Charset charset) {
            this.writer = writer;
            this.decoder = charset.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE);
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            ByteBuffer in = ByteBuffer.allocate(pending.remaining() + length);
            in.put(pending).put(bytes, offset, length).flip();
            CharBuffer out = CharBuffer.allocate((int) (in.remaining() * (double) decoder.maxCharsPerByte()) + 4);
            decoder.decode(in, out, false);
            out.flip();
            writer.append(out);
            pending = in.slice();
        }

        @Override
        public void flush() throws IOException {
            writer.flush();
        }
    }

    private static byte[] gunzip(byte[] gzipped) {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gzipped))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

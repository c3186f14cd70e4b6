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
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.zip.GZIPInputStream;

/**
 * Phase 6: writes to the client an entry (conditional answers, HEAD) or a rendered response that
 * was not stored, with {@link CacheStatus} saying which. Both answer the client's preconditions
 * ({@link Preconditions}: 304, 412) and a single byte range ({@link ByteRanges}: 206, 416), which
 * the application never saw. The full body goes out as the application wrote it, whatever the
 * entry's storage: the container frames it ({@code Content-Length} or chunks, its own
 * compression) as it frames the uncached response, counting what a filter ahead of this one
 * already wrote; a full GET never gets a length of ours (a HEAD, a 206 and a 416 do).
 */
final class Delivery {

    private final Clock clock;
    private final CacheStatus status;
    private final String forwardTagsHeader;

    /**
     * @param forwardTagsHeader the header the response's tags are sent under ({@link CacheTags}),
     *     or null to strip them
     */
    Delivery(Clock clock, CacheStatus status, String forwardTagsHeader) {
        this.clock = clock;
        this.status = status;
        this.forwardTagsHeader = forwardTagsHeader;
    }

    private void forwardTags(Collection<String> tags, HttpServletResponse response) {
        if (forwardTagsHeader != null && !tags.isEmpty()) {
            response.setHeader(forwardTagsHeader, CacheTags.format(forwardTagsHeader, tags));
        }
    }

    /** An entry, as a hit, a stale hit, a collapsed wait or the miss that just stored it. */
    void serve(CachedResponse entry, CacheStatus.Outcome outcome, HttpServletRequest request,
            HttpServletResponse response) throws IOException {
        if (entry.locale() != null) {
            // Before the content type: an explicit charset in it wins, as it did for the application.
            response.setLocale(Locale.forLanguageTag(entry.locale()));
        }
        List<CachedResponse.Header> lines = new ArrayList<>();
        for (CachedResponse.Header header : entry.headers()) {
            if (header.name().equalsIgnoreCase("Content-Type")) {
                response.setContentType(header.value());
            } else if (!CacheTags.isTagHeader(header.name())) {
                // An entry stored before these headers were tags may hold one: it is not replayed either.
                lines.add(header);
            }
        }
        // Set as the application set them: replacing, not joining, what a filter ahead set on this request.
        ResponseHeaders.replay(lines, entry.replaced(), entry.removed(), response);
        long age = Math.max(0, (clock.millis() - entry.storedAt()) / 1000);
        response.setHeader("Age", Long.toString(age));
        status.write(outcome, response);
        forwardTags(new TreeSet<>(entry.tags()), response);
        if (entry.header("ETag") == null) {
            response.setHeader("ETag", entry.etag());
        }
        String lastModified = entry.header("Last-Modified");
        if (precluded(request, response, entry.status(), entry.etag(), lastModified)) {
            return;
        }
        response.setStatus(entry.status());
        if (entry.status() == HttpServletResponse.SC_NO_CONTENT) {
            return;
        }
        // Stored gzipped to save memory; sent as written (byte identity with the uncached page).
        byte[] body = entry.gzipped() ? gunzip(entry.body()) : entry.body();
        write(ranged(request, entry.status(), entry.etag(), lastModified)
                ? ByteRanges.select(request.getHeader("Range"), body.length) : ByteRanges.Selection.FULL, body,
                request, response);
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

    /** A rendered response that was held back and not stored, as a MISS, answering the request's conditions. */
    void deliverUnstored(CapturingResponse capture, CapturingResponse.Rendered rendered, CacheStatus.Outcome outcome,
            HttpServletRequest request, HttpServletResponse response) throws IOException {
        capture.sendHeadersTo(response);
        status.write(outcome, response);
        forwardTags(CacheTags.read(rendered.headers()), response);
        String etag = response.getHeader("ETag");
        String lastModified = response.getHeader("Last-Modified");
        if (precluded(request, response, rendered.status(), etag, lastModified)) {
            return;
        }
        byte[] body = rendered.body();
        write(ranged(request, rendered.status(), etag, lastModified)
                ? ByteRanges.select(request.getHeader("Range"), body.length) : ByteRanges.Selection.FULL, body,
                request, response);
    }

    /**
     * Answers 304 or 412 when the request's preconditions say so ({@link Preconditions}); the
     * headers are already on the response.
     *
     * @return whether the response is complete
     */
    private static boolean precluded(HttpServletRequest request, HttpServletResponse response, int status,
            String etag, String lastModified) {
        switch (Preconditions.evaluate(request, status, etag, lastModified)) {
            case NOT_MODIFIED -> {
                response.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
                response.setContentType(null);
                return true;
            }
            case PRECONDITION_FAILED -> {
                response.setStatus(HttpServletResponse.SC_PRECONDITION_FAILED);
                response.setContentType(null);
                response.setContentLength(0);
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    /** Whether a {@code Range} of the request applies: a GET of a 200 whose {@code If-Range}, if any, holds. */
    private static boolean ranged(HttpServletRequest request, int status, String etag, String lastModified) {
        return status == HttpServletResponse.SC_OK && request.getMethod().equals("GET")
                && request.getHeader("Range") != null && Preconditions.rangeApplies(request, etag, lastModified);
    }

    /**
     * The body, one part of it (206, with {@code Content-Range} and the part's length, RFC 9110
     * 14.4), or a 416 ({@code Content-Range} of the full length, 15.5.17).
     */
    private static void write(ByteRanges.Selection range, byte[] body, HttpServletRequest request,
            HttpServletResponse response) throws IOException {
        switch (range.kind()) {
            case FULL -> send(body, request, response);
            case PARTIAL -> {
                response.setStatus(HttpServletResponse.SC_PARTIAL_CONTENT);
                response.setHeader("Content-Range", "bytes " + range.first() + "-" + range.last() + "/" + body.length);
                int length = range.last() - range.first() + 1;
                response.setContentLength(length);
                bodyOf(response).write(body, range.first(), length);
            }
            case UNSATISFIABLE -> {
                response.setStatus(HttpServletResponse.SC_REQUESTED_RANGE_NOT_SATISFIABLE);
                response.setHeader("Content-Range", "bytes */" + body.length);
                response.setContentType(null);
                response.setContentLength(0);
            }
        }
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

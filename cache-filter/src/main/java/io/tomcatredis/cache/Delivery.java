package io.tomcatredis.cache;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.zip.GZIPInputStream;

/**
 * Phase 6: writes to the client an entry (conditional answers, HEAD, content coding, exact
 * length) or a rendered response that was not stored, with {@link CacheStatus} saying which. Both
 * answer the client's preconditions ({@link Preconditions}: 304, 412) and a single byte range
 * ({@link ByteRanges}: 206, 416), which the application never saw.
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
        if (entry.gzipped()) {
            response.addHeader("Vary", "Accept-Encoding");
        }
        String lastModified = entry.header("Last-Modified");
        if (precluded(request, response, entry.status(), entry.etag(), lastModified)) {
            return;
        }
        response.setStatus(entry.status());
        byte[] body = entry.body();
        boolean ranged = ranged(request, entry.status(), entry.etag(), lastModified);
        if (entry.gzipped()) {
            if (HttpCaching.acceptsGzip(request) && !ranged) {
                response.setHeader("Content-Encoding", "gzip");
            } else {
                // A range counts bytes of the identity representation.
                body = gunzip(body);
            }
        }
        if (entry.status() == HttpServletResponse.SC_NO_CONTENT) {
            return;
        }
        write(ranged ? ByteRanges.select(request.getHeader("Range"), body.length) : ByteRanges.Selection.FULL, body,
                request, response);
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

    /** The body, one part of it (206), or a 416, with the exact {@code Content-Length}; no body for HEAD. */
    private static void write(ByteRanges.Selection range, byte[] body, HttpServletRequest request,
            HttpServletResponse response) throws IOException {
        switch (range.kind()) {
            case FULL -> {
                response.setContentLength(body.length);
                if (!request.getMethod().equals("HEAD")) {
                    response.getOutputStream().write(body);
                }
            }
            case PARTIAL -> {
                response.setStatus(HttpServletResponse.SC_PARTIAL_CONTENT);
                response.setHeader("Content-Range", "bytes " + range.first() + "-" + range.last() + "/" + body.length);
                int length = range.last() - range.first() + 1;
                response.setContentLength(length);
                response.getOutputStream().write(body, range.first(), length);
            }
            case UNSATISFIABLE -> {
                response.setStatus(HttpServletResponse.SC_REQUESTED_RANGE_NOT_SATISFIABLE);
                response.setHeader("Content-Range", "bytes */" + body.length);
                response.setContentType(null);
                response.setContentLength(0);
            }
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

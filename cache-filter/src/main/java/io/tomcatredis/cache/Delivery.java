package io.tomcatredis.cache;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/**
 * Phase 6: writes to the client an entry (conditional answers, HEAD, content coding, exact
 * length) or a rendered response that was not stored, with {@code X-Cache} saying which.
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
        if (entry.gzipped()) {
            response.addHeader("Vary", "Accept-Encoding");
        }
        if (entry.status() == 200 && HttpCaching.notModified(request, entry.etag(), entry.header("Last-Modified"))) {
            response.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
            response.setContentType(null);
            return;
        }
        response.setStatus(entry.status());
        byte[] body = entry.body();
        if (entry.gzipped()) {
            if (HttpCaching.acceptsGzip(request)) {
                response.setHeader("Content-Encoding", "gzip");
            } else {
                body = gunzip(body);
            }
        }
        if (entry.status() == HttpServletResponse.SC_NO_CONTENT) {
            return;
        }
        response.setContentLength(body.length);
        if (!request.getMethod().equals("HEAD")) {
            response.getOutputStream().write(body);
        }
    }

    /** A rendered response that was held back and not stored, as a MISS. */
    static void deliverUnstored(CapturingResponse capture, CapturingResponse.Rendered rendered,
            HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.setHeader("X-Cache", "MISS");
        capture.sendHeadersTo(response);
        response.setContentLength(rendered.body().length);
        if (!request.getMethod().equals("HEAD")) {
            response.getOutputStream().write(rendered.body());
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

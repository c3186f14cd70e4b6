package io.tomcatredis.cache;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPOutputStream;

/** Turns a storable rendered response into an entry: replayed headers, tags, validator, gzip, times. */
final class EntryFactory {

    private static final int GZIP_MIN_BYTES = 256;

    private final int staleSeconds;
    private final Clock clock;

    /**
     * @param staleSeconds the configured stale window after expiry, in seconds
     * @param clock the time source of {@code stored}, {@code fresh} and {@code stale}
     */
    EntryFactory(int staleSeconds, Clock clock) {
        this.staleSeconds = staleSeconds;
        this.clock = clock;
    }

    CachedResponse build(String key, CapturingResponse.Rendered rendered, Storability.Decision decision,
            boolean anonymousOnly) {
        byte[] raw = rendered.body();
        List<CachedResponse.Header> headers = new ArrayList<>();
        if (rendered.contentType() != null) {
            headers.add(new CachedResponse.Header("Content-Type", rendered.contentType()));
        }
        Set<String> tags = CacheTags.read(rendered.headers());
        String etag = null;
        for (CachedResponse.Header header : rendered.headers()) {
            String name = header.name().toLowerCase(Locale.ROOT);
            if (!HttpCaching.NOT_REPLAYED.contains(name)) {
                headers.add(header);
                if (name.equals("etag") && etag == null) {
                    etag = header.value();
                }
            }
        }
        // Gzip is storage only (delivery sends the body as written); no-transform keeps even that away.
        boolean gzip = raw.length >= GZIP_MIN_BYTES && HttpCaching.compressible(rendered.contentType())
                && !decision.control().containsKey("no-transform");
        long now = clock.millis();
        long fresh = now + decision.ttlSeconds() * 1000;
        long staleWindow = staleWindow(decision);
        return new CachedResponse(key, rendered.status(), headers, gzip ? gzip(raw) : raw, gzip, raw.length,
                etag != null ? etag : strongEtag(raw), now, fresh, fresh + Math.max(0, staleWindow) * 1000, tags,
                anonymousOnly, decision.shared(), rendered.locale(), replayed(rendered.replaced()),
                replayed(rendered.removed()));
    }

    /**
     * The seconds an entry may be served stale after it expires: the longest of the configured
     * window and the response's own {@code stale-while-revalidate} and {@code stale-if-error}
     * (RFC 5861, in Cache-Control or the targeted field); only the response's own when it says
     * {@code must-revalidate}, {@code proxy-revalidate} or {@code s-maxage} in either (RFC 9111
     * 5.2.2.2, 5.2.2.8, 5.2.2.10: never stale without an explicit grant), 0 if it grants none.
     */
    private long staleWindow(Storability.Decision decision) {
        long granted = -1;
        boolean forbidden = false;
        for (Map<String, String> directives : List.of(decision.control(), decision.targeted())) {
            granted = Math.max(granted, Math.max(HttpCaching.seconds(directives, "stale-while-revalidate"),
                    HttpCaching.seconds(directives, "stale-if-error")));
            forbidden |= HttpCaching.forbidsServingStale(directives);
        }
        return forbidden ? Math.max(0, granted) : Math.max(staleSeconds, granted);
    }

    /** The names (lower case) of headers a replay sends. */
    private static Set<String> replayed(Set<String> names) {
        Set<String> replayed = new HashSet<>(names);
        replayed.removeAll(HttpCaching.NOT_REPLAYED);
        return replayed;
    }

    private static String strongEtag(byte[] body) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(body);
            return "\"" + Base64.getUrlEncoder().withoutPadding().encodeToString(digest).substring(0, 27) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java runtime", e);
        }
    }

    private static byte[] gzip(byte[] raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length / 3 + 64);
        try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
            gzip.write(raw);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}

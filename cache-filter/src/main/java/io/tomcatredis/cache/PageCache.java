package io.tomcatredis.cache;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import redis.clients.jedis.exceptions.JedisException;

/**
 * The cache's request flow: look up, serve a hit, or render a miss once across all nodes (an
 * in-process single flight plus a lease in Redis), store it if nothing personal went into it,
 * and serve it.
 */
final class PageCache {

    private static final Logger LOG = Logger.getLogger(PageCache.class.getName());
    private static final Set<String> UNSAFE_METHODS = Set.of("POST", "PUT", "PATCH", "DELETE");
    private static final long PASS_MILLIS = 60_000;
    private static final long POLL_MILLIS = 20;

    private final CacheSettings settings;
    private final CacheStore store;
    private final CacheStatistics statistics;
    private final CircuitBreaker circuit;
    private final Map<String, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();

    PageCache(CacheSettings settings, CacheStore store, CacheStatistics statistics) {
        this.settings = settings;
        this.store = store;
        this.statistics = statistics;
        this.circuit = new CircuitBreaker(settings.circuitBreakerMillis());
    }

    void handle(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        String method = request.getMethod();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            chain.doFilter(request, response);
            if (UNSAFE_METHODS.contains(method) && response.getStatus() < 400 && hostAllowed(request)) {
                evictQuietly(CanonicalUrl.of(request));
            }
            return;
        }
        long ruleTtl = settings.ruleTtlSeconds(CanonicalUrl.pathInContext(request));
        String bypass = ruleTtl < 0 ? "not-included" : !hostAllowed(request) ? "host"
                : noCacheRequested(request) ? "request-no-cache" : !circuit.allows() ? "redis-unavailable" : null;
        if (bypass != null) {
            bypass(bypass, request, response, chain);
            return;
        }
        String url = CanonicalUrl.of(request);
        String token = UUID.randomUUID().toString();
        CacheStore.Lookup found;
        String key = url;
        try {
            found = store.lookup(url, token, settings.lockTimeoutMillis(), method.equals("GET"));
            if (found.varyHeaders() != null) {
                key = variantKey(url, found.varyHeaders(), request);
                found = store.lookup(key, token, settings.lockTimeoutMillis(), method.equals("GET"));
            }
        } catch (JedisException e) {
            redisFailed(e);
            bypass("redis-unavailable", request, response, chain);
            return;
        }
        if (found.entry() != null && found.entry().anonymousOnly() && carriesCredentials(request)) {
            // Rendered for an anonymous visitor from a page that looks for the user: not for this one.
            releaseQuietly(key, token, 0);
            bypass("credentials", request, response, chain);
            return;
        }
        switch (found.outcome()) {
            case HIT -> {
                if (settings.earlyRefresh() && method.equals("GET") && refreshEarly(found.entry())
                        && leaseForRefresh(key, token)) {
                    render(key, url, token, ruleTtl, request, response, chain);
                } else {
                    statistics.hit();
                    serve(found.entry(), "HIT", request, response);
                }
            }
            case STALE -> {
                statistics.stale();
                serve(found.entry(), "STALE", request, response);
                if (found.refreshLease()) {
                    refreshInBackground(key, url, token, ruleTtl, request, response, chain);
                }
            }
            case PASS -> {
                statistics.miss();
                statistics.bypass("uncacheable-url");
                response.setHeader("X-Cache", "MISS");
                chain.doFilter(request, response);
            }
            case LEASE -> render(key, url, token, ruleTtl, request, response, chain);
            case WAIT -> {
                if (method.equals("HEAD")) {
                    statistics.miss();
                    response.setHeader("X-Cache", "MISS");
                    chain.doFilter(request, response);
                } else {
                    awaitOrRender(key, url, token, ruleTtl, request, response, chain);
                }
            }
        }
    }

    /** Evicts the entry (and variants) of an absolute URL's canonical form. */
    long evictQuietly(String url) {
        try {
            long count = store.evictUrl(url);
            statistics.evicted(count);
            return count;
        } catch (JedisException e) {
            redisFailed(e);
            return 0;
        }
    }

    long evictTag(String tag) {
        long count = store.evictTag(tag);
        statistics.evicted(count);
        return count;
    }

    private void bypass(String reason, HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        statistics.bypass(reason);
        response.setHeader("X-Cache", "BYPASS");
        chain.doFilter(request, response);
    }

    private static boolean carriesCredentials(HttpServletRequest request) {
        return request.getHeader("Cookie") != null || request.getHeader("Authorization") != null
                || request.getRequestedSessionId() != null;
    }

    private boolean hostAllowed(HttpServletRequest request) {
        return settings.allowedHosts().contains(request.getServerName().toLowerCase(Locale.ROOT));
    }

    private static boolean noCacheRequested(HttpServletRequest request) {
        Map<String, String> directives = HttpCaching.cacheControl(request.getHeader("Cache-Control"));
        String pragma = request.getHeader("Pragma");
        return directives.containsKey("no-cache") || directives.containsKey("no-store")
                || pragma != null && pragma.toLowerCase(Locale.ROOT).contains("no-cache");
    }

    /** Waits for the render of another request (this node's, or another node's via Redis). */
    private void awaitOrRender(String key, String url, String token, long ruleTtl, HttpServletRequest request,
            HttpServletResponse response, FilterChain chain) throws IOException, ServletException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.lockTimeoutMillis());
        CompletableFuture<Void> local = inFlight.get(key);
        if (local != null) {
            try {
                local.get(settings.lockTimeoutMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                // Timed out or failed: fall through to Redis, then render uncached.
            }
        }
        try {
            while (true) {
                CacheStore.Lookup found = store.lookup(key, token, settings.lockTimeoutMillis(), true);
                switch (found.outcome()) {
                    case HIT, STALE -> {
                        statistics.coalesced();
                        statistics.hit();
                        serve(found.entry(), "HIT", request, response);
                        return;
                    }
                    case LEASE -> {
                        render(key, url, token, ruleTtl, request, response, chain);
                        return;
                    }
                    case PASS -> {
                        statistics.miss();
                        response.setHeader("X-Cache", "MISS");
                        chain.doFilter(request, response);
                        return;
                    }
                    case WAIT -> {
                        if (System.nanoTime() - deadline > 0) {
                            statistics.bypass("lock-timeout");
                            statistics.miss();
                            statistics.rendered();
                            response.setHeader("X-Cache", "MISS");
                            chain.doFilter(request, response);
                            return;
                        }
                        Thread.sleep(POLL_MILLIS);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ServletException("Interrupted while waiting for a cache render", e);
        } catch (JedisException e) {
            redisFailed(e);
            bypass("redis-unavailable", request, response, chain);
        }
    }

    /** Renders with this request's lease, stores if storable, and serves the result. */
    private void render(String key, String url, String token, long ruleTtl, HttpServletRequest request,
            HttpServletResponse response, FilterChain chain) throws IOException, ServletException {
        statistics.miss();
        CompletableFuture<Void> flight = new CompletableFuture<>();
        inFlight.put(key, flight);
        try {
            ObservedRequest observed = new ObservedRequest(request);
            CapturingResponse capture = new CapturingResponse(response, settings.maxEntryBytes());
            statistics.rendered();
            chain.doFilter(observed, capture);
            if (request.isAsyncStarted()) {
                capture.goThrough("async");
            }
            capture.finishWriting();
            finish(key, url, token, ruleTtl, observed, capture, request, response, true);
        } catch (IOException | ServletException | RuntimeException | Error e) {
            releaseQuietly(key, token, 0);
            throw e;
        } finally {
            inFlight.remove(key, flight);
            flight.complete(null);
        }
    }

    /**
     * After serving a stale copy, renders again with a response that reaches nobody, and stores
     * the result: the client already has its answer.
     */
    private void refreshInBackground(String key, String url, String token, long ruleTtl, HttpServletRequest request,
            HttpServletResponse response, FilterChain chain) {
        try {
            response.flushBuffer();
            ObservedRequest observed = new ObservedRequest(request);
            CapturingResponse capture = new CapturingResponse(new DetachedResponse(response), settings.maxEntryBytes());
            statistics.rendered();
            chain.doFilter(observed, capture);
            capture.finishWriting();
            finish(key, url, token, ruleTtl, observed, capture, request, null, false);
        } catch (Exception e) {
            LOG.log(Level.FINE, "Refreshing a stale entry failed; it keeps being served until it expires", e);
            releaseQuietly(key, token, 0);
        }
    }

    private void finish(String key, String url, String token, long ruleTtl, ObservedRequest observed,
            CapturingResponse capture, HttpServletRequest request, HttpServletResponse response, boolean deliver)
            throws IOException {
        String reason = capture.throughReason();
        Map<String, String> control = HttpCaching.cacheControl(capture.getHeader("Cache-Control"));
        if (reason == null) {
            reason = unstorableReason(observed, capture, control, request);
        }
        long ttl = reason == null ? ttlSeconds(capture, control, ruleTtl) : 0;
        if (reason == null && ttl <= 0) {
            reason = "ttl";
        }
        if (reason != null) {
            statistics.bypass(reason);
            releaseQuietly(key, token, inherent(reason) ? PASS_MILLIS : 0);
            if (deliver && capture.throughReason() == null) {
                response.setHeader("X-Cache", "MISS");
                capture.sendHeadersTo(response);
                byte[] body = capture.body();
                response.setContentLength(body.length);
                if (!request.getMethod().equals("HEAD")) {
                    response.getOutputStream().write(body);
                }
            }
            return;
        }
        String vary = varyHeaders(capture);
        String entryKey = key;
        if (!vary.isEmpty() && key.equals(url)) {
            entryKey = variantKey(url, vary, request);
        }
        CachedResponse entry = build(entryKey, capture, ttl, control, observed.askedForIdentity());
        try {
            if (!vary.isEmpty()) {
                store.markVary(url, vary, entry.staleUntil() - System.currentTimeMillis());
            }
            statistics.evicted(store.store(entry, key, vary.isEmpty() ? null : url, token, settings.maxCacheBytes()));
            statistics.stored();
        } catch (JedisException e) {
            redisFailed(e);
        }
        if (deliver) {
            serve(entry, "MISS", request, response);
        }
    }

    private String unstorableReason(ObservedRequest observed, CapturingResponse capture, Map<String, String> control,
            HttpServletRequest request) {
        if (!HttpCaching.STORABLE_STATUSES.contains(capture.getStatus())) {
            return "status";
        }
        if (capture.setsCookie()) {
            return "set-cookie";
        }
        if (control.containsKey("private") || control.containsKey("no-store") || control.containsKey("no-cache")) {
            return "cache-control";
        }
        String vary = capture.getHeader("Vary");
        if (vary != null && vary.contains("*")) {
            return "vary-star";
        }
        if (capture.containsHeader("Content-Encoding")) {
            return "encoded";
        }
        if (observed.personalReason() != null) {
            return "personal:" + observed.personalReason();
        }
        if (request.getHeader("Authorization") != null && !control.containsKey("public")
                && !control.containsKey("s-maxage")) {
            return "authorization";
        }
        Set<String> unkeyed = new HashSet<>(observed.headersRead());
        for (String name : varyHeaders(capture).split(",")) {
            unkeyed.remove(name.trim().toLowerCase(Locale.ROOT));
        }
        if (!unkeyed.isEmpty()) {
            return "unkeyed-header";
        }
        return null;
    }

    /** Reasons that hold for every request of the URL, worth a "pass" mark so nobody waits for it. */
    private static boolean inherent(String reason) {
        return Set.of("status", "cache-control", "vary-star", "encoded", "ttl", "oversized", "async", "flushed")
                .contains(reason);
    }

    /** Explicit freshness wins: s-maxage, then max-age, then Expires; else the rule's TTL. */
    private static long ttlSeconds(CapturingResponse capture, Map<String, String> control, long ruleTtl) {
        long sMaxAge = HttpCaching.seconds(control, "s-maxage");
        if (sMaxAge >= 0) {
            return sMaxAge;
        }
        long maxAge = HttpCaching.seconds(control, "max-age");
        if (maxAge >= 0) {
            return maxAge;
        }
        long expires = HttpCaching.httpDate(capture.getHeader("Expires"));
        if (capture.getHeader("Expires") != null) {
            return expires < 0 ? 0 : Math.max(0, (expires - System.currentTimeMillis()) / 1000);
        }
        return ruleTtl;
    }

    /** The request headers the response varies on, lower case, comma-separated; Accept-Encoding is ours. */
    private static String varyHeaders(CapturingResponse capture) {
        TreeSet<String> names = new TreeSet<>();
        for (String header : capture.getHeaders("Vary")) {
            for (String name : header.split(",")) {
                String lower = name.trim().toLowerCase(Locale.ROOT);
                if (!lower.isEmpty() && !lower.equals("accept-encoding")) {
                    names.add(lower);
                }
            }
        }
        return String.join(",", names);
    }

    private static String variantKey(String url, String varyHeaders, HttpServletRequest request) {
        StringBuilder key = new StringBuilder(url).append("|vary");
        for (String name : varyHeaders.split(",")) {
            String value = request.getHeader(name);
            key.append('|').append(name).append('=').append(value == null ? "" : value.trim());
        }
        return key.toString();
    }

    private CachedResponse build(String key, CapturingResponse capture, long ttlSeconds, Map<String, String> control,
            boolean anonymousOnly) {
        byte[] raw = capture.body();
        List<CachedResponse.Header> headers = new ArrayList<>();
        String contentType = capture.getContentType();
        if (contentType != null) {
            headers.add(new CachedResponse.Header("Content-Type", contentType));
        }
        for (CachedResponse.Header header : capture.headers()) {
            if (!HttpCaching.NOT_REPLAYED.contains(header.name().toLowerCase(Locale.ROOT))) {
                headers.add(header);
            }
        }
        Set<String> tags = new HashSet<>();
        for (String value : capture.getHeaders(CapturingResponse.TAGS_HEADER)) {
            for (String tag : value.split("[\\s,]+")) {
                if (!tag.isEmpty()) {
                    tags.add(tag);
                }
            }
        }
        boolean gzip = raw.length >= 256 && HttpCaching.compressible(contentType);
        String etag = capture.getHeader("ETag") != null ? capture.getHeader("ETag") : strongEtag(raw);
        long now = System.currentTimeMillis();
        long fresh = now + ttlSeconds * 1000;
        long staleWindow = Math.max(settings.staleSeconds(),
                Math.max(HttpCaching.seconds(control, "stale-while-revalidate"),
                        HttpCaching.seconds(control, "stale-if-error")));
        return new CachedResponse(key, capture.getStatus(), headers, gzip ? gzip(raw) : raw, gzip, raw.length, etag, now,
                fresh, fresh + Math.max(0, staleWindow) * 1000, tags, anonymousOnly);
    }

    /** Writes an entry to the client: conditional answers, HEAD, content coding, exact length. */
    static void serve(CachedResponse entry, String outcome, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        for (CachedResponse.Header header : entry.headers()) {
            if (header.name().equalsIgnoreCase("Content-Type")) {
                response.setContentType(header.value());
            } else {
                response.addHeader(header.name(), header.value());
            }
        }
        long age = Math.max(0, (System.currentTimeMillis() - entry.storedAt()) / 1000);
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

    /** XFetch: refresh a hot entry before it expires, with a probability that grows toward expiry. */
    private static boolean refreshEarly(CachedResponse entry) {
        long lifetime = Math.max(1, entry.freshUntil() - entry.storedAt());
        double beta = 1.0;
        double gap = -0.05 * lifetime * beta * Math.log(ThreadLocalRandom.current().nextDouble(1e-9, 1));
        return System.currentTimeMillis() + gap >= entry.freshUntil();
    }

    private boolean leaseForRefresh(String key, String token) {
        try {
            CacheStore.Lookup lease = store.lookup(key + "|early", token, settings.lockTimeoutMillis(), true);
            return lease.outcome() == CacheStore.Outcome.LEASE;
        } catch (JedisException e) {
            redisFailed(e);
            return false;
        }
    }

    private void releaseQuietly(String key, String token, long passMillis) {
        try {
            store.release(key, token, passMillis);
        } catch (JedisException e) {
            redisFailed(e);
        }
    }

    private void redisFailed(JedisException e) {
        circuit.trip();
        LOG.warning("Redis failed, the page cache is bypassed for " + settings.circuitBreakerMillis() + " ms: "
                + e.getMessage());
    }

    private static String strongEtag(byte[] body) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(body);
            return "\"" + Base64.getUrlEncoder().withoutPadding().encodeToString(digest).substring(0, 27) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
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

    private static byte[] gunzip(byte[] gzipped) {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gzipped))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package io.tomcatredis.cache;

import jakarta.servlet.ServletContext;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;

/**
 * The application's handle on the page cache of its webapp: evict a URL, or every entry carrying
 * a tag, on all nodes. A response is tagged with the header {@code X-Cache-Tags: product-42 catalog}
 * (stripped before it reaches the client).
 *
 * <pre>{@code
 * RedisCache.of(getServletContext()).evictTag("product-42");
 * }</pre>
 */
public final class RedisCache {

    static final String CONTEXT_ATTRIBUTE = RedisCache.class.getName();

    private final PageCache cache;
    private final CacheStatistics statistics;

    RedisCache(PageCache cache, CacheStatistics statistics) {
        this.cache = cache;
        this.statistics = statistics;
    }

    /**
     * @throws IllegalStateException when no RedisCacheFilter is configured in this webapp
     */
    public static RedisCache of(ServletContext context) {
        Object cache = context.getAttribute(CONTEXT_ATTRIBUTE);
        if (!(cache instanceof RedisCache redisCache)) {
            throw new IllegalStateException("No RedisCacheFilter is configured in " + context.getContextPath());
        }
        return redisCache;
    }

    /** Evicts the entry of {@code absoluteUrl} (e.g. {@code https://shop.example.com/catalog/42}); returns how many entries went. */
    public long evictUrl(String absoluteUrl) {
        URI uri = URI.create(absoluteUrl);
        String canonical = uri.getScheme().toLowerCase() + "://" + uri.getHost().toLowerCase()
                + CanonicalUrl.normalizePath(uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/"
                        : uri.getRawPath())
                + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        return cache.evictQuietly(canonical);
    }

    /** Evicts the entry of the URL of {@code request}. */
    public long evict(HttpServletRequest request) {
        return cache.evictQuietly(CanonicalUrl.of(request));
    }

    /** Evicts every entry tagged {@code tag}; returns how many entries went. */
    public long evictTag(String tag) {
        return cache.evictTag(tag);
    }

    /** The filter's counters (also on JMX). */
    public CacheStatisticsMBean statistics() {
        return statistics;
    }
}

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

    /**
     * Evicts the entry of {@code absoluteUrl} (e.g. {@code https://shop.example.com/catalog/42}),
     * and its variants, on all nodes; returns how many entries went. The path is decoded and
     * normalized as the container does, so {@code /catalog/caf%C3%A9} and
     * {@code /catalog/./café} name one page. A render of the URL that began before is not stored.
     *
     * @throws IllegalArgumentException when {@code absoluteUrl} is not an absolute http(s) URL
     * @throws CacheUnavailableException when Redis fails (down, slow past {@code timeoutMillis}):
     *     the entry may still be there
     */
    public long evictUrl(String absoluteUrl) {
        URI uri = URI.create(absoluteUrl);
        if (uri.getScheme() == null || uri.getHost() == null) {
            throw new IllegalArgumentException("Not an absolute URL with a host: " + absoluteUrl);
        }
        String path = uri.getPath() == null || uri.getPath().isEmpty() ? "/" : uri.getPath();
        return cache.evictUrl(CanonicalUrl.of(uri.getScheme(), uri.getHost(), CanonicalUrl.normalizePath(path),
                uri.getRawQuery()));
    }

    /**
     * Evicts the entry of the URL of {@code request}.
     *
     * @throws CacheUnavailableException when Redis fails: the entry may still be there
     */
    public long evict(HttpServletRequest request) {
        return cache.evictUrl(CanonicalUrl.of(request.getScheme(), request.getServerName(),
                request.getServletContext().getContextPath() + CanonicalUrl.containerPath(request),
                request.getQueryString()));
    }

    /**
     * Evicts every entry tagged {@code tag}, on all nodes; returns how many entries went. A render
     * that began before and would carry the tag is not stored. On Redis Cluster the eviction runs
     * in each of the cache's buckets, on every shard ({@code EVALSHA} per bucket, one pipeline).
     *
     * @throws CacheUnavailableException when Redis fails (down, slow past {@code timeoutMillis}):
     *     the entries may still be there (in the buckets whose eviction did not run)
     */
    public long evictTag(String tag) {
        return cache.evictTag(tag);
    }

    /** The filter's counters (also on JMX). */
    public CacheStatisticsMBean statistics() {
        return statistics;
    }
}

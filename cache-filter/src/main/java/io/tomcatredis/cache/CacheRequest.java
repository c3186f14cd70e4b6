package io.tomcatredis.cache;

import java.util.Set;

/**
 * A GET or HEAD the classification phase let through to the cache, with what the later phases
 * need to know about it.
 *
 * @param head whether it is a HEAD (answered from the GET entry, never creating one)
 * @param url the canonical URL ({@link CanonicalUrl}): what eviction by URL finds
 * @param baseKey the key looked up first: the URL, plus the request's {@code Accept-Language}
 *     lines ({@link CanonicalUrl#withLanguages}), the locale and the request attribute names a
 *     filter ahead set ({@link CanonicalUrl#withAhead}), and the values of the headers named by a
 *     {@code Vary} already on the response when the filter was reached
 * @param aheadVary those header names, lower case, comma-separated ("" for none)
 * @param ruleTtlSeconds the TTL of the include rule that matched, in seconds
 * @param credentialed whether it (or a request it wraps) carries a cookie not in
 *     {@code ignoredCookies} or a malformed one, credentials ({@code Authorization}, a client
 *     certificate), or a header outside {@link RequestClassifier#NEUTRAL_HEADERS} and
 *     {@code ignoredHeaders}: such a request is served, and creates, only entries whose response
 *     said they may be shared
 * @param aheadAttributes names of the request attributes set before the filter was reached
 */
record CacheRequest(boolean head, String url, String baseKey, String aheadVary, long ruleTtlSeconds,
        boolean credentialed, Set<String> aheadAttributes) {

    /** Whether {@code entry} may be served to this request. */
    boolean mayBeServed(CachedResponse entry) {
        return !credentialed || entry.shared() && !entry.anonymousOnly();
    }
}

package io.tomcatredis.cache;

import jakarta.servlet.http.HttpServletResponse;

/**
 * Phase 6, what the filter did, as response headers: RFC 9211 {@code Cache-Status} (init-param
 * {@code cacheStatus}, on by default, naming the cache {@code cacheStatusName}) and the older
 * {@code X-Cache: HIT | STALE | MISS | BYPASS} (init-param {@code xCache}, on by default).
 *
 * <pre>
 *   Cache-Status: tomcat-redis; hit; ttl=42                        a fresh entry (ttl: seconds of freshness left)
 *   Cache-Status: tomcat-redis; hit; ttl=-3                        a stale entry served while it is refreshed
 *   Cache-Status: tomcat-redis; fwd=uri-miss; collapsed            served the render of another request it waited for
 *   Cache-Status: tomcat-redis; fwd=uri-miss; fwd-status=200; stored    rendered and stored
 *   Cache-Status: tomcat-redis; fwd=uri-miss; fwd-status=200; detail=set-cookie    rendered, not stored, and why
 *   Cache-Status: tomcat-redis; fwd=bypass; detail=not-included    passed before the application ran, and why
 * </pre>
 * {@code fwd=method} for a method other than GET and HEAD, {@code fwd=request} for a request that
 * asked for a fresh copy, {@code fwd=vary-miss} when the URL's entries vary and this variant was
 * missing, {@code fwd=stale} for a render of an entry due for refresh ({@code earlyRefresh}, or a
 * stale one not to be served to this request), {@code fwd=miss} for an entry there but not for
 * this request (credentials). The details are the bypass reasons of JMX {@code BypassesByReason}.
 */
final class CacheStatus {

    /** One response's outcome: the {@code X-Cache} label and the parameters after the cache's name. */
    record Outcome(String label, String parameters) {

        /** A stored entry served as it is, {@code label} HIT or STALE: {@code ttl} negative once stale. */
        static Outcome served(String label, CachedResponse entry, long nowMillis) {
            long ttl = Math.floorDiv(entry.freshUntil() - nowMillis, 1000);
            return new Outcome(label, "hit; ttl=" + ttl);
        }

        /** The entry another request rendered while this one waited for it. */
        static Outcome collapsed() {
            return new Outcome("HIT", "fwd=uri-miss; collapsed");
        }

        /**
         * Rendered for this request: stored, or not and why ({@code notStored}).
         *
         * @param fwd why it went to the application: {@code uri-miss}, {@code vary-miss},
         *     {@code stale} (an entry due for refresh), {@code miss} (an entry not for this request)
         */
        static Outcome rendered(String fwd, int status, BypassReason notStored) {
            return new Outcome("MISS", "fwd=" + fwd + "; fwd-status=" + status
                    + (notStored == null ? "; stored" : "; detail=" + notStored.label()));
        }

        /** Went to the application uncached after the lookup (a mark, a HEAD, a lock timeout). */
        static Outcome uncached(BypassReason reason) {
            return new Outcome("MISS", "fwd=uri-miss; detail=" + reason.label());
        }

        /** Passed before the lookup. */
        static Outcome bypassed(BypassReason reason) {
            String fwd = switch (reason) {
                case METHOD -> "fwd=method";
                case REQUEST_NO_CACHE -> "fwd=request";
                default -> "fwd=bypass";
            };
            return new Outcome("BYPASS", fwd + "; detail=" + reason.label());
        }
    }

    private final String name;
    private final boolean cacheStatus;
    private final boolean xCache;

    /**
     * @param name the cache's name in {@code Cache-Status} (an RFC 8941 token)
     * @param cacheStatus whether to send {@code Cache-Status}
     * @param xCache whether to send {@code X-Cache}
     */
    CacheStatus(String name, boolean cacheStatus, boolean xCache) {
        this.name = name;
        this.cacheStatus = cacheStatus;
        this.xCache = xCache;
    }

    /** Sets the headers the configuration asks for; a method bypass sends no {@code X-Cache}, as before. */
    void write(Outcome outcome, HttpServletResponse response) {
        if (xCache && !outcome.parameters().startsWith("fwd=method")) {
            response.setHeader("X-Cache", outcome.label());
        }
        if (cacheStatus) {
            response.setHeader("Cache-Status", name + "; " + outcome.parameters());
        }
    }
}

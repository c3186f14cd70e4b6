package io.tomcatredis.cache;

import java.time.Clock;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Phase 5: whether a rendered response may be stored, and for how long. A HEAD never stores.
 * The response speaks first (status, cookies, Cache-Control and the targeted CDN-Cache-Control
 * or Surrogate-Control, Vary, content coding, trailers, session ids in URLs),
 * then what the render read (in the order of {@link BypassReason}), then credentials and
 * freshness. Headers set on the response ahead of the filter count as the application's.
 */
final class Storability {

    /**
     * @param reason why the response is not stored, or null when it is
     * @param ttlSeconds its freshness lifetime when stored, in seconds
     * @param control its Cache-Control directives
     * @param vary the request headers it varies on beyond those of the request's base key, lower
     *     case, comma-separated ("" for none)
     * @param targeted the directives of its targeted field ({@link HttpCaching#targetedControl}),
     *     empty when it has none
     */
    record Decision(BypassReason reason, long ttlSeconds, Map<String, String> control, String vary,
            Map<String, String> targeted) {

        boolean storable() {
            return reason == null;
        }

        /** {@code Cache-Control: public} or {@code s-maxage}: may be served to requests with credentials. */
        boolean shared() {
            return HttpCaching.explicitlyShared(control);
        }
    }

    private Storability() {
    }

    static Decision decide(CacheRequest request, ObservedRequest.Observation observed,
            CapturingResponse.Rendered rendered, Clock clock) {
        Map<String, String> control = HttpCaching.cacheControl(rendered.values("Cache-Control"));
        Map<String, String> targeted = HttpCaching.targetedControl(rendered.values("CDN-Cache-Control"),
                rendered.values("Surrogate-Control"));
        Set<String> varyAll = names(HttpCaching.varyNames(rendered.values("Vary")));
        Set<String> aheadVary = names(request.aheadVary());
        Set<String> vary = new HashSet<>(varyAll);
        vary.removeAll(aheadVary);
        String varyText = vary.stream().sorted().collect(Collectors.joining(","));
        BypassReason reason = reason(request, observed, rendered, control, varyAll);
        if (reason == null && HttpCaching.forbidsSharedStorage(targeted)) {
            reason = BypassReason.CACHE_CONTROL;
        }
        long ttl = reason == null ? ttlSeconds(rendered, targeted, control, request.ruleTtlSeconds(), clock) : 0;
        if (reason == null && ttl <= 0) {
            reason = BypassReason.TTL;
        }
        return new Decision(reason, ttl, control, varyText, targeted);
    }

    private static BypassReason reason(CacheRequest request, ObservedRequest.Observation observed,
            CapturingResponse.Rendered rendered, Map<String, String> control, Set<String> vary) {
        if (request.head()) {
            // Answered from the GET entry when there is one; never the author of one.
            return BypassReason.METHOD;
        }
        if (rendered.through() != null) {
            return rendered.through();
        }
        if (!HttpCaching.STORABLE_STATUSES.contains(rendered.status())) {
            return BypassReason.STATUS;
        }
        if (rendered.setsCookie() || !rendered.values("Set-Cookie").isEmpty()) {
            return BypassReason.SET_COOKIE;
        }
        if (HttpCaching.forbidsSharedStorage(control)
                || HttpCaching.surrogateForbidsStorage(rendered.values("Surrogate-Control"))) {
            return BypassReason.CACHE_CONTROL;
        }
        if (vary.contains("*")) {
            return BypassReason.VARY_STAR;
        }
        if (!rendered.values("Content-Encoding").isEmpty()) {
            return BypassReason.ENCODED;
        }
        if (rendered.trailers()) {
            return BypassReason.TRAILERS;
        }
        if (rendered.sessionEncoded()) {
            return BypassReason.SESSION_IN_URL;
        }
        if (rendered.aheadHeaderRead()) {
            // A value a filter ahead set for this request (a CSP nonce) that the page built on.
            return BypassReason.AHEAD_HEADER;
        }
        for (BypassReason read : BypassReason.values()) {
            if (observed.reads().contains(read)) {
                return read;
            }
        }
        Set<String> unkeyed = new HashSet<>(observed.headersRead());
        unkeyed.removeAll(vary);
        if (!unkeyed.isEmpty()) {
            return BypassReason.UNKEYED_HEADER;
        }
        if (request.credentialed() && !HttpCaching.explicitlyShared(control)) {
            return BypassReason.CREDENTIALS;
        }
        return null;
    }

    /**
     * Explicit freshness wins: the targeted field's ({@code CDN-Cache-Control}, else
     * {@code Surrogate-Control}: RFC 9213) {@code s-maxage} then {@code max-age}, then
     * Cache-Control's {@code s-maxage}, then {@code max-age}, then Expires (RFC 9111 4.2.1); else
     * the rule's TTL.
     */
    static long ttlSeconds(CapturingResponse.Rendered rendered, Map<String, String> targeted,
            Map<String, String> control, long ruleTtl, Clock clock) {
        for (String directive : new String[] {"s-maxage", "max-age"}) {
            long seconds = HttpCaching.seconds(targeted, directive);
            if (seconds >= 0) {
                return seconds;
            }
        }
        long sMaxAge = HttpCaching.seconds(control, "s-maxage");
        if (sMaxAge >= 0) {
            return sMaxAge;
        }
        long maxAge = HttpCaching.seconds(control, "max-age");
        if (maxAge >= 0) {
            return maxAge;
        }
        List<String> expires = rendered.values("Expires");
        if (!expires.isEmpty()) {
            long at = HttpCaching.httpDate(expires.get(0), clock.millis());
            return at < 0 ? 0 : Math.max(0, (at - clock.millis()) / 1000);
        }
        return ruleTtl;
    }

    private static Set<String> names(String commaSeparated) {
        return commaSeparated.isEmpty() ? Set.of() : new HashSet<>(Arrays.asList(commaSeparated.split(",")));
    }
}

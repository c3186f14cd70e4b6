package io.tomcatredis.cache;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Phase 1, before the application runs: which requests go past the cache at once ("pass"), and
 * what the others are keyed on. Only what the request and the response say when the filter is
 * reached counts here; what the application reads is watched in the render phase. In doubt, pass.
 */
final class RequestClassifier {

    /** The outcome: an unsafe method, a reason to pass, or a request for the cache. */
    record Classification(boolean unsafe, BypassReason pass, CacheRequest request) {
    }

    private static final Set<String> UNSAFE_METHODS = Set.of("POST", "PUT", "PATCH", "DELETE");
    /** Prefixes of the request attributes Tomcat sets for its own use (dispatching, sendfile), whatever the request. */
    private static final List<String> CONTAINER_ATTRIBUTES = List.of("org.apache.catalina.", "org.apache.tomcat.",
            // The TLS connection (cipher, session id, key size), set by the container or SSLValve:
            // a page reading them is not stored (render phase); a client certificate makes the
            // request credentialed (classification).
            "jakarta.servlet.request.");

    private final CacheSettings settings;

    RequestClassifier(CacheSettings settings) {
        this.settings = settings;
    }

    Classification classify(HttpServletRequest request, HttpServletResponse response) {
        if (request.getDispatcherType() != DispatcherType.REQUEST) {
            // A forward, include, error or async dispatch renders from the state of the request
            // that dispatched it; that request is the one cached, or not.
            return pass(BypassReason.DISPATCH);
        }
        String method = request.getMethod();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            return UNSAFE_METHODS.contains(method) ? new Classification(true, BypassReason.METHOD, null)
                    : pass(BypassReason.METHOD);
        }
        String host = request.getServerName();
        if (!hostAllowed(request) || !host.equals(host.toLowerCase(Locale.ROOT))) {
            return pass(BypassReason.HOST);
        }
        if (request.isRequestedSessionIdFromURL()) {
            return pass(BypassReason.SESSION_ID);
        }
        String contextPath = request.getServletContext().getContextPath();
        String containerPath = CanonicalUrl.containerPath(request);
        if (!request.getRequestURI().equals(contextPath + CanonicalUrl.encodePath(containerPath))) {
            // Not the one canonical form of the path the container routes on: a page built from
            // the URI as sent would differ from the cached one, and a form we cannot derive the
            // container's path from could match other rules than the container's mapping.
            return pass(BypassReason.PATH);
        }
        long ruleTtl = settings.ruleTtlSeconds(containerPath);
        if (ruleTtl < 0) {
            return pass(BypassReason.NOT_INCLUDED);
        }
        if (noCacheRequested(request)) {
            return pass(BypassReason.REQUEST_NO_CACHE);
        }
        if (request.getHeader("Content-Type") != null || request.getHeader("Transfer-Encoding") != null
                || request.getContentLengthLong() > 0) {
            return pass(BypassReason.REQUEST_BODY);
        }
        if (request.getRequestedSessionId() != null || request.getSession(false) != null) {
            return pass(BypassReason.SESSION_ID);
        }
        if (request.getAuthType() != null || request.getUserPrincipal() != null || request.getRemoteUser() != null) {
            // A wrapper ahead (header SSO, a JWT filter) may override getRemoteUser() alone.
            return pass(BypassReason.AUTHENTICATED);
        }
        BypassReason ahead = responseAhead(response);
        if (ahead != null) {
            return pass(ahead);
        }
        String url = CanonicalUrl.of(request.getScheme(), host, contextPath + containerPath,
                request.getQueryString());
        String aheadVary = HttpCaching.varyNames(response.getHeaders("Vary"));
        Set<String> aheadAttributes = aheadAttributes(request);
        // What a filter ahead set for this request, which the page may be built from: part of the key.
        String languages = CanonicalUrl.withAhead(CanonicalUrl.withLanguages(url, request), localeAhead(response),
                response.getHeaders("Content-Language"), response.getContentType(), aheadAttributes);
        String baseKey = aheadVary.isEmpty() ? languages : CanonicalUrl.variant(languages, aheadVary, request);
        return new Classification(false, null, new CacheRequest(method.equals("HEAD"), url, baseKey, aheadVary,
                ruleTtl, credentialed(request), aheadAttributes));
    }

    /** Whether the Host is one of {@code allowedHosts}; also for evicting after an unsafe method. */
    boolean hostAllowed(HttpServletRequest request) {
        return settings.allowedHosts().contains(request.getServerName().toLowerCase(Locale.ROOT));
    }

    private static Classification pass(BypassReason reason) {
        return new Classification(false, reason, null);
    }

    /** {@code no-cache} or {@code no-store} on any line of Cache-Control, or {@code no-cache} on any line of Pragma. */
    private static boolean noCacheRequested(HttpServletRequest request) {
        Map<String, String> directives = HttpCaching.cacheControl(lines(request, "Cache-Control"));
        boolean pragma = lines(request, "Pragma").stream()
                .anyMatch(line -> line.toLowerCase(Locale.ROOT).contains("no-cache"));
        return directives.containsKey("no-cache") || directives.containsKey("no-store") || pragma;
    }

    private static List<String> lines(HttpServletRequest request, String name) {
        Enumeration<String> values = request.getHeaders(name);
        return values == null ? List.of() : Collections.list(values);
    }

    /**
     * What a filter ahead of this one already put on the response counts as the application's:
     * a cookie, {@code Cache-Control: private/no-store/no-cache}, {@code Surrogate-Control: no-store},
     * {@code Vary: *}.
     */
    private static BypassReason responseAhead(HttpServletResponse response) {
        if (!response.getHeaders("Set-Cookie").isEmpty()) {
            return BypassReason.SET_COOKIE;
        }
        if (HttpCaching.forbidsSharedStorage(HttpCaching.cacheControl(response.getHeaders("Cache-Control")))
                || HttpCaching.surrogateForbidsStorage(response.getHeaders("Surrogate-Control"))) {
            return BypassReason.CACHE_CONTROL;
        }
        if (HttpCaching.varyNames(response.getHeaders("Vary")).contains("*")) {
            return BypassReason.VARY_STAR;
        }
        return null;
    }

    /**
     * Request headers that never identify a user, lower case: what browsers, HTTP clients, proxies
     * and CDNs send on every anonymous request (RFC 9110 fields, fetch metadata and client hints
     * under {@code Sec-*} and {@link #NEUTRAL_PREFIXES}, forwarding and tracing headers). Any other
     * header may be what a filter ahead of this one turns into a user (an authenticating proxy's
     * {@code X-Forwarded-Email}, a platform's {@code X-MS-CLIENT-PRINCIPAL-NAME}, a forwarded client
     * certificate): in doubt, the request is credentialed. {@code ignoredHeaders} extends the list.
     */
    static final Set<String> NEUTRAL_HEADERS = Set.of(
            // RFC 9110/9111/9112 request fields and their long-standing companions.
            "host", "connection", "keep-alive", "proxy-connection", "te", "upgrade", "http2-settings", "via",
            "max-forwards", "expect", "accept", "accept-charset", "accept-encoding", "accept-language",
            "accept-datetime", "user-agent", "referer", "origin", "cache-control", "pragma", "range",
            "content-length", "content-type", "transfer-encoding", "priority", "early-data", "alt-used",
            // Browsers: privacy, prefetch, data saving, client hints of the legacy form.
            "dnt", "upgrade-insecure-requests", "purpose", "x-purpose", "x-moz", "save-data", "x-requested-with",
            "device-memory", "downlink", "ect", "rtt", "dpr", "width", "viewport-width",
            // Proxies and load balancers: addresses, scheme and host (RemoteIpValve's inputs), request ids.
            "forwarded", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port",
            "x-forwarded-server", "x-real-ip", "true-client-ip", "cf-connecting-ip", "cf-ray", "cf-visitor",
            "cdn-loop", "x-forwarded-scheme", "x-forwarded-ssl", "front-end-https", "fastly-client-ip",
            "fastly-ff", "fastly-ssl", "akamai-origin-hop", "x-amz-cf-id", "cloudfront-forwarded-proto",
            "x-azure-ref", "x-azure-clientip", "x-azure-socketip", "x-azure-fdid", "x-request-start",
            "x-request-id", "x-correlation-id", "x-amzn-trace-id", "x-cloud-trace-context", "traceparent",
            "tracestate", "b3",
            // Service workers' navigation preload.
            "service-worker", "service-worker-navigation-preload");

    /** Prefixes of neutral request headers: fetch metadata and client hints, validators, B3 tracing. */
    static final List<String> NEUTRAL_PREFIXES = List.of("sec-", "if-", "x-b3-");

    /**
     * Headers that carry a user, whatever {@code ignoredHeaders} says; {@code Sec-WebSocket-Protocol}
     * is where browser clients put a bearer token (a WebSocket handshake cannot set Authorization).
     */
    static final Set<String> IDENTIFYING_HEADERS = Set.of("cookie", "cookie2", "authorization",
            "proxy-authorization", "sec-websocket-protocol");

    /** The attribute of the client certificate chain (TLS client authentication, or Tomcat's SSLValve). */
    private static final String CERTIFICATES = "jakarta.servlet.request.X509Certificate";

    /**
     * Whether the request belongs to someone: a cookie not in {@code ignoredCookies} (or a malformed
     * one), {@code Authorization}, a client certificate, or a header that is neither neutral nor in
     * {@code ignoredHeaders}. Every request of the wrapper chain counts, down to the container's
     * own: a wrapper ahead may hide credentials it used (or a session id, a user) from what comes
     * after it.
     */
    private boolean credentialed(HttpServletRequest request) {
        for (ServletRequest layer = request; layer != null; ) {
            if (layer.getAttribute(CERTIFICATES) != null) {
                return true;
            }
            if (layer instanceof HttpServletRequest http && (credentialedHeaders(http)
                    || layer != request && (http.getRequestedSessionId() != null || http.getRemoteUser() != null))) {
                // Below the request the filter was given: a session or user a wrapper ahead hides.
                return true;
            }
            layer = layer instanceof ServletRequestWrapper wrapper ? wrapper.getRequest() : null;
        }
        return false;
    }

    private boolean credentialedHeaders(HttpServletRequest request) {
        if (request.getHeader("Authorization") != null || request.getHeader("Proxy-Authorization") != null) {
            return true;
        }
        Enumeration<String> names = request.getHeaderNames();
        while (names != null && names.hasMoreElements()) {
            String name = names.nextElement().toLowerCase(Locale.ROOT);
            if (!name.equals("cookie") && !neutral(name)) {
                return true;
            }
        }
        Enumeration<String> cookies = request.getHeaders("Cookie");
        while (cookies != null && cookies.hasMoreElements()) {
            if (settings.personalCookie(cookies.nextElement())) {
                return true;
            }
        }
        return false;
    }

    /** Whether a request header (lower case) never identifies a user: built in, or in {@code ignoredHeaders}. */
    private boolean neutral(String name) {
        if (IDENTIFYING_HEADERS.contains(name)) {
            return false;
        }
        return NEUTRAL_HEADERS.contains(name) || NEUTRAL_PREFIXES.stream().anyMatch(name::startsWith)
                || settings.headerIgnored(name);
    }

    /**
     * The locale a filter ahead set on the response (from a country header, a cookie, a user's
     * profile), or null when it is still the container's default: a page built from it
     * ({@code response.getLocale()}, {@code Content-Language}) differs with it, so it is part of the key.
     */
    private static Locale localeAhead(HttpServletResponse response) {
        Locale locale = response.getLocale();
        return locale == null || locale.equals(Locale.getDefault()) ? null : locale;
    }

    private static Set<String> aheadAttributes(HttpServletRequest request) {
        Set<String> names = new HashSet<>();
        Enumeration<String> all = request.getAttributeNames();
        while (all != null && all.hasMoreElements()) {
            String name = all.nextElement();
            if (CONTAINER_ATTRIBUTES.stream().noneMatch(name::startsWith)) {
                names.add(name);
            }
        }
        return names;
    }
}

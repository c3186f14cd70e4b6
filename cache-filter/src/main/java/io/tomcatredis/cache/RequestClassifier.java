package io.tomcatredis.cache;

import jakarta.servlet.DispatcherType;
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
    private static final List<String> CONTAINER_ATTRIBUTES = List.of("org.apache.catalina.", "org.apache.tomcat.");

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
        String languages = CanonicalUrl.withLanguages(url, request);
        String baseKey = aheadVary.isEmpty() ? languages : CanonicalUrl.variant(languages, aheadVary, request);
        return new Classification(false, null, new CacheRequest(method.equals("HEAD"), url, baseKey, aheadVary,
                ruleTtl, credentialed(request), aheadAttributes(request)));
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
     * a cookie, {@code Cache-Control: private/no-store/no-cache}, {@code Vary: *}.
     */
    private static BypassReason responseAhead(HttpServletResponse response) {
        if (!response.getHeaders("Set-Cookie").isEmpty()) {
            return BypassReason.SET_COOKIE;
        }
        if (HttpCaching.forbidsSharedStorage(HttpCaching.cacheControl(response.getHeaders("Cache-Control")))) {
            return BypassReason.CACHE_CONTROL;
        }
        if (HttpCaching.varyNames(response.getHeaders("Vary")).contains("*")) {
            return BypassReason.VARY_STAR;
        }
        return null;
    }

    /**
     * Names of request headers that carry credentials in the wild: bearer tokens, API keys, session
     * tokens, identities set by an SSO proxy ({@code X-Auth-Token}, {@code X-Api-Key},
     * {@code X-Forwarded-User}, {@code X-Amzn-Oidc-Data}, ...). A filter ahead of this one may turn
     * any of them into a signed-in user the filter cannot see (a {@code ThreadLocal}).
     */
    private static final java.util.regex.Pattern CREDENTIAL_HEADER = java.util.regex.Pattern.compile(
            "(?i).*(auth|token|session|api-?key|jwt|sso|oidc|saml|credential|remote-user|forwarded-user|"
                    + "[-_]user$|^user$|[-_]user[-_]).*");

    /** A cookie not listed in {@code ignoredCookies}, or credentials. */
    private boolean credentialed(HttpServletRequest request) {
        if (request.getHeader("Authorization") != null || request.getHeader("Proxy-Authorization") != null) {
            return true;
        }
        Enumeration<String> names = request.getHeaderNames();
        while (names != null && names.hasMoreElements()) {
            if (CREDENTIAL_HEADER.matcher(names.nextElement()).matches()) {
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

package io.tomcatredis.cache;

import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;

/**
 * The part of the cache key that identifies the resource: scheme, host name (from the request
 * line and Host header only; {@code X-Forwarded-*} is never read), the normalized path and the
 * query string. The port is left out, so that nodes on different ports behind one balancer share
 * entries; a page built from the port ({@code getServerPort()}, {@code getRequestURL()}) is not
 * stored at all (see {@link ObservedRequest}).
 */
final class CanonicalUrl {

    private CanonicalUrl() {
    }

    static String of(HttpServletRequest request) {
        String scheme = request.getScheme().toLowerCase(Locale.ROOT);
        String host = request.getServerName().toLowerCase(Locale.ROOT);
        String query = request.getQueryString();
        return scheme + "://" + host + normalizePath(request.getRequestURI())
                + (query == null ? "" : "?" + query);
    }

    /** The path within the webapp, normalized, for matching include/exclude rules. */
    static String pathInContext(HttpServletRequest request) {
        String path = normalizePath(request.getRequestURI());
        String context = request.getContextPath();
        return path.startsWith(context) ? path.substring(context.length()) : path;
    }

    /**
     * Collapses repeated slashes and removes dot segments, so {@code /a//b/../c} and {@code /a/c}
     * are one entry; path parameters ({@code ;jsessionid=...}) are dropped.
     */
    static String normalizePath(String uri) {
        String path = uri;
        Deque<String> segments = new ArrayDeque<>();
        for (String segment : path.split("/")) {
            int semicolon = segment.indexOf(';');
            if (semicolon >= 0) {
                segment = segment.substring(0, semicolon);
            }
            if (segment.isEmpty() || segment.equals(".")) {
                continue;
            }
            if (segment.equals("..")) {
                segments.pollLast();
            } else {
                segments.addLast(segment);
            }
        }
        String normalized = "/" + String.join("/", segments);
        return path.endsWith("/") && !normalized.equals("/") ? normalized + "/" : normalized;
    }
}

package io.tomcatredis.cache;

import jakarta.servlet.http.HttpServletRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Enumeration;
import java.util.Locale;

/**
 * The one place cache key strings are built. A key starts with the canonical URL: scheme, host
 * name (from the request line and Host header only; {@code X-Forwarded-*} is never read), the
 * path the container routes the request on (context path + servlet path + path info) in its one
 * canonical encoding ({@link #encodePath}), and the query string as sent. The port is left out,
 * so that nodes on different ports behind one balancer share entries; a page built from the port
 * is not stored at all (see {@link ObservedRequest}). A request carrying {@code Accept-Language}
 * adds its lines ({@link #withLanguages}): the container, and any filter ahead of this one, turns
 * them into the locale a page is rendered in, where this filter cannot see it. A variant key adds,
 * after a line feed, the values of the request headers a response varies on. Neither the encoded path (no raw
 * {@code ?}, {@code |} or {@code %}) nor a request line or header value can hold a line feed, so
 * no request can forge the key of another URL, query or variant.
 */
final class CanonicalUrl {

    private static final String UNRESERVED_IN_PATH = "-._~!$&'()*+,=:@/";

    private CanonicalUrl() {
    }

    /**
     * @param path decoded and normalized, starting with the context path
     * @param query the raw query string, or null
     */
    static String of(String scheme, String host, String path, String query) {
        return scheme.toLowerCase(Locale.ROOT) + "://" + host.toLowerCase(Locale.ROOT) + encodePath(path)
                + (query == null ? "" : "?" + query);
    }

    /** The path the container mapped the request on, within the webapp: servlet path + path info. */
    static String containerPath(HttpServletRequest request) {
        String info = request.getPathInfo();
        return request.getServletPath() + (info == null ? "" : info);
    }

    /**
     * The key of {@code url} for the request's language preferences: unchanged without an
     * {@code Accept-Language} header, else followed by {@code "\nlanguages="} and its lines as the
     * container gives them (trimmed, several lines kept apart as in {@link #variant}). The locale
     * ({@code getLocale()}, {@code getLocales()}) is a function of these lines, so a page rendered in
     * the locale a filter ahead resolved (set on the response, or kept in a {@code ThreadLocal}, as
     * Spring's {@code LocaleContextHolder} does) is never served to another language.
     */
    static String withLanguages(String url, HttpServletRequest request) {
        String lines = lines(request, "accept-language");
        return lines == null ? url : url + "\nlanguages=" + lines;
    }

    /**
     * The key of {@code key} for what a filter ahead of this one put on the response and the
     * request, each part only when present, values URL-encoded (no line feed or comma of theirs
     * can forge another part): {@code "\nlocale="} and the language tag of the locale it set on
     * the response; {@code "\ncontent-language="} and the {@code Content-Language} lines it set;
     * {@code "\ncontent-type="} and the content type it set; {@code "\nattributes="} and the names
     * of the request attributes it set, sorted. A page rendered without an attribute that looks it
     * up finds null; another request carrying it has another key, so it is never served that page.
     * A page reading the value of one is not stored at all ({@link ObservedRequest}).
     *
     * @param locale the locale set ahead, or null
     * @param contentLanguage the {@code Content-Language} lines set ahead (none: empty)
     * @param contentType the content type set ahead, or null
     * @param attributeNames the names of the request attributes set ahead
     */
    static String withAhead(String key, Locale locale, java.util.Collection<String> contentLanguage,
            String contentType, java.util.Set<String> attributeNames) {
        StringBuilder out = new StringBuilder(key);
        if (locale != null) {
            out.append("\nlocale=").append(locale.toLanguageTag());
        }
        if (!contentLanguage.isEmpty()) {
            out.append("\ncontent-language=").append(encoded(contentLanguage.stream()));
        }
        if (contentType != null) {
            out.append("\ncontent-type=").append(encoded(java.util.stream.Stream.of(contentType)));
        }
        if (!attributeNames.isEmpty()) {
            out.append("\nattributes=").append(encoded(attributeNames.stream().sorted()));
        }
        return out.toString();
    }

    private static String encoded(java.util.stream.Stream<String> values) {
        return values.map(value -> java.net.URLEncoder.encode(value, StandardCharsets.UTF_8))
                .collect(java.util.stream.Collectors.joining(","));
    }

    /** The key of the variant of {@code base} for the request headers {@code varyNames} (lower case, comma-separated). */
    static String variant(String base, String varyNames, HttpServletRequest request) {
        StringBuilder key = new StringBuilder(base).append("\nvary");
        for (String name : varyNames.split(",")) {
            String values = lines(request, name);
            key.append('\n').append(name).append('=').append(values == null ? "" : values);
        }
        return key.toString();
    }

    /** The trimmed values of every line of a request header, or null when it has none. */
    private static String lines(HttpServletRequest request, String name) {
        Enumeration<String> all = request.getHeaders(name);
        if (all == null || !all.hasMoreElements()) {
            return null;
        }
        StringBuilder values = new StringBuilder();
        boolean first = true;
        while (all.hasMoreElements()) {
            // Lines are kept apart by a line feed, which no header value can hold: two lines
            // "de" and "fr" are another variant than the one line "de,fr".
            values.append(first ? "" : "\n+").append(all.nextElement().trim());
            first = false;
        }
        return values.toString();
    }

    /** The key of the lease for refreshing {@code key} before it expires ({@code earlyRefresh}). */
    static String earlyRefresh(String key) {
        return key + "\nearly";
    }

    /**
     * The one encoding of a decoded path this filter caches: UTF-8, upper-case hex, and only the
     * characters RFC 3986 allows unencoded in a segment left as they are (not {@code ;}, which
     * starts a path parameter). A request URI in any other form is passed.
     */
    static String encodePath(String decoded) {
        StringBuilder out = new StringBuilder(decoded.length() + 16);
        for (byte b : decoded.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c < 0x80 && (Character.isLetterOrDigit(c) || UNRESERVED_IN_PATH.indexOf(c) >= 0)) {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return out.toString();
    }

    /**
     * Collapses repeated slashes and removes dot segments, so {@code /a//b/../c} and {@code /a/c}
     * are one URL; path parameters ({@code ;jsessionid=...}) are dropped. For URLs given to
     * {@link RedisCache#evictUrl}; requests are keyed on the container's own normalized path.
     */
    static String normalizePath(String path) {
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

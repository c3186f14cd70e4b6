package io.tomcatredis.cache;

import jakarta.servlet.http.HttpServletRequest;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Collection;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** HTTP rules the cache follows: Cache-Control, conditional requests, content codings (RFC 9110, 9111). */
final class HttpCaching {

    /** Statuses a shared cache may store here (others are never stored). */
    static final Set<Integer> STORABLE_STATUSES = Set.of(200, 203, 204, 300, 301, 308, 404, 410);

    /** Headers never stored nor replayed: hop-by-hop ones, and those that describe one transfer. */
    static final Set<String> NOT_REPLAYED = Set.of("connection", "keep-alive", "proxy-authenticate",
            "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "set-cookie", "date", "age",
            "content-length", "content-encoding", "x-cache", CapturingResponse.TAGS_HEADER.toLowerCase(Locale.ROOT),
            "content-type");

    private HttpCaching() {
    }

    /** Cache-Control directives, lower case, with their argument or "" (absent header: empty map). */
    static Map<String, String> cacheControl(String header) {
        Map<String, String> directives = new HashMap<>();
        if (header == null) {
            return directives;
        }
        for (String part : header.split(",")) {
            String directive = part.trim();
            if (directive.isEmpty()) {
                continue;
            }
            int equals = directive.indexOf('=');
            if (equals < 0) {
                directives.put(directive.toLowerCase(Locale.ROOT), "");
            } else {
                directives.put(directive.substring(0, equals).trim().toLowerCase(Locale.ROOT),
                        directive.substring(equals + 1).trim().replace("\"", ""));
            }
        }
        return directives;
    }

    /** The directives of every value of a Cache-Control header that may be repeated. */
    static Map<String, String> cacheControl(Collection<String> headers) {
        Map<String, String> directives = new HashMap<>();
        for (String header : headers) {
            directives.putAll(cacheControl(header));
        }
        return directives;
    }

    /** {@code private}, {@code no-store} or {@code no-cache}: never stored by a shared cache here (RFC 9111 5.2.2). */
    static boolean forbidsSharedStorage(Map<String, String> directives) {
        return directives.containsKey("private") || directives.containsKey("no-store")
                || directives.containsKey("no-cache");
    }

    /**
     * Whether {@code Surrogate-Control} lines (W3C Edge Architecture 1.0) forbid storage by this
     * filter, a surrogate at the origin: {@code no-store} or {@code no-store-remote}, for every
     * surrogate or targeted at one ({@code no-store;varnish}). Varnish's {@code builtin.vcl}, the
     * model of the phases, never stores such a response; neither does this filter, whoever the target.
     */
    static boolean surrogateForbidsStorage(Collection<String> surrogateControl) {
        for (String line : surrogateControl) {
            for (String part : line.split(",")) {
                String directive = part.trim().toLowerCase(Locale.ROOT);
                int end = directive.length();
                for (char stop : new char[] {'=', ';', ' '}) {
                    int at = directive.indexOf(stop);
                    end = at >= 0 ? Math.min(end, at) : end;
                }
                String name = directive.substring(0, end);
                if (name.equals("no-store") || name.equals("no-store-remote")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** {@code public} or {@code s-maxage}: the response says a shared cache may keep it for anyone (RFC 9111 3.5). */
    static boolean explicitlyShared(Map<String, String> directives) {
        return directives.containsKey("public") || directives.containsKey("s-maxage");
    }

    static long seconds(Map<String, String> directives, String name) {
        String value = directives.get(name);
        if (value == null) {
            return -1;
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Epoch ms of an HTTP date, or -1. */
    static long httpDate(String value) {
        if (value == null) {
            return -1;
        }
        try {
            return ZonedDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /**
     * Whether a conditional GET can be answered 304: If-None-Match (a list, or *, compared weakly)
     * wins over If-Modified-Since.
     */
    static boolean notModified(HttpServletRequest request, String etag, String lastModified) {
        String ifNoneMatch = request.getHeader("If-None-Match");
        if (ifNoneMatch != null) {
            if (ifNoneMatch.trim().equals("*")) {
                return true;
            }
            String ours = opaque(etag);
            for (String candidate : ifNoneMatch.split(",")) {
                if (opaque(candidate).equals(ours)) {
                    return true;
                }
            }
            return false;
        }
        long since = httpDate(request.getHeader("If-Modified-Since"));
        long modified = httpDate(lastModified);
        return since >= 0 && modified >= 0 && modified <= since;
    }

    private static String opaque(String tag) {
        String trimmed = tag == null ? "" : tag.trim();
        return trimmed.startsWith("W/") ? trimmed.substring(2) : trimmed;
    }

    /** Text-like content worth gzipping once for every client. */
    static boolean compressible(String contentType) {
        if (contentType == null) {
            return false;
        }
        String type = contentType.toLowerCase(Locale.ROOT);
        return type.startsWith("text/") || type.contains("json") || type.contains("javascript")
                || type.contains("xml") || type.startsWith("image/svg");
    }

    /**
     * Lower-case header names of Vary values, without Accept-Encoding (the cache stores and sends
     * only bodies the application did not encode, right for every client), sorted, comma-separated.
     */
    static String varyNames(Collection<String> varyHeaders) {
        TreeSet<String> names = new TreeSet<>();
        for (String header : varyHeaders) {
            for (String name : header.split(",")) {
                String lower = name.trim().toLowerCase(Locale.ROOT);
                if (!lower.isEmpty() && !lower.equals("accept-encoding")) {
                    names.add(lower);
                }
            }
        }
        return String.join(",", names);
    }
}

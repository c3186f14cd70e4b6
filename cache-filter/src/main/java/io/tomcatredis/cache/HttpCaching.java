package io.tomcatredis.cache;

import jakarta.servlet.http.HttpServletRequest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.TextStyle;
import java.time.temporal.ChronoField;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** HTTP rules the cache follows: Cache-Control, conditional requests, content codings (RFC 9110, 9111). */
final class HttpCaching {

    /** Statuses a shared cache may store here (others are never stored). */
    static final Set<Integer> STORABLE_STATUSES = Set.of(200, 203, 204, 300, 301, 308, 404, 410);

    /** Headers never stored nor replayed: hop-by-hop ones, and those that describe one transfer. */
    static final Set<String> NOT_REPLAYED = Stream.concat(CacheTags.HEADERS.stream(),
            Stream.of("connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                    "trailer", "transfer-encoding", "upgrade", "set-cookie", "date", "age", "content-length",
                    "content-encoding", "x-cache", "cache-status", "content-type"))
            .collect(Collectors.toUnmodifiableSet());

    private HttpCaching() {
    }

    /**
     * Cache-Control directives, lower case, with their argument unquoted or "" (no line: empty
     * map), from every line of the header combined as one comma-separated list (RFC 9110 5.3);
     * commas inside a quoted argument ({@code private="Set-Cookie, X-Id"}) do not split. A directive given twice with different arguments is kept with the argument
     * "", which no freshness directive accepts: the response counts as stale (RFC 9111 4.2.1
     * allows that or the first; stale is the safe one).
     */
    static Map<String, String> cacheControl(Collection<String> lines) {
        Map<String, String> directives = new HashMap<>();
        for (String line : lines) {
            if (line == null) {
                continue;
            }
            for (String part : listElements(line)) {
                int equals = part.indexOf('=');
                String name = (equals < 0 ? part : part.substring(0, equals)).trim().toLowerCase(Locale.ROOT);
                if (name.isEmpty()) {
                    continue;
                }
                String argument = equals < 0 ? "" : unquote(part.substring(equals + 1).trim());
                String before = directives.putIfAbsent(name, argument);
                if (before != null && !before.equals(argument)) {
                    directives.put(name, "");
                }
            }
        }
        return directives;
    }

    /** The elements of a comma-separated list (RFC 9110 5.6.1), trimmed, commas in quoted strings kept. */
    static List<String> listElements(String line) {
        List<String> elements = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted && c == '\\' && i + 1 < line.length()) {
                current.append(c).append(line.charAt(++i));
                continue;
            }
            if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                addElement(elements, current);
                continue;
            }
            current.append(c);
        }
        addElement(elements, current);
        return elements;
    }

    private static void addElement(List<String> elements, StringBuilder element) {
        String trimmed = element.toString().trim();
        if (!trimmed.isEmpty()) {
            elements.add(trimmed);
        }
        element.setLength(0);
    }

    private static String unquote(String value) {
        if (value.length() < 2 || value.charAt(0) != '"' || value.charAt(value.length() - 1) != '"') {
            return value;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 1; i < value.length() - 1; i++) {
            char c = value.charAt(i);
            out.append(c == '\\' && i + 2 < value.length() ? value.charAt(++i) : c);
        }
        return out.toString();
    }

    /**
     * The directives this cache takes from a targeted cache-control field (RFC 9213): those of
     * {@code CDN-Cache-Control} when it has any, else those of {@code Surrogate-Control} (Edge
     * Architecture 1.0) not targeted at a named surrogate ({@code max-age=60;edge1}); empty when
     * neither applies. Surrogate-Control's {@code max-age=60+30} (a freshness lifetime and the
     * time a surrogate may serve the object stale after it) is read as {@code max-age=60} and
     * {@code stale-if-error=30}.
     */
    static Map<String, String> targetedControl(Collection<String> cdnCacheControl,
            Collection<String> surrogateControl) {
        Map<String, String> cdn = cacheControl(cdnCacheControl);
        if (!cdn.isEmpty()) {
            return cdn;
        }
        Map<String, String> surrogate = cacheControl(surrogateControl);
        surrogate.values().removeIf(argument -> argument.contains(";"));
        surrogate.keySet().removeIf(name -> name.contains(";"));
        String maxAge = surrogate.get("max-age");
        int plus = maxAge == null ? -1 : maxAge.indexOf('+');
        if (plus > 0) {
            // An invalid part stays invalid, read as 0 (stale, no extension) like any delta-seconds.
            long extension = seconds(Map.of("extension", maxAge.substring(plus + 1)), "extension");
            surrogate.put("max-age", maxAge.substring(0, plus));
            surrogate.put("stale-if-error", Long.toString(Math.max(seconds(surrogate, "stale-if-error"), extension)));
        }
        return surrogate;
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

    /**
     * {@code must-revalidate}, {@code proxy-revalidate} or {@code s-maxage} (which implies
     * proxy-revalidate): a shared cache must not serve the response stale once it has expired
     * (RFC 9111 5.2.2.2, 5.2.2.8, 5.2.2.10), unless the response also grants a stale window of its
     * own ({@code stale-while-revalidate}, {@code stale-if-error}: RFC 5861).
     */
    static boolean forbidsServingStale(Map<String, String> directives) {
        return directives.containsKey("must-revalidate") || directives.containsKey("proxy-revalidate")
                || directives.containsKey("s-maxage");
    }

    /** {@code public} or {@code s-maxage}: the response says a shared cache may keep it for anyone (RFC 9111 3.5). */
    static boolean explicitlyShared(Map<String, String> directives) {
        return directives.containsKey("public") || directives.containsKey("s-maxage");
    }

    /** Delta-seconds beyond this count as this (RFC 9111 1.2.2). */
    static final long MAX_DELTA_SECONDS = 2_147_483_648L;

    /**
     * A delta-seconds directive (RFC 9111 1.2.2), in seconds: -1 when absent; 0 (stale) when it is
     * not a non-negative integer ({@code max-age=-1}, {@code max-age=1.5}, {@code max-age=},
     * a directive given twice with different values), never "absent", so an invalid value never
     * falls back to the rule's TTL; capped at 2^31.
     */
    static long seconds(Map<String, String> directives, String name) {
        String value = directives.get(name);
        if (value == null) {
            return -1;
        }
        if (value.isEmpty()) {
            return 0;
        }
        for (int i = 0; i < value.length(); i++) {
            if (value.charAt(i) < '0' || value.charAt(i) > '9') {
                return 0;
            }
        }
        return value.length() > 10 ? MAX_DELTA_SECONDS : Math.min(MAX_DELTA_SECONDS, Long.parseLong(value));
    }

    /** The obsolete RFC 850 form, its two-digit year read from 2000 (then moved back, see {@link #httpDate}). */
    private static final DateTimeFormatter RFC_850 = new DateTimeFormatterBuilder()
            .appendPattern("dd-MMM-").appendValueReduced(ChronoField.YEAR, 2, 2, 2000)
            .appendPattern(" HH:mm:ss 'GMT'").toFormatter(Locale.US).withZone(ZoneOffset.UTC);

    /** The obsolete asctime form, in GMT; runs of spaces (the padded day) are made one before parsing. */
    private static final DateTimeFormatter ASCTIME = DateTimeFormatter.ofPattern("EEE MMM d HH:mm:ss yyyy", Locale.US)
            .withZone(ZoneOffset.UTC);

    /**
     * Epoch ms of an HTTP-date (RFC 9110 5.6.7), or -1 when {@code value} is null or none of its
     * three forms: the IMF-fixdate ({@code Sun, 06 Nov 1994 08:49:37 GMT}) and the obsolete forms
     * a recipient MUST also accept, RFC 850 ({@code Sunday, 06-Nov-94 08:49:37 GMT}, a two-digit
     * year more than 50 years ahead of {@code now} meaning the most recent past year with those
     * digits) and asctime ({@code Sun Nov  6 08:49:37 1994}). A day name that does not match the
     * date makes the value invalid.
     *
     * @param now epoch ms the two-digit year of the RFC 850 form is read against
     */
    static long httpDate(String value, long now) {
        if (value == null) {
            return -1;
        }
        String text = value.trim();
        try {
            return ZonedDateTime.parse(text, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
        } catch (RuntimeException notImf) {
            // One of the obsolete forms, or invalid.
        }
        try {
            // The day name is checked once the century is known.
            int comma = text.indexOf(", ");
            ZonedDateTime date = ZonedDateTime.parse(text.substring(comma + 2), RFC_850);
            if (date.getYear() > Instant.ofEpochMilli(now).atZone(ZoneOffset.UTC).getYear() + 50) {
                date = date.minusYears(100);
            }
            if (text.substring(0, comma).equals(date.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.US))) {
                return date.toInstant().toEpochMilli();
            }
        } catch (RuntimeException notRfc850) {
            // asctime, or invalid.
        }
        try {
            return ZonedDateTime.parse(text.replaceAll(" +", " "), ASCTIME).toInstant().toEpochMilli();
        } catch (RuntimeException invalid) {
            return -1;
        }
    }

    /** {@link #httpDate(String, long)} read against the system clock's year. */
    static long httpDate(String value) {
        return httpDate(value, System.currentTimeMillis());
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

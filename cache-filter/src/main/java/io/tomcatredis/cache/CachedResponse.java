package io.tomcatredis.cache;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.GZIPInputStream;

/**
 * A stored response: status, the headers worth replaying (values verbatim, CR and LF included:
 * the container treats them on replay exactly as on the first delivery), the body (gzipped once
 * when it is compressible), its validator, and when it was stored, stops being fresh and stops
 * being usable. {@code anonymousOnly}: the application looked for a session or user while
 * rendering it and found none, so it is served only to requests that carry no credentials.
 * {@code shared}: the response said it may be shared ({@code Cache-Control: public} or
 * {@code s-maxage}), so it may also be served to requests that carry credentials.
 *
 * <p>Hash fields: {@code format} ({@value #FORMAT}; an entry without it is not read), {@code key},
 * {@code status}, {@code headers} (one {@code name: value} line each, with {@code \\}, CR, LF, and
 * in names {@code :}, escaped as {@code \\\\}, {@code \\r}, {@code \\n}, {@code \\c}), {@code body},
 * {@code gzip}, {@code length}, {@code etag}, {@code stored}, {@code fresh}, {@code stale} (epoch
 * ms), {@code tags}, {@code anonymous}, {@code shared} ("1" or "0"), {@code locale} (the language tag
 * the application set with {@code setLocale}, replayed the same way so that the container sends
 * {@code Content-Language} and its charset as it did; "" for none), {@code replaced} (the lower-case
 * names the application set with {@code setHeader}, one a line, escaped as header names: on replay the
 * first line of each is sent with {@code setHeader}, so that it replaces what a filter ahead of the
 * cache set under that name, as it did without the cache), {@code removed} (likewise, the names it set
 * to nothing: removed on replay before the lines are sent). An entry read back holds its body
 * decoded ({@code gzipped} false): the gzip member was inflated and checked as it was read. Format 2
 * (without these) is no longer read: its entries are rendered again. An entry missing any of these
 * fields, or holding a value that is not of its form (an empty {@code key} or {@code etag}, a flag
 * other than "0"/"1", a time that is not a number, {@code stale} before {@code fresh}), is
 * unreadable: deleted and rendered anew.
 */
record CachedResponse(String key, int status, List<Header> headers, byte[] body, boolean gzipped, int length,
        String etag, long storedAt, long freshUntil, long staleUntil, Set<String> tags, boolean anonymousOnly,
        boolean shared, String locale, Set<String> replaced, Set<String> removed) {

    static final String FORMAT = "3";

    /** The fields every entry of {@link #FORMAT} has: one missing makes the entry unreadable. */
    private static final Set<String> FIELDS = Set.of("format", "key", "status", "headers", "body", "gzip", "length",
            "etag", "stored", "fresh", "stale", "tags", "anonymous", "shared", "locale", "replaced", "removed");

    record Header(String name, String value) {
    }

    /** The fields of the entry hash. */
    Map<String, byte[]> toHash() {
        Map<String, byte[]> hash = new LinkedHashMap<>();
        hash.put("format", utf8(FORMAT));
        hash.put("key", utf8(key));
        hash.put("status", utf8(Integer.toString(status)));
        StringBuilder lines = new StringBuilder();
        for (Header header : headers) {
            lines.append(escape(header.name(), true)).append(": ").append(escape(header.value(), false)).append('\n');
        }
        hash.put("headers", utf8(lines.toString()));
        hash.put("body", body);
        hash.put("gzip", utf8(gzipped ? "1" : "0"));
        hash.put("length", utf8(Integer.toString(length)));
        hash.put("etag", utf8(etag));
        hash.put("stored", utf8(Long.toString(storedAt)));
        hash.put("fresh", utf8(Long.toString(freshUntil)));
        hash.put("stale", utf8(Long.toString(staleUntil)));
        hash.put("tags", utf8(String.join(" ", new TreeSet<>(tags))));
        hash.put("anonymous", utf8(anonymousOnly ? "1" : "0"));
        hash.put("shared", utf8(shared ? "1" : "0"));
        hash.put("locale", utf8(locale == null ? "" : locale));
        hash.put("replaced", utf8(nameLines(replaced)));
        hash.put("removed", utf8(nameLines(removed)));
        return hash;
    }

    /** Reads an entry hash (as a flat field/value list), or null when it is not a complete entry. */
    static CachedResponse fromFlatHash(List<byte[]> flat) {
        Map<String, byte[]> hash = new HashMap<>();
        for (int i = 0; i + 1 < flat.size(); i += 2) {
            hash.put(new String(flat.get(i), StandardCharsets.UTF_8), flat.get(i + 1));
        }
        if (!hash.keySet().containsAll(FIELDS) || !FORMAT.equals(text(hash, "format"))) {
            // A field it always has is missing: never guessed (an empty validator is not an entity-tag).
            return null;
        }
        try {
            List<Header> headers = new ArrayList<>();
            for (String line : text(hash, "headers").split("\n")) {
                if (line.isEmpty()) {
                    continue;
                }
                int colon = line.indexOf(": ");
                if (colon <= 0) {
                    return null;
                }
                headers.add(new Header(unescape(line.substring(0, colon)), unescape(line.substring(colon + 2))));
            }
            String tags = text(hash, "tags");
            int status = Integer.parseInt(text(hash, "status"));
            boolean gzipped = "1".equals(text(hash, "gzip"));
            int length = Integer.parseInt(text(hash, "length"));
            long stored = Long.parseLong(text(hash, "stored"));
            long fresh = Long.parseLong(text(hash, "fresh"));
            long stale = Long.parseLong(text(hash, "stale"));
            byte[] body = content(hash.get("body"), gzipped, length);
            if (status < 100 || status > 599 || body == null
                    || text(hash, "key").isEmpty() || text(hash, "etag").isEmpty() || !flag(hash, "gzip")
                    || !flag(hash, "anonymous") || !flag(hash, "shared") || stored < 0 || fresh < 0 || stale < fresh) {
                return null;
            }
            return new CachedResponse(text(hash, "key"), status, headers, body, false, length,
                    text(hash, "etag"), stored, fresh, stale, tags.isEmpty() ? Set.of() : Set.of(tags.split(" ")),
                    "1".equals(text(hash, "anonymous")), "1".equals(text(hash, "shared")),
                    text(hash, "locale").isEmpty() ? null : text(hash, "locale"), names(text(hash, "replaced")),
                    names(text(hash, "removed")));
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * The content of a stored body, or null when it is not as stored: {@code length} bytes, or,
     * gzipped, one gzip member (RFC 1952) that inflates to {@code length} bytes with its CRC-32 and
     * ISIZE right. A body cut short, corrupt, or a flag that lies is then an unreadable entry (a
     * miss, rendered and stored afresh), never a failing reply; at most {@code length + 1} bytes
     * are inflated, whatever the stored bytes claim.
     */
    private static byte[] content(byte[] body, boolean gzipped, int length) {
        if (length < 0) {
            return null;
        }
        if (!gzipped) {
            return body.length == length ? body : null;
        }
        if (body.length < 18 || (body[0] & 0xff) != 0x1f || (body[1] & 0xff) != 0x8b) {
            return null;
        }
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
            byte[] content = in.readNBytes(length);
            // Reading on to the end of the member checks its CRC-32 and ISIZE (an IOException if wrong).
            return content.length == length && in.read() < 0 ? content : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** For a Vary marker: the header names, or null when {@code flat} is an entry. */
    static String varyMarker(List<byte[]> flat) {
        for (int i = 0; i + 1 < flat.size(); i += 2) {
            if ("vary".equals(new String(flat.get(i), StandardCharsets.UTF_8))) {
                return new String(flat.get(i + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    private static String nameLines(Set<String> names) {
        StringBuilder lines = new StringBuilder();
        for (String name : new TreeSet<>(names)) {
            lines.append(escape(name, true)).append('\n');
        }
        return lines.toString();
    }

    private static Set<String> names(String lines) {
        Set<String> names = new HashSet<>();
        for (String line : lines.split("\n")) {
            if (!line.isEmpty()) {
                names.add(unescape(line));
            }
        }
        return Set.copyOf(names);
    }

    String header(String name) {
        for (Header header : headers) {
            if (header.name().equalsIgnoreCase(name)) {
                return header.value();
            }
        }
        return null;
    }

    private static String escape(String text, boolean name) {
        StringBuilder out = new StringBuilder(text.length() + 8);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\r' -> out.append("\\r");
                case '\n' -> out.append("\\n");
                case ':' -> out.append(name ? "\\c" : ":");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    private static String unescape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '\\' || i + 1 == text.length()) {
                out.append(c);
                continue;
            }
            char next = text.charAt(++i);
            out.append(switch (next) {
                case 'r' -> '\r';
                case 'n' -> '\n';
                case 'c' -> ':';
                default -> next;
            });
        }
        return out.toString();
    }

    /** Whether a "0"/"1" field holds one of those. */
    private static boolean flag(Map<String, byte[]> hash, String field) {
        String value = text(hash, field);
        return value.equals("0") || value.equals("1");
    }

    private static String text(Map<String, byte[]> hash, String field) {
        byte[] value = hash.get(field);
        return value == null ? "" : new String(value, StandardCharsets.UTF_8);
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}

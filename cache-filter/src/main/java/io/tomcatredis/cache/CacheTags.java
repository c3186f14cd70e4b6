package io.tomcatredis.cache;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The tags of a response, from the headers CDNs and caches use for them, all of which count:
 * {@code X-Cache-Tags} (this filter's, space or comma separated), {@code Surrogate-Key} (Fastly,
 * space separated), {@code Cache-Tag} (Cloudflare, comma separated), {@code xkey} (Varnish, space
 * separated) and {@code Cache-Groups} (RFC 9875: a structured list of strings; a group with
 * whitespace in it is not a tag here). They never reach
 * the client as the application wrote them: stripped, or sent as one header of the name given by
 * the init-param {@code forwardTagsHeader}, so that a CDN in front can purge by the same tags.
 * {@code Cache-Group-Invalidation} (RFC 9875) on the response to a successful unsafe request names
 * groups to evict.
 */
final class CacheTags {

    /** Lower-case names of the response headers that carry tags. */
    static final Set<String> HEADERS = Set.of("x-cache-tags", "surrogate-key", "cache-tag", "xkey", "cache-groups");

    private CacheTags() {
    }

    static boolean isTagHeader(String name) {
        return name != null && HEADERS.contains(name.toLowerCase(Locale.ROOT));
    }

    /** The tags of the header lines among {@code headers} that carry tags, in order, without repeats. */
    static Set<String> read(List<CachedResponse.Header> headers) {
        Set<String> tags = new LinkedHashSet<>();
        for (CachedResponse.Header header : headers) {
            String name = header.name().toLowerCase(Locale.ROOT);
            if (name.equals("cache-groups")) {
                for (String group : groups(List.of(header.value()))) {
                    // A tag is a word: the entry keeps its tags space-separated.
                    if (!group.isEmpty() && group.chars().noneMatch(Character::isWhitespace)) {
                        tags.add(group);
                    }
                }
            } else if (HEADERS.contains(name)) {
                for (String tag : header.value().split("[\\s,]+")) {
                    if (!tag.isEmpty()) {
                        tags.add(tag);
                    }
                }
            }
        }
        return tags;
    }

    /**
     * The strings of an RFC 8941 list over one or more lines ({@code "shop", "scripts";p=1}),
     * parameters ignored; a line that is not such a list counts as none (RFC 8941 4.2).
     */
    static List<String> groups(Collection<String> lines) {
        List<String> groups = new ArrayList<>();
        for (String line : lines) {
            List<String> parsed = strings(line);
            if (parsed != null) {
                groups.addAll(parsed);
            }
        }
        return groups;
    }

    private static List<String> strings(String line) {
        List<String> strings = new ArrayList<>();
        int i = 0;
        int n = line.length();
        while (true) {
            while (i < n && (line.charAt(i) == ' ' || line.charAt(i) == '\t')) {
                i++;
            }
            if (i == n) {
                return strings;
            }
            if (line.charAt(i) != '"') {
                return null;
            }
            StringBuilder value = new StringBuilder();
            i++;
            while (true) {
                if (i == n) {
                    return null;
                }
                char c = line.charAt(i++);
                if (c == '\\') {
                    if (i == n || line.charAt(i) != '"' && line.charAt(i) != '\\') {
                        return null;
                    }
                    value.append(line.charAt(i++));
                } else if (c == '"') {
                    break;
                } else if (c < 0x20 || c > 0x7e) {
                    return null;
                } else {
                    value.append(c);
                }
            }
            strings.add(value.toString());
            while (i < n && line.charAt(i) != ',') {
                // Parameters of the item: not used.
                i++;
            }
            if (i == n) {
                return strings;
            }
            i++;
        }
    }

    /** {@code tags} as the value of the header {@code name}: a string list for Cache-Groups, commas for Cache-Tag, else spaces. */
    static String format(String name, Collection<String> tags) {
        if (name.equalsIgnoreCase("Cache-Groups")) {
            List<String> quoted = new ArrayList<>();
            for (String tag : tags) {
                quoted.add('"' + tag.replace("\\", "\\\\").replace("\"", "\\\"") + '"');
            }
            return String.join(", ", quoted);
        }
        return String.join(name.equalsIgnoreCase("Cache-Tag") ? "," : " ", tags);
    }
}

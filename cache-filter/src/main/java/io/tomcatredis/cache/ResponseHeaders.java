package io.tomcatredis.cache;

import jakarta.servlet.http.HttpServletResponse;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The header lines an application wrote to a response, kept as the container keeps them, and
 * replayed so that the result is the one the application would have produced without the cache,
 * whatever a filter ahead of it had already put on the response. Servlet semantics (and
 * Tomcat's {@code MimeHeaders}): {@code addHeader} appends a line; {@code setHeader} replaces
 * every line of the name, those set ahead included, by one line in the place of the first (whose
 * spelling of the name stays), and with a null value removes them all. A name the application
 * set is "replaced": on replay its first line is sent with {@code setHeader}, so it replaces what
 * a filter ahead set again on this request instead of being sent next to it. A name it set to
 * nothing is also "removed": on replay it is removed first, and its lines, all added after the
 * removal, follow.
 */
final class ResponseHeaders {

    private final List<CachedResponse.Header> lines = new ArrayList<>();
    /** Lower-case names the application set: they replace what was on the response before. */
    private final Set<String> replaced = new LinkedHashSet<>();
    /** Lower-case names the application set to nothing: what was on the response before is gone. */
    private final Set<String> removed = new LinkedHashSet<>();

    /** {@code setHeader}: one line in place of the first of the name, or none when {@code value} is null. */
    void set(String name, String value) {
        String lower = name.toLowerCase(Locale.ROOT);
        replaced.add(lower);
        int first = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).name().equalsIgnoreCase(name)) {
                if (first < 0) {
                    first = i;
                } else {
                    lines.remove(i--);
                }
            }
        }
        if (value == null) {
            removed.add(lower);
            if (first >= 0) {
                lines.remove(first);
            }
        } else if (first >= 0) {
            lines.set(first, new CachedResponse.Header(lines.get(first).name(), value));
        } else {
            lines.add(new CachedResponse.Header(name, value));
        }
    }

    /** {@code addHeader}: one more line. */
    void add(String name, String value) {
        lines.add(new CachedResponse.Header(name, value));
    }

    void clear() {
        lines.clear();
        replaced.clear();
        removed.clear();
    }

    List<CachedResponse.Header> lines() {
        return List.copyOf(lines);
    }

    /** Lower-case names the application set with {@code setHeader} (also those it set to nothing). */
    Set<String> replaced() {
        return Set.copyOf(replaced);
    }

    /** Lower-case names the application set to nothing ({@code setHeader(name, null)}) at some point. */
    Set<String> removed() {
        return Set.copyOf(removed);
    }

    boolean replaces(String name) {
        return replaced.contains(name.toLowerCase(Locale.ROOT));
    }

    /** The values of a name: the application's, after those set ahead unless the application replaced them. */
    List<String> values(String name, Collection<String> ahead) {
        List<String> values = new ArrayList<>(replaces(name) ? List.of() : ahead);
        for (CachedResponse.Header line : lines) {
            if (line.name().equalsIgnoreCase(name)) {
                values.add(line.value());
            }
        }
        return values;
    }

    /**
     * The names on the response, spelled as the container keeps them: those set ahead (unless the
     * application removed them), then the application's other names.
     */
    Set<String> names(Collection<String> ahead) {
        Set<String> lower = new HashSet<>();
        Set<String> names = new LinkedHashSet<>();
        for (String name : ahead) {
            if (!removed.contains(name.toLowerCase(Locale.ROOT)) || !values(name, List.of()).isEmpty()) {
                if (lower.add(name.toLowerCase(Locale.ROOT))) {
                    names.add(name);
                }
            }
        }
        for (CachedResponse.Header line : lines) {
            if (lower.add(line.name().toLowerCase(Locale.ROOT))) {
                names.add(line.name());
            }
        }
        return names;
    }

    /**
     * Writes {@code lines} onto {@code target}, which may already carry lines a filter ahead set:
     * first the names in {@code removed} are removed ({@code setHeader(name, null)}), then the first
     * line of a name in {@code replaced} is sent with {@code setHeader}, every other with
     * {@code addHeader}.
     *
     * @param replaced lower-case names
     * @param removed lower-case names
     */
    static void replay(List<CachedResponse.Header> lines, Set<String> replaced, Set<String> removed,
            HttpServletResponse target) {
        for (String name : removed) {
            target.setHeader(name, null);
        }
        Set<String> done = new HashSet<>();
        for (CachedResponse.Header line : lines) {
            String lower = line.name().toLowerCase(Locale.ROOT);
            if (replaced.contains(lower) && done.add(lower)) {
                target.setHeader(line.name(), line.value());
            } else {
                target.addHeader(line.name(), line.value());
            }
        }
    }
}

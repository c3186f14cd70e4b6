package io.tomcatredis.session.codec;

import java.io.ObjectInputFilter;

/**
 * Which classes may be deserialized, written in the {@code jdk.serialFilter} pattern syntax (for
 * example {@code com.example.**;java.**;!*}). Applied by both codecs before a class is
 * instantiated, in this order:
 * <ol>
 * <li>the built-in {@link GadgetDenyList}, always: known deserialization gadget classes and
 *     packages are never instantiated, whatever else is configured;</li>
 * <li>the {@code serialFilter} pattern: as with the JDK, a class that no pattern matches is
 *     allowed; end the pattern with {@code !*} to allow only what is listed.</li>
 * </ol>
 */
public final class ClassFilter {

    /** Only the built-in deny-list. */
    public static final ClassFilter DENY_LIST_ONLY = new ClassFilter(null, "");

    private final ObjectInputFilter filter;
    private final String pattern;

    private ClassFilter(ObjectInputFilter filter, String pattern) {
        this.filter = filter;
        this.pattern = pattern;
    }

    /**
     * @param pattern a {@code jdk.serialFilter} pattern, or null or blank for none
     * @throws IllegalArgumentException when the pattern is malformed
     */
    public static ClassFilter parse(String pattern) {
        if (pattern == null || pattern.isBlank()) {
            return DENY_LIST_ONLY;
        }
        return new ClassFilter(ObjectInputFilter.Config.createFilter(pattern.trim()), pattern.trim());
    }

    /** Whether instances of {@code type} (for an array: of its element type) may be deserialized. */
    public boolean allows(Class<?> type) {
        Class<?> element = type;
        while (element.isArray()) {
            element = element.getComponentType();
        }
        if (GadgetDenyList.denies(element)) {
            return false;
        }
        return filter == null || filter.checkInput(new ClassOnly(type)) != ObjectInputFilter.Status.REJECTED;
    }

    /** The same rule for {@link java.io.ObjectInputStream}. */
    ObjectInputFilter asObjectInputFilter() {
        return info -> {
            Class<?> type = info.serialClass();
            if (type != null && !allows(type)) {
                return ObjectInputFilter.Status.REJECTED;
            }
            // Stream limits (maxdepth, maxbytes...) of the configured pattern still apply.
            return filter == null ? ObjectInputFilter.Status.UNDECIDED : filter.checkInput(info);
        };
    }

    @Override
    public String toString() {
        return pattern.isEmpty() ? "(built-in deny-list only)" : pattern + " after the built-in deny-list";
    }

    /** Describes a class only; the stream limits of the pattern (maxdepth...) see neutral values. */
    private record ClassOnly(Class<?> serialClass) implements ObjectInputFilter.FilterInfo {
        @Override
        public long arrayLength() {
            return -1;
        }

        @Override
        public long depth() {
            return 1;
        }

        @Override
        public long references() {
            return 0;
        }

        @Override
        public long streamBytes() {
            return 0;
        }
    }
}

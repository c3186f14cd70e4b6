package io.tomcatredis.session.codec;

import java.io.ObjectInputFilter;

/**
 * Which classes may be deserialized, written in the {@code jdk.serialFilter} pattern syntax (for
 * example {@code com.example.**;java.**;!*}). Applied by both codecs before a class is
 * instantiated. As with the JDK, a class that no pattern matches is allowed; end the pattern with
 * {@code !*} to allow only what is listed.
 */
public final class ClassFilter {

    /** Allows every class. */
    public static final ClassFilter ALLOW_ALL = new ClassFilter(null, "");

    private final ObjectInputFilter filter;
    private final String pattern;

    private ClassFilter(ObjectInputFilter filter, String pattern) {
        this.filter = filter;
        this.pattern = pattern;
    }

    /**
     * @throws IllegalArgumentException when the pattern is malformed
     */
    public static ClassFilter parse(String pattern) {
        if (pattern == null || pattern.isBlank()) {
            return ALLOW_ALL;
        }
        return new ClassFilter(ObjectInputFilter.Config.createFilter(pattern.trim()), pattern.trim());
    }

    /** Whether instances of {@code type} (for an array: of its element type) may be deserialized. */
    public boolean allows(Class<?> type) {
        if (filter == null) {
            return true;
        }
        return filter.checkInput(new ClassOnly(type)) != ObjectInputFilter.Status.REJECTED;
    }

    /** The same rule for {@link java.io.ObjectInputStream}, or null when every class is allowed. */
    ObjectInputFilter asObjectInputFilter() {
        return filter;
    }

    @Override
    public String toString() {
        return pattern.isEmpty() ? "(allow all)" : pattern;
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

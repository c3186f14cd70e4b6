package io.tomcatredis.session.codec;

import java.io.ObjectInputFilter;
import java.io.Serializable;
import java.util.regex.Pattern;

/**
 * Which classes may be deserialized. Applied by both codecs to every class a stored value names,
 * before that class is instantiated, in this order:
 * <ol>
 * <li>the built-in {@link GadgetDenyList}, always: a known deserialization gadget class, or any
 *     class extending or implementing one, is never instantiated, whatever else is configured;</li>
 * <li>Tomcat's {@code sessionAttributeValueClassNameFilter}, when the manager has one
 *     ({@link #allowingOnly}): a regular expression that the name ({@link Class#getName()}) of
 *     every class of the value must match, as {@code StandardManager}'s
 *     {@code CustomObjectInputStream} requires of every class it reads;</li>
 * <li>the {@code serialFilter} pattern, in the {@code jdk.serialFilter} syntax (for example
 *     {@code com.example.**;java.**;!*}): as with the JDK, a class that no pattern matches is
 *     allowed; end the pattern with {@code !*} to allow only what is listed.</li>
 * </ol>
 * A Kryo stream names only the class of each object; the JDK's stream also names each
 * {@code Serializable} superclass, and can name no class that is not {@code Serializable}. Kryo
 * streams are held to the same rules where the codec's own writing allows ({@link #checkKryoClass}).
 */
public final class ClassFilter {

    /** Only the built-in deny-list. */
    public static final ClassFilter DENY_LIST_ONLY = new ClassFilter(null, "", null);

    private final ObjectInputFilter filter;
    private final String pattern;
    /** Tomcat's sessionAttributeValueClassNameFilter, or null. */
    private final Pattern allowedClassNames;

    /**
     * The verdicts of {@link #checkKryoClass} of this filter, kept with each class (Kryo names a
     * class again in every value): they depend on the class and this filter only, and a
     * {@code Boolean} pins no class loader.
     */
    private final ClassValue<Boolean> kryoClassAllowed = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            return kryoRejection(type) == null;
        }
    };

    private ClassFilter(ObjectInputFilter filter, String pattern, Pattern allowedClassNames) {
        this.filter = filter;
        this.pattern = pattern;
        this.allowedClassNames = allowedClassNames;
    }

    /**
     * @param pattern a {@code jdk.serialFilter} pattern, or null or blank for none
     * @throws IllegalArgumentException when the pattern is malformed
     */
    public static ClassFilter parse(String pattern) {
        if (pattern == null || pattern.isBlank()) {
            return DENY_LIST_ONLY;
        }
        return new ClassFilter(ObjectInputFilter.Config.createFilter(pattern.trim()), pattern.trim(), null);
    }

    /**
     * This filter, also requiring the name of every class to match {@code classNames} (Tomcat's
     * {@code sessionAttributeValueClassNameFilter}, matched as a whole with {@link java.util.regex.Matcher#matches()}).
     *
     * @param classNames a regular expression, or null for no such requirement (this filter is returned)
     */
    public ClassFilter allowingOnly(Pattern classNames) {
        return classNames == null ? this : new ClassFilter(filter, pattern, classNames);
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
        if (allowedClassNames != null && !allowedClassNames.matcher(type.getName()).matches()) {
            return false;
        }
        return filter == null || filter.checkInput(new ClassOnly(type)) != ObjectInputFilter.Status.REJECTED;
    }

    /**
     * Checks a class that a Kryo stream names, with what Java serialization's stream would have
     * let the filter check: each of its {@code Serializable} superclasses is checked too, as the
     * JDK's stream names them. And a JDK class that is not {@code Serializable} is refused: the
     * codec never writes one (it writes JDK classes with Java serialization, which refuses them),
     * while the Kryo-only gadget chains are made of them ({@code ServiceLoader}'s and
     * {@code ImageIO}'s iterators, cipher streams...). An application class that is not
     * {@code Serializable} is read, as Kryo writes one nested in a value (as release 0.1 did); the
     * deny-list applies to it like to any other.
     *
     * @throws RejectedClassException when the class is refused
     */
    void checkKryoClass(Class<?> type) {
        if (!kryoClassAllowed.get(type)) {
            throw kryoRejection(type);
        }
    }

    /** Why {@link #checkKryoClass} refuses {@code type}, or null when it allows it. */
    private RejectedClassException kryoRejection(Class<?> type) {
        if (type.getModule().isNamed() && !type.isArray() && !type.isPrimitive() && !type.isEnum()
                && !Serializable.class.isAssignableFrom(type)) {
            return new RejectedClassException(type, "is a JDK class that is not Serializable: no session value holds one");
        }
        for (Class<?> c = type; c != null && (c == type || Serializable.class.isAssignableFrom(c));
                c = c.getSuperclass()) {
            if (!allows(c)) {
                return new RejectedClassException(c, this);
            }
        }
        return null;
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
        String tomcat = allowedClassNames == null ? "" : ", sessionAttributeValueClassNameFilter " + allowedClassNames;
        return (pattern.isEmpty() ? "(built-in deny-list only)" : pattern + " after the built-in deny-list") + tomcat;
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

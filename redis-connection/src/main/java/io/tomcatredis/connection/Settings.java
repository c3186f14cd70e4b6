package io.tomcatredis.connection;

import java.util.function.Function;

/**
 * Reads raw string attributes (from {@code context.xml}, {@code web.xml} init-params or setters)
 * and turns them into typed values, or an {@link InvalidSettingException} naming the attribute.
 * The one place where attribute text is parsed.
 *
 * <p>A value written {@code ${name:-default}} (Tomcat's syntax; {@code ${name:default}} works too)
 * is taken from the system property {@code name}, or {@code default} when it is not set, so one
 * WAR can point at different Redis deployments. Written {@code ${name}}, without a default, the
 * property is required: a value still holding a {@code ${...}} is an {@link InvalidSettingException}.
 */
public final class Settings {

    private final Function<String, String> attributes;

    public Settings(Function<String, String> attributes) {
        this.attributes = attributes;
    }

    /**
     * The trimmed value, or {@code defaultValue} when the attribute is absent or blank.
     *
     * @throws InvalidSettingException when the value refers to a system property that is not set
     *         and gives no default: falling back would, for instance, connect without the
     *         credentials the property was meant to carry
     */
    public String string(String name, String defaultValue) {
        String raw = attributes.apply(name);
        if (raw != null) {
            raw = resolveSystemProperty(raw.trim());
            requireNoUnresolvedProperty(name, raw);
        }
        if (raw == null || raw.isBlank()) {
            return defaultValue;
        }
        return raw.trim();
    }

    /** A whole-value {@code ${name}} or {@code ${name:-default}}; Tomcat resolves the others in context.xml. */
    private static String resolveSystemProperty(String value) {
        if (!value.startsWith("${") || !value.endsWith("}")) {
            return value;
        }
        String inner = value.substring(2, value.length() - 1);
        int colon = inner.indexOf(':');
        if (colon < 0) {
            // Left as it is, so that requireNoUnresolvedProperty names it.
            return System.getProperty(inner, value);
        }
        String property = inner.substring(0, colon);
        String fallback = inner.substring(inner.startsWith(":-", colon) ? colon + 2 : colon + 1);
        return System.getProperty(property, fallback);
    }

    /**
     * Tomcat leaves a {@code ${name}} whose property is not set as it is; so does
     * {@link #resolveSystemProperty}. Names only the property: the value may hold a password.
     */
    private static void requireNoUnresolvedProperty(String name, String value) {
        int start = value.indexOf("${");
        int end = start < 0 ? -1 : value.indexOf('}', start);
        if (end > start + 2) {
            String reference = value.substring(start + 2, end);
            String property = reference.contains(":") ? reference.substring(0, reference.indexOf(':')) : reference;
            throw new InvalidSettingException(name, "refers to the system property " + property
                    + ", which is not set (define it in $CATALINA_BASE/conf/catalina.properties or with -D" + property
                    + "=...)");
        }
    }

    /**
     * A whole number within {@code [min, max]}. One beyond the range of an int is reported as out of
     * range, not as "not a whole number".
     */
    public int integer(String name, int defaultValue, int min, int max) {
        return Math.toIntExact(integer(name, (long) defaultValue, (long) min, (long) max));
    }

    /** A whole number within {@code [min, max]}, for settings beyond the range of an int (bytes). */
    public long integer(String name, long defaultValue, long min, long max) {
        String raw = string(name, null);
        if (raw == null) {
            return defaultValue;
        }
        long value;
        try {
            value = Long.parseLong(raw);
        } catch (NumberFormatException e) {
            // Digits beyond the range of a long are a whole number too: out of range, like any other.
            throw new InvalidSettingException(name, raw.matches("[+-]?[0-9]+")
                    ? raw + " is outside the allowed range " + min + ".." + max
                    : "\"" + raw + "\" is not a whole number");
        }
        if (value < min || value > max) {
            throw new InvalidSettingException(name, value + " is outside the allowed range " + min + ".." + max);
        }
        return value;
    }

    /** {@code true} or {@code false}, case-insensitive. */
    public boolean bool(String name, boolean defaultValue) {
        String raw = string(name, null);
        if (raw == null) {
            return defaultValue;
        }
        if (raw.equalsIgnoreCase("true")) {
            return true;
        }
        if (raw.equalsIgnoreCase("false")) {
            return false;
        }
        throw new InvalidSettingException(name, "\"" + raw + "\" is neither true nor false");
    }

    /** One of {@code allowed}, case-insensitive; returned in the spelling of {@code allowed}. */
    public String oneOf(String name, String defaultValue, String... allowed) {
        String raw = string(name, null);
        if (raw == null) {
            return defaultValue;
        }
        for (String candidate : allowed) {
            if (candidate.equalsIgnoreCase(raw)) {
                return candidate;
            }
        }
        throw new InvalidSettingException(name, "\"" + raw + "\" is not one of " + String.join(", ", allowed));
    }
}

package io.tomcatredis.connection;

import java.util.function.Function;

/**
 * Reads raw string attributes (from {@code context.xml}, {@code web.xml} init-params or setters)
 * and turns them into typed values, or an {@link InvalidSettingException} naming the attribute.
 * The one place where attribute text is parsed.
 *
 * <p>A value written {@code ${name:-default}} (Tomcat's syntax; {@code ${name:default}} works too)
 * is taken from the system property {@code name}, or {@code default} when it is not set, so one
 * WAR can point at different Redis deployments.
 */
public final class Settings {

    private final Function<String, String> attributes;

    public Settings(Function<String, String> attributes) {
        this.attributes = attributes;
    }

    /** The trimmed value, or {@code defaultValue} when the attribute is absent or blank. */
    public String string(String name, String defaultValue) {
        String raw = attributes.apply(name);
        if (raw != null) {
            raw = resolveSystemProperty(raw.trim());
        }
        if (raw == null || raw.isBlank()) {
            return defaultValue;
        }
        return raw.trim();
    }

    private static String resolveSystemProperty(String value) {
        if (!value.startsWith("${") || !value.endsWith("}")) {
            return value;
        }
        String inner = value.substring(2, value.length() - 1);
        int colon = inner.indexOf(':');
        String property = colon < 0 ? inner : inner.substring(0, colon);
        String fallback = colon < 0 ? null : inner.substring(inner.startsWith(":-", colon) ? colon + 2 : colon + 1);
        return System.getProperty(property, fallback);
    }

    /** A whole number within {@code [min, max]}. */
    public int integer(String name, int defaultValue, int min, int max) {
        String raw = string(name, null);
        if (raw == null) {
            return defaultValue;
        }
        int value;
        try {
            value = Integer.parseInt(raw);
        } catch (NumberFormatException e) {
            throw new InvalidSettingException(name, "\"" + raw + "\" is not a whole number");
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

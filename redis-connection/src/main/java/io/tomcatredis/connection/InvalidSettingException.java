package io.tomcatredis.connection;

/**
 * A configuration attribute has a value that cannot be used. The message names the attribute and
 * says what is expected; it never contains a password.
 */
public final class InvalidSettingException extends IllegalArgumentException {

    private final String attribute;

    public InvalidSettingException(String attribute, String problem) {
        super("Invalid value for attribute '" + attribute + "': " + problem);
        this.attribute = attribute;
    }

    /** The name of the offending attribute, as written in context.xml or web.xml. */
    public String attribute() {
        return attribute;
    }
}

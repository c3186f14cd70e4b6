package io.tomcatredis.session.store;

/**
 * Checks session ids from cookies and URLs before they reach Redis, and shortens them for logs
 * (a full id in a log file would let its reader take over the session).
 */
public final class SessionIds {

    private static final int MAX_ROUTE_LENGTH = 64;

    private SessionIds() {
    }

    /**
     * Whether {@code id} looks like an id this manager generates: exactly {@code hexLength}
     * hexadecimal characters, optionally followed by {@code .jvmRoute} (letters, digits, '-', '_').
     * Anything else (wrong length, braces, '*', 10 kB of text) is never sent to Redis.
     */
    public static boolean isWellFormed(String id, int hexLength) {
        if (id == null || id.length() < hexLength || id.length() > hexLength + 1 + MAX_ROUTE_LENGTH) {
            return false;
        }
        for (int i = 0; i < hexLength; i++) {
            if (Character.digit(id.charAt(i), 16) < 0) {
                return false;
            }
        }
        if (id.length() == hexLength) {
            return true;
        }
        if (id.charAt(hexLength) != '.' || id.length() == hexLength + 1) {
            return false;
        }
        for (int i = hexLength + 1; i < id.length(); i++) {
            char c = id.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
                return false;
            }
        }
        return true;
    }

    /** The first six characters of an id and an ellipsis, for logs. */
    public static String redact(String id) {
        if (id == null) {
            return "null";
        }
        return id.length() <= 6 ? id : id.substring(0, 6) + "…";
    }
}

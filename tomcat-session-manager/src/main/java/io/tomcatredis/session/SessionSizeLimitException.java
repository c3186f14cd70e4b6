package io.tomcatredis.session;

/**
 * A save wrote nothing because an attribute, or the session, is over its size limit and
 * {@code sizeLimitAction="fail"}: the request fails (500), as Tomcat's own check of a
 * distributable session's attribute does, so that the excess shows in development.
 */
public final class SessionSizeLimitException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    SessionSizeLimitException(String message) {
        super(message);
    }
}

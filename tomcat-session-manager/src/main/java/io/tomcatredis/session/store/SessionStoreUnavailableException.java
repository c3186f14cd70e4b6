package io.tomcatredis.session.store;

/**
 * Redis did not answer in time or refused the connection. Unchecked on purpose: Tomcat treats an
 * {@link java.io.IOException} from {@code findSession} as "no session" and would hand the user an
 * empty new one; this exception instead reaches the valve, which answers 503.
 */
public class SessionStoreUnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public SessionStoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}

package io.tomcatredis.session;

import io.tomcatredis.session.store.StoredSession;
import java.security.Principal;
import java.util.function.Function;
import org.apache.catalina.Manager;
import org.apache.catalina.session.StandardSession;

/**
 * A {@link StandardSession} that can take its identity and access times from Redis, which
 * StandardSession only lets subclasses set.
 */
abstract class RestoredSession extends StandardSession {

    private static final long serialVersionUID = 1L;

    RestoredSession(Manager manager) {
        super(manager);
    }

    /**
     * Sets id, times, interval and authentication from {@code stored}, firing no event.
     *
     * @param principalDecoder deserializes the stored principal; null when it cannot
     */
    protected void restoreMetadata(String sessionId, StoredSession stored, Function<byte[], Object> principalDecoder) {
        this.id = sessionId;
        this.creationTime = stored.creationTime();
        this.lastAccessedTime = stored.lastAccessedTime();
        this.thisAccessedTime = stored.lastAccessedTime();
        this.maxInactiveInterval = stored.maxInactiveInterval();
        this.isNew = false;
        this.isValid = true;
        this.authType = stored.authType();
        if (stored.principal() != null && principalDecoder.apply(stored.principal()) instanceof Principal decoded) {
            this.principal = decoded;
        }
    }
}

package io.tomcatredis.session;

import io.tomcatredis.session.store.SessionStoreUnavailableException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The sessions one request uses, so that however often Tomcat calls {@code findSession} during the
 * request, Redis is asked at most once per id, and the valve knows what to save at the end.
 */
final class RequestSessions {

    private final List<RedisSession> sessions = new ArrayList<>(2);
    private final Set<String> absentIds = new HashSet<>(2);
    private final Map<String, SessionStoreUnavailableException> unavailable = new HashMap<>(2);
    private boolean completed;

    RedisSession find(String id) {
        for (RedisSession session : sessions) {
            if (id.equals(session.getIdInternal())) {
                return session;
            }
        }
        return null;
    }

    boolean isKnownAbsent(String id) {
        return absentIds.contains(id);
    }

    void add(RedisSession session) {
        sessions.add(session);
    }

    void markAbsent(String id) {
        absentIds.add(id);
    }

    /** Remembers that Redis failed for this id, so the request does not wait for it twice. */
    void markUnavailable(String id, SessionStoreUnavailableException e) {
        unavailable.put(id, e);
    }

    void throwIfUnavailable(String id) {
        SessionStoreUnavailableException e = unavailable.get(id);
        if (e != null) {
            throw e;
        }
    }

    void throwIfAnyUnavailable() {
        if (!unavailable.isEmpty()) {
            throw unavailable.values().iterator().next();
        }
    }

    /** Marks the scope saved; true only for the first call, so it is saved once. */
    boolean complete() {
        if (completed) {
            return false;
        }
        completed = true;
        return true;
    }

    boolean isCompleted() {
        return completed;
    }

    List<RedisSession> sessions() {
        return sessions;
    }
}

package io.tomcatredis.session;

import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.session.store.SessionStoreUnavailableException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The sessions one request uses, from its first valve to the end of its async cycle: however
 * often Tomcat calls {@code findSession}, Redis is asked at most once per id, and everything found
 * or created is saved and released exactly once when the scope completes. Before the response is
 * committed the scope is saved early ({@link #saveBeforeCommit}), so that a client never receives
 * a response whose session changes another node cannot see yet.
 *
 * <p>Thread-safe: the request thread, an async thread and the container's completion thread may
 * use one scope.
 */
final class RequestScope {

    private final SessionRepository repository;
    private final List<RedisSession> sessions = new ArrayList<>(2);
    private final Set<String> absentIds = new HashSet<>(2);
    private final Map<String, SessionStoreUnavailableException> unavailable = new HashMap<>(2);
    private final Set<RedisSession> savedEarly = new HashSet<>(2);
    private boolean completed;
    private boolean completesWithAsync;

    RequestScope(SessionRepository repository) {
        this.repository = repository;
    }

    synchronized RedisSession find(String id) {
        String base = SessionKeys.baseId(id);
        for (RedisSession session : sessions) {
            // An invalidated session is gone for the rest of the request too: Tomcat must not give
            // its id to a new session (session fixation).
            if (session.isLive() && base.equals(SessionKeys.baseId(session.getIdInternal()))) {
                return session;
            }
        }
        return null;
    }

    /** Whether Redis had no session under {@code id}, or this request saw it invalidated. */
    synchronized boolean isKnownAbsent(String id) {
        if (absentIds.contains(id)) {
            return true;
        }
        String base = SessionKeys.baseId(id);
        for (RedisSession session : sessions) {
            if (!session.isLive() && base.equals(SessionKeys.baseId(session.getIdInternal()))) {
                return true;
            }
        }
        return false;
    }

    /** Adds a session this scope acquired; after completion it is saved and released at once. */
    void add(RedisSession session) {
        synchronized (this) {
            if (!completed) {
                sessions.add(session);
                absentIds.remove(session.getIdInternal());
                return;
            }
        }
        // Work Tomcat does after the scope completed: save and release right away.
        try {
            repository.save(session, false);
        } finally {
            repository.release(session);
        }
    }

    synchronized void markAbsent(String id) {
        absentIds.add(id);
    }

    /** Remembers that Redis failed for this id, so the request does not wait for it twice. */
    synchronized void markUnavailable(String id, SessionStoreUnavailableException e) {
        unavailable.put(id, e);
    }

    synchronized void throwIfUnavailable(String id) {
        SessionStoreUnavailableException e = unavailable.get(id);
        if (e != null) {
            throw e;
        }
    }

    synchronized void throwIfAnyUnavailable() {
        if (!unavailable.isEmpty()) {
            throw unavailable.values().iterator().next();
        }
    }

    /** Marks that the async cycle's end completes this scope; false if that was already arranged. */
    synchronized boolean completeWithAsync() {
        if (completesWithAsync) {
            return false;
        }
        completesWithAsync = true;
        return true;
    }

    /**
     * Saves what the client is about to see: called before the response is committed or flushed.
     * A session saved once here is saved again at the end only if it changed since.
     *
     * @throws SessionStoreUnavailableException when a save fails; the response is then not committed
     */
    void saveBeforeCommit() {
        List<RedisSession> toSave;
        synchronized (this) {
            if (completed) {
                return;
            }
            toSave = new ArrayList<>(sessions.size());
            for (RedisSession session : sessions) {
                // Once saved early, only recorded changes justify another round trip before the end.
                if (!savedEarly.contains(session) || session.changes().hasRecordedChanges()) {
                    toSave.add(session);
                }
            }
            savedEarly.addAll(toSave);
        }
        for (RedisSession session : toSave) {
            if (session.isLive()) {
                repository.save(session, true);
            }
        }
    }

    /**
     * Saves every live session this scope used, then releases them. Only the first call works.
     *
     * @throws SessionStoreUnavailableException after trying them all, if any save failed
     */
    void complete() {
        List<RedisSession> toSave;
        Set<RedisSession> early;
        synchronized (this) {
            if (completed) {
                return;
            }
            completed = true;
            toSave = List.copyOf(sessions);
            early = Set.copyOf(savedEarly);
        }
        RuntimeException failure = null;
        for (RedisSession session : toSave) {
            try {
                if (session.isLive()) {
                    if (session.isLastUser()) {
                        // The session's data leaves this node: tell activation listeners first.
                        session.passivate();
                    }
                    repository.save(session, early.contains(session));
                }
            } catch (RuntimeException e) {
                failure = e;
            } finally {
                repository.release(session);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    synchronized boolean isCompleted() {
        return completed;
    }
}

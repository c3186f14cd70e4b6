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
 * <p>Once a Redis call of the request failed (Redis away, frozen, or refusing), the request makes
 * no further Redis call: later lookups, invalidations and saves fail at once with that failure, so
 * the request answers 503 within about {@code timeoutMillis} instead of waiting again for each.
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
    /** The first failure of a Redis call of this request, or null. */
    private SessionStoreUnavailableException failure;
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
        markFailed(e);
    }

    /** Remembers that a Redis call of this request failed: the request makes no further one. */
    synchronized void markFailed(SessionStoreUnavailableException e) {
        if (failure == null) {
            failure = e;
        }
    }

    /** The first failure of a Redis call of this request, or null when none failed. */
    synchronized SessionStoreUnavailableException failure() {
        return failure;
    }

    synchronized void throwIfUnavailable(String id) {
        SessionStoreUnavailableException e = unavailable.get(id);
        if (e != null) {
            throw e;
        }
    }

    /** Throws the first failure of a Redis call of this request, if any. */
    synchronized void throwIfAnyUnavailable() {
        if (failure != null) {
            throw failure;
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
        Set<RedisSession> savedBefore = new HashSet<>(2);
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
                if (savedEarly.contains(session)) {
                    savedBefore.add(session);
                }
            }
            savedEarly.addAll(toSave);
        }
        for (RedisSession session : toSave) {
            if (session.isLive()) {
                throwIfAnyUnavailable();
                // The first save of the request writes the access time too (unless Redis' is recent):
                // the save at the end skips an access-only save of a session saved here.
                save(session, savedBefore.contains(session));
            }
        }
    }

    private void save(RedisSession session, boolean skipIfOnlyAccessed) {
        try {
            repository.save(session, skipIfOnlyAccessed);
        } catch (SessionStoreUnavailableException e) {
            markFailed(e);
            throw e;
        }
    }

    /**
     * Saves every live session this scope used, then releases them. Only the first call works.
     * Once a Redis call of the request failed, nothing more is sent: the changes count as unsaved.
     *
     * @throws SessionStoreUnavailableException after trying them all, if any save failed or was
     *         skipped for an earlier failure
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
        RuntimeException error = null;
        for (RedisSession session : toSave) {
            try {
                if (session.isLive()) {
                    if (session.isLastUser()) {
                        // The session's data leaves this node: tell activation listeners first.
                        session.passivate();
                    }
                    // Only this last save may find the object in sync with Redis: one before the
                    // commit did not see what the request changed after it.
                    session.markOutOfSync();
                    throwIfAnyUnavailable();
                    save(session, early.contains(session));
                }
            } catch (RuntimeException e) {
                error = e;
            } finally {
                repository.release(session);
            }
        }
        if (error != null) {
            throw error;
        }
    }

    synchronized boolean isCompleted() {
        return completed;
    }
}

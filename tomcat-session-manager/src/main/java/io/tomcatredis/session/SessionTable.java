package io.tomcatredis.session;

import io.tomcatredis.session.store.SessionKeys;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The session objects this node holds in memory: exactly those that requests in flight use, keyed
 * by the session id without its route, so that concurrent requests of one session on one node
 * share one object. An object leaves the table when its last request releases it; it is never
 * handed to a new request without asking Redis whether it is still current (see
 * {@link SessionRepository}).
 */
final class SessionTable {

    private static final int STRIPES = 64;

    private final ConcurrentMap<String, RedisSession> inUse = new ConcurrentHashMap<>();
    private final ReentrantLock[] loading = new ReentrantLock[STRIPES];

    SessionTable() {
        for (int i = 0; i < STRIPES; i++) {
            loading[i] = new ReentrantLock();
        }
    }

    /**
     * The lock under which a session is loaded into the table: one load of a session at a time on
     * this node, so an object is never installed from a read older than a save another object of
     * the same session made meanwhile (that object's save precedes its release, and a load under
     * the lock either finds it in use or comes after its save).
     */
    ReentrantLock loadingLock(String sessionId) {
        return loading[Math.floorMod(SessionKeys.baseId(sessionId).hashCode(), STRIPES)];
    }

    /** The object in use for {@code sessionId}, acquired for one more request; null if none. */
    RedisSession acquire(String sessionId) {
        String key = SessionKeys.baseId(sessionId);
        while (true) {
            RedisSession session = inUse.get(key);
            if (session == null) {
                return null;
            }
            if (session.tryAcquire()) {
                return session;
            }
            // Its last user released it just now: it is detached and leaving the table.
            inUse.remove(key, session);
        }
    }

    /** The object in use for {@code sessionId} without acquiring it, or null. */
    RedisSession peek(String sessionId) {
        return inUse.get(SessionKeys.baseId(sessionId));
    }

    /**
     * Puts an acquired, freshly loaded object in the table, in place of {@code stale} (null: in
     * place of none). When another request installed an object for the session meanwhile, that
     * one is acquired and returned instead, so one node never holds two live objects of a session.
     *
     * @return the object the caller must use
     */
    RedisSession install(RedisSession fresh, RedisSession stale) {
        String key = SessionKeys.baseId(fresh.getIdInternal());
        while (true) {
            RedisSession current = inUse.get(key);
            if (current == null) {
                if (inUse.putIfAbsent(key, fresh) == null) {
                    return fresh;
                }
            } else if (current == stale) {
                if (inUse.replace(key, stale, fresh)) {
                    return fresh;
                }
            } else if (isOlder(current, fresh)) {
                // Installed from an older read than ours: new requests get ours.
                if (inUse.replace(key, current, fresh)) {
                    return fresh;
                }
            } else if (current.tryAcquire()) {
                return current;
            } else {
                inUse.remove(key, current);
            }
        }
    }

    /** Compared once no save of {@code current} is in flight, whose new version would look newer. */
    private static boolean isOlder(RedisSession current, RedisSession fresh) {
        current.saveLock().lock();
        try {
            return current.version() < fresh.version();
        } finally {
            current.saveLock().unlock();
        }
    }

    /**
     * One request is done with {@code session}; the last one takes it out of the table.
     *
     * @return true when it left the table (detached)
     */
    boolean release(RedisSession session) {
        if (session.release()) {
            remove(session);
            return true;
        }
        return false;
    }

    /** Takes exactly this object out of the table (another object for its id may be in use). */
    void remove(RedisSession session) {
        String id = session.getIdInternal();
        if (id != null) {
            inUse.remove(SessionKeys.baseId(id), session);
        }
    }

    /** Puts an object that requests use under its (new) id; used when an object gets its id. */
    void put(RedisSession session) {
        if (!session.isDetached()) {
            inUse.put(SessionKeys.baseId(session.getIdInternal()), session);
        }
    }

    int size() {
        return inUse.size();
    }

    void clear() {
        inUse.values().forEach(RedisSession::detach);
        inUse.clear();
    }
}

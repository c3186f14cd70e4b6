package io.tomcatredis.session;

import io.tomcatredis.session.codec.IndexedUserNames;
import io.tomcatredis.session.store.LoadResult;
import io.tomcatredis.session.store.RedisSessionStore;
import io.tomcatredis.session.store.SessionChanges;
import io.tomcatredis.session.store.SessionIds;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.session.store.SessionStoreUnavailableException;
import io.tomcatredis.session.store.StoredSession;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

/**
 * Moves sessions between Redis and this node's {@link SessionTable}: finds them (loading, or
 * checking with one small round trip that an object in use here is still current), saves them,
 * and claims invalidations and expiries. The one place where the rule "Redis is the truth" is
 * applied:
 * <ul>
 * <li>an object in use on this node is handed to another request only after Redis confirmed its
 *     {@code meta:version}; a newer version is loaded afresh, a session Redis no longer has is
 *     dropped (no listener fires again: the node that removed it fired them);</li>
 * <li>saves of one object are serialized, so they reach Redis in the order of the changes;</li>
 * <li>a save that finds the session gone drops the object;</li>
 * <li>a load reuses a value deserialized earlier on this node ({@link NearCache}) only for bytes
 *     that Redis holds unchanged.</li>
 * </ul>
 */
final class SessionRepository {

    private static final Log log = LogFactory.getLog(RedisSessionManager.class);
    /** At most one warning per minute that Redis, out of memory, refused to record accesses. */
    private static final long ACCESS_WARNING_NANOS = 60_000_000_000L;

    private final AtomicLong lastAccessWarning = new AtomicLong(System.nanoTime() - ACCESS_WARNING_NANOS);

    private final RedisSessionStore store;
    private final SessionBackend backend;
    private final SessionTable table;
    private final NearCache nearCache;
    private final Supplier<RedisSession> factory;
    private final int idHexLength;
    private final AttributeFilter attributeFilter;
    /** Whether Redis' invalidation messages are current now; always false unless {@code nearCacheStalenessMillis}. */
    private final BooleanSupplier invalidationsCurrent;
    private final boolean answersWithoutRedis;

    /**
     * Tomcat's own session attribute filters ({@code sessionAttributeNameFilter},
     * {@code sessionAttributeValueClassNameFilter}), applied as {@code StandardManager} applies them
     * when it persists sessions: an attribute they exclude is neither stored nor read back.
     */
    @FunctionalInterface
    interface AttributeFilter {
        boolean willDistribute(String name, Object value);
    }

    /**
     * @param invalidationsCurrent whether Redis' invalidation messages are current now, or null
     *        when loads are never answered from the {@link NearCache} alone
     */
    SessionRepository(SessionBackend backend, SessionTable table, NearCache nearCache, Supplier<RedisSession> factory,
            int idHexLength, AttributeFilter attributeFilter, BooleanSupplier invalidationsCurrent) {
        this.answersWithoutRedis = invalidationsCurrent != null;
        this.invalidationsCurrent = answersWithoutRedis ? invalidationsCurrent : () -> false;
        this.store = backend.store();
        this.backend = backend;
        this.table = table;
        this.nearCache = nearCache;
        this.factory = factory;
        this.idHexLength = idHexLength;
        this.attributeFilter = attributeFilter;
    }

    RedisSessionStore store() {
        return store;
    }

    /** Whether {@code id} has the form of the ids this manager issues; a malformed one is never looked up. */
    boolean isWellFormed(String id) {
        return SessionIds.isWellFormed(id, idHexLength);
    }

    /**
     * Finds a session for a request: the object in use here if Redis confirms it is current, else
     * the session as Redis holds it. Acquired for the caller, which must {@link #release} it.
     *
     * @return null when the id is malformed, or Redis holds no live session under it
     */
    RedisSession acquire(String id) {
        if (!SessionIds.isWellFormed(id, idHexLength)) {
            return null;
        }
        RedisSession inUse = table.acquire(id);
        if (inUse != null) {
            if (isCurrentWithoutRedis(inUse)) {
                nearCache.answered();
                return inUse;
            }
            LoadResult checked = loadOrRelease(id, inUse);
            if (checked instanceof LoadResult.Unchanged) {
                return inUse;
            }
            release(inUse);
            if (!(checked instanceof LoadResult.Loaded)) {
                // Redis no longer has it: nobody on this node may go on using it.
                drop(inUse);
                return absentOrExpired(id, checked);
            }
        }
        ReentrantLock loading = table.loadingLock(id);
        LoadResult result;
        NearCache.Lookup kept = null;
        StoredSession answeredFrom = null;
        loading.lock();
        try {
            RedisSession current = table.acquire(id);
            if (current != null && current != inUse) {
                // Another request of this node loaded it meanwhile: the same check as for any object in use.
                result = loadOrRelease(id, current);
                if (result instanceof LoadResult.Unchanged) {
                    return current;
                }
                release(current);
                if (!(result instanceof LoadResult.Loaded)) {
                    drop(current);
                }
                inUse = current;
            } else {
                if (current != null) {
                    release(current);
                }
                // Taken before Redis is read: a change heard from now on keeps this load's hash out of the cache.
                kept = nearCache.take(id, invalidationsCurrent.getAsBoolean());
                result = kept.stored() == null ? null : store.loadedFromCopy(kept.stored());
                if (result != null) {
                    nearCache.answered();
                    answeredFrom = kept.stored();
                } else {
                    result = store.load(id, 0);
                }
            }
            if (result instanceof LoadResult.Loaded loaded) {
                if (kept == null) {
                    kept = nearCache.take(id, false);
                }
                RedisSession fresh = restore(id, loaded.session(), kept.values());
                fresh.loadedWith(kept.token());
                fresh.answeredFromCopy(answeredFrom);
                fresh.tryAcquire();
                RedisSession installed = table.install(fresh, inUse);
                if (installed == fresh) {
                    fresh.activate();
                }
                return installed;
            }
        } finally {
            loading.unlock();
        }
        return absentOrExpired(id, result);
    }

    private RedisSession absentOrExpired(String id, LoadResult result) {
        if (result instanceof LoadResult.Expired) {
            expire(id);
        } else {
            nearCache.take(id, false);
        }
        return null;
    }

    /**
     * Whether the object in use here still is what Redis holds, by the invalidations heard alone
     * ({@code nearCacheStalenessMillis}): it wrote nothing since its load, and no change of its
     * session was heard since.
     */
    private boolean isCurrentWithoutRedis(RedisSession inUse) {
        return answersWithoutRedis && inUse.loadedFromUnchanged() != null && invalidationsCurrent.getAsBoolean()
                && nearCache.unchangedSince(inUse.getIdInternal(), inUse.loadToken())
                && store.isCertainlyLive(inUse.loadedFromUnchanged());
    }

    /**
     * Loads, or checks the version of the object in use. The check waits for a save of that object
     * in flight, whose new version would otherwise look like another node's change.
     */
    private LoadResult loadOrRelease(String id, RedisSession inUse) {
        if (inUse == null) {
            return store.load(id, 0);
        }
        inUse.saveLock().lock();
        try {
            return store.load(id, inUse.version());
        } catch (RuntimeException e) {
            release(inUse);
            throw e;
        } finally {
            inUse.saveLock().unlock();
        }
    }

    /**
     * Finds a session for code that runs outside any request of this node (another thread, JMX,
     * the Manager webapp): the object a request in flight uses, or a detached copy from Redis,
     * whose changes are written at once.
     */
    RedisSession view(String id) {
        if (!SessionIds.isWellFormed(id, idHexLength)) {
            return null;
        }
        RedisSession inUse = table.peek(id);
        if (inUse != null && !inUse.isDetached()) {
            return inUse;
        }
        LoadResult result = store.load(id, 0);
        if (result instanceof LoadResult.Loaded loaded) {
            RedisSession copy = restore(id, loaded.session(), Map.of());
            copy.detach();
            return copy;
        }
        if (result instanceof LoadResult.Expired) {
            expire(id);
        }
        return null;
    }

    /**
     * A session for a listing (the Manager webapp, JMX), under the id its clients know
     * ({@code meta:id}), which such tools compare with the ids they show.
     */
    RedisSession listed(String baseId) {
        RedisSession inUse = table.peek(baseId);
        if (inUse != null && !inUse.isDetached()) {
            return inUse;
        }
        if (store.load(baseId, 0) instanceof LoadResult.Loaded loaded) {
            String id = loaded.session().id() != null ? loaded.session().id() : baseId;
            RedisSession copy = restore(id, loaded.session(), Map.of());
            copy.detach();
            return copy;
        }
        return null;
    }

    /**
     * One request is done with {@code session}. When it was the last one, the object leaves the
     * table, and its deserialized values are kept for the session's next load if Redis holds
     * exactly its state.
     */
    void release(RedisSession session) {
        if (table.release(session) && nearCache.isEnabled() && session.isLive() && session.isPersisted()
                && session.isInSync()) {
            nearCache.keep(session.getIdInternal(), session.decodedValues(), session.loadedFromUnchanged(),
                    session.loadToken());
        }
    }

    /**
     * Saves what changed in {@code session}. Saves of one object are serialized.
     *
     * @param skipIfOnlyAccessed true to send nothing when only the access time would be renewed
     *                           (the session was saved earlier in the same request); without it, an
     *                           access-only save is still skipped while Redis' access time is
     *                           recent ({@link RedisSessionStore#isAccessRecorded})
     * @throws io.tomcatredis.session.store.SessionStoreUnavailableException when Redis fails; the
     *         changes count as unsaved then, for the next save to retry
     * @throws SessionSizeLimitException when something is over a size limit and
     *         {@code sizeLimitAction="fail"}: nothing is written, the changes count as unsaved
     */
    void save(RedisSession session, boolean skipIfOnlyAccessed) {
        session.saveLock().lock();
        try {
            if (!session.isLive()) {
                return;
            }
            long acquisitions = session.acquisitions();
            String binding = session.binding();
            SessionChanges changes = session.changes().drain(session.snapshot(),
                    (name, value, stored) -> encode(binding, name, value, stored));
            List<SizeGuard.Excess> excess = session.changes().enforce(changes, backend.sizeGuard());
            if (!excess.isEmpty()) {
                String refused = backend.reportExcess(session.getIdInternal(), excess);
                if (backend.sizeGuard().fail()) {
                    session.changes().failed(changes);
                    throw new SessionSizeLimitException(refused);
                }
            }
            if (changes.isAccessOnly() && (skipIfOnlyAccessed
                    || store.isAccessRecorded(session.storedLastAccessedTime(), session.storedTouchInterval()))) {
                if (!session.changes().hasUnsavedValues()) {
                    session.markInSync(acquisitions);
                }
                return;
            }
            long version;
            try {
                // A renewal of the access time alone overwrites nothing: it needs no confirmation.
                if (!changes.isAccessOnly() && !copyStillCurrent(session)) {
                    log.warn("Changes to session " + SessionIds.redact(session.getIdInternal()) + " were not saved:"
                            + " the request was answered from this node's copy (nearCacheStalenessMillis), and another"
                            + " node changed, invalidated or expired the session after that copy was read");
                    drop(session);
                    return;
                }
                forgetCopy(session.getIdInternal());
                try {
                    version = store.save(session.getIdInternal(), changes);
                } finally {
                    forgetCopy(session.getIdInternal());
                }
            } catch (RuntimeException e) {
                session.changes().failed(changes);
                if (changes.isAccessOnly() && e instanceof SessionStoreUnavailableException unavailable
                        && unavailable.redisOutOfMemory()) {
                    accessNotRecorded(unavailable);
                    return;
                }
                throw e;
            }
            if (version < 0) {
                if (!changes.isAccessOnly()) {
                    log.warn("Changes to session " + SessionIds.redact(session.getIdInternal()) + " were not saved:"
                            + " during the request another node invalidated it, changed its id, or it expired");
                }
                drop(session);
                return;
            }
            session.changes().saved(changes);
            store.statistics().sessionBytes(session.changes().storedAttributeBytes());
            session.savedAs(version);
            if (!session.changes().hasUnsavedValues()) {
                session.markInSync(acquisitions);
            }
        } finally {
            session.saveLock().unlock();
        }
    }

    /**
     * Redis, out of memory, refused a save that only renews the access time: the request changed
     * nothing in the session, so it is answered (not 503); its access is not recorded (the session's
     * deadline in Redis is not extended by it) and stays unsaved, for the next save to write. A
     * session whose requests all come while Redis stays full expires at its deadline.
     */
    private void accessNotRecorded(SessionStoreUnavailableException e) {
        long now = System.nanoTime();
        long last = lastAccessWarning.get();
        if (now - last >= ACCESS_WARNING_NANOS && lastAccessWarning.compareAndSet(last, now)) {
            log.warn("Requests that changed nothing in their session are answered, but their access is not recorded"
                    + " (the sessions' deadlines are not extended) while Redis is out of memory: " + e.getMessage());
        }
    }

    /**
     * Whether a session answered from the near cache's copy with no round trip may write its
     * changes: only when Redis still holds, for every attribute the request read, set or removed,
     * the bytes the copy held, and no attribute the request set was added meanwhile. Otherwise the
     * request computed its changes from values another node has since replaced, and writing them
     * would overwrite, or bring back, what that node wrote. Changes to attributes the request did
     * not use do not matter: a save writes only what the request changed. One {@code load.lua}
     * round trip, before the first write only. The window between this check and the write is the
     * one any two concurrent requests of a session on two nodes have without the near cache.
     */
    private boolean copyStillCurrent(RedisSession session) {
        StoredSession copy = session.unconfirmedCopy();
        if (copy == null) {
            return true;
        }
        LoadResult current = store.load(session.getIdInternal(), copy.version());
        boolean same = current instanceof LoadResult.Unchanged
                || current instanceof LoadResult.Loaded loaded && sameUsedState(session, copy, loaded.session());
        if (same) {
            session.copyConfirmed();
        }
        return same;
    }

    /** Whether {@code now} holds what {@code copy} held of everything {@code session} used. */
    private static boolean sameUsedState(RedisSession session, StoredSession copy, StoredSession now) {
        if (!Objects.equals(copy.id(), now.id()) || copy.creationTime() != now.creationTime()) {
            return false;
        }
        for (Map.Entry<String, byte[]> attribute : copy.attributes().entrySet()) {
            if (session.usedAttribute(attribute.getKey())
                    && !sameBytes(attribute.getValue(), now.attributes().get(attribute.getKey()))) {
                return false;
            }
        }
        for (String name : now.attributes().keySet()) {
            if (!copy.attributes().containsKey(name) && session.holdsValue(name)) {
                return false;
            }
        }
        return true;
    }

    private static boolean sameBytes(byte[] a, byte[] b) {
        // Never Arrays.equals with null: Jazzer's hook on it (the fuzzers) crashes the JVM then.
        return a == null || b == null ? a == b : Arrays.equals(a, b);
    }

    /**
     * Claims an invalidation of {@code session} in Redis.
     *
     * @return true when this node won it (or the session was never stored): listeners fire here
     */
    boolean invalidate(RedisSession session) {
        if (!session.isPersisted()) {
            return true;
        }
        forgetCopy(session.getIdInternal());
        try {
            return store.invalidate(session.getIdInternal());
        } finally {
            forgetCopy(session.getIdInternal());
        }
    }

    /**
     * Expires a session whose deadline passed in Redis, if this node wins the claim: the listeners
     * fire here, on a copy holding what Redis held. An object in use here for it is dropped.
     */
    void expire(String id) {
        forgetCopy(id);
        StoredSession claimed;
        try {
            claimed = store.claimIfExpired(id);
        } finally {
            forgetCopy(id);
        }
        expired(id, claimed);
    }

    /**
     * Ends a session whose expiry claim this node made ({@link RedisSessionStore#claimExpired}):
     * with {@code stored} (this node won) the listeners fire here, on a copy holding what Redis
     * held; either way no copy of the session stays on this node.
     *
     * @param stored what the claim returned, or null when this node did not win it
     */
    void expired(String id, StoredSession stored) {
        forgetCopy(id);
        nearCache.take(id, false);
        RedisSession inUse = table.peek(id);
        if (inUse != null && stored != null) {
            drop(inUse);
        }
        if (stored == null) {
            return;
        }
        RedisSession expiring = restore(id, stored, Map.of());
        expiring.detach();
        expiring.activate();
        expiring.expireClaimed();
    }

    /**
     * This node is about to change session {@code id} in Redis: no hash kept of it may answer a
     * load, even before Redis' own message of the change arrives (a write of a detached object, a
     * JMX operation, an invalidation). Called before the write and again once it is done (or
     * failed: it may have landed): a load of this node that read Redis while the write was in
     * flight took its token before the second call, so its hash is not kept, and the next request
     * reads Redis even when Redis' own message of the write is not heard yet.
     */
    private void forgetCopy(String id) {
        if (answersWithoutRedis) {
            nearCache.invalidated(SessionKeys.baseId(id));
        }
    }

    /** Serializes an attribute value Tomcat's filters let through, or returns null. */
    /** What Redis holds for a user name ({@link IndexedUserNames}). */
    IndexedUserNames userNames() {
        return backend.userNames();
    }

    private byte[] encode(String binding, String name, Object value, byte[] stored) {
        if (!SessionBackend.PRINCIPAL.equals(name) && !attributeFilter.willDistribute(name, value)) {
            backend.warnFiltered(name, value, false);
            return null;
        }
        return backend.encodeOrWarn(binding, name, value, stored);
    }

    /** Deserializes an attribute value Tomcat's filters let through, or logs why not and returns null. */
    Object decode(String binding, String sessionId, String name, byte[] bytes) {
        Object value = backend.decodeOrWarn(binding, sessionId, name, bytes);
        if (value != null && !attributeFilter.willDistribute(name, value)) {
            backend.warnFiltered(name, value, true);
            return null;
        }
        return value;
    }

    /**
     * A value the {@link NearCache} kept for {@code bytes}, if serializing it still gives exactly
     * those bytes (nothing changed it in place since), else null.
     */
    Object stillEncodesTo(String binding, String name, Object kept, byte[] bytes) {
        return backend.encodesTo(binding, name, kept, bytes) ? kept : null;
    }

    Function<byte[], Object> principalDecoder(String binding, String sessionId) {
        return bytes -> backend.decodeOrWarn(binding, sessionId, SessionBackend.PRINCIPAL, bytes);
    }

    private RedisSession restore(String id, StoredSession stored, Map<String, NearCache.Decoded> kept) {
        RedisSession session = factory.get();
        session.restore(id, stored, kept);
        return session;
    }

    private void drop(RedisSession session) {
        session.drop();
        table.remove(session);
    }
}

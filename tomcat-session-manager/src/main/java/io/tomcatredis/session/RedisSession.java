package io.tomcatredis.session;

import io.tomcatredis.session.store.SessionIds;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.session.store.StoredSession;
import jakarta.servlet.http.HttpSessionActivationListener;
import java.security.Principal;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link org.apache.catalina.session.StandardSession} whose attributes come from a Redis hash:
 * deserialized lazily on first use, with a {@link ChangeTracker} so that a save writes only what
 * changed, including values mutated in place.
 *
 * <p>Redis decides when a session times out, not this object: {@link #isValid()} does not expire a
 * session because this copy was idle (another node may have used it meanwhile). An object that no
 * request on this node uses any more is <em>detached</em>: a change made to it (from a WebSocket
 * endpoint, a timer, another thread) is written to Redis at once.
 */
public class RedisSession extends RestoredSession {

    private static final long serialVersionUID = 1L;

    /** Attributes loaded from Redis but not yet deserialized. */
    private final transient Map<String, byte[]> undecoded = new ConcurrentHashMap<>();
    /**
     * Values the {@link NearCache} holds for undecoded attributes, exactly what deserializing their
     * bytes gives: taken instead on first use, so an attribute no request uses is neither
     * deserialized nor, at the save, serialized again.
     */
    private final transient Map<String, Object> reusable = new ConcurrentHashMap<>();
    /**
     * For each value deserialized here (or taken from the {@link NearCache} in its place) and not
     * set or removed since: the very byte array it was read from.
     */
    private final transient Map<String, byte[]> readFrom = new ConcurrentHashMap<>();
    private final transient ChangeTracker changes = new ChangeTracker();
    /** Requests on this node using this object; -1 once it left the node's session table. */
    private final transient AtomicInteger users = new AtomicInteger();
    /** How many times a request acquired this object; see {@link #isInSync}. */
    private final transient AtomicLong acquisitions = new AtomicLong();
    /**
     * {@link #acquisitions} when a save found this object's whole state written (or nothing to
     * write) while one request used it; -1 before any such save.
     */
    private transient volatile long syncedAt = -1;
    /** Serializes the saves of this object, so they reach Redis in the order of the changes. */
    private final transient ReentrantLock saveLock = new ReentrantLock();
    private transient volatile boolean persisted;
    private transient volatile long version;
    /**
     * {@code meta:lastAccessedTime} and {@code meta:touchInterval} as loaded; touchInterval 0 once
     * this object saved (Redis then holds a time this object does not know).
     */
    private transient volatile long storedLastAccessedTime;
    private transient volatile long storedTouchInterval;
    /**
     * The hash this object was loaded from while Redis holds it unchanged by this object (null
     * once it saved or changed its id), and the {@link NearCache.Lookup#token} of that load.
     */
    private transient volatile StoredSession loadedFrom;
    private transient volatile long loadToken = NearCache.NO_TOKEN;
    /**
     * The near cache's copy this object was answered from with no round trip, until Redis
     * confirmed that copy before the first write ({@code nearCacheStalenessMillis}); else null.
     */
    private transient volatile StoredSession unconfirmedCopy;
    /**
     * {@code meta:sealId} as loaded, or the id (without route) this object had when an id change
     * moved its hash; null while values are bound to the current id ({@link #binding}).
     */
    private transient volatile String sealId;
    /** Set when this node already won the claim on the session in Redis. */
    private transient volatile boolean claimed;
    /** Set when Redis no longer has the session: the object is dead, without events. */
    private transient volatile boolean dropped;

    RedisSession(RedisSessionManager manager) {
        super(manager);
    }

    private SessionRepository repository() {
        return ((RedisSessionManager) manager).repository();
    }

    /**
     * Fills this empty session from what Redis holds, without firing any event. An attribute whose
     * stored bytes a kept value was read from takes that value on first use instead of being
     * deserialized again, if the value still serializes to those bytes.
     */
    void restore(String sessionId, StoredSession stored, Map<String, NearCache.Decoded> kept) {
        sealId = stored.sealId();
        restoreMetadata(sessionId, stored, repository().principalDecoder(stored.binding(sessionId), sessionId));
        undecoded.putAll(stored.attributes());
        kept.forEach((name, decoded) -> {
            if (decoded.matches(stored.attributes().get(name))) {
                reusable.put(name, decoded.value());
            }
        });
        changes.loaded(stored.attributes(), stored.activationListeners());
        changes.loadedPrincipal(stored.principalName());
        version = stored.version();
        loadedFrom = stored;
        storedLastAccessedTime = stored.lastAccessedTime();
        storedTouchInterval = stored.touchInterval();
        persisted = true;
        // Activation listeners must hear of the load, so they cannot wait for a lazy getAttribute.
        stored.activationListeners().forEach(this::materialize);
    }

    // ------------------------------------------------------------------ use on this node

    boolean tryAcquire() {
        if (users.getAndUpdate(u -> u < 0 ? u : u + 1) < 0) {
            return false;
        }
        acquisitions.incrementAndGet();
        return true;
    }

    /** @return true when this was the last user: the object leaves the table and is detached */
    boolean release() {
        return users.decrementAndGet() == 0 && users.compareAndSet(0, -1);
    }

    /** Detaches this object at once, whoever uses it. */
    void detach() {
        users.set(-1);
    }

    /** Whether only the calling request still uses this object on this node. */
    boolean isLastUser() {
        return users.get() == 1;
    }

    /** Whether no request on this node uses this object: changes to it are written at once. */
    boolean isDetached() {
        return users.get() < 0;
    }

    // ------------------------------------------------------------------ state for the repository

    boolean isPersisted() {
        return persisted;
    }

    long version() {
        return version;
    }

    ReentrantLock saveLock() {
        return saveLock;
    }

    ChangeTracker changes() {
        return changes;
    }

    boolean isLive() {
        return isValid && !dropped;
    }

    long storedLastAccessedTime() {
        return storedLastAccessedTime;
    }

    long storedTouchInterval() {
        return storedTouchInterval;
    }

    /** Redis saved this object's changes as {@code newVersion}. */
    void savedAs(long newVersion) {
        version = newVersion;
        loadedFrom = null;
        storedTouchInterval = 0;
        persisted = true;
    }

    /**
     * Records that a save just found nothing left to write: Redis holds this object's whole state,
     * mutations in place included. Counts only while the calling request is the only user, so that
     * no other request can have changed the object after the save looked at it.
     *
     * @param acquisitionsBefore {@link #acquisitions()} read before the save looked at the state
     */
    void markInSync(long acquisitionsBefore) {
        if (isLastUser()) {
            syncedAt = acquisitionsBefore;
        }
    }

    /** Forgets that a save found this object in sync: a later save must find it so again. */
    void markOutOfSync() {
        syncedAt = -1;
    }

    long acquisitions() {
        return acquisitions.get();
    }

    /** @param token the {@link NearCache.Lookup#token} of the load that filled this object */
    void loadedWith(long token) {
        loadToken = token;
    }

    long loadToken() {
        return loadToken;
    }

    /** This object was filled from the near cache's copy {@code copy}, with no round trip. */
    void answeredFromCopy(StoredSession copy) {
        unconfirmedCopy = copy;
    }

    /** The copy this object was answered from, while Redis has not confirmed it; else null. */
    StoredSession unconfirmedCopy() {
        return unconfirmedCopy;
    }

    /** Whether a request read, set or removed attribute {@code name} of this object since its load. */
    boolean usedAttribute(String name) {
        return !undecoded.containsKey(name);
    }

    /** Whether this object holds a deserialized value for {@code name} (one it read or set). */
    boolean holdsValue(String name) {
        return attributes.containsKey(name);
    }

    /** Redis holds what the copy held: this object's changes may be written. */
    void copyConfirmed() {
        unconfirmedCopy = null;
    }

    /** The hash this object was loaded from if it wrote nothing to Redis since, else null. */
    StoredSession loadedFromUnchanged() {
        return loadedFrom;
    }

    /**
     * The values that are what deserializing the bytes Redis holds would give, for the
     * {@link NearCache}: each was read from exactly those bytes, and neither set nor rewritten
     * since (a value this node wrote may be one it cannot read back: a class the filter rejects,
     * a graph too deep). Call only when {@link #isInSync}, so that none changed in place.
     */
    Map<String, NearCache.Decoded> decodedValues() {
        Map<String, NearCache.Decoded> values = new HashMap<>();
        readFrom.forEach((name, bytes) -> {
            Object value = attributes.get(name);
            // The same array: a save that rewrote the value replaced the tracker's bytes.
            if (value != null && bytes == changes.storedBytes(name)) {
                values.put(name, new NearCache.Decoded(bytes, value));
            }
        });
        reusable.forEach((name, value) -> {
            byte[] bytes = undecoded.get(name);
            if (bytes != null) {
                values.put(name, new NearCache.Decoded(bytes, value));
            }
        });
        return values;
    }

    /**
     * Whether Redis holds exactly this object's state as of its version: the last save looked at it
     * while one request used it, and no request acquired it since. Only such an object may be kept
     * for a later load ({@link NearCache}); one whose request failed before saving, or that
     * another request used after the save, is not.
     */
    boolean isInSync() {
        return syncedAt == acquisitions.get();
    }

    /**
     * Redis no longer holds this session (another node invalidated or expired it): this object dies
     * without firing listeners again, since the node that removed it fired them.
     */
    void drop() {
        dropped = true;
        isValid = false;
    }

    /**
     * What encrypted values of this session are bound to: {@code meta:sealId}, else the id without
     * route ({@link StoredSession#binding}).
     */
    String binding() {
        String seal = sealId;
        return seal != null ? seal : SessionKeys.baseId(id);
    }

    /** The state a save is computed from. */
    ChangeTracker.Snapshot snapshot() {
        Set<String> activationListeners = new HashSet<>();
        Map<String, Object> current = new HashMap<>(attributes);
        current.forEach((name, value) -> {
            if (value instanceof HttpSessionActivationListener) {
                activationListeners.add(name);
            }
        });
        return new ChangeTracker.Snapshot(id, !persisted, creationTime, maxInactiveInterval, current, principal, authType,
                activationListeners, userName());
    }

    /**
     * The user this session belongs to, for the principal index, as Redis holds it
     * ({@link io.tomcatredis.session.codec.IndexedUserNames}): the principal's name, or without a
     * principal the String value of {@link RedisSessions#PRINCIPAL_NAME_ATTRIBUTE}; else null.
     */
    private String userName() {
        if (principal != null) {
            return repository().userNames().written(principal.getName());
        }
        materialize(RedisSessions.PRINCIPAL_NAME_ATTRIBUTE);
        return attributes.get(RedisSessions.PRINCIPAL_NAME_ATTRIBUTE) instanceof String name
                ? repository().userNames().written(name) : null;
    }

    /** A new id (Tomcat's changeSessionId): the next save records it as the id clients know. */
    @Override
    public void setId(String id, boolean notify) {
        boolean changing = this.id != null && !this.id.equals(id);
        if (changing && persisted && sealId == null) {
            // The id change moved the hash and recorded the old id as meta:sealId (rename.lua).
            sealId = SessionKeys.baseId(this.id);
        }
        super.setId(id, notify);
        if (changing) {
            loadedFrom = null;
            changes.idChanged();
        }
    }

    /**
     * Invalidates the session everywhere, as {@link #expire()} does (the claim in Redis decides
     * which node fires the listeners).
     *
     * @return true when this call invalidated it and the listeners fired here; false when it was
     *         no longer valid, or another node won the claim
     */
    boolean expireHere() {
        if (!isLive()) {
            return false;
        }
        expire(true);
        return !dropped && !isValid;
    }

    /** Expires a session whose claim in Redis this node already won: listeners fire here. */
    void expireClaimed() {
        claimed = true;
        expire(true);
    }

    // ------------------------------------------------------------------ HttpSession

    /** Valid while Redis holds the session; time-outs are Redis' (see the class comment). */
    @Override
    public boolean isValid() {
        return isValid && !dropped;
    }

    @Override
    public Object getAttribute(String name) {
        if (name != null) {
            materialize(name);
        }
        return super.getAttribute(name);
    }

    @Override
    public Enumeration<String> getAttributeNames() {
        Set<String> names = new HashSet<>(Collections.list(super.getAttributeNames()));
        names.addAll(undecoded.keySet());
        return Collections.enumeration(names);
    }

    /**
     * Decoded and undecoded names. Tomcat calls this on every activation and passivation (each
     * request's load and end), where a session whose attributes were all decoded needs no copy.
     */
    @Override
    protected String[] keys() {
        String[] decoded = super.keys();
        if (undecoded.isEmpty()) {
            return decoded;
        }
        Set<String> names = new HashSet<>(java.util.Arrays.asList(decoded));
        names.addAll(undecoded.keySet());
        return names.toArray(new String[0]);
    }

    @Override
    public void setAttribute(String name, Object value, boolean notify) {
        if (name != null && value != null) {
            // Listeners must see the old value on replace, so decode it first.
            materialize(name);
        }
        super.setAttribute(name, value, notify);
        if (name != null && value != null) {
            readFrom.remove(name);
            changes.set(name);
            writeThroughIfDetached();
        }
    }

    @Override
    protected void removeAttributeInternal(String name, boolean notify) {
        if (name == null) {
            return;
        }
        materialize(name);
        boolean existed = attributes.containsKey(name) || changes.isStored(name);
        super.removeAttributeInternal(name, notify);
        readFrom.remove(name);
        if (existed && !expiring) {
            changes.remove(name);
            writeThroughIfDetached();
        }
    }

    @Override
    public void setMaxInactiveInterval(int interval) {
        super.setMaxInactiveInterval(interval);
        changes.maxInactiveIntervalChanged();
        writeThroughIfDetached();
    }

    @Override
    public void setPrincipal(Principal principal) {
        super.setPrincipal(principal);
        changes.authenticationChanged();
        writeThroughIfDetached();
    }

    @Override
    public void setAuthType(String authType) {
        super.setAuthType(authType);
        changes.authenticationChanged();
        writeThroughIfDetached();
    }

    /**
     * Expires the session only if this node wins the claim on it in Redis; a session that another
     * node already removed is dropped here silently, so listeners fire once across all nodes.
     */
    @Override
    public void expire(boolean notify) {
        if (!isValid || expiring || dropped) {
            return;
        }
        boolean won = claimed || ((RedisSessionManager) manager).claimInvalidation(this);
        if (!won) {
            drop();
            manager.remove(this, false);
            return;
        }
        super.expire(notify);
    }

    private void writeThroughIfDetached() {
        if (isDetached() && isValid && !expiring && persisted) {
            repository().save(this, false);
        }
    }

    private void materialize(String name) {
        if (!undecoded.containsKey(name)) {
            return;
        }
        synchronized (undecoded) {
            byte[] bytes = undecoded.get(name);
            if (bytes == null) {
                return;
            }
            Object kept = reusable.remove(name);
            if (kept != null) {
                kept = repository().stillEncodesTo(binding(), name, kept, bytes);
            }
            Object value = kept != null ? kept : repository().decode(binding(), getIdInternal(), name, bytes);
            if (value != null) {
                // Put directly: loading a value is not setting it, so no listener fires.
                attributes.put(name, value);
                readFrom.put(name, bytes);
            }
            undecoded.remove(name);
        }
    }

    @Override
    public String toString() {
        return "RedisSession[" + SessionIds.redact(id) + "]";
    }
}

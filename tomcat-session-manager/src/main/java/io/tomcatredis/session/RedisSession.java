package io.tomcatredis.session;

import io.tomcatredis.session.store.SessionChanges;
import io.tomcatredis.session.store.SessionIds;
import io.tomcatredis.session.store.StoredSession;
import java.security.Principal;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import jakarta.servlet.http.HttpSessionActivationListener;

/**
 * A {@link org.apache.catalina.session.StandardSession} whose attributes come from a Redis hash: deserialized lazily on first
 * use, and tracked so that a save writes only what changed, including values mutated in place.
 */
public class RedisSession extends RestoredSession {

    private static final long serialVersionUID = 1L;

    /** Attribute bytes as Redis holds them, to tell whether a value changed since it was loaded. */
    private final transient Map<String, byte[]> storedBytes = new ConcurrentHashMap<>();
    /** Attributes loaded from Redis but not yet deserialized. */
    private final transient Map<String, byte[]> undecoded = new ConcurrentHashMap<>();
    private final transient Changes changes = new Changes();
    /** Requests on this node using this object; -1 once it left the manager's map. */
    private final transient AtomicInteger users = new AtomicInteger();
    private transient volatile boolean persisted;
    /** Set when this node already won the claim on the session in Redis (background expiry). */
    private transient volatile boolean claimed;
    private final transient Set<String> storedActivationListeners = ConcurrentHashMap.newKeySet();
    /** Names of the session-scoped structures; see {@link RedisSessions}. */
    private final transient Set<String> dataKeys = ConcurrentHashMap.newKeySet();
    private final transient Set<String> storedDataKeys = ConcurrentHashMap.newKeySet();

    RedisSession(RedisSessionManager manager) {
        super(manager);
    }

    private RedisSessionManager redisManager() {
        return (RedisSessionManager) manager;
    }

    /** Fills this empty session from what Redis holds, without firing any event. */
    void restore(String sessionId, StoredSession stored) {
        restoreMetadata(sessionId, stored, redisManager().backend());
        storedBytes.putAll(stored.attributes());
        undecoded.putAll(stored.attributes());
        storedActivationListeners.addAll(stored.activationListeners());
        dataKeys.addAll(stored.dataKeys());
        storedDataKeys.addAll(stored.dataKeys());
        persisted = true;
        // Activation listeners must hear of the load, so they cannot wait for a lazy getAttribute.
        stored.activationListeners().forEach(this::materialize);
    }

    /** Records a session-scoped structure, so that it expires, moves and dies with the session. */
    void addDataKey(String name) {
        dataKeys.add(name);
    }

    /** Expires a session whose claim in Redis this node already won: listeners fire here. */
    void expireClaimed() {
        claimed = true;
        expire(true);
    }

    Set<String> dataKeys() {
        return Set.copyOf(dataKeys);
    }

    /** Whether only the calling request still uses this object on this node. */
    boolean isLastUser() {
        return users.get() == 1;
    }

    /** Whether Redis holds this session (it was loaded, or saved at least once). */
    boolean isPersisted() {
        return persisted;
    }

    boolean isLive() {
        return isValidInternal();
    }

    boolean tryAcquire() {
        return users.getAndUpdate(u -> u < 0 ? u : u + 1) >= 0;
    }

    /** @return true when this was the last user, and the object must leave the manager's map */
    boolean release() {
        return users.decrementAndGet() == 0 && users.compareAndSet(0, -1);
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

    @Override
    protected String[] keys() {
        Set<String> names = new HashSet<>(Arrays.asList(super.keys()));
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
            changes.set(name);
        }
    }

    @Override
    protected void removeAttributeInternal(String name, boolean notify) {
        if (name == null) {
            return;
        }
        materialize(name);
        boolean existed = attributes.containsKey(name) || storedBytes.containsKey(name);
        super.removeAttributeInternal(name, notify);
        if (existed) {
            changes.remove(name);
        }
    }

    @Override
    public void setMaxInactiveInterval(int interval) {
        super.setMaxInactiveInterval(interval);
        changes.metadataChanged();
    }

    @Override
    public void setPrincipal(Principal principal) {
        super.setPrincipal(principal);
        changes.metadataChanged();
    }

    @Override
    public void setAuthType(String authType) {
        super.setAuthType(authType);
        changes.metadataChanged();
    }

    /**
     * Expires the session only if this node wins the claim on it in Redis; a session that another
     * node already removed is dropped here silently, so listeners fire once across all nodes.
     */
    @Override
    public void expire(boolean notify) {
        if (!isValid || expiring) {
            return;
        }
        boolean won = claimed || redisManager().claimExpiry(this);
        super.expire(notify && won);
    }

    /**
     * Takes what must be written since the last save. Attributes that were read are serialized
     * again and written only when their bytes differ from what Redis holds, so in-place mutations
     * ({@code cart.add(x)} without {@code setAttribute}) are kept.
     */
    SessionChanges drainChanges(long now) {
        Set<String> written;
        Set<String> removed;
        boolean metadata;
        synchronized (changes) {
            written = changes.written;
            removed = changes.removed;
            metadata = changes.metadata;
            changes.written = ConcurrentHashMap.newKeySet();
            changes.removed = ConcurrentHashMap.newKeySet();
            changes.metadata = false;
        }
        SessionChanges out = new SessionChanges(!persisted, now, maxInactiveInterval);
        if (!persisted) {
            out.creationTime(creationTime).maxInactiveIntervalChanged();
        } else if (metadata) {
            out.maxInactiveIntervalChanged();
        }
        if (!persisted || metadata) {
            out.principal(principal == null ? null
                    : redisManager().encodeOrWarn("(principal)", principal));
            out.authType(authType);
        }
        Set<String> activationListeners = new HashSet<>();
        attributes.forEach((name, value) -> {
            if (value instanceof HttpSessionActivationListener) {
                activationListeners.add(name);
            }
        });
        if (!activationListeners.equals(storedActivationListeners)) {
            out.activationListeners(activationListeners);
        }
        Set<String> currentDataKeys = Set.copyOf(dataKeys);
        if (!currentDataKeys.equals(storedDataKeys)) {
            out.dataKeys(currentDataKeys);
        }
        for (Map.Entry<String, Object> entry : attributes.entrySet()) {
            String name = entry.getKey();
            Object value = entry.getValue();
            if (!written.contains(name) && ImmutableValues.isImmutable(value)) {
                continue;
            }
            byte[] bytes = redisManager().encodeOrWarn(name, value);
            if (bytes == null) {
                if (storedBytes.containsKey(name)) {
                    // The stored value is outdated and the current one cannot be stored.
                    out.removeAttribute(name);
                }
            } else if (!Arrays.equals(bytes, storedBytes.get(name))) {
                out.setAttribute(name, bytes);
            }
        }
        for (String name : removed) {
            if (!attributes.containsKey(name)) {
                out.removeAttribute(name);
            }
        }
        return out;
    }

    /** Records a successful save: Redis now holds exactly what {@code saved} describes. */
    void saved(SessionChanges saved) {
        storedBytes.putAll(saved.attributes());
        saved.removedAttributes().forEach(storedBytes::remove);
        saved.activationListenersWritten().ifPresent(names -> {
            storedActivationListeners.clear();
            storedActivationListeners.addAll(names);
        });
        saved.dataKeysWritten().ifPresent(names -> {
            storedDataKeys.clear();
            storedDataKeys.addAll(names);
        });
        persisted = true;
    }

    /** A save failed: mark what it carried as changed again, so that a later save retries it. */
    void saveFailed(SessionChanges failed) {
        synchronized (changes) {
            changes.written.addAll(failed.attributes().keySet());
            changes.removed.addAll(failed.removedAttributes());
            changes.metadata = true;
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
            Object value = redisManager().decodeOrWarn(getIdInternal(), name, bytes);
            if (value != null) {
                // Put directly: loading a value is not setting it, so no listener fires.
                attributes.put(name, value);
            }
            undecoded.remove(name);
        }
    }

    @Override
    public String toString() {
        return "RedisSession[" + SessionIds.redact(id) + "]";
    }

    /** What changed since the last save. Guarded by its own monitor. */
    private static final class Changes {
        Set<String> written = ConcurrentHashMap.newKeySet();
        Set<String> removed = ConcurrentHashMap.newKeySet();
        boolean metadata;

        synchronized void set(String name) {
            written.add(name);
            removed.remove(name);
        }

        synchronized void remove(String name) {
            removed.add(name);
            written.remove(name);
        }

        synchronized void metadataChanged() {
            metadata = true;
        }
    }
}

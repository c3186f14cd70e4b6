package io.tomcatredis.session;

import io.tomcatredis.session.store.SessionChanges;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What changed in one session object since its last save, and what that save must write: the
 * change log of a session, as Tomcat's {@code DeltaRequest} is for the DeltaManager. Pure: it
 * knows no Redis and no Tomcat, only names, values, and the bytes Redis holds.
 *
 * <p>Attributes that were set are written; attributes that were only read are serialized again
 * and written when their bytes differ from what Redis holds, so in-place mutations
 * ({@code cart.add(x)} without {@code setAttribute}) are kept. A value that cannot be serialized
 * is never written and never deletes what Redis holds for it: its last good bytes stay.
 *
 * <p>Thread-safe: every method synchronizes on the tracker. Saves of one session must be
 * serialized by the caller (drain, then {@link #saved} or {@link #failed}) so that an earlier
 * snapshot never reaches Redis after a later one.
 */
final class ChangeTracker {

    /**
     * Serializes one value; null when it cannot be (the encoder reports why). Given the bytes
     * Redis holds for it ({@code stored}, or null), returns them (the same array or equal bytes)
     * when the value still serializes to them: the encoder may compare without compressing.
     */
    @FunctionalInterface
    interface Encoder {
        byte[] encode(String attributeName, Object value, byte[] stored);
    }

    /**
     * The state a save is computed from.
     *
     * @param userName the user the session belongs to ({@code meta:principalName}), or null
     */
    record Snapshot(String id, boolean created, long creationTime, int maxInactiveInterval, Map<String, Object> attributes,
            Object principal, String authType, Set<String> activationListeners, String userName) {
    }

    private Set<String> written = new HashSet<>();
    private Set<String> removed = new HashSet<>();
    private boolean maxInactiveIntervalChanged;
    private boolean authenticationChanged;
    private boolean idChanged;
    private final Map<String, byte[]> storedBytes = new HashMap<>();
    private Set<String> storedActivationListeners = Set.of();
    /** The user name of the principal Redis holds ({@code meta:principalName}) as far as this copy knows, or null. */
    private String storedPrincipalName;
    private long changesSinceDrain;
    /** Whether the last drain left a value unwritten: one that could not be (or may not be) serialized. */
    private boolean incomplete;

    /** Records what Redis holds, as loaded. */
    synchronized void loaded(Map<String, byte[]> attributes, Set<String> activationListeners) {
        storedBytes.putAll(attributes);
        storedActivationListeners = Set.copyOf(activationListeners);
    }

    /** Records the user name of the principal Redis holds, as loaded (null: none, or not readable). */
    synchronized void loadedPrincipal(String userName) {
        storedPrincipalName = userName;
    }

    /** The user name of the principal Redis holds for this session as far as this copy knows, or null. */
    synchronized String storedPrincipalName() {
        return storedPrincipalName;
    }

    synchronized void set(String name) {
        written.add(name);
        removed.remove(name);
        changesSinceDrain++;
    }

    synchronized void remove(String name) {
        removed.add(name);
        written.remove(name);
        changesSinceDrain++;
    }

    synchronized void maxInactiveIntervalChanged() {
        maxInactiveIntervalChanged = true;
        changesSinceDrain++;
    }

    synchronized void idChanged() {
        idChanged = true;
        changesSinceDrain++;
    }

    synchronized void authenticationChanged() {
        authenticationChanged = true;
        changesSinceDrain++;
    }

    /** Whether anything was set, removed or changed since the last drain (reads do not count). */
    synchronized boolean hasRecordedChanges() {
        return changesSinceDrain > 0;
    }

    /**
     * Whether this copy holds something Redis does not: a change recorded since the last drain, or
     * a value the last drain could not serialize (or Tomcat's filters kept from Redis).
     */
    synchronized boolean hasUnsavedValues() {
        return changesSinceDrain > 0 || incomplete;
    }

    /** The bytes Redis holds for attribute {@code name} as far as this copy knows, or null. */
    synchronized byte[] storedBytes(String name) {
        return storedBytes.get(name);
    }

    /**
     * The bytes of the attribute names (as UTF-16 lengths: ASCII names count exactly) and values
     * Redis holds for this session, as far as this copy knows.
     */
    synchronized long storedAttributeBytes() {
        long bytes = 0;
        for (Map.Entry<String, byte[]> entry : storedBytes.entrySet()) {
            bytes += entry.getKey().length() + entry.getValue().length;
        }
        return bytes;
    }

    /** Whether Redis holds bytes for attribute {@code name}, as far as this copy knows. */
    synchronized boolean isStored(String name) {
        return storedBytes.containsKey(name);
    }

    /**
     * Takes what must be written since the last save. Attributes not set since then whose value is
     * immutable ({@link ImmutableValues}) are not serialized again.
     */
    synchronized SessionChanges drain(Snapshot state, Encoder encoder) {
        Set<String> setNow = written;
        Set<String> removedNow = removed;
        boolean maxInactiveNow = maxInactiveIntervalChanged;
        boolean authenticationNow = authenticationChanged;
        boolean idNow = idChanged;
        idChanged = false;
        written = new HashSet<>();
        removed = new HashSet<>();
        maxInactiveIntervalChanged = false;
        authenticationChanged = false;
        changesSinceDrain = 0;
        incomplete = false;

        SessionChanges out = state.created()
                ? SessionChanges.created(state.creationTime(), state.maxInactiveInterval())
                : SessionChanges.update();
        if (state.created() || idNow) {
            out.id(state.id());
        }
        if (!state.created() && maxInactiveNow) {
            out.maxInactiveInterval(state.maxInactiveInterval());
        }
        String indexed = storedPrincipalName;
        boolean principalStored = true;
        if (state.created() || authenticationNow) {
            byte[] principal = state.principal() == null ? null : encoder.encode(SessionBackend.PRINCIPAL, state.principal(), null);
            if (state.principal() == null || principal != null) {
                out.authentication(principal, state.authType());
            } else {
                principalStored = false;
                authenticationChanged = true;
                incomplete = true;
            }
        }
        if (!state.activationListeners().equals(storedActivationListeners)) {
            out.activationListeners(state.activationListeners());
        }
        for (Map.Entry<String, Object> entry : state.attributes().entrySet()) {
            String name = entry.getKey();
            boolean set = state.created() || setNow.contains(name);
            if (!set && ImmutableValues.isImmutable(entry.getValue())) {
                continue;
            }
            byte[] stored = storedBytes.get(name);
            byte[] bytes = encoder.encode(name, entry.getValue(), stored);
            if (bytes == null) {
                // Keep the last good bytes in Redis; an explicitly set value is tried again next save.
                incomplete = true;
                if (set) {
                    written.add(name);
                }
            } else {
                // Never Arrays.equals with null: Jazzer's hook on it (the fuzzers) crashes the JVM then.
                if (stored == null || !Arrays.equals(bytes, stored)) {
                    out.setAttribute(name, bytes);
                }
            }
        }
        for (String name : removedNow) {
            if (!state.attributes().containsKey(name)) {
                out.removeAttribute(name);
            }
        }
        // The user the session belongs to is written when it changed (and the principal, if any, is stored).
        if (principalStored && !Objects.equals(state.userName(), storedPrincipalName)) {
            out.principalName(state.userName());
            indexed = state.userName();
        }
        out.indexedUnder(indexed, storedPrincipalName, state.maxInactiveInterval());
        return out;
    }

    /**
     * Applies the size limits to a drained save: in {@code warn} mode, what is over is removed
     * from Redis instead of written (its previous value must not read as current), and this copy
     * counts as holding a value Redis does not; in {@code fail} mode {@code changes} is left as it
     * is, for the caller to fail the save.
     *
     * @return what is over, empty when the save may go as drained
     */
    synchronized List<SizeGuard.Excess> enforce(SessionChanges changes, SizeGuard guard) {
        List<SizeGuard.Excess> over = guard.excess(changes, storedBytes);
        if (!over.isEmpty() && !guard.fail()) {
            over.forEach(excess -> changes.removeAttribute(excess.name()));
            incomplete = true;
        }
        return over;
    }

    /** Redis now holds what {@code saved} describes. */
    synchronized void saved(SessionChanges saved) {
        storedPrincipalName = saved.indexedName();
        storedBytes.putAll(saved.attributes());
        saved.removedAttributes().forEach(storedBytes::remove);
        saved.activationListeners().ifPresent(names -> storedActivationListeners = names);
    }

    /** The save of {@code failed} did not happen: what it carried counts as changed again. */
    synchronized void failed(SessionChanges failed) {
        failed.attributes().keySet().forEach(name -> {
            if (!removed.contains(name)) {
                written.add(name);
            }
        });
        failed.removedAttributes().forEach(name -> {
            if (!written.contains(name)) {
                removed.add(name);
            }
        });
        if (failed.maxInactiveInterval().isPresent() && !failed.created()) {
            maxInactiveIntervalChanged = true;
        }
        if (failed.id() != null && !failed.created()) {
            idChanged = true;
        }
        if (failed.authenticationWritten() && !failed.created()) {
            authenticationChanged = true;
        }
        changesSinceDrain++;
    }
}

package io.tomcatredis.session.store;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.TreeSet;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Map;
import java.util.Set;

/**
 * What one save writes: the changed attributes and metadata, the removed attributes, and whether
 * the session is new. Built by the session's own change tracking; mapped onto the hash by
 * {@link RedisSessionStore}.
 */
public final class SessionChanges {

    private final boolean created;
    private final long lastAccessedTime;
    private final int maxInactiveInterval;
    private final Map<String, byte[]> metadata = new LinkedHashMap<>();
    private final Map<String, byte[]> attributes = new LinkedHashMap<>();
    private final Set<String> removedAttributes = new LinkedHashSet<>();

    /**
     * @param created true for a session not yet in Redis: every field is written afresh
     */
    public SessionChanges(boolean created, long lastAccessedTime, int maxInactiveInterval) {
        this.created = created;
        this.lastAccessedTime = lastAccessedTime;
        this.maxInactiveInterval = maxInactiveInterval;
    }

    public SessionChanges creationTime(long creationTime) {
        metadata.put(SessionKeys.CREATION_TIME, decimal(creationTime));
        return this;
    }

    public SessionChanges maxInactiveIntervalChanged() {
        metadata.put(SessionKeys.MAX_INACTIVE_INTERVAL, decimal(maxInactiveInterval));
        return this;
    }

    /** @param principal the serialized principal, or null to remove it */
    public SessionChanges principal(byte[] principal) {
        metadata.put(SessionKeys.PRINCIPAL, principal);
        return this;
    }

    /** @param authType the authentication type, or null to remove it */
    public SessionChanges authType(String authType) {
        metadata.put(SessionKeys.AUTH_TYPE, authType == null ? null : authType.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return this;
    }

    /** Names of the attributes that are activation listeners, written as one field. */
    public SessionChanges activationListeners(Collection<String> names) {
        metadata.put(SessionKeys.ACTIVATION_LISTENERS, lines(names));
        return this;
    }

    /** Names of the session-scoped structures, written as one field. */
    public SessionChanges dataKeys(Collection<String> names) {
        metadata.put(SessionKeys.DATA_KEYS, lines(names));
        return this;
    }

    public SessionChanges setAttribute(String name, byte[] value) {
        attributes.put(name, value);
        removedAttributes.remove(name);
        return this;
    }

    public SessionChanges removeAttribute(String name) {
        attributes.remove(name);
        removedAttributes.add(name);
        return this;
    }

    /** The activation listener names this save writes, if it writes them. */
    public Optional<Set<String>> activationListenersWritten() {
        return linesWritten(SessionKeys.ACTIVATION_LISTENERS);
    }

    /** The structure names this save writes, if it writes them. */
    public Optional<Set<String>> dataKeysWritten() {
        return linesWritten(SessionKeys.DATA_KEYS);
    }

    private Optional<Set<String>> linesWritten(String field) {
        if (!metadata.containsKey(field)) {
            return Optional.empty();
        }
        byte[] value = metadata.get(field);
        return Optional.of(value == null ? Set.of() : Set.of(new String(value, StandardCharsets.UTF_8).split("\n")));
    }

    public boolean created() {
        return created;
    }

    public long lastAccessedTime() {
        return lastAccessedTime;
    }

    public int maxInactiveInterval() {
        return maxInactiveInterval;
    }

    Map<String, byte[]> metadata() {
        return metadata;
    }

    public Map<String, byte[]> attributes() {
        return attributes;
    }

    public Set<String> removedAttributes() {
        return removedAttributes;
    }

    /** The session's deadline in the expiry index: epoch ms, or +inf when it never expires. */
    String deadline() {
        return maxInactiveInterval > 0 ? Long.toString(lastAccessedTime + maxInactiveInterval * 1000L) : "+inf";
    }

    /** Redis TTL for this session: its idle limit plus the grace period. */
    long ttlMillis() {
        long seconds = maxInactiveInterval > 0 ? maxInactiveInterval + SessionKeys.TTL_GRACE_SECONDS
                : SessionKeys.NEVER_EXPIRES_TTL_SECONDS;
        return seconds * 1000;
    }

    private static byte[] lines(Collection<String> names) {
        return names.isEmpty() ? null : String.join("\n", new TreeSet<>(names)).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] decimal(long value) {
        return Long.toString(value).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}

package io.tomcatredis.session.store;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
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

    /** Redis TTL for this session: its idle limit plus the grace period. */
    long ttlMillis() {
        long seconds = maxInactiveInterval > 0 ? maxInactiveInterval + SessionKeys.TTL_GRACE_SECONDS
                : SessionKeys.NEVER_EXPIRES_TTL_SECONDS;
        return seconds * 1000;
    }

    static byte[] decimal(long value) {
        return Long.toString(value).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}

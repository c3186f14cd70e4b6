package io.tomcatredis.session.store;

import java.util.Map;
import java.util.Set;

/**
 * A session as read from Redis: metadata decoded, attribute values still serialized.
 *
 * @param touchInterval how far (ms) {@code lastAccessedTime} may lag behind the last request; the
 *                   deadline is {@code lastAccessedTime + maxInactiveInterval * 1000 + touchInterval}
 * @param principal  serialized principal, or null
 * @param authType   authentication type, or null
 * @param attributes attribute name to serialized value
 * @param activationListeners names of attributes to deserialize at once, to tell them of activation
 * @param dataKeys    names of the session-scoped structures
 * @param id          the session id as its clients know it (with the route of the node that created it
 *                    or changed it last), or null when the hash does not say
 * @param principalName the user the session belongs to ({@code meta:principalName}), or null
 * @param sealId      {@code meta:sealId}: the id without route the session had before its first id
 *                    change, or null when it never changed
 */
public record StoredSession(String id, long creationTime, long lastAccessedTime, int maxInactiveInterval,
        long touchInterval, long version,
        byte[] principal, String authType, Map<String, byte[]> attributes, Set<String> activationListeners,
        Set<String> dataKeys, long sizeInBytes, String principalName, String sealId) {

    /** A session whose hash names no user ({@code meta:principalName}) and whose id never changed (no {@code meta:sealId}). */
    public StoredSession(String id, long creationTime, long lastAccessedTime, int maxInactiveInterval,
            long touchInterval, long version, byte[] principal, String authType, Map<String, byte[]> attributes,
            Set<String> activationListeners, Set<String> dataKeys, long sizeInBytes) {
        this(id, creationTime, lastAccessedTime, maxInactiveInterval, touchInterval, version, principal, authType,
                attributes, activationListeners, dataKeys, sizeInBytes, null, null);
    }

    /**
     * What encrypted values of this session are bound to ({@code AttributeCodec#at}): the id it
     * had before its first id change, else its id without route; the same on every node, and kept
     * by id changes (which move values without re-encrypting them).
     *
     * @param sessionId the id the session was loaded under
     */
    public String binding(String sessionId) {
        return sealId != null ? sealId : SessionKeys.baseId(sessionId);
    }

    /**
     * When the session expires, epoch ms by Redis' clock: {@code lastAccessedTime +
     * maxInactiveInterval * 1000 + touchInterval}; meaningless when {@code maxInactiveInterval <= 0}.
     */
    public long deadline() {
        return lastAccessedTime + maxInactiveInterval * 1000L + touchInterval;
    }
}

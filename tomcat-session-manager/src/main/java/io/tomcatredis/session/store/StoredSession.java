package io.tomcatredis.session.store;

import java.util.Map;

/**
 * A session as read from Redis: metadata decoded, attribute values still serialized.
 *
 * @param principal  serialized principal, or null
 * @param authType   authentication type, or null
 * @param attributes attribute name to serialized value
 */
public record StoredSession(long creationTime, long lastAccessedTime, int maxInactiveInterval, long version,
        byte[] principal, String authType, Map<String, byte[]> attributes, long sizeInBytes) {
}

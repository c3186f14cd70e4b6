package io.tomcatredis.session;

import io.tomcatredis.session.store.SessionKeys;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The deserialized attribute values of sessions that no request on this node uses any more, each
 * with the exact bytes it was read from or written as, so that the next load of the session on
 * this node deserializes only what changed. At most {@code capacity} sessions, the least recently
 * used leaving first.
 *
 * <p>Nothing here is trusted on its own: a request still reads the session from Redis as ever, and
 * a kept value replaces the deserialization of an attribute only when Redis holds byte for byte
 * what the value was read from or written as. So another node's change, an invalidation, an expiry
 * or a tool's edit is seen exactly as without the cache. Values enter only from a session object
 * that Redis held exactly when its last request ended ({@link RedisSession#isInSync}).
 */
final class NearCache {

    /** A deserialized value and the bytes Redis held for it. */
    record Decoded(byte[] bytes, Object value) {

        /** Whether {@code stored} is exactly what this value was read from or written as. */
        boolean matches(byte[] stored) {
            // Never Arrays.equals with null: Jazzer's hook on it (the fuzzers) crashes the JVM then.
            return stored != null && Arrays.equals(bytes, stored);
        }
    }

    private final int capacity;
    private final Map<String, Map<String, Decoded>> idle;

    /** @param capacity how many sessions to keep values of, 0 to keep none */
    NearCache(int capacity) {
        this.capacity = capacity;
        this.idle = new LinkedHashMap<>(16, 0.75f, true);
    }

    /** Whether this cache keeps anything ({@code nearCacheSize} above 0). */
    boolean isEnabled() {
        return capacity > 0;
    }

    /** Keeps the values of session {@code sessionId}, in place of any kept for it before. */
    void keep(String sessionId, Map<String, Decoded> values) {
        if (capacity == 0 || values.isEmpty()) {
            return;
        }
        synchronized (idle) {
            idle.put(SessionKeys.baseId(sessionId), values);
            if (idle.size() > capacity) {
                var eldest = idle.keySet().iterator();
                eldest.next();
                eldest.remove();
            }
        }
    }

    /** Takes the values kept for {@code sessionId} out, for one load; empty if none. */
    Map<String, Decoded> take(String sessionId) {
        if (capacity == 0) {
            return Map.of();
        }
        synchronized (idle) {
            Map<String, Decoded> values = idle.remove(SessionKeys.baseId(sessionId));
            return values == null ? Map.of() : values;
        }
    }

    /** How many sessions' values are kept. */
    int size() {
        synchronized (idle) {
            return idle.size();
        }
    }

    /** Forgets every kept value. */
    void clear() {
        synchronized (idle) {
            idle.clear();
        }
    }
}

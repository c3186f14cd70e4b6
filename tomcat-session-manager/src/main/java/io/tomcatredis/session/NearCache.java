package io.tomcatredis.session;

import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.session.store.StoredSession;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The deserialized attribute values of sessions that no request on this node uses any more, each
 * with the exact bytes it was read from or written as, so that the next load of the session on
 * this node deserializes only what changed. At most {@code capacity} sessions, the least recently
 * used leaving first.
 *
 * <p>Nothing here is trusted on its own by default: a request still reads the session from Redis
 * as ever, and a kept value replaces the deserialization of an attribute only when Redis holds byte
 * for byte what the value was read from or written as. So another node's change, an invalidation,
 * an expiry or a tool's edit is seen exactly as without the cache. Values enter only from a session
 * object that Redis held exactly when its last request ended ({@link RedisSession#isInSync}).
 *
 * <p><b>Answering without Redis</b> ({@code nearCacheStalenessMillis}): a session may also keep the
 * whole hash it was loaded from, which then answers its next load with no round trip, while Redis'
 * invalidation messages are {@linkplain io.tomcatredis.connection.KeyInvalidations current}. Such a
 * hash is kept only if no change to the session was heard between the moment before it was read
 * and the end of its request: every load takes a {@linkplain #take token} (the count of
 * invalidations heard so far) and {@link #keep} refuses the hash when an invalidation of the
 * session, or a loss of the subscription, was counted after it. An invalidation drops the hash and
 * keeps the values (they are still checked byte for byte).
 */
final class NearCache {

    /** No token: the load was made while invalidations were not current, its hash is never kept. */
    static final long NO_TOKEN = -1;

    /** A deserialized value and the bytes Redis held for it. */
    record Decoded(byte[] bytes, Object value) {

        /** Whether {@code stored} is exactly what this value was read from or written as. */
        boolean matches(byte[] stored) {
            // Never Arrays.equals with null: Jazzer's hook on it (the fuzzers) crashes the JVM then.
            return stored != null && Arrays.equals(bytes, stored);
        }
    }

    /**
     * What a load finds: values to reuse after a byte check, the hash to answer the load with (null
     * unless invalidations are current and nothing changed the session since it was read), and the
     * token of this load for {@link #keep}.
     */
    record Lookup(Map<String, Decoded> values, StoredSession stored, long token) {
    }

    private record Kept(Map<String, Decoded> values, StoredSession stored) {
    }

    private final int capacity;
    private final Map<String, Kept> idle;
    /**
     * For each of the last sessions an invalidation was heard of: its count then. Bounded; a count
     * that leaves raises {@link #watermark}, so a token older than it is refused for every session.
     */
    private final LinkedHashMap<String, Long> heard;
    private long invalidations;
    private long watermark;
    private final LongAdder answered = new LongAdder();

    /** @param capacity how many sessions to keep values of, 0 to keep none */
    NearCache(int capacity) {
        this.capacity = capacity;
        this.idle = new LinkedHashMap<>(16, 0.75f, true);
        this.heard = new LinkedHashMap<>(16, 0.75f, false);
    }

    /** Whether this cache keeps anything ({@code nearCacheSize} above 0). */
    boolean isEnabled() {
        return capacity > 0;
    }

    /**
     * Whether no change of session {@code sessionId} was heard since the load that took
     * {@code token}, and none can have been missed.
     */
    boolean unchangedSince(String sessionId, long token) {
        synchronized (idle) {
            return isUnchanged(SessionKeys.baseId(sessionId), token);
        }
    }

    private boolean isUnchanged(String baseId, long token) {
        return token != NO_TOKEN && token >= watermark && heard.getOrDefault(baseId, watermark) <= token;
    }

    /**
     * Keeps what session {@code sessionId} holds, in place of anything kept for it before.
     *
     * @param stored the hash the session was loaded from, to answer its next load, or null
     * @param token  the {@link Lookup#token} of that load; the hash is dropped when the session
     *               changed in Redis since, or may have
     */
    void keep(String sessionId, Map<String, Decoded> values, StoredSession stored, long token) {
        if (capacity == 0) {
            return;
        }
        String baseId = SessionKeys.baseId(sessionId);
        synchronized (idle) {
            StoredSession unchanged = stored != null && isUnchanged(baseId, token) ? stored : null;
            if (values.isEmpty() && unchanged == null) {
                idle.remove(baseId);
                return;
            }
            idle.put(baseId, new Kept(values, unchanged));
            if (idle.size() > capacity) {
                var eldest = idle.keySet().iterator();
                eldest.next();
                eldest.remove();
            }
        }
    }

    /**
     * Takes what is kept for {@code sessionId} out, for one load.
     *
     * @param current whether invalidations are current now: the kept hash is returned only then,
     *                and only then does the load get a token
     */
    Lookup take(String sessionId, boolean current) {
        if (capacity == 0) {
            return new Lookup(Map.of(), null, NO_TOKEN);
        }
        synchronized (idle) {
            Kept kept = idle.remove(SessionKeys.baseId(sessionId));
            long token = current ? invalidations : NO_TOKEN;
            if (kept == null) {
                return new Lookup(Map.of(), null, token);
            }
            return new Lookup(kept.values(), current ? kept.stored() : null, token);
        }
    }

    /** Redis changed session {@code baseId} (or may have): its hash no longer answers a load. */
    void invalidated(String baseId) {
        synchronized (idle) {
            heard.remove(baseId);
            heard.put(baseId, ++invalidations);
            if (heard.size() > Math.max(1024, capacity)) {
                var eldest = heard.entrySet().iterator();
                watermark = Math.max(watermark, eldest.next().getValue());
                eldest.remove();
            }
            Kept kept = idle.get(baseId);
            if (kept != null && kept.stored() != null) {
                idle.put(baseId, new Kept(kept.values(), null));
            }
        }
    }

    /** Any session may have changed unheard: no kept hash answers a load, no token taken so far counts. */
    void invalidatedAll() {
        synchronized (idle) {
            watermark = ++invalidations;
            heard.clear();
            idle.replaceAll((id, kept) -> kept.stored() == null ? kept : new Kept(kept.values(), null));
        }
    }

    /** A load was answered from a kept hash, with no round trip. */
    void answered() {
        answered.increment();
    }

    /** How many loads were answered from a kept hash since start. */
    long answeredCount() {
        return answered.sum();
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
            watermark = ++invalidations;
            heard.clear();
        }
    }
}

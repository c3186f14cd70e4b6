package io.tomcatredis.session.store;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;
import redis.clients.jedis.resps.Tuple;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Reads and writes sessions in the layout of {@link SessionKeys}: one HGETALL to load, one atomic
 * script to save, one DEL to remove. Every call is one round trip; Redis trouble surfaces as
 * {@link SessionStoreUnavailableException}.
 */
public final class RedisSessionStore {

    private static final Log LOG = LogFactory.getLog(RedisSessionStore.class);

    private final UnifiedJedis jedis;
    private final SessionKeys keys;
    private final int timeoutMillis;
    private final SessionStoreStatistics statistics = new SessionStoreStatistics();

    public RedisSessionStore(UnifiedJedis jedis, SessionKeys keys, int timeoutMillis) {
        this.jedis = jedis;
        this.keys = keys;
        this.timeoutMillis = timeoutMillis;
    }

    public SessionKeys keys() {
        return keys;
    }

    public SessionStoreStatistics statistics() {
        return statistics;
    }

    /**
     * Loads a session, or returns null when Redis holds none under this id. Never writes.
     */
    public StoredSession load(String sessionId) {
        long start = System.nanoTime();
        Map<byte[], byte[]> hash;
        try {
            hash = call("load", () -> jedis.hgetAll(keys.sessionKeyBytes(sessionId)));
        } catch (WrongTypeException e) {
            LOG.warn("Redis key of session " + SessionIds.redact(sessionId)
                    + " is not a hash; treating the session as absent");
            return null;
        }
        if (hash == null || hash.isEmpty()) {
            statistics.load(System.nanoTime() - start, 0);
            return null;
        }
        StoredSession stored = SessionHash.read(hash);
        statistics.load(System.nanoTime() - start, stored.sizeInBytes());
        if (stored.creationTime() <= 0) {
            LOG.warn("Session " + SessionIds.redact(sessionId) + " in Redis has no valid "
                    + SessionKeys.CREATION_TIME + "; treating it as absent");
            return null;
        }
        return stored;
    }

    /**
     * Saves changes atomically.
     *
     * @return false when the session must already exist but another node removed it meanwhile;
     *         nothing is written then
     */
    public boolean save(String sessionId, SessionChanges changes) {
        long start = System.nanoTime();
        List<byte[]> args = new ArrayList<>();
        args.add(ascii(changes.created() ? "0" : "1"));
        args.add(ascii(Long.toString(changes.ttlMillis())));
        args.add(ascii(changes.deadline()));
        args.add(utf8(sessionId));
        List<byte[]> pairs = new ArrayList<>();
        List<byte[]> deletions = new ArrayList<>();
        SessionHash.write(changes, pairs, deletions);
        args.add(ascii(Integer.toString(pairs.size() / 2)));
        args.addAll(pairs);
        args.addAll(deletions);
        long bytes = 0;
        for (byte[] arg : args) {
            bytes += arg.length;
        }
        Object result = call("save", () -> SessionKeys.SAVE.run(jedis, List.of(keys.sessionKeyBytes(sessionId),
                utf8(keys.expiryIndexKey())), args));
        statistics.save(System.nanoTime() - start, bytes);
        return !(result instanceof Long version) || version >= 0;
    }

    /**
     * Deletes a session with its structures and index entry: the atomic claim of an invalidation or
     * expiry. Of all nodes that try, exactly one gets true.
     *
     * @param dataKeys structures known to this node, perhaps not yet listed in Redis
     */
    public boolean delete(String sessionId, Collection<String> dataKeys) {
        List<byte[]> args = new ArrayList<>();
        args.add(utf8(sessionId));
        dataKeys.forEach(name -> args.add(utf8(name)));
        Object deleted = call("delete", () -> SessionKeys.CLAIM.run(jedis, List.of(keys.sessionKeyBytes(sessionId),
                utf8(keys.expiryIndexKey())), args));
        statistics.delete();
        return deleted instanceof Long count && count > 0;
    }

    /** Ids (index members) whose deadline is at or before {@code now}, at most {@code limit}. */
    public List<String> dueForExpiry(long now, int limit) {
        return call("dueForExpiry", () -> jedis.zrangeByScore(keys.expiryIndexKey(), "-inf", Long.toString(now), 0,
                limit));
    }

    /**
     * Claims a session whose deadline has passed: deletes it and returns what it held, to exactly
     * one caller; null when it is gone, or was used again and is not due any more.
     */
    @SuppressWarnings("unchecked")
    public StoredSession claimIfExpired(String sessionId, long now) {
        Object result = call("claimIfExpired", () -> SessionKeys.CLAIM_IF_EXPIRED.run(jedis,
                List.of(keys.sessionKeyBytes(sessionId), utf8(keys.expiryIndexKey())),
                List.of(utf8(sessionId), ascii(Long.toString(now)))));
        if (!(result instanceof List<?> flat) || flat.isEmpty()) {
            return null;
        }
        Map<byte[], byte[]> hash = new HashMap<>();
        List<byte[]> values = (List<byte[]>) flat;
        for (int i = 0; i + 1 < values.size(); i += 2) {
            hash.put(values.get(i), values.get(i + 1));
        }
        statistics.delete();
        return SessionHash.read(hash);
    }

    /** Sessions in Redis for this prefix (the expiry index holds one entry per session). */
    public long count() {
        return call("count", () -> jedis.zcard(keys.expiryIndexKey()));
    }

    /**
     * Ids of sessions in Redis, at most {@code limit}: a ZSCAN of the expiry index, which holds
     * every session's id as its node knows it (with the jvmRoute), page by page.
     */
    public List<String> sessionIds(int limit) {
        List<String> ids = new ArrayList<>();
        ScanParams params = new ScanParams().count(500);
        String cursor = ScanParams.SCAN_POINTER_START;
        do {
            String from = cursor;
            ScanResult<Tuple> page = call("scan", () -> jedis.zscan(keys.expiryIndexKey(), from, params));
            for (Tuple entry : page.getResult()) {
                if (ids.size() < limit) {
                    ids.add(entry.getElement());
                }
            }
            cursor = page.getCursor();
        } while (!ScanParams.SCAN_POINTER_START.equals(cursor) && ids.size() < limit);
        return ids;
    }

    /**
     * Moves a session to a new id atomically; the old id stops working at once on every node.
     *
     * @return false when the old session no longer exists
     */
    public boolean changeId(String oldId, String newId) {
        Object moved = call("changeId", () -> SessionKeys.RENAME.run(jedis,
                List.of(keys.sessionKeyBytes(oldId), keys.sessionKeyBytes(newId), utf8(keys.expiryIndexKey())),
                List.of(utf8(oldId), utf8(newId))));
        return Long.valueOf(1).equals(moved);
    }

    /**
     * Runs one Redis call. A connection that fails fast (a pooled connection broken by a Redis
     * restart) is retried once; a call that timed out is not, so no request waits much longer than
     * {@code timeoutMillis}.
     */
    private <T> T call(String operation, Supplier<T> command) {
        long start = System.nanoTime();
        statistics.roundTrip();
        try {
            return command.get();
        } catch (JedisConnectionException e) {
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            if (elapsedMillis < timeoutMillis / 4) {
                LOG.debug("Retrying " + operation + " once after a fast connection failure", e);
                statistics.roundTrip();
                try {
                    return command.get();
                } catch (JedisException retry) {
                    throw unavailable(operation, retry);
                }
            }
            throw unavailable(operation, e);
        } catch (JedisDataException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("WRONGTYPE")) {
                statistics.failure();
                throw new WrongTypeException(e);
            }
            throw unavailable(operation, e);
        } catch (JedisException e) {
            throw unavailable(operation, e);
        }
    }

    private SessionStoreUnavailableException unavailable(String operation, JedisException e) {
        statistics.failure();
        return new SessionStoreUnavailableException("Redis session " + operation + " failed: " + e.getMessage(), e);
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    /** A key holds another type than a hash: corrupt or foreign data. */
    private static final class WrongTypeException extends RuntimeException {
        WrongTypeException(Throwable cause) {
            super(cause);
        }
    }

    /** Maps a session hash to {@link StoredSession} and {@link SessionChanges} to hash fields. */
    static final class SessionHash {

        private SessionHash() {
        }

        static StoredSession read(Map<byte[], byte[]> hash) {
            Map<String, byte[]> attributes = new HashMap<>();
            long creationTime = 0;
            long lastAccessedTime = 0;
            int maxInactiveInterval = 0;
            long version = 0;
            byte[] principal = null;
            String authType = null;
            Set<String> activationListeners = Set.of();
            Set<String> dataKeys = Set.of();
            long size = 0;
            for (Map.Entry<byte[], byte[]> entry : hash.entrySet()) {
                String field = new String(entry.getKey(), StandardCharsets.UTF_8);
                byte[] value = entry.getValue();
                size += entry.getKey().length + value.length;
                if (field.startsWith(SessionKeys.ATTRIBUTE_PREFIX)) {
                    attributes.put(field.substring(SessionKeys.ATTRIBUTE_PREFIX.length()), value);
                    continue;
                }
                switch (field) {
                    case SessionKeys.CREATION_TIME -> creationTime = number(value);
                    case SessionKeys.LAST_ACCESSED_TIME -> lastAccessedTime = number(value);
                    case SessionKeys.MAX_INACTIVE_INTERVAL -> maxInactiveInterval = (int) number(value);
                    case SessionKeys.VERSION -> version = number(value);
                    case SessionKeys.PRINCIPAL -> principal = value;
                    case SessionKeys.AUTH_TYPE -> authType = new String(value, StandardCharsets.UTF_8);
                    case SessionKeys.ACTIVATION_LISTENERS -> activationListeners = lines(value);
                    case SessionKeys.DATA_KEYS -> dataKeys = lines(value);
                    default -> {
                        // A field from a newer version of this layout: ignored, kept in Redis.
                    }
                }
            }
            return new StoredSession(creationTime, lastAccessedTime, maxInactiveInterval, version, principal, authType,
                    attributes, activationListeners, dataKeys, size);
        }

        static void write(SessionChanges changes, List<byte[]> pairs, List<byte[]> deletions) {
            pairs.add(utf8(SessionKeys.LAST_ACCESSED_TIME));
            pairs.add(SessionChanges.decimal(changes.lastAccessedTime()));
            for (Map.Entry<String, byte[]> entry : changes.metadata().entrySet()) {
                if (entry.getValue() == null) {
                    deletions.add(utf8(entry.getKey()));
                } else {
                    pairs.add(utf8(entry.getKey()));
                    pairs.add(entry.getValue());
                }
            }
            for (Map.Entry<String, byte[]> entry : changes.attributes().entrySet()) {
                pairs.add(utf8(SessionKeys.attributeField(entry.getKey())));
                pairs.add(entry.getValue());
            }
            for (String removed : changes.removedAttributes()) {
                deletions.add(utf8(SessionKeys.attributeField(removed)));
            }
        }

        private static Set<String> lines(byte[] value) {
            Set<String> names = new HashSet<>();
            for (String name : new String(value, StandardCharsets.UTF_8).split("\n")) {
                if (!name.isEmpty()) {
                    names.add(name);
                }
            }
            return names;
        }

        private static long number(byte[] value) {
            try {
                return Long.parseLong(new String(value, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                return 0;
            }
        }

        private static byte[] utf8(String text) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
    }
}

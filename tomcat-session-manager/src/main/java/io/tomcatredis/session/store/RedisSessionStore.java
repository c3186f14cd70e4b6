package io.tomcatredis.session.store;

import io.tomcatredis.connection.LuaScript;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisNoScriptException;
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
    private final int waitReplicas;
    private final int waitTimeoutMillis;
    private final SessionStoreStatistics statistics = new SessionStoreStatistics();
    private static final int INDEX_BATCH = 1024;

    /**
     * @param waitReplicas      after each save, WAIT for this many replicas (0: do not wait)
     * @param waitTimeoutMillis how long WAIT may block
     */
    public RedisSessionStore(UnifiedJedis jedis, SessionKeys keys, int timeoutMillis, int waitReplicas,
            int waitTimeoutMillis) {
        this.jedis = jedis;
        this.keys = keys;
        this.timeoutMillis = timeoutMillis;
        this.waitReplicas = waitReplicas;
        this.waitTimeoutMillis = waitTimeoutMillis;
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
        List<byte[]> saveKeys = List.of(keys.sessionKeyBytes(sessionId), utf8(keys.expiryIndexKey(sessionId)));
        Object result = waitReplicas == 0
                ? call("save", () -> SessionKeys.SAVE.run(jedis, saveKeys, args))
                : call("save", () -> saveAndWait(saveKeys, args));
        statistics.save(System.nanoTime() - start, bytes);
        return !(result instanceof Long version) || version >= 0;
    }

    /**
     * Saves and WAITs on the same connection, in one pipeline: WAIT counts the replicas that have
     * the writes of its own connection. A shortfall is logged and counted; the request goes on.
     */
    private Object saveAndWait(List<byte[]> saveKeys, List<byte[]> args) {
        for (boolean full : new boolean[] {false, true}) {
            Response<Object> saved;
            Response<Long> acknowledged;
            try (AbstractPipeline pipeline = jedis.pipelined()) {
                saved = SessionKeys.SAVE.queue(pipeline, saveKeys, args, full);
                acknowledged = pipeline.waitReplicas(saveKeys.get(0), waitReplicas, waitTimeoutMillis);
                pipeline.sync();
            }
            Object result;
            try {
                result = saved.get();
            } catch (JedisNoScriptException e) {
                continue;
            }
            long replicas = acknowledged.get();
            if (replicas < waitReplicas) {
                statistics.replicationShortfall();
                LOG.warn("Session save acknowledged by " + replicas + " of " + waitReplicas
                        + " replicas within " + waitTimeoutMillis + " ms; it could be lost in a failover");
            }
            return result;
        }
        throw new IllegalStateException("Redis keeps answering NOSCRIPT to EVAL");
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
                utf8(keys.expiryIndexKey(sessionId))), args));
        statistics.delete();
        return deleted instanceof Long count && count > 0;
    }

    /** Ids (index members) whose deadline is at or before {@code now}, at most {@code limit}. */
    public List<String> dueForExpiry(long now, int limit) {
        String max = Long.toString(now);
        return fromEveryIndex("dueForExpiry", limit,
                (pipeline, key) -> pipeline.zrangeByScore(key, "-inf", max, 0, limit),
                (ids, due) -> ids.addAll(due));
    }

    /**
     * Claims a session whose deadline has passed: deletes it and returns what it held, to exactly
     * one caller; null when it is gone, or was used again and is not due any more.
     */
    @SuppressWarnings("unchecked")
    public StoredSession claimIfExpired(String sessionId, long now) {
        Object result = call("claimIfExpired", () -> SessionKeys.CLAIM_IF_EXPIRED.run(jedis,
                List.of(keys.sessionKeyBytes(sessionId), utf8(keys.expiryIndexKey(sessionId))),
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
        long[] total = new long[1];
        fromEveryIndex("count", Integer.MAX_VALUE, (pipeline, key) -> pipeline.zcard(key),
                (ids, size) -> total[0] += size);
        return total[0];
    }

    /**
     * Ids of sessions in Redis, at most {@code limit}, from the expiry index, which holds every
     * session's id as its node knows it (with the jvmRoute).
     */
    public List<String> sessionIds(int limit) {
        return fromEveryIndex("list", limit, (pipeline, key) -> pipeline.zrange(key, 0, limit - 1L),
                (ids, members) -> ids.addAll(members));
    }

    /**
     * Runs one read on every expiry index key (one, or one per Cluster slot), in pipelines of
     * {@value #INDEX_BATCH} keys, until {@code limit} ids are collected.
     */
    private <R> List<String> fromEveryIndex(String operation, int limit,
            BiFunction<AbstractPipeline, String, Response<R>> read, BiConsumer<List<String>, R> collect) {
        List<String> ids = new ArrayList<>();
        List<String> indexKeys = keys.expiryIndexKeys();
        for (int from = 0; from < indexKeys.size() && ids.size() < limit; from += INDEX_BATCH) {
            List<String> batch = indexKeys.subList(from, Math.min(indexKeys.size(), from + INDEX_BATCH));
            List<R> results = call(operation, () -> {
                List<Response<R>> responses = new ArrayList<>(batch.size());
                try (AbstractPipeline pipeline = jedis.pipelined()) {
                    for (String key : batch) {
                        responses.add(read.apply(pipeline, key));
                    }
                    pipeline.sync();
                }
                List<R> values = new ArrayList<>(responses.size());
                responses.forEach(response -> values.add(response.get()));
                return values;
            });
            for (R result : results) {
                collect.accept(ids, result);
            }
        }
        return ids.size() > limit ? List.copyOf(ids.subList(0, limit)) : ids;
    }

    /**
     * Moves a session to a new id atomically; the old id stops working at once on every node.
     *
     * @return false when the old session no longer exists
     */
    public boolean changeId(String oldId, String newId) {
        if (keys.slotAligned()) {
            return moveAcrossSlots(oldId, newId);
        }
        Object moved = call("changeId", () -> SessionKeys.RENAME.run(jedis,
                List.of(keys.sessionKeyBytes(oldId), keys.sessionKeyBytes(newId), utf8(keys.expiryIndexKey(oldId))),
                List.of(utf8(oldId), utf8(newId))));
        return Long.valueOf(1).equals(moved);
    }

    /**
     * Redis Cluster: the new id hashes to another slot, so no script can see both keys. Copy
     * (DUMP, then RESTORE in the new slot), then delete the original: a failure before the copy
     * changes nothing, a failure after it leaves the old copy to its TTL while the new one serves.
     */
    @SuppressWarnings("unchecked")
    private boolean moveAcrossSlots(String oldId, String newId) {
        Object exported = call("changeId", () -> SessionKeys.EXPORT.run(jedis,
                List.of(keys.sessionKeyBytes(oldId), utf8(keys.expiryIndexKey(oldId))), List.of(utf8(oldId))));
        if (!(exported instanceof List<?> parts) || parts.isEmpty()) {
            return false;
        }
        List<byte[]> args = new ArrayList<>();
        args.add(utf8(newId));
        for (Object part : (List<Object>) parts) {
            args.add(part instanceof byte[] bytes ? bytes : ascii(String.valueOf(part)));
        }
        call("changeId", () -> SessionKeys.IMPORT.run(jedis,
                List.of(keys.sessionKeyBytes(newId), utf8(keys.expiryIndexKey(newId))), args));
        delete(oldId, List.of());
        return true;
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

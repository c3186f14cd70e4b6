package io.tomcatredis.session.store;

import io.tomcatredis.connection.RedisClientHolder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.LongSupplier;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisNoScriptException;
import redis.clients.jedis.util.KeyValue;

/**
 * Reads and writes sessions in the layout of {@link SessionKeys} and {@link SessionHashFormat}:
 * {@code HGETALL} to load (a script when Redis' clock must judge the deadline, or to confirm that
 * a copy is current), one atomic script to save, one to claim an invalidation or expiry. Redis trouble surfaces as {@link SessionStoreUnavailableException}.
 */
public final class RedisSessionStore {

    private static final Log LOG = LogFactory.getLog(RedisSessionStore.class);
    private static final int INDEX_BATCH = 1024;
    private static final int AUDIT_KEYS = 128;
    private static final int AUDIT_MEMBERS = 1000;
    private static final int EXTEND_CHUNK = 1000;
    private static final int EXTEND_CALLS = 10;
    private static final byte[] MUST_EXIST = ascii("1");
    private static final byte[] CREATE = ascii("0");
    private static final byte[] ONLY_IF_EXPIRED = ascii("1");
    private static final byte[] ALWAYS = ascii("0");
    private static final byte[] GRACE_MILLIS = ascii(Long.toString(SessionKeys.TTL_GRACE_SECONDS * 1000));
    /** claim.lua's reply to an expiry claim of a session whose keys ended by their TTL before any claim. */
    private static final Long LAPSED = 0L;
    private static final byte[] NEVER_EXPIRES_MILLIS = ascii(Long.toString(SessionKeys.NEVER_EXPIRES_TTL_SECONDS * 1000));

    private final SessionKeys keys;
    private final Topology topology;
    private final RedisClientHolder client;
    private final RedisCalls redis;
    private final int waitReplicas;
    private final WaitAof waitAof;
    private final int waitTimeoutMillis;
    private final SessionStoreStatistics statistics = new SessionStoreStatistics();
    private final LongSupplier ticker;
    private final RedisClock clock;
    private final byte[] touchIntervalMillis;
    private final PrincipalIndex principalIndex;

    /**
     * @param cluster           true for Redis Cluster (see {@link Topology})
     * @param waitReplicas      after each save, WAIT for this many replicas (0: do not wait)
     * @param waitTimeoutMillis how long WAIT may block
     * @param touchIntervalMillis how long (ms) {@code meta:lastAccessedTime} may lag behind the last
     *        request, at most a tenth of a session's interval (see {@link #isAccessRecorded}); 0: never
     */
    public RedisSessionStore(RedisClientHolder redis, SessionKeys keys, boolean cluster, int timeoutMillis,
            int waitReplicas, int waitTimeoutMillis, int touchIntervalMillis) {
        this(redis, keys, cluster, timeoutMillis, waitReplicas, WaitAof.NONE, waitTimeoutMillis, touchIntervalMillis);
    }

    /**
     * @param waitAof after each save (and its WAIT, if any), WAITAOF for the master's and replicas'
     *        append-only file fsync, up to {@code waitTimeoutMillis}; {@link WaitAof#NONE}: do not wait
     */
    public RedisSessionStore(RedisClientHolder redis, SessionKeys keys, boolean cluster, int timeoutMillis,
            int waitReplicas, WaitAof waitAof, int waitTimeoutMillis, int touchIntervalMillis) {
        this(redis, keys, cluster, timeoutMillis, waitReplicas, waitAof, waitTimeoutMillis, touchIntervalMillis,
                System::nanoTime);
    }

    /** @param ticker monotonic nanoseconds for {@link RedisClock} */
    RedisSessionStore(RedisClientHolder redis, SessionKeys keys, boolean cluster, int timeoutMillis,
            int waitReplicas, int waitTimeoutMillis, int touchIntervalMillis, LongSupplier ticker) {
        this(redis, keys, cluster, timeoutMillis, waitReplicas, WaitAof.NONE, waitTimeoutMillis, touchIntervalMillis,
                ticker);
    }

    private RedisSessionStore(RedisClientHolder redis, SessionKeys keys, boolean cluster, int timeoutMillis,
            int waitReplicas, WaitAof waitAof, int waitTimeoutMillis, int touchIntervalMillis, LongSupplier ticker) {
        this.touchIntervalMillis = ascii(Integer.toString(touchIntervalMillis));
        this.ticker = ticker;
        this.clock = new RedisClock(ticker);
        this.keys = keys;
        this.topology = cluster ? Topology.cluster(keys) : Topology.singleSlot(keys);
        this.client = redis;
        this.redis = new RedisCalls(redis, timeoutMillis, statistics);
        this.waitReplicas = waitReplicas;
        this.waitAof = waitAof;
        this.waitTimeoutMillis = waitTimeoutMillis;
        this.principalIndex = new PrincipalIndex(keys, this.redis);
    }

    /**
     * Sends every script to Redis (SCRIPT LOAD, to every master of a Cluster), so that requests run
     * them by SHA-1 from the first one on. Best effort: Redis may be away at deploy time, and a
     * script Redis does not know is sent again on first use anyway.
     */
    public void preloadScripts() {
        try {
            // Not counted as a round trip of a request, nor as a failure when Redis is away.
            client.call(jedis -> {
                for (SessionScript script : SessionScript.values()) {
                    jedis.scriptLoad(script.text());
                }
                return null;
            });
        } catch (RuntimeException e) {
            LOG.debug("Scripts not preloaded; they are sent on first use", e);
        }
    }

    public SessionKeys keys() {
        return keys;
    }

    public Topology topology() {
        return topology;
    }

    /** Which sessions belong to which user name ({@link PrincipalIndex}). */
    public PrincipalIndex principalIndex() {
        return principalIndex;
    }

    public SessionStoreStatistics statistics() {
        return statistics;
    }

    /** The calls of this store, for other users of the same keys (session-scoped structures). */
    public RedisCalls calls() {
        return redis;
    }

    /**
     * Loads a session, or confirms that the caller's copy is current. Never writes.
     *
     * <p>Without a copy, one {@code HGETALL}: the session is returned when {@link RedisClock} says
     * its deadline is certainly ahead. With a copy, or near or past the deadline, or when the clock
     * is not known, {@code load.lua} decides by Redis' clock and sends the hash only when the copy
     * is not current.
     *
     * @param knownVersion {@code meta:version} of the caller's copy, or 0 when it has none
     */
    public LoadResult load(String sessionId, long knownVersion) {
        long start = ticker.getAsLong();
        if (knownVersion == 0) {
            LoadResult plain = loadWithoutScript(sessionId, start);
            if (plain != null) {
                return plain;
            }
        }
        return loadByScript(sessionId, knownVersion, start);
    }

    /**
     * A load answered with no round trip, from the hash this node read earlier and heard no change
     * of since ({@code nearCacheStalenessMillis}): the session, when its deadline is certainly ahead
     * by {@link RedisClock}; null when Redis must judge it ({@link #load}).
     */
    public LoadResult.Loaded loadedFromCopy(StoredSession stored) {
        return isCertainlyLive(stored) ? new LoadResult.Loaded(stored) : null;
    }

    /** Whether {@code stored}'s deadline is certainly ahead by {@link RedisClock} (or it never expires). */
    public boolean isCertainlyLive(StoredSession stored) {
        return stored.maxInactiveInterval() <= 0 || clock.certainlyBefore(stored.deadline());
    }

    /** One HGETALL; null when the verdict needs Redis' clock. */
    private LoadResult loadWithoutScript(String sessionId, long start) {
        byte[] key = keys.sessionKeyBytes(sessionId);
        Map<byte[], byte[]> hash;
        try {
            hash = redis.call("load", jedis -> jedis.hgetAll(key));
        } catch (RedisCalls.WrongTypeException e) {
            return notAHash(sessionId);
        }
        if (hash == null || hash.isEmpty()) {
            statistics.load(ticker.getAsLong() - start, 0);
            return LoadResult.ABSENT;
        }
        StoredSession stored = SessionHashFormat.read(hash);
        if (stored == null) {
            return noCreationTime(sessionId);
        }
        if (!isCertainlyLive(stored)) {
            return null;
        }
        statistics.load(ticker.getAsLong() - start, stored.sizeInBytes());
        return new LoadResult.Loaded(stored);
    }

    @SuppressWarnings("unchecked")
    private LoadResult loadByScript(String sessionId, long knownVersion, long start) {
        Object reply;
        try {
            reply = redis.script("load", SessionScript.LOAD, List.of(keys.sessionKeyBytes(sessionId)),
                    List.of(knownVersion > 0 ? ascii(Long.toString(knownVersion)) : new byte[0]));
        } catch (RedisCalls.WrongTypeException e) {
            return notAHash(sessionId);
        }
        List<Object> parts = reply instanceof List<?> list ? (List<Object>) list : List.of();
        long kind = parts.isEmpty() || !(parts.get(0) instanceof Long code) ? 0 : code;
        if (kind == 1) {
            statistics.load(ticker.getAsLong() - start, 0);
            return LoadResult.UNCHANGED;
        }
        if (kind == 2) {
            return LoadResult.EXPIRED;
        }
        if (kind != 3) {
            statistics.load(ticker.getAsLong() - start, 0);
            return LoadResult.ABSENT;
        }
        StoredSession stored = SessionHashFormat.read((List<byte[]>) (List<?>) parts, 1);
        if (stored == null) {
            return noCreationTime(sessionId);
        }
        statistics.load(ticker.getAsLong() - start, stored.sizeInBytes());
        return new LoadResult.Loaded(stored);
    }

    private static LoadResult notAHash(String sessionId) {
        LOG.warn("Redis key of session " + SessionIds.redact(sessionId) + " is not a hash; treating the session as absent");
        return LoadResult.ABSENT;
    }

    private static LoadResult noCreationTime(String sessionId) {
        LOG.warn("Session " + SessionIds.redact(sessionId) + " in Redis has no valid "
                + SessionHashFormat.CREATION_TIME + "; treating it as absent");
        return LoadResult.ABSENT;
    }

    /**
     * Samples Redis' clock ({@code TIME}) for {@link RedisClock}. Best effort, not counted as a
     * request's round trip: without a recent sample, loads ask Redis' clock through the script.
     */
    public void sampleClock() {
        byte[] sampleKey = utf8(keys.expiryIndexPrefix());
        try {
            client.call(jedis -> {
                long sent = ticker.getAsLong();
                Object reply = jedis.sendCommand(sampleKey, Protocol.Command.TIME);
                if (reply instanceof List<?> time && time.size() == 2 && time.get(0) instanceof byte[] seconds
                        && time.get(1) instanceof byte[] micros) {
                    clock.record(Long.parseLong(new String(seconds, StandardCharsets.US_ASCII)) * 1000
                            + Long.parseLong(new String(micros, StandardCharsets.US_ASCII)) / 1000, sent);
                }
                return null;
            });
        } catch (RuntimeException e) {
            LOG.debug("Redis' clock not sampled; loads ask it through the load script meanwhile", e);
        }
    }

    /**
     * Whether a request that changed nothing in a session may leave its access time alone: its
     * {@code meta:lastAccessedTime} is certainly less than its {@code meta:touchInterval} old by
     * Redis' clock, so the deadline in Redis already covers this access. Without a recent sample of
     * Redis' clock the answer is false (the access is written).
     *
     * <p>The keys' TTL, set by the last save, covers a skipped write only for what that save
     * counted: its own touch interval and the {@link SessionKeys#TTL_GRACE_SECONDS grace}. So an
     * access time certainly in the future (corrupt, or Redis' clock stepped back) is written, and
     * a stored touch interval counts at most the grace (a corrupt, larger one costs writes, never
     * the session).
     *
     * @param lastAccessedTime {@code meta:lastAccessedTime} as loaded, epoch ms
     * @param touchInterval    {@code meta:touchInterval} as loaded, ms (0: every access is written)
     */
    public boolean isAccessRecorded(long lastAccessedTime, long touchInterval) {
        long window = Math.min(touchInterval, SessionKeys.TTL_GRACE_SECONDS * 1000);
        return window > 0 && !clock.certainlyBefore(lastAccessedTime) && clock.certainlyBefore(lastAccessedTime + window);
    }

    /**
     * Saves changes atomically, and keeps the principal index ({@link PrincipalIndex}) in step: a
     * session that joins a user's index ({@link SessionChanges#indexedUnder}) is added to it in a
     * round trip before the save (so the index never misses a session that names the user; a
     * failure there fails the save with nothing written); a session already in it is written
     * again in the save's pipeline ({@link PrincipalIndex#queueAdd}); a session that left a user's
     * index (sign-out, another user) is removed from it after the save, best effort.
     *
     * @return the new {@code meta:version}, or -1 when the session must already exist but another
     *         node removed it; nothing is written then
     */
    public long save(String sessionId, SessionChanges changes) {
        String user = changes.indexedName();
        String previous = changes.previousIndexedName();
        boolean joins = user != null && !user.equals(previous);
        if (joins) {
            principalIndex.add(user, sessionId, changes.indexedMaxInactiveInterval());
        }
        long version = saveSession(sessionId, changes, joins ? null : user);
        if (version < 0 && joins) {
            principalIndex.removeQuietly(user, sessionId);
        }
        if (version >= 0 && previous != null && !previous.equals(user)) {
            principalIndex.removeQuietly(previous, sessionId);
        }
        return version;
    }

    /** @param extendIndexOf the user whose principal index's TTL the save extends in its pipeline, or null */
    private long saveSession(String sessionId, SessionChanges changes, String extendIndexOf) {
        long start = ticker.getAsLong();
        SessionHashFormat.Write write = SessionHashFormat.write(changes);
        List<byte[]> args = new ArrayList<>(7 + write.pairs().size() + write.deletions().size());
        args.add(changes.created() ? CREATE : MUST_EXIST);
        args.add(utf8(SessionKeys.baseId(sessionId)));
        args.add(GRACE_MILLIS);
        args.add(NEVER_EXPIRES_MILLIS);
        args.add(changes.maxInactiveInterval().isPresent()
                ? ascii(Integer.toString(changes.maxInactiveInterval().getAsInt())) : new byte[0]);
        args.add(touchIntervalMillis);
        args.add(ascii(Integer.toString(write.pairs().size() / 2)));
        args.addAll(write.pairs());
        args.addAll(write.deletions());
        long bytes = 0;
        for (byte[] arg : args) {
            bytes += arg.length;
        }
        List<byte[]> saveKeys = List.of(keys.sessionKeyBytes(sessionId), utf8(topology.expiryIndexKey(sessionId)));
        Object result;
        if (waitReplicas == 0 && !waitAof.enabled() && extendIndexOf == null) {
            result = redis.script("save", SessionScript.SAVE, saveKeys, args);
        } else {
            Pipelined saved = redis.call("save", jedis -> saveInPipeline(jedis, saveKeys, args, extendIndexOf,
                    sessionId, changes.indexedMaxInactiveInterval()));
            result = saved.result();
            if (saved.indexed() != null && result instanceof Long version && version >= 0) {
                // Outside the pipeline's connection: a script Redis had not cached is run once more on its own.
                principalIndex.queuedAddDone(saved.indexed(), extendIndexOf, sessionId, changes.indexedMaxInactiveInterval());
            } else if (saved.indexed() != null) {
                // The session is gone (signed out or invalidated under this request): the member just
                // written again goes too, rather than wait for a read to find it stale.
                principalIndex.removeQuietly(extendIndexOf, sessionId);
            }
        }
        statistics.save(ticker.getAsLong() - start, bytes);
        changes.attributes().values().forEach(value -> statistics.attributeBytes(value.length));
        return result instanceof Long version ? version : -1;
    }

    /**
     * Saves in one pipeline with what goes with it: {@code principal_add.lua} for the principal
     * index of {@code extendIndexOf} (when not null: the member written again, see
     * {@link PrincipalIndex#queueAdd}), the WAIT for replicas (when {@code waitReplicas}) and the
     * WAITAOF for append-only file fsyncs (when {@code waitAof}), on the same connection: WAIT and
     * WAITAOF count what has the writes of their own connection. A shortfall, or an error of
     * WAITAOF (a failover to a server without it, AOF switched off since start), is logged and
     * counted; the request goes on, as its save is in Redis.
     */
    /** What {@link #saveInPipeline} answers: save.lua's reply, and the principal index's (or null). */
    private record Pipelined(Object result, Response<Object> indexed) {
    }

    private Pipelined saveInPipeline(UnifiedJedis jedis, List<byte[]> saveKeys, List<byte[]> args, String extendIndexOf,
            String sessionId, int maxInactiveInterval) {
        for (boolean full : new boolean[] {false, true}) {
            Response<Object> saved;
            Response<Object> indexed = null;
            Response<Long> acknowledged = null;
            Response<KeyValue<Long, Long>> fsynced = null;
            try (AbstractPipeline pipeline = jedis.pipelined()) {
                saved = SessionScript.SAVE.script().queue(pipeline, saveKeys, args, full);
                if (extendIndexOf != null) {
                    indexed = principalIndex.queueAdd(pipeline, extendIndexOf, sessionId, maxInactiveInterval, full);
                }
                if (waitReplicas > 0) {
                    acknowledged = pipeline.waitReplicas(saveKeys.get(0), waitReplicas, waitTimeoutMillis);
                }
                if (waitAof.enabled()) {
                    fsynced = pipeline.waitAOF(saveKeys.get(0), waitAof.numLocal(), waitAof.replicas(), waitTimeoutMillis);
                }
                pipeline.sync();
            }
            Object result;
            try {
                result = saved.get();
            } catch (JedisNoScriptException e) {
                continue;
            }
            long replicas = acknowledged == null ? waitReplicas : acknowledged.get();
            if (replicas < waitReplicas) {
                statistics.replicationShortfall();
                LOG.warn("Session save acknowledged by " + replicas + " of " + waitReplicas
                        + " replicas within " + waitTimeoutMillis + " ms; it could be lost in a failover");
            }
            if (fsynced != null) {
                checkFsynced(fsynced);
            }
            return new Pipelined(result, indexed);
        }
        throw new IllegalStateException("Redis keeps answering NOSCRIPT to EVAL");
    }

    /** WAITAOF's reply: {numlocal, numreplicas} that fsynced in time; fewer than asked is a shortfall. */
    private void checkFsynced(Response<KeyValue<Long, Long>> fsynced) {
        KeyValue<Long, Long> counts;
        try {
            counts = fsynced.get();
        } catch (JedisDataException e) {
            statistics.replicationShortfall();
            LOG.warn("Session save not confirmed on disk: WAITAOF failed (" + e.getMessage() + "); it could be lost"
                    + " in a crash or failover");
            return;
        }
        if (counts.getKey() < waitAof.numLocal() || counts.getValue() < waitAof.replicas()) {
            statistics.replicationShortfall();
            LOG.warn("Session save fsynced " + (waitAof.local() ? (counts.getKey() > 0 ? "on the master" : "not on the"
                    + " master") + " and " : "") + "by " + counts.getValue() + " of " + waitAof.replicas()
                    + " replicas within " + waitTimeoutMillis + " ms (WAITAOF); it could be lost in a crash or failover");
        }
    }

    /**
     * Why this server cannot honour {@code waitAof}, or null when it can or cannot be asked now
     * (Redis away at start: saves then count WAITAOF's error as a shortfall, see
     * {@link #saveInPipeline}). Sends {@code WAITAOF <numlocal> 0 1} itself (on Cluster, Jedis
     * sends it to every master, as its error replies show): Redis before 7.2 does not know it, and
     * with numlocal 1 a master without {@code appendonly yes} refuses it. {@code HELLO} names the
     * server in the message; neither needs {@code INFO} or {@code CONFIG}, which the shipped ACL
     * denies.
     */
    public String waitAofProblem() {
        if (!waitAof.enabled()) {
            return null;
        }
        byte[] sampleKey = utf8(keys.expiryIndexPrefix());
        try {
            return client.call(jedis -> {
                try {
                    jedis.sendCommand(sampleKey, Protocol.Command.WAITAOF, ascii(Long.toString(waitAof.numLocal())),
                            ascii("0"), ascii("1"));
                    return null;
                } catch (JedisDataException e) {
                    String error = String.valueOf(e.getMessage());
                    String server = server(jedis, sampleKey);
                    if (error.toLowerCase(Locale.ROOT).contains("unknown command")) {
                        return "needs the WAITAOF command (Redis 7.2 or later, Valkey 7.2 or later); the server is " + server;
                    }
                    if (error.contains("appendonly")) {
                        return "needs the master's append-only file: set appendonly yes on every data node (" + server
                                + " answered: " + error + ")";
                    }
                    return "WAITAOF is refused by " + server + ": " + error
                            + (error.startsWith("NOPERM") ? " (allow +waitaof to the ACL user)" : "");
                }
            });
        } catch (RuntimeException e) {
            LOG.warn("Cannot check now that Redis supports WAITAOF (" + e.getMessage() + "); until it can, saves"
                    + " count WAITAOF's errors as replication shortfalls");
            return null;
        }
    }

    /** The server's name and version as HELLO (without arguments) reports them, e.g. {@code redis 7.0.15}. */
    private static String server(UnifiedJedis jedis, byte[] sampleKey) {
        try {
            Object reply = jedis.sendCommand(sampleKey, Protocol.Command.HELLO);
            Map<String, String> fields = new HashMap<>();
            if (reply instanceof List<?> items) {
                for (int i = 0; i < items.size(); i++) {
                    if (items.get(i) instanceof KeyValue<?, ?> pair) {
                        fields.put(text(pair.getKey()), text(pair.getValue()));
                    } else if (i + 1 < items.size()) {
                        fields.put(text(items.get(i)), text(items.get(++i)));
                    }
                }
            }
            return fields.getOrDefault("server", "redis") + " " + fields.getOrDefault("version", "(version unknown)");
        } catch (RuntimeException e) {
            return "this server";
        }
    }

    private static String text(Object value) {
        return value instanceof byte[] raw ? new String(raw, StandardCharsets.UTF_8) : String.valueOf(value);
    }

    /**
     * Invalidates a session: deletes it with its structures and index entry. Of all nodes that
     * try, exactly one gets true, also when its first attempt's reply was lost with a connection
     * that failed fast and was retried (see {@link #claim}).
     *
     * @throws SessionStoreUnavailableException when Redis fails; after a timeout the claim may have
     *         been won in Redis nonetheless (the session is then gone, its listeners do not fire)
     */
    public boolean invalidate(String sessionId) {
        return claim(sessionId, false) != null;
    }

    /**
     * Claims a session whose deadline passed (by Redis' clock): deletes it and returns what it
     * held, to exactly one caller; null when it is gone, or was used again and is not due.
     */
    @SuppressWarnings("unchecked")
    public StoredSession claimIfExpired(String sessionId) {
        Object claimed = claim(sessionId, true);
        return claimed instanceof List<?> flat ? SessionHashFormat.read((List<byte[]>) flat, 0) : null;
    }

    /**
     * Claims a session: runs the claim script, then deletes the claim key. A connection that failed
     * fast is retried once by {@link RedisCalls} with the same token, so a reply lost after Redis
     * ran the script still makes this node the winner; a claim that timed out is not retried, so
     * a sign-out while Redis is frozen answers within about {@code timeoutMillis}.
     */
    private Object claim(String sessionId, boolean onlyIfExpired) {
        Object claimed = runClaim(sessionId, onlyIfExpired, UUID.randomUUID().toString());
        statistics.delete();
        if (claimed == null || LAPSED.equals(claimed)) {
            return null;
        }
        try {
            redis.call("claim", jedis -> jedis.del(keys.claimKeyBytes(sessionId)));
        } catch (SessionStoreUnavailableException e) {
            LOG.debug("Claim key of session " + SessionIds.redact(sessionId) + " is left to its 60 s TTL", e);
        }
        // claim.lua answers an invalidation's winner with meta:principalName, an expiry's with the hash.
        String user = claimed instanceof byte[] name ? new String(name, StandardCharsets.UTF_8)
                : claimed instanceof List<?> flat ? PrincipalIndex.nameIn(flat) : null;
        if (user != null) {
            principalIndex.removeQuietly(user, sessionId);
        }
        return claimed;
    }

    /** One run of claim.lua: its reply, null when this token did not win. */
    Object runClaim(String sessionId, boolean onlyIfExpired, String token) {
        return redis.script("claim", SessionScript.CLAIM, claimKeys(sessionId), claimArgs(sessionId, onlyIfExpired, token));
    }

    private List<byte[]> claimKeys(String sessionId) {
        return List.of(keys.sessionKeyBytes(sessionId), utf8(topology.expiryIndexKey(sessionId)),
                keys.claimKeyBytes(sessionId));
    }

    private static List<byte[]> claimArgs(String sessionId, boolean onlyIfExpired, String token) {
        return onlyIfExpired
                ? List.of(utf8(SessionKeys.baseId(sessionId)), ascii(token), ONLY_IF_EXPIRED, NEVER_EXPIRES_MILLIS, GRACE_MILLIS)
                : List.of(utf8(SessionKeys.baseId(sessionId)), ascii(token), ALWAYS, NEVER_EXPIRES_MILLIS);
    }

    /**
     * Claims the expiry of a batch of sessions in one pipelined round trip: {@code claim.lua} per
     * session (each script touches the keys of one session and its index key, so one slot; Redis
     * Cluster's pipeline sends each to its master), preceded in the same pipeline by a {@code DEL}
     * of each claim key in {@code release} (claims won by an earlier batch whose listeners have
     * run). A connection that failed fast is retried once with the same claim tokens, so a claim
     * won by the lost reply is still this node's ({@link RedisCalls}). Scripts Redis does not know
     * (NOSCRIPT) are sent again in full in a second pipeline.
     *
     * @param ids     index members, each claimed only if its deadline passed by Redis' clock
     * @param release ids whose claim keys ({@code <hash>:claimed}) to delete; may be empty
     * @return one outcome per id, in order
     * @throws SessionStoreUnavailableException when Redis fails or does not answer in time; claims
     *         won in Redis whose replies were lost fire no listener (their claim keys end in 60 s)
     */
    @SuppressWarnings("unchecked")
    public List<ExpiryClaim> claimExpired(List<String> ids, List<String> release) {
        List<List<byte[]>> args = new ArrayList<>(ids.size());
        for (String id : ids) {
            args.add(claimArgs(id, true, UUID.randomUUID().toString()));
        }
        List<Object> replies = redis.call("expire", jedis -> {
            Object[] values = new Object[ids.size()];
            List<Integer> pending = new ArrayList<>(ids.size());
            for (int i = 0; i < ids.size(); i++) {
                pending.add(i);
            }
            boolean full = false;
            while (!pending.isEmpty()) {
                List<Response<Object>> responses = new ArrayList<>(pending.size());
                try (AbstractPipeline pipeline = jedis.pipelined()) {
                    if (!full) {
                        for (String id : release) {
                            pipeline.del(keys.claimKeyBytes(id));
                        }
                    }
                    for (int i : pending) {
                        responses.add(SessionScript.CLAIM.script().queue(pipeline, claimKeys(ids.get(i)), args.get(i), full));
                    }
                    pipeline.sync();
                }
                List<Integer> unknownScript = new ArrayList<>();
                for (int r = 0; r < responses.size(); r++) {
                    int i = pending.get(r);
                    try {
                        values[i] = responses.get(r).get();
                    } catch (JedisNoScriptException e) {
                        if (full) {
                            throw e;
                        }
                        unknownScript.add(i);
                    } catch (JedisDataException e) {
                        values[i] = e;
                    }
                }
                pending = unknownScript;
                full = true;
            }
            return Arrays.asList(values);
        });
        List<ExpiryClaim> claims = new ArrayList<>(ids.size());
        List<String[]> leftIndex = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            String id = ids.get(i);
            Object reply = replies.get(i);
            statistics.delete();
            if (reply instanceof JedisDataException refused) {
                statistics.failure("claimRefused");
                claims.add(new ExpiryClaim.Refused(id, refused.getMessage()));
            } else if (LAPSED.equals(reply)) {
                claims.add(new ExpiryClaim.Lapsed(id));
            } else if (reply instanceof List<?> flat) {
                String user = PrincipalIndex.nameIn(flat);
                if (user != null) {
                    leftIndex.add(new String[] {user, id});
                }
                StoredSession stored = SessionHashFormat.read((List<byte[]>) flat, 0);
                claims.add(stored == null ? new ExpiryClaim.Refused(id, "claimed hash has no valid "
                        + SessionHashFormat.CREATION_TIME) : new ExpiryClaim.Won(id, stored));
            } else {
                claims.add(new ExpiryClaim.NotClaimed(id));
            }
        }
        principalIndex.removeQuietly(leftIndex);
        return claims;
    }

    /**
     * Deletes the claim keys of sessions whose expiry this node won and whose listeners have run,
     * in one pipelined round trip. Best effort: a claim key left behind ends by its 60 s TTL.
     */
    public void releaseClaims(List<String> ids) {
        if (ids.isEmpty()) {
            return;
        }
        try {
            redis.call("expire", jedis -> {
                try (AbstractPipeline pipeline = jedis.pipelined()) {
                    for (String id : ids) {
                        pipeline.del(keys.claimKeyBytes(id));
                    }
                    pipeline.sync();
                }
                return null;
            });
        } catch (SessionStoreUnavailableException e) {
            LOG.debug(ids.size() + " claim keys are left to their 60 s TTL", e);
        }
    }

    /**
     * Keeps the keys of the sessions due since {@code scoredBefore} alive for at least {@code
     * ttlMillis} more ({@code extend.lua}: {@code PEXPIRE <keyPrefix>{<id>} ttlMillis GT} for each
     * such entry, and for its structures), so that a sweep that fell behind still finds them, and
     * fires their listeners, when it reaches them.
     * With one index key, {@code extend.lua} on chunks of {@value #EXTEND_CHUNK} due entries,
     * {@value #EXTEND_CALLS} per pipelined round trip; with Redis Cluster, one call per index key
     * (up to {@value #EXTEND_CHUNK} entries each) in pipelines of {@value #AUDIT_KEYS}. Each call
     * holds Redis a few milliseconds (a {@code PEXPIRE} and an {@code HGET} per entry), a round
     * trip some tens, far from {@code timeoutMillis} (a pipeline of 100 calls timed out on a
     * loaded machine: benchmarks/RESULTS.md).
     *
     * @param scoredBefore epoch ms: the entries scored (deadline) at or before it are kept
     * @param ttlMillis    the TTL each such session's hash gets at least, ms
     * @param due          at most how many entries that is ({@link DueSessions#count} of a read
     *                     at a later time); -1 when unknown
     * @throws SessionStoreUnavailableException when Redis fails
     */
    public void keepDueAlive(long scoredBefore, long ttlMillis, long due) {
        List<String> indexKeys = topology.expiryIndexKeys();
        byte[] prefix = utf8(keys.prefix());
        byte[] nowArg = ascii(Long.toString(scoredBefore));
        byte[] ttl = ascii(Long.toString(ttlMillis));
        byte[] chunk = ascii(Integer.toString(EXTEND_CHUNK));
        List<byte[]> indexKeyArgs = new ArrayList<>();
        List<Long> starts = new ArrayList<>();
        if (indexKeys.size() == 1) {
            for (long start = 0; start < Math.max(due, 1); start += EXTEND_CHUNK) {
                indexKeyArgs.add(utf8(indexKeys.get(0)));
                starts.add(start);
            }
        } else {
            indexKeys.forEach(key -> {
                indexKeyArgs.add(utf8(key));
                starts.add(0L);
            });
        }
        int perRoundTrip = indexKeys.size() == 1 ? EXTEND_CALLS : AUDIT_KEYS;
        for (int from = 0; from < indexKeyArgs.size(); from += perRoundTrip) {
            int to = Math.min(indexKeyArgs.size(), from + perRoundTrip);
            int first = from;
            redis.call("keepDueAlive", jedis -> {
                for (boolean full : new boolean[] {false, true}) {
                    List<Response<Object>> responses = new ArrayList<>(to - first);
                    try (AbstractPipeline pipeline = jedis.pipelined()) {
                        for (int i = first; i < to; i++) {
                            responses.add(SessionScript.EXTEND.script().queue(pipeline, List.of(indexKeyArgs.get(i)),
                                    List.of(prefix, nowArg, ttl, ascii(Long.toString(starts.get(i))), chunk), full));
                        }
                        pipeline.sync();
                    }
                    boolean unknownScript = false;
                    for (Response<Object> response : responses) {
                        try {
                            response.get();
                        } catch (JedisNoScriptException e) {
                            unknownScript = true;
                        } catch (JedisDataException e) {
                            // An index key of another type: nothing to keep there.
                            LOG.debug("Expiry index key not extended: " + e.getMessage());
                        }
                    }
                    if (!unknownScript) {
                        break;
                    }
                }
                return null;
            });
        }
    }

    /** Ids (index members) whose deadline is at or before {@code now}, at most {@code limit}, most overdue first. */
    public List<String> dueForExpiry(long now, int limit) {
        String max = Long.toString(now);
        return fromEveryIndex("dueForExpiry", limit, 0,
                (pipeline, key) -> pipeline.zrangeByScore(key, "-inf", max, 0, limit),
                (ids, due) -> ids.addAll(due));
    }

    /**
     * Due index entries for one batch of a sweep, from window {@code window} of the due range, so
     * that nodes sweeping at the same time, each drawing its windows at random, mostly claim
     * different sessions. With one index key (standalone Redis, Sentinel) one {@code due.lua}:
     * window {@code w} of {@code limit} entries among the first {@code min(ceil(due / limit),
     * windows)} of the due range, most overdue first (so every node works on the most overdue
     * {@code windows * limit} sessions), with the count of due entries and the most overdue
     * deadline. With Redis Cluster, {@code ZRANGEBYSCORE index -inf now LIMIT 0 limit} on the
     * index keys from number {@code (w mod windows) * 16384 / windows} on, wrapping around; the
     * count is then unknown (-1).
     *
     * @param now     epoch ms by this node's clock (each claim checks the deadline by Redis' clock)
     * @param limit   at most this many ids, 1 or more
     * @param window  the window drawn, 0 or more
     * @param windows how many windows to spread over, 1 or more
     * @throws SessionStoreUnavailableException when Redis fails
     */
    @SuppressWarnings("unchecked")
    public DueSessions dueForExpiry(long now, int limit, int window, int windows) {
        List<String> indexKeys = topology.expiryIndexKeys();
        if (indexKeys.size() > 1) {
            int first = (int) ((long) (window % windows) * indexKeys.size() / windows);
            String max = Long.toString(now);
            List<String> ids = fromEveryIndex("dueForExpiry", limit, first,
                    (pipeline, key) -> pipeline.zrangeByScore(key, "-inf", max, 0, limit),
                    (found, due) -> found.addAll(due));
            return ids.isEmpty() ? DueSessions.NONE : new DueSessions(ids, -1, -1);
        }
        Object reply = redis.script("dueForExpiry", SessionScript.DUE, List.of(utf8(indexKeys.get(0))),
                List.of(ascii(Long.toString(now)), ascii(Integer.toString(limit)), ascii(Integer.toString(window)),
                        ascii(Integer.toString(windows))));
        List<Object> parts = reply instanceof List<?> list ? (List<Object>) list : List.of();
        if (parts.size() < 2 || !(parts.get(0) instanceof Long count) || count == 0) {
            return DueSessions.NONE;
        }
        long mostOverdue = parts.get(1) instanceof byte[] score ? deadline(score) : -1;
        List<String> ids = new ArrayList<>(parts.size() - 2);
        for (Object member : parts.subList(2, parts.size())) {
            ids.add(new String((byte[]) member, StandardCharsets.UTF_8));
        }
        return new DueSessions(ids, count, mostOverdue);
    }

    /**
     * An index score as a deadline, epoch ms; -1 (unknown) for what no session's deadline is: Redis
     * replies {@code -inf} and {@code inf} for infinite scores (a corrupt entry written by hand),
     * which {@link Double#parseDouble} refuses, and a negative score is none either.
     */
    private static long deadline(byte[] score) {
        try {
            double value = Double.parseDouble(new String(score, StandardCharsets.US_ASCII));
            return Double.isFinite(value) && value >= 0 ? (long) value : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Sessions in Redis for this prefix (the expiry index holds one entry per session): one
     * {@code ZCARD} per index key, so 16,384 commands in 16 pipelined round trips on Redis Cluster
     * (see {@link #countIsOneCommand}).
     */
    public long count() {
        long[] total = new long[1];
        fromEveryIndex("count", Integer.MAX_VALUE, 0, (pipeline, key) -> pipeline.zcard(key),
                (ids, size) -> total[0] += size);
        return total[0];
    }

    /** Whether {@link #count} is one command (one index key: standalone Redis and Sentinel). */
    public boolean countIsOneCommand() {
        return topology.expiryIndexKeys().size() == 1;
    }

    /**
     * Removes index entries whose session hash no longer exists (deleted, evicted, or its TTL
     * ended), looking at a bounded window of the index from {@code from} on: up to
     * {@value #AUDIT_MEMBERS} members of one index key, or with Redis Cluster up to
     * {@value #AUDIT_KEYS} index keys of {@value #AUDIT_MEMBERS} members each (one pipelined round
     * trip of {@code audit.lua}). Successive calls with the returned position cycle through the
     * whole index.
     *
     * @return where the next call goes on
     * @throws SessionStoreUnavailableException when Redis fails
     */
    @SuppressWarnings("unchecked")
    public IndexPosition auditIndex(IndexPosition from) {
        List<String> indexKeys = topology.expiryIndexKeys();
        IndexPosition start = from.key() < indexKeys.size() ? from : IndexPosition.START;
        List<String> batch = indexKeys.subList(start.key(), Math.min(indexKeys.size(), start.key() + AUDIT_KEYS));
        byte[] prefix = utf8(keys.prefix());
        byte[] members = ascii(Integer.toString(AUDIT_MEMBERS));
        List<Object> replies = redis.call("audit", jedis -> {
            List<Response<Object>> responses = new ArrayList<>(batch.size());
            try (AbstractPipeline pipeline = jedis.pipelined()) {
                for (int i = 0; i < batch.size(); i++) {
                    long rank = i == 0 ? start.rank() : 0;
                    responses.add(SessionScript.AUDIT.script().queue(pipeline, List.of(utf8(batch.get(i))),
                            List.of(prefix, ascii(Long.toString(rank)), members), true));
                }
                pipeline.sync();
            }
            List<Object> values = new ArrayList<>(responses.size());
            for (Response<Object> response : responses) {
                try {
                    values.add(response.get());
                } catch (JedisDataException e) {
                    // An index key of another type: nothing to audit there, and no reason to stop at it.
                    LOG.debug("Expiry index key not audited: " + e.getMessage());
                    values.add(null);
                }
            }
            return values;
        });
        for (int i = 0; i < replies.size(); i++) {
            List<Object> reply = replies.get(i) instanceof List<?> list ? (List<Object>) list : List.of();
            if (reply.size() > 1 && reply.get(1) instanceof Long removed && removed > 0) {
                LOG.debug("Removed " + removed + " expiry index entries of sessions that no longer exist");
            }
            if (!reply.isEmpty() && reply.get(0) instanceof Long next && next > 0) {
                return new IndexPosition(start.key() + i, next);
            }
        }
        int nextKey = start.key() + batch.size();
        return nextKey < indexKeys.size() ? new IndexPosition(nextKey, 0) : IndexPosition.START;
    }

    /** A position in the expiry index: the index key's number ({@link Topology#expiryIndexKeys}) and a rank in it. */
    public record IndexPosition(int key, long rank) {
        public static final IndexPosition START = new IndexPosition(0, 0);
    }

    /** Ids of sessions in Redis (without route), at most {@code limit}, from the expiry index. */
    public List<String> sessionIds(int limit) {
        return fromEveryIndex("list", limit, 0, (pipeline, key) -> pipeline.zrange(key, 0, limit - 1L),
                (ids, members) -> ids.addAll(members));
    }

    /**
     * Runs one read on every expiry index key (one, or one per Cluster slot), in pipelines of
     * {@value #INDEX_BATCH} keys, from key number {@code firstKey} on (wrapping around), until
     * {@code limit} ids are collected.
     */
    private <R> List<String> fromEveryIndex(String operation, int limit, int firstKey,
            BiFunction<AbstractPipeline, String, Response<R>> read, BiConsumer<List<String>, R> collect) {
        List<String> ids = new ArrayList<>();
        List<String> allKeys = topology.expiryIndexKeys();
        List<String> indexKeys = firstKey == 0 ? allKeys : new ArrayList<>(allKeys.size());
        if (firstKey != 0) {
            indexKeys.addAll(allKeys.subList(firstKey, allKeys.size()));
            indexKeys.addAll(allKeys.subList(0, firstKey));
        }
        for (int from = 0; from < indexKeys.size() && ids.size() < limit; from += INDEX_BATCH) {
            List<String> batch = indexKeys.subList(from, Math.min(indexKeys.size(), from + INDEX_BATCH));
            List<R> results = redis.call(operation, jedis -> {
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
     * Moves a session to a new id; the old id stops working at once on every node.
     *
     * @return false when the old session no longer exists
     */
    public boolean changeId(String oldId, String newId) {
        return changeId(oldId, newId, null, 0);
    }

    /**
     * Moves a session to a new id, and its principal index entry with it: the new id joins the
     * index of {@code userName} before the move, the old one leaves it after (best effort).
     *
     * @param userName            the user the session belongs to in Redis, or null
     * @param maxInactiveInterval the session's interval, seconds (for the index's TTL)
     * @return false when the old session no longer exists
     */
    public boolean changeId(String oldId, String newId, String userName, int maxInactiveInterval) {
        if (userName != null) {
            principalIndex.add(userName, newId, maxInactiveInterval);
        }
        boolean moved = topology.changeId(redis, oldId, newId);
        if (userName != null) {
            principalIndex.removeQuietly(userName, moved ? oldId : newId);
        }
        return moved;
    }

    /**
     * Runs a write command on session-scoped structure {@code name} and binds the structure to the
     * session in the same atomic step (listed in {@code meta:dataKeys}, the session's TTL).
     *
     * @return the command's reply
     * @throws NoSuchSessionException when Redis holds no such session; nothing is written then
     */
    @SuppressWarnings("unchecked")
    public Object writeData(String sessionId, String name, String command, List<String> arguments) {
        List<byte[]> args = new ArrayList<>(2 + arguments.size());
        args.add(utf8(name));
        args.add(ascii(command));
        arguments.forEach(argument -> args.add(utf8(argument)));
        Object reply = redis.script("writeData", SessionScript.DATA_WRITE,
                List.of(keys.sessionKeyBytes(sessionId), utf8(keys.dataKey(sessionId, name))), args);
        List<Object> parts = reply instanceof List<?> list ? (List<Object>) list : List.of();
        if (parts.isEmpty() || !Long.valueOf(1).equals(parts.get(0))) {
            throw new NoSuchSessionException();
        }
        return parts.size() > 1 ? parts.get(1) : null;
    }

    /** Redis holds no session under the id a call named. */
    public static final class NoSuchSessionException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NoSuchSessionException() {
            super("The session does not exist in Redis");
        }
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}

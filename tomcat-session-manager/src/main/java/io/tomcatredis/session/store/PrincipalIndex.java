package io.tomcatredis.session.store;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisNoScriptException;

/**
 * The principal index: which sessions belong to which user name, so that a user can be signed
 * out everywhere. One sorted set per user name, {@link SessionKeys#principalIndexKey}, in a hash
 * tag of its own:
 *
 * <pre>
 *   ZADD    &lt;keyPrefix&gt;principal:{&lt;tag&gt;} &lt;Redis' clock, ms&gt; &lt;id&gt;   principal_add.lua, before the save that
 *                                                               sets the principal, and by every
 *                                                               save of a session already in it
 *   PEXPIRE &lt;keyPrefix&gt;principal:{&lt;tag&gt;} &lt;the session's TTL, ms&gt;   same, when the key's TTL is shorter
 *   ZREM    &lt;keyPrefix&gt;principal:{&lt;tag&gt;} &lt;id&gt;                           after a sign-out, a change of user,
 *                                                               an invalidation, an expiry, an id change
 *   HSET    &lt;keyPrefix&gt;{&lt;id&gt;} meta:principalName &lt;user name&gt;           by save.lua when the user changes
 *   HDEL    &lt;keyPrefix&gt;{&lt;id&gt;} meta:principalName                       by save.lua at sign-out
 * </pre>
 *
 * A session's user is its principal's {@code getName()}, or without a principal the String value
 * of the attribute {@code io.tomcatredis.session.principalName}. {@code <tag>} is
 * {@link SessionKeys#principalTag}: the user name never appears as is.
 *
 * <p>Why a sorted set and not a set: the score is when a member was last written, by Redis'
 * clock. On Redis Cluster the index is in another slot than its sessions, so it is maintained by
 * commands apart from the session's scripts, and read with lazy verification: a reader looks at
 * each member's hash ({@code HMGET meta:principalName ...}) and lists only sessions that name the
 * user. A member whose hash is gone or names another user is removed, but only when it was
 * written more than {@value #IN_FLIGHT_MILLIS} ms ago (a younger one may belong to a login whose
 * save is still in flight: the member is written before the save) and not written again since the
 * read (the removal compares the score). The same rules hold on standalone Redis and Sentinel, so
 * there is one way of doing it.
 *
 * <p>The order keeps the index a superset of the truth: the member is written before the save
 * that names the user, and removed only after the session stopped naming the user. A failure in
 * between leaves a stale member, which the next read removes. The index key's TTL is at least its
 * longest-lived session's ({@link #ttlMillis}): each save of a signed-in session extends it.
 */
public final class PrincipalIndex {

    private static final Log LOG = LogFactory.getLog(PrincipalIndex.class);

    /** How long (ms) a member whose hash does not name the user yet is kept: its save may be in flight. */
    public static final long IN_FLIGHT_MILLIS = 60_000;
    /** At most this many members are read per user name (the least recently written first). */
    public static final int MAX_MEMBERS = 10_000;
    private static final int BATCH = 1000;
    private static final byte[][] FIELDS = {
        utf8(SessionHashFormat.PRINCIPAL_NAME), utf8(SessionHashFormat.CREATION_TIME),
        utf8(SessionHashFormat.LAST_ACCESSED_TIME), utf8(SessionHashFormat.MAX_INACTIVE_INTERVAL),
        utf8(SessionHashFormat.TOUCH_INTERVAL), utf8(SessionHashFormat.ID)};

    private final SessionKeys keys;
    private final RedisCalls redis;

    PrincipalIndex(SessionKeys keys, RedisCalls redis) {
        this.keys = keys;
        this.redis = redis;
    }

    /**
     * A session of one user, as its hash says.
     *
     * @param id               the id as its clients know it ({@code meta:id}), or without route when the hash does not say
     * @param creationTime     epoch ms
     * @param lastAccessedTime epoch ms by Redis' clock ({@code meta:lastAccessedTime})
     * @param expired          whether its deadline passed by Redis' clock (the expiry sweep has not claimed it yet)
     */
    public record Member(String id, long creationTime, long lastAccessedTime, boolean expired) {
    }

    /**
     * The TTL (ms) the index keeps at least for a session with this interval: the longest its
     * session's keys can live after a save (interval, the touch interval of at most a tenth of it
     * or the grace, and the grace; {@link SessionKeys#NEVER_EXPIRES_TTL_SECONDS} plus the grace for
     * a session that never expires).
     */
    static long ttlMillis(int maxInactiveInterval) {
        long grace = SessionKeys.TTL_GRACE_SECONDS * 1000;
        if (maxInactiveInterval <= 0) {
            return SessionKeys.NEVER_EXPIRES_TTL_SECONDS * 1000 + grace;
        }
        return maxInactiveInterval * 1000L + Math.max(maxInactiveInterval * 100L, grace) + grace;
    }

    /**
     * {@code principal_add.lua}: session {@code sessionId} joins the index of {@code userName}.
     *
     * @throws SessionStoreUnavailableException when Redis fails
     */
    void add(String userName, String sessionId, int maxInactiveInterval) {
        Object reply = redis.script("principalIndex", SessionScript.PRINCIPAL_ADD, List.of(utf8(keys.principalIndexKey(userName))),
                addArgs(sessionId, maxInactiveInterval));
        warnIfReplaced(reply);
    }

    /**
     * Queues {@code principal_add.lua} for a session already in the index of {@code userName}, in
     * the pipeline of its save: the member is written again (and the key's TTL raised), so an entry
     * lost meanwhile (a failover of the index's shard that lost the write while the session's shard
     * kept it, a key deleted by hand) comes back with the session's next save, at no extra round trip.
     */
    Response<Object> queueAdd(AbstractPipeline pipeline, String userName, String sessionId, int maxInactiveInterval,
            boolean full) {
        return SessionScript.PRINCIPAL_ADD.script().queue(pipeline, List.of(utf8(keys.principalIndexKey(userName))),
                addArgs(sessionId, maxInactiveInterval), full);
    }

    /**
     * What {@link #queueAdd} answered. A script Redis did not have cached yet (a Redis restarted or
     * failed over, the index on another Cluster shard than the session) is run once more on its own;
     * a failure then is left for the session's next save, logged.
     */
    void queuedAddDone(Response<Object> queued, String userName, String sessionId, int maxInactiveInterval) {
        try {
            warnIfReplaced(queued.get());
        } catch (JedisNoScriptException e) {
            try {
                add(userName, sessionId, maxInactiveInterval);
            } catch (SessionStoreUnavailableException failed) {
                LOG.warn("The principal index entry of session " + SessionIds.redact(sessionId) + " could not be written"
                        + " again (" + failed.getMessage() + "); the session's next save writes it", failed);
            }
        } catch (JedisDataException e) {
            LOG.warn("The principal index entry of session " + SessionIds.redact(sessionId) + " could not be written"
                    + " again (" + e.getMessage() + "); the session's next save writes it");
        }
    }

    private static List<byte[]> addArgs(String sessionId, int maxInactiveInterval) {
        return List.of(utf8(SessionKeys.baseId(sessionId)), ascii(Long.toString(ttlMillis(maxInactiveInterval))));
    }

    private void warnIfReplaced(Object reply) {
        if (Long.valueOf(2).equals(reply)) {
            // The key names the user (base64url): not logged, like session ids are not.
            LOG.warn("A principal index key of " + keys.prefix() + " held another type than a sorted set (corrupt or"
                    + " foreign data); it was replaced");
        }
    }

    /**
     * {@code ZREM}: session {@code sessionId} left the index of {@code userName}. Best effort: a
     * member left behind is removed by the next read ({@link #sessions}), so a failure is logged
     * (DEBUG) and the caller goes on.
     */
    void removeQuietly(String userName, String sessionId) {
        try {
            redis.call("principalIndex", jedis -> jedis.zrem(keys.principalIndexKey(userName), SessionKeys.baseId(sessionId)));
        } catch (SessionStoreUnavailableException e) {
            LOG.debug("Principal index member " + SessionIds.redact(sessionId) + " left for the next read to remove", e);
        }
    }

    /** As {@link #removeQuietly(String, String)} for (user name, session id) pairs, in one pipelined round trip. */
    void removeQuietly(List<String[]> userAndSessionIds) {
        if (userAndSessionIds.isEmpty()) {
            return;
        }
        try {
            redis.call("principalIndex", jedis -> {
                try (AbstractPipeline pipeline = jedis.pipelined()) {
                    for (String[] entry : userAndSessionIds) {
                        pipeline.zrem(keys.principalIndexKey(entry[0]), SessionKeys.baseId(entry[1]));
                    }
                    pipeline.sync();
                }
                return null;
            });
        } catch (SessionStoreUnavailableException e) {
            LOG.debug(userAndSessionIds.size() + " principal index members left for the next read to remove", e);
        }
    }

    /**
     * The sessions of {@code userName} in Redis: one {@code principal_read.lua}, then one pipelined
     * {@code HMGET} per member (in round trips of {@value #BATCH}), then, when stale members were
     * found, one {@code principal_prune.lua}. At most {@value #MAX_MEMBERS} members are looked at.
     *
     * @throws SessionStoreUnavailableException when Redis fails, or the index key holds another
     *         type than a sorted set (corrupt or foreign data: a clear error rather than "no session";
     *         the user's next sign-in replaces the key)
     */
    @SuppressWarnings("unchecked")
    public List<Member> sessions(String userName) {
        byte[] indexKey = utf8(keys.principalIndexKey(userName));
        Object reply = redis.script("principalIndex", SessionScript.PRINCIPAL_READ, List.of(indexKey),
                List.of(ascii(Integer.toString(MAX_MEMBERS))));
        List<Object> flat = reply instanceof List<?> list ? (List<Object>) list : List.of();
        if (flat.isEmpty() || !(flat.get(0) instanceof byte[] clock)) {
            return List.of();
        }
        long now = number(clock);
        List<String> ids = new ArrayList<>();
        List<byte[]> scores = new ArrayList<>();
        for (int i = 1; i + 1 < flat.size(); i += 2) {
            ids.add(new String((byte[]) flat.get(i), StandardCharsets.UTF_8));
            scores.add((byte[]) flat.get(i + 1));
        }
        byte[] name = utf8(userName);
        List<Member> found = new ArrayList<>();
        List<byte[]> stale = new ArrayList<>();
        for (int from = 0; from < ids.size(); from += BATCH) {
            List<String> batch = ids.subList(from, Math.min(ids.size(), from + BATCH));
            List<Object> hashes = readHashes(batch);
            for (int i = 0; i < batch.size(); i++) {
                List<byte[]> fields = hashes.get(i) instanceof List<?> values ? (List<byte[]>) values : null;
                if (fields != null && fields.get(0) != null && Arrays.equals(fields.get(0), name)) {
                    Member member = member(batch.get(i), fields, now);
                    if (member != null) {
                        found.add(member);
                    }
                } else if (number(scores.get(from + i)) + IN_FLIGHT_MILLIS <= now) {
                    stale.add(utf8(batch.get(i)));
                    stale.add(scores.get(from + i));
                }
            }
        }
        if (!stale.isEmpty()) {
            Object removed = redis.script("principalIndex", SessionScript.PRINCIPAL_PRUNE, List.of(indexKey), stale);
            LOG.debug("Removed " + removed + " principal index members whose session is gone or names another user");
        }
        return found;
    }

    /** {@code HMGET} of each session's hash, one pipelined round trip; a key of another type answers null. */
    private List<Object> readHashes(List<String> baseIds) {
        return redis.call("principalIndex", jedis -> {
            List<Response<List<byte[]>>> responses = new ArrayList<>(baseIds.size());
            try (AbstractPipeline pipeline = jedis.pipelined()) {
                for (String id : baseIds) {
                    responses.add(pipeline.hmget(keys.sessionKeyBytes(id), FIELDS));
                }
                pipeline.sync();
            }
            List<Object> values = new ArrayList<>(responses.size());
            for (Response<List<byte[]>> response : responses) {
                try {
                    values.add(response.get());
                } catch (JedisDataException e) {
                    // Not a hash (foreign or corrupt data): names no user.
                    values.add(null);
                }
            }
            return values;
        });
    }

    /** The member for fields as {@link #FIELDS} lists them; null without a valid creation time (as a load treats it). */
    private static Member member(String baseId, List<byte[]> fields, long now) {
        long creationTime = number(fields.get(1));
        if (creationTime <= 0) {
            return null;
        }
        long lastAccessedTime = number(fields.get(2));
        long maxInactiveInterval = number(fields.get(3));
        long touchInterval = Math.max(0, Math.min(SessionHashFormat.MAX_TOUCH_INTERVAL_MILLIS, number(fields.get(4))));
        boolean expired = maxInactiveInterval > 0 && lastAccessedTime + maxInactiveInterval * 1000 + touchInterval <= now;
        String id = fields.get(5) == null ? baseId : new String(fields.get(5), StandardCharsets.UTF_8);
        return new Member(id, creationTime, lastAccessedTime, expired);
    }

    /** The {@code meta:principalName} in a hash as a flat HGETALL list, or null. */
    static String nameIn(List<?> flat) {
        byte[] field = utf8(SessionHashFormat.PRINCIPAL_NAME);
        for (int i = 0; i + 1 < flat.size(); i += 2) {
            if (flat.get(i) instanceof byte[] bytes && Arrays.equals(bytes, field) && flat.get(i + 1) instanceof byte[] value) {
                return new String(value, StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    private static long number(byte[] value) {
        return value == null ? 0 : SessionHashFormat.number(value);
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}

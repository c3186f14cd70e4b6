package io.tomcatredis.session;

import io.tomcatredis.connection.AclCheck;
import io.tomcatredis.connection.InvalidSettingException;
import io.tomcatredis.connection.ConnectionMetrics;
import io.tomcatredis.connection.KeyInvalidations;
import io.tomcatredis.connection.RedisClientHolder;
import io.tomcatredis.connection.RedisConnectionSettings;
import io.tomcatredis.connection.RedisConnector;
import io.tomcatredis.session.codec.AttributeCodec;
import io.tomcatredis.session.codec.IndexedUserNames;
import io.tomcatredis.session.codec.SerializationException;
import io.tomcatredis.session.store.RedisSessionStore;
import io.tomcatredis.session.store.SessionAcl;
import io.tomcatredis.session.store.WaitAof;
import io.tomcatredis.session.store.SessionHashFormat;
import io.tomcatredis.session.store.SessionIds;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.session.store.SessionStoreStatistics;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * What {@link RedisSessionManager} and {@link RedisStore} share once started: the Redis client,
 * the session store on it, and the attribute codec with its warn-once logging.
 */
final class SessionBackend implements AutoCloseable {

    private static final Log log = LogFactory.getLog(RedisSessionManager.class);
    /** The name under which callers encode and decode the session's principal. */
    static final String PRINCIPAL = "(principal)";

    private final RedisClientHolder redis;
    private final RedisSessionStore store;
    private final AttributeCodec codec;
    /** Reads {@code meta:principal}, to which Tomcat's sessionAttributeValueClassNameFilter does not apply. */
    private final AttributeCodec principalCodec;
    private final String contextName;
    private final ConnectionMetrics pool;
    private final Set<String> warnedAttributes = ConcurrentHashMap.newKeySet();
    private final SizeGuard sizeGuard;
    private final IndexedUserNames userNames;
    /**
     * Session (id without route) and attribute of the last excesses warned about: one WARN per
     * attribute per session, however many requests repeat it; bounded, the eldest leaving first.
     */
    private final Map<String, Boolean> warnedExcess = Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > MAX_WARNED_EXCESSES;
        }
    });
    private static final int MAX_WARNED_EXCESSES = 10_000;

    private SessionBackend(RedisClientHolder redis, RedisSessionStore store, AttributeCodec codec,
            AttributeCodec principalCodec, String contextName, ConnectionMetrics pool, SizeGuard sizeGuard, IndexedUserNames userNames) {
        this.userNames = userNames;
        this.pool = pool;
        this.redis = redis;
        this.store = store;
        this.codec = codec;
        this.principalCodec = principalCodec;
        this.contextName = contextName;
        this.sizeGuard = sizeGuard;
    }

    /**
     * @param valueClassNames Tomcat's {@code sessionAttributeValueClassNameFilter} of the manager,
     *        or null: as {@code StandardManager} does, the name of every class an attribute value
     *        holds must match it, checked before the class is instantiated
     */
    static SessionBackend open(SessionManagerSettings settings, ClassLoader classLoader, String contextName,
            Pattern valueClassNames) {
        AttributeCodec principalCodec = AttributeCodec.create(settings.serializer(), classLoader,
                settings.serialFilter(), settings.compressionThreshold(), settings.encryptionKeys(),
                settings.acceptUnencryptedValues(), settings.encryptValues());
        AttributeCodec codec = valueClassNames == null ? principalCodec : AttributeCodec.create(settings.serializer(),
                classLoader, settings.serialFilter().allowingOnly(valueClassNames), settings.compressionThreshold(),
                settings.encryptionKeys(), settings.acceptUnencryptedValues(), settings.encryptValues());
        ConnectionMetrics pool = new ConnectionMetrics();
        RedisClientHolder redis = RedisConnector.connect(settings.connection(), "tomcat-redis-session", pool);
        boolean cluster = settings.connection().topology() == RedisConnectionSettings.Topology.CLUSTER;
        RedisSessionStore store = new RedisSessionStore(redis, new SessionKeys(settings.keyPrefix()), cluster,
                settings.connection().timeoutMillis(), settings.waitReplicas(), settings.waitAof(), settings.waitTimeoutMillis(),
                settings.touchIntervalMillis());
        log.info("Sessions of " + contextName + " are stored in " + settings.connection() + " under keyPrefix \""
                + settings.keyPrefix() + "\", serializer " + settings.serializer() + ", serialFilter "
                + settings.serialFilter() + ", touchInterval " + settings.touchIntervalMillis() + " ms, compressionThreshold "
                + (settings.compressionThreshold() > 0 ? settings.compressionThreshold() + " bytes" : "off")
                + ", encryption " + (settings.encryptionKeys() == null ? "off" : "AES-GCM with " + settings.encryptionKeys()
                + (settings.encryptValues() ? "" : ", decrypt-only (values written unencrypted)")
                + (settings.acceptUnencryptedValues() ? ", unencrypted values read" : ""))
                + ", maxAttributeBytes " + limit(settings.maxAttributeBytes()) + ", maxSessionBytes "
                + limit(settings.maxSessionBytes()) + (settings.failOnSizeLimit() ? " (sizeLimitAction fail)" : "")
                + (settings.waitReplicas() > 0 ? ", WAIT for " + settings.waitReplicas()
                + " replicas up to " + settings.waitTimeoutMillis() + " ms after each save" : "")
                + (settings.waitAof().enabled() ? ", WAITAOF " + (settings.waitAof().local() ? 1 : 0) + " "
                + settings.waitAof().replicas() + " up to " + settings.waitTimeoutMillis() + " ms after each save" : ""));
        SizeGuard sizeGuard = new SizeGuard(settings.maxAttributeBytes(), settings.maxSessionBytes(),
                settings.failOnSizeLimit());
        return new SessionBackend(redis, store, codec, principalCodec, contextName, pool, sizeGuard,
                IndexedUserNames.of(settings.encryptionKeys(), settings.encryptValues(), settings.acceptUnencryptedValues()));
    }

    /**
     * Refuses a {@code waitAofLocal}/{@code waitAofReplicas} this server cannot honour (no WAITAOF
     * before Redis 7.2; {@code waitAofLocal} without {@code appendonly yes}) rather than run with
     * weaker durability than configured; closes this backend first.
     *
     * @throws InvalidSettingException naming the attribute and what the server lacks
     */
    void requireWaitAofSupport(WaitAof waitAof) {
        String problem = store.waitAofProblem();
        if (problem != null) {
            close();
            throw new InvalidSettingException(waitAof.local() ? SessionManagerSettings.WAIT_AOF_LOCAL
                    : SessionManagerSettings.WAIT_AOF_REPLICAS, problem);
        }
    }

    /**
     * Checks that the Redis user may run every command the manager sends ({@link SessionAcl}).
     * When Redis cannot be reached now, the check runs once on the first call that reaches it, and
     * a denial is then logged as an ERROR (the context has started by then).
     *
     * @param component for messages, e.g. {@code RedisSessionManager of /shop}
     * @return why the user does not do (the backend is closed then), or null
     */
    String permissionProblem(SessionManagerSettings settings, String component) {
        AclCheck check = SessionAcl.check(component, settings.connection().user(), store.keys(),
                settings.nearCacheStalenessMillis() > 0);
        AclCheck.Result result;
        try {
            result = check.run(redis);
        } catch (JedisConnectionException e) {
            check.whenReachable(redis, later -> {
                check.logLimits(later);
                String problem = check.problem(later);
                if (problem != null) {
                    log.error(problem + " (found once Redis could be reached: session requests fail until the user has them)");
                }
            });
            return null;
        } catch (JedisDataException e) {
            log.warn(component + ": the Redis permissions of its user could not be checked: " + e.getMessage());
            return null;
        }
        check.logLimits(result);
        String problem = check.problem(result);
        if (problem != null) {
            close();
        }
        return problem;
    }

    private static String limit(int bytes) {
        return bytes > 0 ? bytes + " bytes" : "off";
    }

    RedisSessionStore store() {
        return store;
    }

    /** The connection pool's usage and borrow wait. */
    ConnectionMetrics pool() {
        return pool;
    }

    /** What Redis holds for a user name (the principal index, {@code meta:principalName}). */
    IndexedUserNames userNames() {
        return userNames;
    }

    /** The size limits of every save ({@code maxAttributeBytes}, {@code maxSessionBytes}). */
    SizeGuard sizeGuard() {
        return sizeGuard;
    }

    /**
     * Counts attributes a save did not store for their size, and logs one WARN per attribute per
     * session (in {@code fail} mode the caller fails the request instead, with the returned text).
     *
     * @return what was refused, for the failure of a save in {@code fail} mode
     */
    String reportExcess(String sessionId, List<SizeGuard.Excess> excess) {
        StringBuilder refused = new StringBuilder();
        for (SizeGuard.Excess over : excess) {
            store.statistics().attributeTooLarge(over.limit().equals("maxAttributeBytes")
                    ? SessionStoreStatistics.SkipReason.ATTRIBUTE_TOO_LARGE : SessionStoreStatistics.SkipReason.SESSION_TOO_LARGE);
            String what = "Session attribute '" + over.name() + "' of session " + SessionIds.redact(sessionId) + " in "
                    + contextName + " is " + over.bytes() + " bytes as stored (serialized, compressed, encrypted), "
                    + (over.limit().equals("maxAttributeBytes") ? "over maxAttributeBytes (" + over.max() + ")"
                    : "and the session's attributes would be over maxSessionBytes (" + over.max() + ")");
            refused.append(refused.length() == 0 ? "" : "; ").append(what);
            if (!sizeGuard.fail() && warnedExcess.put(SessionKeys.baseId(sessionId) + "\n" + over.name(), Boolean.TRUE)
                    == null) {
                log.warn(what + ": not stored, and the value Redis held for it is removed, so that no node reads it as"
                        + " current; the request goes on (sizeLimitAction=\"fail\" fails it instead)");
            }
        }
        if (sizeGuard.fail()) {
            refused.append(": nothing of this request's session changes was saved (sizeLimitAction=\"fail\")");
        }
        return refused.toString();
    }

    /** {@link #encodeOrWarn(String, String, Object, byte[])} of a value Redis holds nothing for. */
    byte[] encodeOrWarn(String binding, String attributeName, Object value) {
        return encodeOrWarn(binding, attributeName, value, null);
    }

    /** The codec of {@code attributeName} (or {@link #PRINCIPAL}) of the session bound as {@code binding}. */
    private AttributeCodec codec(String binding, String attributeName) {
        return PRINCIPAL.equals(attributeName) ? principalCodec.at(binding, SessionHashFormat.PRINCIPAL)
                : codec.at(binding, SessionHashFormat.attributeField(attributeName));
    }

    /**
     * Starts hearing of every change Redis makes to this webapp's session keys, for loads answered
     * from the near cache ({@code nearCacheStalenessMillis} above 0).
     */
    KeyInvalidations trackInvalidations(SessionManagerSettings settings, KeyInvalidations.Listener listener) {
        return KeyInvalidations.start(settings.connection(), redis, "tomcat-redis-session-invalidations",
                store.keys().prefix(), settings.nearCacheStalenessMillis(), listener);
    }

    /**
     * Serializes a value, or logs one WARN per attribute name and returns null. The codec already
     * retries a value another thread modifies while it is written.
     *
     * @param binding what the session's encrypted values are bound to ({@link AttributeCodec#at})
     * @param stored the bytes Redis holds for the attribute, or null: returned themselves (the same
     *        array) when the value still serializes to them ({@link AttributeCodec#encode(Object, byte[])})
     */
    byte[] encodeOrWarn(String binding, String attributeName, Object value, byte[] stored) {
        try {
            return codec(binding, attributeName).encode(value, stored);
        } catch (SerializationException | RuntimeException | StackOverflowError | OutOfMemoryError e) {
            store.statistics().attributeSkipped(SessionStoreStatistics.SkipReason.NOT_SERIALIZABLE);
            if (warnedAttributes.add(attributeName)) {
                log.warn("Session attribute '" + attributeName + "' of " + contextName + " is not stored in Redis (its"
                        + " last stored value, if any, is kept): " + (e instanceof Error ? e.toString() : e.getMessage()));
            }
            return null;
        }
    }

    /**
     * Whether serializing {@code value} now gives exactly {@code bytes}: a kept value that code
     * outside any request changed in place does not, nor one the serializer fails on (no WARN:
     * the caller deserializes the bytes instead).
     */
    boolean encodesTo(String binding, String attributeName, Object value, byte[] bytes) {
        try {
            // compares uncompressed, decrypted bytes: an unchanged value is not compressed or encrypted again
            return bytes != null && codec(binding, attributeName).encode(value, bytes) == bytes;
        } catch (SerializationException | RuntimeException | StackOverflowError | OutOfMemoryError e) {
            return false;
        }
    }

    /**
     * One WARN per attribute name that Tomcat's session attribute filters exclude; counted as
     * skipped by a save, or ({@code reading}) dropped by a load.
     */
    void warnFiltered(String attributeName, Object value, boolean reading) {
        if (reading) {
            store.statistics().attributeDropped(SessionStoreStatistics.DropReason.FILTERED);
        } else {
            store.statistics().attributeSkipped(SessionStoreStatistics.SkipReason.FILTERED);
        }
        if (warnedAttributes.add(attributeName)) {
            log.warn("Session attribute '" + attributeName + "' of " + contextName + " (" + value.getClass().getName()
                    + ") is excluded by sessionAttributeNameFilter or sessionAttributeValueClassNameFilter; not stored");
        }
    }

    /**
     * Deserializes a value, or logs a WARN naming attribute and cause and returns null. Bytes from
     * Redis are not trusted: nesting too deep for the stack, or a length too large for the heap,
     * fail the one value (the failed read's objects are unreachable at once), not the request.
     */
    Object decodeOrWarn(String binding, String sessionId, String attributeName, byte[] bytes) {
        try {
            return codec(binding, attributeName).decode(bytes);
        } catch (SerializationException | StackOverflowError | OutOfMemoryError e) {
            store.statistics().attributeDropped(SessionStoreStatistics.DropReason.UNDECODABLE);
            log.warn("Dropping session attribute '" + attributeName + "' of session " + SessionIds.redact(sessionId)
                    + " in " + contextName + ": " + (e instanceof Error ? e.toString() : e.getMessage()));
            return null;
        }
    }

    @Override
    public void close() {
        redis.close();
    }
}

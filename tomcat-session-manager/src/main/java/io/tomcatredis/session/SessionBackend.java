package io.tomcatredis.session;

import io.tomcatredis.connection.ConnectionMetrics;
import io.tomcatredis.connection.KeyInvalidations;
import io.tomcatredis.connection.RedisClientHolder;
import io.tomcatredis.connection.RedisConnectionSettings;
import io.tomcatredis.connection.RedisConnector;
import io.tomcatredis.session.codec.AttributeCodec;
import io.tomcatredis.session.codec.SerializationException;
import io.tomcatredis.session.store.RedisSessionStore;
import io.tomcatredis.session.store.SessionIds;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.session.store.SessionStoreStatistics;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

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

    private SessionBackend(RedisClientHolder redis, RedisSessionStore store, AttributeCodec codec,
            AttributeCodec principalCodec, String contextName, ConnectionMetrics pool) {
        this.pool = pool;
        this.redis = redis;
        this.store = store;
        this.codec = codec;
        this.principalCodec = principalCodec;
        this.contextName = contextName;
    }

    /**
     * @param valueClassNames Tomcat's {@code sessionAttributeValueClassNameFilter} of the manager,
     *        or null: as {@code StandardManager} does, the name of every class an attribute value
     *        holds must match it, checked before the class is instantiated
     */
    static SessionBackend open(SessionManagerSettings settings, ClassLoader classLoader, String contextName,
            Pattern valueClassNames) {
        AttributeCodec principalCodec = AttributeCodec.create(settings.serializer(), classLoader,
                settings.serialFilter(), settings.compressionThreshold());
        AttributeCodec codec = valueClassNames == null ? principalCodec : AttributeCodec.create(settings.serializer(),
                classLoader, settings.serialFilter().allowingOnly(valueClassNames), settings.compressionThreshold());
        ConnectionMetrics pool = new ConnectionMetrics();
        RedisClientHolder redis = RedisConnector.connect(settings.connection(), "tomcat-redis-session", pool);
        boolean cluster = settings.connection().topology() == RedisConnectionSettings.Topology.CLUSTER;
        RedisSessionStore store = new RedisSessionStore(redis, new SessionKeys(settings.keyPrefix()), cluster,
                settings.connection().timeoutMillis(), settings.waitReplicas(), settings.waitTimeoutMillis(),
                settings.touchIntervalMillis());
        log.info("Sessions of " + contextName + " are stored in " + settings.connection() + " under keyPrefix \""
                + settings.keyPrefix() + "\", serializer " + settings.serializer() + ", serialFilter "
                + settings.serialFilter() + ", touchInterval " + settings.touchIntervalMillis() + " ms, compressionThreshold "
                + (settings.compressionThreshold() > 0 ? settings.compressionThreshold() + " bytes" : "off")
                + (settings.waitReplicas() > 0 ? ", WAIT for " + settings.waitReplicas()
                + " replicas up to " + settings.waitTimeoutMillis() + " ms after each save" : ""));
        return new SessionBackend(redis, store, codec, principalCodec, contextName, pool);
    }

    RedisSessionStore store() {
        return store;
    }

    /** The connection pool's usage and borrow wait. */
    ConnectionMetrics pool() {
        return pool;
    }

    /** {@link #encodeOrWarn(String, Object, byte[])} of a value Redis holds nothing for. */
    byte[] encodeOrWarn(String attributeName, Object value) {
        return encodeOrWarn(attributeName, value, null);
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
     * @param stored the bytes Redis holds for the attribute, or null: returned themselves (the same
     *        array) when the value still serializes to them ({@link AttributeCodec#encode(Object, byte[])})
     */
    byte[] encodeOrWarn(String attributeName, Object value, byte[] stored) {
        try {
            return codec.encode(value, stored);
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
    boolean encodesTo(Object value, byte[] bytes) {
        try {
            // compares uncompressed bytes: an unchanged value is not compressed again
            return bytes != null && codec.encode(value, bytes) == bytes;
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
    Object decodeOrWarn(String sessionId, String attributeName, byte[] bytes) {
        try {
            return (PRINCIPAL.equals(attributeName) ? principalCodec : codec).decode(bytes);
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

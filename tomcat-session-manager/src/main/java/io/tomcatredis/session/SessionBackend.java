package io.tomcatredis.session;

import io.tomcatredis.connection.RedisConnectionSettings;
import io.tomcatredis.connection.RedisConnector;
import io.tomcatredis.session.codec.AttributeCodec;
import io.tomcatredis.session.codec.SerializationException;
import io.tomcatredis.session.store.RedisSessionStore;
import io.tomcatredis.session.store.SessionIds;
import io.tomcatredis.session.store.SessionKeys;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import redis.clients.jedis.UnifiedJedis;

/**
 * What {@link RedisSessionManager} and {@link RedisStore} share once started: the Redis client,
 * the session store on it, and the attribute codec with its warn-once logging.
 */
final class SessionBackend implements AutoCloseable {

    private static final Log log = LogFactory.getLog(RedisSessionManager.class);

    private final UnifiedJedis jedis;
    private final RedisSessionStore store;
    private final AttributeCodec codec;
    private final String contextName;
    private static final int ENCODE_ATTEMPTS = 3;

    private final Set<String> warnedAttributes = ConcurrentHashMap.newKeySet();

    private SessionBackend(UnifiedJedis jedis, RedisSessionStore store, AttributeCodec codec, String contextName) {
        this.jedis = jedis;
        this.store = store;
        this.codec = codec;
        this.contextName = contextName;
    }

    static SessionBackend open(SessionManagerSettings settings, ClassLoader classLoader, String contextName) {
        AttributeCodec codec = AttributeCodec.create(settings.serializer(), classLoader, settings.serialFilter());
        UnifiedJedis jedis = RedisConnector.open(settings.connection(), "tomcat-redis-session");
        boolean cluster = settings.connection().topology() == RedisConnectionSettings.Topology.CLUSTER;
        RedisSessionStore store = new RedisSessionStore(jedis, new SessionKeys(settings.keyPrefix()), cluster,
                settings.connection().timeoutMillis(), settings.waitReplicas(), settings.waitTimeoutMillis());
        log.info("Sessions of " + contextName + " are stored in " + settings.connection() + " under keyPrefix \""
                + settings.keyPrefix() + "\", serializer " + settings.serializer() + ", serialFilter "
                + settings.serialFilter() + (settings.waitReplicas() > 0 ? ", WAIT for " + settings.waitReplicas()
                + " replicas up to " + settings.waitTimeoutMillis() + " ms after each save" : ""));
        return new SessionBackend(jedis, store, codec, contextName);
    }

    RedisSessionStore store() {
        return store;
    }

    /**
     * Serializes a value, or logs one WARN per attribute name and returns null. A value another
     * thread modifies while it is being serialized ({@link java.util.ConcurrentModificationException})
     * is tried again, up to {@value #ENCODE_ATTEMPTS} times in all.
     */
    byte[] encodeOrWarn(String attributeName, Object value) {
        RuntimeException failure = null;
        for (int attempt = 0; attempt < ENCODE_ATTEMPTS; attempt++) {
            try {
                return codec.encode(value);
            } catch (SerializationException | RuntimeException | StackOverflowError | OutOfMemoryError e) {
                failure = e instanceof RuntimeException runtime ? runtime : new IllegalStateException(String.valueOf(e.getMessage()), e);
                if (!isConcurrentModification(e)) {
                    break;
                }
            }
        }
        if (warnedAttributes.add(attributeName)) {
            log.warn("Session attribute '" + attributeName + "' of " + contextName + " is not stored in Redis (its"
                    + " last stored value, if any, is kept): " + failure.getMessage());
        }
        return null;
    }

    private static boolean isConcurrentModification(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof java.util.ConcurrentModificationException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Deserializes a value, or logs a WARN naming attribute and cause and returns null. Bytes from
     * Redis are not trusted: nesting too deep for the stack, or a length too large for the heap,
     * fail the one value (the failed read's objects are unreachable at once), not the request.
     */
    Object decodeOrWarn(String sessionId, String attributeName, byte[] bytes) {
        try {
            return codec.decode(bytes);
        } catch (SerializationException | StackOverflowError | OutOfMemoryError e) {
            log.warn("Dropping session attribute '" + attributeName + "' of session " + SessionIds.redact(sessionId)
                    + " in " + contextName + ": " + (e instanceof Error ? e.toString() : e.getMessage()));
            return null;
        }
    }

    @Override
    public void close() {
        jedis.close();
    }
}

package io.tomcatredis.session.store;

import io.tomcatredis.connection.RedisClientHolder;
import io.tomcatredis.connection.StaleConnection;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.function.Function;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Runs the session store's Redis calls, each one round trip: translates Redis client failures into
 * {@link SessionStoreUnavailableException}, counts round trips, and retries a connection that failed
 * fast once (a pooled connection broken by a Redis restart) or that a node refused because it
 * cannot serve now ({@code READONLY}, {@code LOADING}, {@code MASTERDOWN}: nothing of the command
 * ran). A call that timed out is not retried, so no request waits much longer than
 * {@code timeoutMillis}. The client comes from a
 * {@link RedisClientHolder}, which drops stale connections ({@code READONLY} after a failover
 * behind a stable address, {@code LOADING}, {@code MASTERDOWN}, broken connections), so the retry
 * and later calls reach the node that serves now.
 */
public final class RedisCalls {

    private static final Log LOG = LogFactory.getLog(RedisCalls.class);

    private final RedisClientHolder redis;
    private final int timeoutMillis;
    private final SessionStoreStatistics statistics;

    RedisCalls(RedisClientHolder redis, int timeoutMillis, SessionStoreStatistics statistics) {
        this.redis = redis;
        this.timeoutMillis = timeoutMillis;
        this.statistics = statistics;
    }

    /** Runs {@code script} by its SHA-1, sending its text only when Redis answers NOSCRIPT. */
    Object script(String operation, SessionScript script, List<byte[]> keys, List<byte[]> args) {
        return call(operation, client -> script.script().run(client, keys, args));
    }

    /**
     * @throws SessionStoreUnavailableException when Redis fails or does not answer in time
     * @throws WrongTypeException when a key holds another type than the layout says
     */
    public <T> T call(String operation, Function<UnifiedJedis, T> command) {
        long start = System.nanoTime();
        statistics.roundTrip(operation);
        try {
            return redis.call(command);
        } catch (JedisConnectionException e) {
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            if (elapsedMillis < timeoutMillis / 4) {
                LOG.debug("Retrying " + operation + " once after a fast connection failure", e);
                statistics.roundTrip(operation);
                try {
                    return redis.call(command);
                } catch (JedisException retry) {
                    throw unavailable(operation, retry);
                }
            }
            throw unavailable(operation, e);
        } catch (JedisDataException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("WRONGTYPE")) {
                statistics.failure("wrongType");
                throw new WrongTypeException(e);
            }
            if (StaleConnection.of(e) != null) {
                // READONLY, LOADING, MASTERDOWN: the node refused the command before running any of
                // it, so running it again cannot apply it twice. The holder dropped the connections
                // to that node: a save caught by a failover reaches the new master.
                LOG.debug("Retrying " + operation + " once on a new connection after " + StaleConnection.of(e));
                statistics.roundTrip(operation);
                try {
                    return redis.call(command);
                } catch (JedisException retry) {
                    throw unavailable(operation, retry);
                }
            }
            throw unavailable(operation, e);
        } catch (JedisException e) {
            throw unavailable(operation, e);
        }
    }

    private SessionStoreUnavailableException unavailable(String operation, JedisException e) {
        String kind = kindOf(e);
        statistics.failure(kind);
        if (kind.equals("oom")) {
            return new SessionStoreUnavailableException("Redis session " + operation + " refused: Redis is out of"
                    + " memory (used memory above maxmemory; with maxmemory-policy noeviction it refuses writes rather"
                    + " than evict sessions), nothing of it was written. Raise maxmemory, or lower maxCacheBytes of a"
                    + " page cache sharing this Redis (README \"Sizing maxmemory and maxCacheBytes\"). Redis said: "
                    + e.getMessage(), e);
        }
        return new SessionStoreUnavailableException("Redis session " + operation + " failed: " + e.getMessage(), e);
    }

    /** The {@code kind} of {@code errors_total} a failure counts as (see README "Metrics"). */
    static String kindOf(JedisException e) {
        if (e instanceof RedisClientHolder.RedisNotConnectedException) {
            return "notConnected";
        }
        if (e instanceof JedisConnectionException) {
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof SocketTimeoutException) {
                    return "timeout";
                }
            }
            return "connection";
        }
        if (StaleConnection.of(e) != null) {
            // READONLY, LOADING, MASTERDOWN: the node refused to serve (again, after the retry)
            return "refused";
        }
        if (e instanceof JedisDataException && e.getMessage() != null && e.getMessage().startsWith("OOM ")) {
            // Redis refused a write for memory (maxmemory reached, maxmemory-policy noeviction)
            return "oom";
        }
        return e instanceof JedisDataException ? "serverError" : "connection";
    }

    /**
     * A key holds another type than the layout says: corrupt or foreign data. A load treats the
     * session as absent; anywhere else the request gets a 503, like any other Redis failure.
     */
    static final class WrongTypeException extends SessionStoreUnavailableException {
        private static final long serialVersionUID = 1L;

        WrongTypeException(Throwable cause) {
            super("A Redis key of the sessions holds another type than the layout says: " + cause.getMessage(), cause);
        }
    }
}

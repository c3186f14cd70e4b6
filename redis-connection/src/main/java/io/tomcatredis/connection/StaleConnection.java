package io.tomcatredis.connection;

import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * Failures after which the client's connections are no good any more, whatever the next command:
 * the answer came from a node that cannot serve this client now (it was demoted, is loading its
 * data, or lost its master), or the connection itself broke. Behind a stable address that moved to
 * another node (DNS or virtual IP failover), every pooled connection still reaches the old node;
 * only new connections reach the new master. Any other failure (a timeout waiting for a pooled
 * connection, WRONGTYPE, a script error, NOSCRIPT) says nothing about the connections.
 */
public enum StaleConnection {

    /** {@code READONLY You can't write against a read only replica.}: the node was demoted. */
    READONLY,
    /** {@code LOADING Redis is loading the dataset in memory}: the node restarted and is not serving yet. */
    LOADING,
    /** {@code MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.} */
    MASTERDOWN,
    /** The connection failed: refused, reset, timed out, or closed by the server. */
    CONNECTION;

    /**
     * Why the connections that produced {@code failure} must be dropped, or null when they may be
     * kept. Looks at the causes too (a client may wrap what the connection reported).
     */
    public static StaleConnection of(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof JedisConnectionException) {
                return CONNECTION;
            }
            if (t instanceof JedisDataException && t.getMessage() != null) {
                String message = t.getMessage();
                for (StaleConnection reply : new StaleConnection[] {READONLY, LOADING, MASTERDOWN}) {
                    // Redis error replies start with their code, also inside a script's error.
                    if (message.startsWith(reply.name() + " ") || message.equals(reply.name())) {
                        return reply;
                    }
                }
            }
        }
        return null;
    }
}

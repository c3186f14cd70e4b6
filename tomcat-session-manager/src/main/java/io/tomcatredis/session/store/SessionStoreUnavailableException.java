package io.tomcatredis.session.store;

import redis.clients.jedis.exceptions.JedisDataException;

/**
 * Redis did not answer in time or refused the connection. Unchecked on purpose: Tomcat treats an
 * {@link java.io.IOException} from {@code findSession} as "no session" and would hand the user an
 * empty new one; this exception instead reaches the valve, which answers 503.
 */
public class SessionStoreUnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public SessionStoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * Whether Redis answered, with an error about this one call ({@code WRONGTYPE} or a script
     * error on corrupt data, {@code OOM}, {@code NOREPLICAS}): Redis is reachable and calls about
     * other keys may succeed. False when it did not answer (timeout, connection refused or broken).
     */
    public boolean redisAnswered() {
        return getCause() instanceof JedisDataException;
    }

    /**
     * Whether Redis refused a write for memory: its {@code OOM command not allowed when used memory >
     * 'maxmemory'} reply (used memory above {@code maxmemory} under {@code maxmemory-policy
     * noeviction}). Nothing of the refused call was written: Redis refuses a script at its first
     * write that may add memory, before any other write of it.
     */
    public boolean redisOutOfMemory() {
        return redisAnswered() && getCause().getMessage() != null && getCause().getMessage().startsWith("OOM ");
    }
}

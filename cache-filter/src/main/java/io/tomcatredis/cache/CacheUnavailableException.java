package io.tomcatredis.cache;

/**
 * Redis did not answer a cache command (down, slow past {@code timeoutMillis}, refused a write).
 * {@link CacheStore} translates the Redis client's exceptions into this one, so the rest of the
 * filter knows only one failure: pass the request to the application and open the circuit.
 * {@link RedisCache#evictUrl}, {@link RedisCache#evict} and {@link RedisCache#evictTag} throw it to
 * the application; the Redis client's exception is its cause, never thrown itself.
 */
public final class CacheUnavailableException extends RuntimeException {

    CacheUnavailableException(String command, RuntimeException cause) {
        super("Redis failed on " + command + ": " + cause.getMessage(), cause);
    }

    /**
     * Whether Redis refused a write for memory: its error reply {@code OOM command not allowed when
     * used memory > 'maxmemory'} (used memory above {@code maxmemory} under
     * {@code maxmemory-policy noeviction}). Redis is up and answers; nothing of the refused script
     * was written (Redis refuses a script at its first write that may add memory).
     */
    public boolean outOfMemory() {
        // The client's exception classes are relocated in the drop-in JAR: the reply text decides.
        String reply = getCause() == null ? null : getCause().getMessage();
        return reply != null && reply.startsWith("OOM ");
    }

    /**
     * Whether Redis Cluster refused the command because its slot is being resharded ({@code
     * TRYAGAIN}: some of the bucket's keys are already on the new master): a refusal of one
     * bucket for a moment, not a failure of Redis. The request passes through uncached; the
     * circuit stays closed for the other buckets.
     */
    boolean slotMigrating() {
        return getCause() instanceof redis.clients.jedis.exceptions.JedisDataException
                && String.valueOf(getCause().getMessage()).startsWith("TRYAGAIN");
    }
}

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
}

package io.tomcatredis.cache;

/**
 * Redis did not answer a cache command (down, slow past {@code timeoutMillis}, refused a write).
 * {@link CacheStore} translates the Redis client's exceptions into this one, so the rest of the
 * filter knows only one failure: pass the request to the application and open the circuit.
 * {@link RedisCache#evictTag} throws it to the application.
 */
public final class CacheUnavailableException extends RuntimeException {

    CacheUnavailableException(String command, RuntimeException cause) {
        super("Redis failed on " + command + ": " + cause.getMessage(), cause);
    }
}

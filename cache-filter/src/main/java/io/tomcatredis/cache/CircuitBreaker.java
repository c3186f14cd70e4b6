package io.tomcatredis.cache;

/**
 * Skips Redis for a while after it failed, so that while it is slow or down each request pays
 * the timeout at most once per period instead of on every request.
 */
final class CircuitBreaker {

    private final long openMillis;
    private volatile long openUntil;

    CircuitBreaker(long openMillis) {
        this.openMillis = openMillis;
    }

    boolean allows() {
        return System.currentTimeMillis() >= openUntil;
    }

    void trip() {
        openUntil = System.currentTimeMillis() + openMillis;
    }
}

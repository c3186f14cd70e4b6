package io.tomcatredis.cache;

import java.time.Clock;

/**
 * Skips Redis for a while after it failed, so that while it is slow or down each request pays
 * the timeout at most once per period instead of on every request.
 */
final class CircuitBreaker {

    private final long openMillis;
    private final Clock clock;
    private volatile long openUntil;

    /**
     * @param openMillis how long Redis is skipped after a failure, in ms (0: never skipped)
     * @param clock the time source
     */
    CircuitBreaker(long openMillis, Clock clock) {
        this.openMillis = openMillis;
        this.clock = clock;
    }

    boolean allows() {
        return clock.millis() >= openUntil;
    }

    void trip() {
        openUntil = clock.millis() + openMillis;
    }
}

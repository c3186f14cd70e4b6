package io.tomcatredis.session.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RedisClockTest {

    private static final long MS = 1_000_000L;

    private final AtomicLong nanos = new AtomicLong(5_000 * MS);
    private final RedisClock clock = new RedisClock(nanos::get);

    @Test
    void withoutASampleNothingIsCertain() {
        assertThat(clock.certainlyBefore(Long.MAX_VALUE)).isFalse();
    }

    @Test
    void aDeadlineBeyondTheMarginIsCertainlyAhead() {
        // TIME sent at 5000 ms, replied at 5002 ms: Redis' 100000 ms is counted from 5000 ms.
        clock.record(100_000, 5_000 * MS);
        nanos.set(5_002 * MS);

        assertThat(clock.certainlyBefore(100_000 + 2 + RedisClock.MARGIN_MILLIS + 1)).isTrue();
        assertThat(clock.certainlyBefore(100_000 + 2 + RedisClock.MARGIN_MILLIS)).isFalse();
    }

    @Test
    void theEstimateAdvancesWithTheMonotonicClock() {
        clock.record(100_000, 5_000 * MS);
        nanos.set(15_000 * MS);

        assertThat(clock.certainlyBefore(110_000 + RedisClock.MARGIN_MILLIS)).isFalse();
        assertThat(clock.certainlyBefore(110_000 + RedisClock.MARGIN_MILLIS + 1)).isTrue();
    }

    @Test
    void aDeadlineThatPassedIsNeverCertainlyAhead() {
        clock.record(100_000, 5_000 * MS);

        assertThat(clock.certainlyBefore(99_000)).isFalse();
        assertThat(clock.certainlyBefore(100_000)).isFalse();
    }

    @Test
    void aSampleOlderThanItsMaximumAgeIsNotUsed() {
        clock.record(100_000, 5_000 * MS);
        nanos.addAndGet(RedisClock.MAX_AGE_NANOS + 1);

        assertThat(clock.certainlyBefore(Long.MAX_VALUE)).isFalse();
    }
}

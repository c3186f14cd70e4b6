package io.tomcatredis.connection.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RecentFailureTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final RecentFailure failure = new RecentFailure(now::get);
    private final AtomicInteger asked = new AtomicInteger();

    private long failing() {
        asked.incrementAndGet();
        throw new IllegalStateException("Redis did not answer");
    }

    @Test
    void aFailureIsAnsweredWithoutAskingForTheHoldThenRedisIsAskedAgain() {
        assertThatThrownBy(() -> failure.read(this::failing)).hasMessage("Redis did not answer");
        now.addAndGet(RecentFailure.HOLD_MILLIS * 1_000_000 - 1);
        assertThatThrownBy(() -> failure.read(this::failing)).hasMessage("Redis did not answer");
        assertThat(asked).as("within the hold, Redis is not asked").hasValue(1);

        now.addAndGet(1);
        assertThatThrownBy(() -> failure.read(this::failing)).hasMessage("Redis did not answer");
        assertThat(asked).hasValue(2);
        now.addAndGet(RecentFailure.HOLD_MILLIS * 1_000_000);
        assertThat(failure.read(() -> 42)).isEqualTo(42);
        assertThat(failure.read(() -> 43)).as("a success forgets the failure").isEqualTo(43);
    }
}

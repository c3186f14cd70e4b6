package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CircuitBreakerTest {

    @Test
    void skipsRedisForTheOpenPeriodAfterAFailureThenAllowsAgain() {
        MutableClock clock = new MutableClock(1_000_000);
        CircuitBreaker circuit = new CircuitBreaker(300, clock);
        assertThat(circuit.allows()).isTrue();

        circuit.trip();
        assertThat(circuit.allows()).isFalse();
        clock.advance(299);
        assertThat(circuit.allows()).isFalse();
        clock.advance(1);
        assertThat(circuit.allows()).isTrue();
    }

    @Test
    void zeroOpenPeriodNeverSkips() {
        MutableClock clock = new MutableClock(5);
        CircuitBreaker circuit = new CircuitBreaker(0, clock);
        circuit.trip();
        assertThat(circuit.allows()).isTrue();
    }
}

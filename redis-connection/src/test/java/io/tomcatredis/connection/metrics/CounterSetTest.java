package io.tomcatredis.connection.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class CounterSetTest {

    @Test
    void valuesKnownUpFrontExistAtZeroAndOthersAppearOnFirstUse() {
        CounterSet counters = new CounterSet("operation", List.of("load", "save"));
        assertThat(counters.snapshot()).containsExactly(java.util.Map.entry("load", 0L), java.util.Map.entry("save", 0L));
        counters.increment("save");
        counters.add("claim", 3);
        assertThat(counters.snapshot()).containsExactly(java.util.Map.entry("load", 0L),
                java.util.Map.entry("save", 1L), java.util.Map.entry("claim", 3L));
        assertThat(counters.count("load")).isZero();
        assertThat(counters.count("never")).isZero();
        assertThat(counters.label()).isEqualTo("operation");
    }

    @Test
    void aCounterNeverDecreases() {
        CounterSet counters = new CounterSet("reason", List.of());
        assertThatThrownBy(() -> counters.add("x", -1)).hasMessageContaining("never decreases");
    }
}

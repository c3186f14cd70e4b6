package io.tomcatredis.connection.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class HistogramTest {

    @Test
    void bucketsAreCumulativeAndAnExactBoundBelongsToItsOwnBucket() {
        Histogram histogram = new Histogram(1, 5, 10);
        for (double value : new double[] {0, 1, 1.5, 5, 9.99, 10, 11, 1e9}) {
            histogram.record(value);
        }
        assertThat(histogram.cumulativeCounts()).containsExactly(2, 4, 6, 8);
        assertThat(histogram.count()).isEqualTo(8);
        assertThat(histogram.sum()).isEqualTo(0 + 1 + 1.5 + 5 + 9.99 + 10 + 11 + 1e9);
    }

    @Test
    void nanosAreRecordedAsSecondsNegativeAsZeroAndNaNNotAtAll() {
        Histogram histogram = new Histogram(Histogram.LATENCY_SECONDS);
        histogram.recordNanos(3_000_000);
        histogram.record(-2);
        histogram.record(Double.NaN);
        assertThat(histogram.count()).isEqualTo(2);
        assertThat(histogram.sum()).isEqualTo(0.003);
        // 0 goes to the first bucket (0.0005), 3 ms to le=0.005
        long[] counts = histogram.cumulativeCounts();
        assertThat(counts[0]).isEqualTo(1);
        assertThat(counts[2]).isEqualTo(1);
        assertThat(counts[3]).isEqualTo(2);
    }

    @Test
    void concurrentRecordsAreAllCounted() throws Exception {
        Histogram histogram = new Histogram(Histogram.SIZE_BYTES);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        for (int t = 0; t < 4; t++) {
            pool.submit(() -> {
                for (int i = 0; i < 10_000; i++) {
                    histogram.record(i);
                }
            });
        }
        pool.shutdown();
        assertThat(pool.awaitTermination(1, TimeUnit.MINUTES)).isTrue();
        long[] counts = histogram.cumulativeCounts();
        assertThat(counts[counts.length - 1]).isEqualTo(40_000).isEqualTo(histogram.count());
        assertThat(counts[0]).as("0..64").isEqualTo(4 * 65);
    }

    @Test
    void boundsMustBeFiniteAndStrictlyIncreasing() {
        assertThatThrownBy(Histogram::new).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Histogram(1, 1)).hasMessageContaining("strictly increasing");
        assertThatThrownBy(() -> new Histogram(1, Double.POSITIVE_INFINITY)).hasMessageContaining("finite");
    }

    @Test
    void leLabelsAreShortPlainDecimals() {
        assertThat(Histogram.le(0.0005)).isEqualTo("0.0005");
        assertThat(Histogram.le(1)).isEqualTo("1");
        assertThat(Histogram.le(2.5)).isEqualTo("2.5");
        assertThat(Histogram.le(16777216)).isEqualTo("16777216");
        assertThat(Histogram.le(Double.POSITIVE_INFINITY)).isEqualTo("+Inf");
    }
}

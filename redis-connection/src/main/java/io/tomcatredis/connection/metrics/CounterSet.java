package io.tomcatredis.connection.metrics;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Monotonic counters of one metric split by the values of one label (a Prometheus counter with
 * one label, e.g. {@code round_trips_total{operation="load"}}): a {@link LongAdder} per value, so
 * that concurrent increments never contend on one cache line. The values known up front exist
 * from the start at 0, so a scrape sees every series before its first event (a {@code rate()}
 * over a series that appears late misses its first increments); others are added on first use.
 * Thread-safe.
 */
public final class CounterSet {

    private final String label;
    private final Map<String, LongAdder> counters = new ConcurrentHashMap<>();
    private final Map<String, Boolean> order = Collections.synchronizedMap(new LinkedHashMap<>());

    /**
     * @param label  the Prometheus label name the values go under, e.g. {@code operation}
     * @param values the label values that exist from the start at 0
     */
    public CounterSet(String label, Iterable<String> values) {
        this.label = label;
        for (String value : values) {
            counter(value);
        }
    }

    /** The label name the values go under. */
    public String label() {
        return label;
    }

    /** Adds one to the counter of {@code value}. */
    public void increment(String value) {
        counter(value).increment();
    }

    /** Adds {@code amount} (0 or more) to the counter of {@code value}. */
    public void add(String value, long amount) {
        if (amount < 0) {
            throw new IllegalArgumentException("a counter never decreases: " + amount);
        }
        counter(value).add(amount);
    }

    /** The count of {@code value} since start; 0 for a value never counted. */
    public long count(String value) {
        LongAdder counter = counters.get(value);
        return counter == null ? 0 : counter.sum();
    }

    /** Every value with its count, in the order first seen (the values given up front first). */
    public Map<String, Long> snapshot() {
        Map<String, Long> copy = new LinkedHashMap<>();
        synchronized (order) {
            for (String value : order.keySet()) {
                copy.put(value, counters.get(value).sum());
            }
        }
        return copy;
    }

    private LongAdder counter(String value) {
        LongAdder counter = counters.get(value);
        if (counter != null) {
            return counter;
        }
        return counters.computeIfAbsent(value, v -> {
            order.put(v, Boolean.TRUE);
            return new LongAdder();
        });
    }
}

package io.tomcatredis.cache;

import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A measurement, not a functional test: hit and miss latency of a page costing a few ms to
 * render, over two nodes, medians of 45 interleaved pairs. Runs only with {@code -Dmeasure=true};
 * the figure goes to benchmarks/RESULTS.md as the ratio hit/miss of one run.
 */
@EnabledIfSystemProperty(named = "measure", matches = "true")
class HitLatencyMeasurementIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    @Test
    void hitAndMissLatency() {
        Map<String, String> params = Map.of("redisUri", REDIS.get().uri(), "include", "/catalog/* 600",
                "allowedHosts", "127.0.0.1");
        try (CacheNode one = CacheNode.start("measure1", params); CacheNode two = CacheNode.start("measure2", params)) {
            List<Long> misses = new ArrayList<>();
            List<Long> hits = new ArrayList<>();
            for (int i = 0; i < 45; i++) {
                REDIS.get().flushAll();
                misses.add(micros(() -> Http.get(one.url("/catalog/work"))));
                hits.add(micros(() -> Http.get(two.url("/catalog/work"))));
            }
            long miss = median(misses);
            long hit = median(hits);
            System.out.printf("hit/miss latency (median of 45, /catalog/work): hit %d us, miss %d us, ratio %.2f%n",
                    hit, miss, (double) hit / miss);
        }
    }

    private static long micros(Runnable request) {
        long start = System.nanoTime();
        request.run();
        return (System.nanoTime() - start) / 1000;
    }

    private static long median(List<Long> values) {
        long[] sorted = values.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}

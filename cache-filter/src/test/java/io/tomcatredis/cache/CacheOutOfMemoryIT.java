package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.connection.RedisClientHolder;
import io.tomcatredis.connection.RedisConnectionSettings;
import io.tomcatredis.connection.RedisConnector;
import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;

/**
 * Issue 18: the cache's scripts on a Redis that is out of memory ({@code maxmemory-policy
 * noeviction}, used memory above {@code maxmemory}): Redis refuses the store ({@code OOM}), but a
 * hit is still served, a lookup that wanted a lease answers FULL, URL and tag evictions still run,
 * and {@link MemoryPressure} gives memory back and keeps the cache smaller for a while.
 */
class CacheOutOfMemoryIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone(
            RedisOptions.DEFAULTS.withConfig("maxmemory 4mb", "maxmemory-policy noeviction"));

    @RegisterExtension
    static final RedisExtension<ClusterRedis> CLUSTER = RedisExtension.of(() -> ClusterRedis.start(3, 0,
            RedisOptions.DEFAULTS.withConfig("maxmemory 12mb", "maxmemory-policy noeviction")));

    private static final int BODY_BYTES = 64 * 1024;
    private final MutableClock clock = new MutableClock(1_800_000_000_000L);

    private static String url(int i) {
        return "https://shop.example.com/shop/page/" + i;
    }

    private CachedResponse entry(int i, Random random) {
        byte[] body = new byte[BODY_BYTES];
        random.nextBytes(body);
        return new CachedResponse(url(i), 200, List.of(new CachedResponse.Header("Content-Type", "text/html")), body,
                false, body.length, "\"" + i + "\"", clock.millis(), clock.millis() + 600_000, clock.millis() + 600_000,
                Set.of("t" + i % 2), false, false, null, Set.of(), Set.of());
    }

    /**
     * On Redis Cluster a shard runs out of memory on its own: every bucket (the full shard's among
     * them) gives a tenth back, each script within its bucket's slot.
     */
    @Test
    void onClusterEveryBucketGivesMemoryBack() {
        try (RedisClientHolder redis = RedisConnector.connect(RedisConnectionSettings.parse(
                Map.of("clusterNodes", CLUSTER.get().clusterNodes())::get), "oom-cluster-test")) {
            CacheStore store = new CacheStore(redis, CacheKeys.cluster("tomcat-cache:/shop:"), clock);
            Random random = new Random(18);
            boolean refused = false;
            int stored = 0;
            for (int i = 0; i < 2000 && !refused; i++) {
                CacheStore.Lookup lookup = store.lookup(url(i), "t" + i, 5000, true);
                if (lookup.outcome() == CacheStore.Outcome.FULL) {
                    refused = true;
                    break;
                }
                try {
                    store.store(entry(i, random), url(i), url(i), "t" + i, Long.MAX_VALUE, lookup.since());
                    stored++;
                } catch (CacheUnavailableException e) {
                    assertThat(e.outOfMemory()).as(e.getMessage()).isTrue();
                    refused = true;
                }
            }
            assertThat(refused).as("a shard ran out of memory").isTrue();
            assertThat(stored).isGreaterThan(32);
            long before = store.bytesStored();

            CacheStatistics statistics = new CacheStatistics(store::bytesStored);
            new MemoryPressure(Long.MAX_VALUE, clock).refused(store, statistics, BODY_BYTES);

            assertThat(statistics.evictionsByCause().count("oom")).isPositive();
            assertThat(store.bytesStored()).as("at least a tenth of every bucket went")
                    .isLessThanOrEqualTo((long) (before * 0.9));
        }
    }

    @Test
    void aFullRedisServesHitsRunsEvictionsAndGetsMemoryBack() {
        REDIS.get().flushAll();
        try (Jedis admin = REDIS.get().node().client()) {
            admin.configSet("maxmemory", "4mb");
        }
        try (RedisClientHolder redis = RedisConnector.connect(
                RedisConnectionSettings.parse(Map.of("redisUri", REDIS.get().uri())::get), "oom-test")) {
            CacheStore store = new CacheStore(redis, new CacheKeys("tomcat-cache:/shop:"), clock);
            Random random = new Random(18);
            CacheUnavailableException refused = null;
            int stored = 0;
            for (int i = 0; i < 1000 && refused == null; i++) {
                CacheStore.Lookup lookup = store.lookup(url(i), "t" + i, 5000, true);
                if (lookup.outcome() == CacheStore.Outcome.FULL) {
                    break;
                }
                try {
                    store.store(entry(i, random), url(i), url(i), "t" + i, Long.MAX_VALUE, lookup.since());
                    stored++;
                } catch (CacheUnavailableException e) {
                    refused = e;
                }
            }
            assertThat(refused).as("Redis refused a store for memory").isNotNull();
            assertThat(refused.outOfMemory()).as(refused.getMessage()).isTrue();
            assertThat(stored).isGreaterThan(10);
            // A refusal counts the refused command's own arguments (its query buffer): a smaller write
            // may still fit. Keep Redis above maxmemory for every write, whatever its size.
            try (Jedis admin = REDIS.get().node().client()) {
                long used = Long.parseLong(admin.info("memory").replaceAll("(?s).*\\bused_memory:(\\d+).*", "$1"));
                admin.configSet("maxmemory", Long.toString(used / 2));
            }

            // Out of memory: a hit is served, a new URL gets no lease (FULL: pass).
            assertThat(store.lookup(url(stored - 1), "h", 5000, true).outcome()).isEqualTo(CacheStore.Outcome.HIT);
            assertThat(store.lookup(url(5000), "n", 5000, true).outcome()).isEqualTo(CacheStore.Outcome.FULL);
            // Evictions run all the same: an eviction is never lost to a full Redis.
            assertThat(store.evictUrl(url(0), 1L << 30)).isEqualTo(1);
            assertThat(store.evictTag("t1", 1L << 30)).isPositive();
            assertThat(store.lookup(url(1), "e", 5000, false).entry()).isNull();

            // The pressure: a tenth (at least two refused entries) goes, and stays gone for HOLD_MILLIS.
            CacheStatistics statistics = new CacheStatistics(store::bytesStored);
            MemoryPressure pressure = new MemoryPressure(Long.MAX_VALUE, clock);
            long before = store.bytesStored();
            List<String> warnings = new CopyOnWriteArrayList<>();
            Handler handler = new Handler() {
                @Override
                public void publish(LogRecord record) {
                    warnings.add(record.getMessage());
                }

                @Override
                public void flush() {
                }

                @Override
                public void close() {
                }
            };
            Logger logger = Logger.getLogger(MemoryPressure.class.getName());
            logger.addHandler(handler);
            try {
                pressure.refused(store, statistics, BODY_BYTES);
                pressure.refused(store, statistics, BODY_BYTES);
            } finally {
                logger.removeHandler(handler);
            }
            assertThat(warnings).as("one warning per minute").hasSize(1);
            assertThat(warnings.get(0)).startsWith("Redis is out of memory (it refused a write of the page cache")
                    .contains("maxCacheBytes=" + Long.MAX_VALUE);
            long after = store.bytesStored();
            // Twice: each a tenth (at least two refused entries) of what was left.
            assertThat(after).isLessThanOrEqualTo(before - 4L * BODY_BYTES).isLessThanOrEqualTo((long) (before * 0.81));
            assertThat(statistics.evictionsByCause().count("oom")).isPositive();
            assertThat(pressure.budget()).isEqualTo(after);
            clock.advance(MemoryPressure.HOLD_MILLIS);
            assertThat(pressure.budget()).isEqualTo(Long.MAX_VALUE);
        }
    }
}

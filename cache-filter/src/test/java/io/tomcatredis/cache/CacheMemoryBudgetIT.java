package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.connection.RedisClientHolder;
import io.tomcatredis.connection.RedisConnectionSettings;
import io.tomcatredis.connection.RedisConnector;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Issue 14: {@code maxCacheBytes} is a budget of the memory Redis really uses: what the cache counts
 * stays within 20 % of {@code MEMORY USAGE} of the entries and their bookkeeping, over thousands of
 * entries of mixed sizes, tags and variants.
 */
class CacheMemoryBudgetIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private static final CacheKeys KEYS = new CacheKeys("tomcat-cache:/shop:");
    private static final int ENTRIES = 3000;
    private final MutableClock clock = new MutableClock(1_800_000_000_000L);

    @BeforeEach
    void empty() {
        REDIS.get().flushAll();
    }

    private static RedisClientHolder open() {
        return RedisConnector.connect(RedisConnectionSettings.parse(Map.of("redisUri", REDIS.get().uri())::get),
                "memory-budget-test");
    }

    /** Stores {@link #ENTRIES} entries of 20 to 6000 bytes, some tagged, some variants of a URL. */
    private void fill(CacheStore store, long maxCacheBytes) {
        Random random = new Random(14);
        for (int i = 0; i < ENTRIES; i++) {
            String url = "https://shop.example.com/shop/catalog/" + i;
            boolean variant = i % 10 == 0;
            String key = variant ? url + "\nlanguages=de" : url;
            byte[] body = new byte[20 + random.nextInt(i % 3 == 0 ? 6000 : 600)];
            random.nextBytes(body);
            Set<String> tags = new HashSet<>();
            for (int t = random.nextInt(3); t > 0; t--) {
                tags.add("product-" + random.nextInt(200));
            }
            List<CachedResponse.Header> headers = List.of(new CachedResponse.Header("Content-Type", "text/html"),
                    new CachedResponse.Header("ETag", "\"" + i + "\""));
            CachedResponse entry = new CachedResponse(key, 200, headers, body, false, body.length, "\"" + i + "\"",
                    clock.millis(), clock.millis() + 600_000, clock.millis() + 600_000, tags, false, false, null,
                    Set.of(), Set.of());
            long since = store.lookup(key, "t" + i, 5000, true).since();
            store.store(entry, key, url, "t" + i, maxCacheBytes, since);
            clock.advance(1);
        }
    }

    /** MEMORY USAGE of every key of the cache: the entries and their bookkeeping. */
    private static long memoryUsage(Jedis jedis) {
        long total = 0;
        String cursor = ScanParams.SCAN_POINTER_START;
        do {
            ScanResult<String> page = jedis.scan(cursor, new ScanParams().match("*{cache}*").count(1000));
            for (String key : page.getResult()) {
                Long usage = jedis.memoryUsage(key, 0);
                total += usage == null ? 0 : usage;
            }
            cursor = page.getCursor();
        } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
        return total;
    }

    @Test
    void whatTheBudgetCountsIsWithinTwentyPercentOfWhatRedisUses() {
        try (RedisClientHolder redis = open(); Jedis jedis = REDIS.get().node().client()) {
            CacheStore store = new CacheStore(redis, KEYS, clock);
            fill(store, Long.MAX_VALUE);
            long counted = store.bytesStored();
            long used = memoryUsage(jedis);
            System.out.printf("Budget counts %d bytes for %d entries, MEMORY USAGE of the cache's keys %d: %.2fx%n",
                    counted, ENTRIES, used, (double) counted / used);

            assertThat(jedis.zcard(KEYS.buckets().get(0).lru())).isEqualTo(ENTRIES);
            assertThat((double) counted / used).as("counted %d, MEMORY USAGE %d", counted, used)
                    .isBetween(0.8, 1.2);
        }
    }

    @Test
    void theBudgetKeepsWhatRedisUsesForTheCacheWithinIt() {
        long budget = 2 * 1024 * 1024;
        try (RedisClientHolder redis = open(); Jedis jedis = REDIS.get().node().client()) {
            CacheStore store = new CacheStore(redis, KEYS, clock);
            fill(store, budget);
            long used = memoryUsage(jedis);

            assertThat(jedis.zcard(KEYS.buckets().get(0).lru())).as("entries were evicted").isLessThan(ENTRIES);
            assertThat(store.bytesStored()).isLessThanOrEqualTo(budget);
            assertThat(used).as("MEMORY USAGE of the cache's keys").isLessThanOrEqualTo((long) (budget * 1.2));
        }
    }
}

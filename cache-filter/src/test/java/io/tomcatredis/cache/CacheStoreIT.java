package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tomcatredis.connection.RedisClientHolder;
import io.tomcatredis.connection.RedisConnectionSettings;
import io.tomcatredis.connection.RedisConnector;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;

/** The lookup phase against real Redis: leases, unreadable entries, and Redis failures in the filter's own terms. */
@Tag("valkey")
class CacheStoreIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private static final CacheKeys KEYS = new CacheKeys("t:");
    private final MutableClock clock = new MutableClock(1_800_000_000_000L);

    @BeforeEach
    void empty() {
        REDIS.get().flushAll();
    }

    private static RedisClientHolder open(String uri) {
        return RedisConnector.connect(RedisConnectionSettings.parse(Map.of("redisUri", uri, "timeoutMillis", "500")::get),
                "cache-store-test");
    }

    @Test
    void firstLookupTakesTheLeaseTheNextWaits() {
        try (RedisClientHolder redis = open(REDIS.get().uri())) {
            CacheStore store = new CacheStore(redis, KEYS, clock);
            assertThat(store.lookup("http://h/p", "a", 5000, true).outcome()).isEqualTo(CacheStore.Outcome.LEASE);
            assertThat(store.lookup("http://h/p", "b", 5000, true).outcome()).isEqualTo(CacheStore.Outcome.WAIT);
        }
    }

    @Test
    void anUnreadableEntryIsDeletedAndCountsAsAbsent() {
        try (RedisClientHolder redis = open(REDIS.get().uri()); Jedis jedis = REDIS.get().node().client()) {
            CacheStore store = new CacheStore(redis, KEYS, clock);
            jedis.hset(KEYS.entry("http://h/old"), Map.of("status", "200", "body", "x", "headers", "A: b\n"));
            jedis.hset(KEYS.entry("http://h/junk"), Map.of("status", "two", "body", "x", "format", "2"));
            CachedResponse other = new CachedResponse("http://h/other", 200, java.util.List.of(), new byte[0], false, 0,
                    "\"e\"", 1, 2, 3, java.util.Set.of(), false, false, null, java.util.Set.of(), java.util.Set.of());
            other.toHash().forEach((field, value) -> jedis.hset(KEYS.entry("http://h/moved").getBytes(),
                    field.getBytes(), value));

            assertThat(store.lookup("http://h/old", "a", 5000, true).outcome()).isEqualTo(CacheStore.Outcome.LEASE);
            assertThat(store.lookup("http://h/junk", "a", 5000, true).outcome()).isEqualTo(CacheStore.Outcome.LEASE);
            assertThat(store.lookup("http://h/moved", "a", 5000, true).outcome()).as("an entry holding another key")
                    .isEqualTo(CacheStore.Outcome.LEASE);
            assertThat(jedis.exists(KEYS.entry("http://h/old"))).isFalse();
            assertThat(jedis.exists(KEYS.entry("http://h/junk"))).isFalse();
        }
    }

    private static CachedResponse entry(String key, String... tags) {
        return new CachedResponse(key, 200, java.util.List.of(), new byte[] {'x'}, false, 1, "\"e\"",
                1_800_000_000_000L, 1_800_000_060_000L, 1_800_000_060_000L, java.util.Set.of(tags), false, false, null,
                java.util.Set.of(), java.util.Set.of());
    }

    @Test
    void aStoreWhoseRenderBeganBeforeAnEvictionOfItsUrlOrTagIsDiscarded() {
        try (RedisClientHolder redis = open(REDIS.get().uri()); Jedis jedis = REDIS.get().node().client()) {
            CacheStore store = new CacheStore(redis, KEYS, clock);
            long before = store.lookup("http://h/a", "a", 5000, true).since();
            long beforeTag = store.lookup("http://h/b", "b", 5000, true).since();
            store.evictUrl("http://h/a", 1L << 30);
            store.evictTag("t1", 1L << 30);
            assertThat(store.store(entry("http://h/a"), "http://h/a", "http://h/a", "a", 1 << 20, before)).isEqualTo(-1);
            assertThat(store.store(entry("http://h/b", "t1"), "http://h/b", "http://h/b", "b", 1 << 20, beforeTag))
                    .isEqualTo(-1);
            assertThat(jedis.exists(KEYS.entry("http://h/a"))).isFalse();
            assertThat(jedis.exists(KEYS.entry("http://h/b"))).isFalse();
            assertThat(jedis.exists(KEYS.lease("http://h/a"))).as("the lease is released").isFalse();

            // A lookup in the eviction's own millisecond counts as before it (the safe side): the
            // render after the eviction looks up once Redis' clock has moved past it.
            long evictedAt = Long.parseLong(jedis.get(KEYS.urlEvicted("http://h/a")));
            while (redisMillis(jedis) <= evictedAt) {
                Thread.onSpinWait();
            }
            long after = store.lookup("http://h/a", "c", 5000, true).since();
            assertThat(store.store(entry("http://h/a", "t2"), "http://h/a", "http://h/a", "c", 1 << 20, after))
                    .isZero();
            assertThat(jedis.exists(KEYS.entry("http://h/a"))).isTrue();
            assertThat(jedis.pttl(KEYS.urlEvicted("http://h/a"))).isPositive()
                    .isLessThanOrEqualTo(CacheKeys.EVICTION_MEMORY_MILLIS);
        }
    }

    /**
     * Regression (issue 18.3 attack): an eviction time ({@code xt:<tag>}, {@code x:<hash>}) lived
     * 10 minutes outside maxCacheBytes. It is counted in its bucket's total like an entry (in
     * {@code xsizes}, not in the entries' {@code sizes}) and goes least recently used first when the
     * budget needs room; one forgotten so early raises the bucket's {@code forgotten} floor, and a
     * render that began before it is still discarded, whatever its tags.
     */
    @Test
    void evictionTimesAreCountedInTheBudgetAndOneForgottenEarlyStillDiscardsEarlierRenders() {
        try (RedisClientHolder redis = open(REDIS.get().uri()); Jedis jedis = REDIS.get().node().client()) {
            CacheStore store = new CacheStore(redis, KEYS, clock);
            CacheKeys.Bucket bucket = KEYS.buckets().get(0);
            long before = store.lookup("http://h/b", "b", 5000, true).since();
            store.evictTag("t1", 1 << 20);
            assertThat(Long.parseLong(jedis.get(bucket.bytes()))).as("the eviction time's MEMORY USAGE and bookkeeping")
                    .isGreaterThan(jedis.memoryUsage(bucket.tagEvicted("t1"), 0));
            assertThat(jedis.zscore(bucket.lru(), bucket.tagEvicted("t1"))).isNotNull();
            assertThat(jedis.hget(bucket + "xsizes", bucket.tagEvicted("t1"))).isEqualTo(jedis.get(bucket.bytes()));
            assertThat(store.entriesStored()).as("not an entry").isZero();
            assertThat(jedis.pttl(bucket.bytes())).isGreaterThanOrEqualTo(jedis.pttl(bucket.tagEvicted("t1")));

            // A budget smaller than one eviction time: both go at once, the floor keeps the later.
            store.evictTag("t2", 1);
            assertThat(jedis.exists(bucket.tagEvicted("t1"), bucket.tagEvicted("t2"))).isZero();
            assertThat(jedis.get(bucket.bytes())).isEqualTo("0");
            assertThat(Long.parseLong(jedis.get(bucket + "forgotten"))).isGreaterThanOrEqualTo(before);
            assertThat(jedis.pttl(bucket + "forgotten")).isPositive().isLessThanOrEqualTo(CacheKeys.EVICTION_MEMORY_MILLIS);
            assertThat(store.store(entry("http://h/b", "t3"), "http://h/b", "http://h/b", "b", 1 << 20, before))
                    .as("a render that began before a forgotten eviction").isEqualTo(-1);

            long forgotten = Long.parseLong(jedis.get(bucket + "forgotten"));
            while (redisMillis(jedis) <= forgotten) {
                Thread.onSpinWait();
            }
            long after = store.lookup("http://h/b", "c", 5000, true).since();
            assertThat(store.store(entry("http://h/b", "t1"), "http://h/b", "http://h/b", "c", 1 << 20, after)).isZero();
        }
    }

    private static long redisMillis(Jedis jedis) {
        List<String> time = jedis.time();
        return Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
    }

    /** Regression (issue 14, attack finding 8): every POST left an eviction time, even for URLs never cached. */
    @Test
    void anEvictionOfAUrlWithNothingCachedOrRenderingWritesNothing() {
        try (RedisClientHolder redis = open(REDIS.get().uri()); Jedis jedis = REDIS.get().node().client()) {
            CacheStore store = new CacheStore(redis, KEYS, clock);
            assertThat(store.evictUrl("http://h/never", 1L << 30)).isZero();
            assertThat(jedis.keys("*")).isEmpty();

            store.lookup("http://h/rendering", "a", 5000, true);
            store.evictUrl("http://h/rendering", 1L << 30);
            assertThat(jedis.exists(KEYS.urlEvicted("http://h/rendering"))).as("a render in flight holds a lease")
                    .isTrue();
        }
    }

    /**
     * Regression (issue 18): every store wrote an eviction time ({@code x:} of its URL, {@code
     * xt:} of each tag) where none was, taking a missing one for a corrupt one: a key per URL and
     * tag for 10 minutes that the byte budget does not count.
     */
    @Test
    void aStoreWritesNoEvictionTimeWhereNothingWasEvicted() {
        try (RedisClientHolder redis = open(REDIS.get().uri()); Jedis jedis = REDIS.get().node().client()) {
            CacheStore store = new CacheStore(redis, KEYS, clock);
            assertThat(store.store(entry("http://h/fresh", "t1", "t2"), "http://h/fresh", "http://h/fresh", "f",
                    1 << 20, store.lookup("http://h/fresh", "f", 5000, true).since())).isZero();

            assertThat(jedis.exists(KEYS.entry("http://h/fresh"))).isTrue();
            assertThat(jedis.exists(KEYS.urlEvicted("http://h/fresh"))).isFalse();
            assertThat(jedis.exists(KEYS.buckets().get(0).tagEvicted("t1"))).isFalse();
            assertThat(jedis.exists(KEYS.buckets().get(0).tagEvicted("t2"))).isFalse();
        }
    }

    /**
     * Regression (issue 18): an entry larger than maxCacheBytes on its own was kept (the LRU loop
     * stopped at it), so the cache stayed over its budget until the entry expired.
     */
    @Test
    void anEntryAloneLargerThanTheBudgetIsNeverKeptAndEvictsNothing() {
        try (RedisClientHolder redis = open(REDIS.get().uri()); Jedis jedis = REDIS.get().node().client()) {
            CacheStore store = new CacheStore(redis, KEYS, clock);
            long budget = 4096;
            assertThat(store.store(entry("http://h/small", "t1"), "http://h/small", "http://h/small", "s", budget,
                    store.lookup("http://h/small", "s", 5000, true).since())).isZero();
            long before = store.bytesStored();
            byte[] body = new byte[8192];
            new java.util.Random(18).nextBytes(body);
            CachedResponse big = new CachedResponse("http://h/big", 200, List.of(), body, false, body.length, "\"b\"",
                    1_800_000_000_000L, 1_800_000_060_000L, 1_800_000_060_000L, java.util.Set.of("t1", "t9"), false,
                    false, null, java.util.Set.of(), java.util.Set.of());

            assertThat(store.store(big, "http://h/big", "http://h/big", "b", budget,
                    store.lookup("http://h/big", "b", 5000, true).since())).isEqualTo(CacheStore.DISCARDED_OVER_BUDGET);
            assertThat(jedis.exists(KEYS.entry("http://h/big"))).isFalse();
            assertThat(jedis.exists(KEYS.lease("http://h/big"))).as("the lease is released").isFalse();
            assertThat(jedis.exists(KEYS.buckets().get(0).tag("t9"))).as("no tag set left for it").isFalse();
            assertThat(jedis.smembers(KEYS.buckets().get(0).tag("t1"))).containsExactly(KEYS.entry("http://h/small"));
            assertThat(jedis.exists(KEYS.entry("http://h/small"))).as("nothing evicted for it").isTrue();
            assertThat(store.bytesStored()).isEqualTo(before).isLessThanOrEqualTo(budget);
        }
    }

    /**
     * Regression (issue 14, attack finding 3): corrupt bookkeeping made every script fail (the
     * cache off) or stop half-way. Each is repaired before the first write, and the store goes on.
     */
    @Test
    void corruptBookkeepingIsRepairedBeforeAnyWrite() {
        try (RedisClientHolder redis = open(REDIS.get().uri()); Jedis jedis = REDIS.get().node().client()) {
            CacheStore store = new CacheStore(redis, KEYS, clock);
            store.store(entry("http://h/old", "t1"), "http://h/old", "http://h/old", "o", 1 << 20,
                    store.lookup("http://h/old", "o", 5000, true).since());
            long oldSize = Long.parseLong(jedis.hget(KEYS.buckets().get(0).sizes(), KEYS.entry("http://h/old")));
            jedis.set(KEYS.buckets().get(0).lru(), "garbage");
            jedis.set(KEYS.buckets().get(0).bytes(), "garbage");
            jedis.set(KEYS.buckets().get(0).tag("t2"), "garbage");
            jedis.set(KEYS.buckets().get(0).tagEvicted("t2"), "garbage");
            jedis.hset(KEYS.pass("http://h/a"), "x", "1");
            jedis.set(KEYS.lease("http://h/b"), "no ttl");

            CacheStore.Lookup a = store.lookup("http://h/a", "a", 5000, true);
            assertThat(a.outcome()).as("a mark of another type").isEqualTo(CacheStore.Outcome.LEASE);
            assertThat(store.lookup("http://h/b", "b", 5000, true).outcome()).as("a lease without a TTL")
                    .isEqualTo(CacheStore.Outcome.LEASE);
            assertThat(store.store(entry("http://h/a", "t1", "t2"), "http://h/a", "http://h/a", "a", 1 << 20,
                    a.since())).isZero();

            assertThat(jedis.exists(KEYS.entry("http://h/a"))).isTrue();
            assertThat(jedis.zrange(KEYS.buckets().get(0).lru(), 0, -1)).as("rebuilt from the sizes")
                    .containsExactly(KEYS.entry("http://h/old"), KEYS.entry("http://h/a"));
            long newSize = Long.parseLong(jedis.hget(KEYS.buckets().get(0).sizes(), KEYS.entry("http://h/a")));
            assertThat(store.bytesStored()).isEqualTo(oldSize + newSize);
            assertThat(jedis.smembers(KEYS.buckets().get(0).tag("t2"))).containsExactly(KEYS.entry("http://h/a"));
            assertThat(Long.parseLong(jedis.get(KEYS.buckets().get(0).tagEvicted("t2")))).as("an eviction just before the render")
                    .isLessThan(a.since());

            jedis.set(KEYS.buckets().get(0).sizes(), "garbage");
            store.evictUrl("http://h/a", 1L << 30);
            assertThat(jedis.type(KEYS.buckets().get(0).sizes())).isIn("none", "hash");
            assertThat(store.bytesStored()).as("the URL's eviction time alone").isEqualTo(
                    Long.parseLong(jedis.hget(KEYS.buckets().get(0) + "xsizes", KEYS.urlEvicted("http://h/a"))));
        }
    }

    /** Regression (issue 14, attack finding 9): a tag set a store creates is counted, and goes with its entries. */
    @Test
    void aTagSetAStoreCreatesIsCountedAndGoesWithItsLastEntry() {
        try (RedisClientHolder redis = open(REDIS.get().uri()); Jedis jedis = REDIS.get().node().client()) {
            CacheStore store = new CacheStore(redis, KEYS, clock);
            store.store(entry("http://h/a", "own"), "http://h/a", "http://h/a", "a", 1 << 20,
                    store.lookup("http://h/a", "a", 5000, true).since());
            long size = Long.parseLong(jedis.hget(KEYS.buckets().get(0).sizes(), KEYS.entry("http://h/a")));
            assertThat(size).isGreaterThanOrEqualTo(jedis.memoryUsage(KEYS.entry("http://h/a"), 0)
                    + jedis.memoryUsage(KEYS.buckets().get(0).tag("own"), 0));

            store.evictUrl("http://h/a", 1L << 30);
            assertThat(jedis.exists(KEYS.buckets().get(0).tag("own"))).isFalse();
            assertThat(store.bytesStored()).as("the URL's eviction time alone").isEqualTo(
                    Long.parseLong(jedis.hget(KEYS.buckets().get(0) + "xsizes", KEYS.urlEvicted("http://h/a"))));
        }
    }

    @Test
    void redisFailuresSurfaceAsCacheUnavailable() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        try (RedisClientHolder redis = open("redis://127.0.0.1:" + closedPort)) {
            CacheStore store = new CacheStore(redis, KEYS, clock);
            assertThatThrownBy(() -> store.lookup("http://h/p", "a", 5000, true))
                    .isInstanceOf(CacheUnavailableException.class).hasMessageContaining("EVALSHA");
            assertThatThrownBy(() -> store.evictTag("t", 1L << 30)).isInstanceOf(CacheUnavailableException.class);
            assertThatThrownBy(store::bytesStored).isInstanceOf(CacheUnavailableException.class);
        }
    }
}

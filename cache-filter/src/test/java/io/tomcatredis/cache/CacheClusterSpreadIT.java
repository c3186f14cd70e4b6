package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.connection.RedisClientHolder;
import io.tomcatredis.connection.RedisConnectionSettings;
import io.tomcatredis.connection.RedisConnector;
import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.RedisNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;
import redis.clients.jedis.util.JedisClusterCRC16;

/**
 * Issue 18, point 3: on a Redis Cluster of three masters the page cache spreads over every shard
 * ({@link CacheKeys}' {@value CacheKeys#CLUSTER_BUCKETS} buckets), tag eviction reaches every
 * shard, and {@code maxCacheBytes} holds for the whole cluster. Checked through the filter (HTTP,
 * {@link RedisCache}) and Redis' contents on each master; the 10,000 URLs are stored through the
 * filter's store path ({@link CacheStore}, the calls the filter makes for a render), a sample of
 * them over HTTP.
 */
class CacheClusterSpreadIT {

    @RegisterExtension
    static final RedisExtension<ClusterRedis> REDIS = RedisExtension.cluster(3, 0);

    private static final String PREFIX = "tomcat-cache:/shop:";
    private static final CacheKeys KEYS = CacheKeys.cluster(PREFIX);
    private static final int URLS = 10_000;
    private static final int OVER_HTTP = 200;

    private final MutableClock clock = new MutableClock(System.currentTimeMillis());

    @BeforeEach
    void empty() {
        REDIS.get().flushAll();
    }

    private static Map<String, String> params(String... namesAndValues) {
        Map<String, String> params = new HashMap<>(Map.of("clusterNodes", REDIS.get().clusterNodes(), "include",
                "/catalog/* 600", "allowedHosts", "127.0.0.1"));
        for (int i = 0; i < namesAndValues.length; i += 2) {
            params.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return params;
    }

    private static RedisClientHolder open() {
        return RedisConnector.connect(RedisConnectionSettings.parse(params()::get), "cluster-spread-test");
    }

    private CachedResponse entry(String url, int bodyBytes, Random random, String... tags) {
        byte[] body = new byte[bodyBytes];
        random.nextBytes(body);
        return new CachedResponse(url, 200, List.of(new CachedResponse.Header("Content-Type", "text/html")), body,
                false, body.length, "\"" + url.hashCode() + "\"", clock.millis(), clock.millis() + 600_000,
                clock.millis() + 600_000, Set.of(tags), false, false, null, Set.of(), Set.of());
    }

    /** Looks {@code url} up (taking its lease) and stores it, as a render does; returns what the store returned. */
    private long render(CacheStore store, CachedResponse entry, long maxCacheBytes) {
        String token = "t-" + entry.key();
        long since = store.lookup(entry.key(), token, 5000, true).since();
        return store.store(entry, entry.key(), entry.key(), token, maxCacheBytes, since);
    }

    /** Runs {@code task} for 0 .. count-1 on four threads. */
    private static void inParallel(int count, IntConsumer task) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            AtomicInteger next = new AtomicInteger();
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                done.add(pool.submit(() -> {
                    for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
                        task.accept(i);
                    }
                }));
            }
            for (Future<?> future : done) {
                future.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** The cache's keys on one master matching {@code pattern} (SCAN MATCH). */
    private static List<String> keysOn(RedisNode master, String pattern) {
        List<String> keys = new ArrayList<>();
        try (Jedis jedis = master.client()) {
            String cursor = ScanParams.SCAN_POINTER_START;
            do {
                ScanResult<String> page = jedis.scan(cursor, new ScanParams().match(pattern).count(1000));
                keys.addAll(page.getResult());
                cursor = page.getCursor();
            } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
        }
        return keys;
    }

    /** SCAN MATCH {@code <keyPrefix>{cache-*}e:*} on each master (the README's count of entries). */
    private static List<Integer> entriesPerMaster() {
        List<Integer> counts = new ArrayList<>();
        for (RedisNode master : REDIS.get().masters()) {
            counts.add(keysOn(master, PREFIX + "{cache-*}e:*").size());
        }
        return counts;
    }

    @Test
    void tenThousandUrlsSpreadOverTheThreeMastersWithinTwentyPercentOfEven() throws Exception {
        try (CacheNode node = CacheNode.start("spread", params());
             RedisClientHolder redis = open()) {
            inParallel(OVER_HTTP, i -> assertThat(Http.get(node.url("/catalog/page?n=" + i)).cache())
                    .isEqualTo("MISS"));
            inParallel(OVER_HTTP, i -> assertThat(Http.get(node.url("/catalog/page?n=" + i)).cache())
                    .isEqualTo("HIT"));
            CacheStore store = new CacheStore(redis, KEYS, clock);
            inParallel(URLS - OVER_HTTP, i -> assertThat(render(store, entry(
                    "http://127.0.0.1/shop/catalog/product/" + i, 64, new Random(i)), Long.MAX_VALUE))
                    .isEqualTo(0));

            List<Integer> counts = entriesPerMaster();
            System.out.println("Entries per master for " + URLS + " URLs (3 masters, " + CacheKeys.CLUSTER_BUCKETS
                    + " buckets): " + counts);
            assertThat(counts.stream().mapToInt(Integer::intValue).sum()).isEqualTo(URLS);
            double even = URLS / 3.0;
            for (int count : counts) {
                assertThat(count / even).as("entries per master %s, even %.0f", counts, even).isBetween(0.8, 1.2);
            }
            assertThat(node.cache().statistics().getBytesStored()).as("bytes of every bucket, summed")
                    .isEqualTo(store.bytesStored()).isPositive();
            assertThat(store.entriesStored()).isEqualTo(URLS);
        }
    }

    @Test
    void tagEvictionRemovesEveryTaggedEntryOnEveryShard() throws Exception {
        int pages = 96;
        try (CacheNode node = CacheNode.start("tags", params())) {
            inParallel(pages, i -> assertThat(Http.get(node.url("/catalog/tagged?tags=sale+p" + i + "&n=" + i))
                    .cache()).isEqualTo("MISS"));
            inParallel(pages, i -> assertThat(Http.get(node.url("/catalog/tagged?tags=sale+p" + i + "&n=" + i))
                    .cache()).isEqualTo("HIT"));
            for (RedisNode master : REDIS.get().masters()) {
                assertThat(keysOn(master, PREFIX + "*}t:sale")).as("tag sets of sale on %s", master).isNotEmpty();
            }

            assertThat(node.cache().evictTag("sale")).isEqualTo(pages);

            for (RedisNode master : REDIS.get().masters()) {
                assertThat(keysOn(master, PREFIX + "*}t:sale")).as("tag sets on %s", master).isEmpty();
                assertThat(keysOn(master, PREFIX + "*}e:*")).as("entries on %s", master).isEmpty();
            }
            int memories = 0;
            for (RedisNode master : REDIS.get().masters()) {
                memories += keysOn(master, PREFIX + "*}xt:sale").size();
            }
            assertThat(memories).as("the tag eviction is remembered in every bucket").isEqualTo(CacheKeys.CLUSTER_BUCKETS);
            inParallel(pages, i -> assertThat(Http.get(node.url("/catalog/tagged?tags=sale+p" + i + "&n=" + i))
                    .cache()).isEqualTo("MISS"));
        }
    }

    /**
     * The local tier on Cluster: one channel for every bucket, a heartbeat from each bucket; a tag
     * eviction on node A reaches B's copies of entries in every bucket.
     */
    @Test
    void aTagEvictionOnANodeReachesTheOthersLocalTierInEveryBucket() throws Exception {
        int pages = 48;
        Map<String, String> tier = params("localTierBytes", "1000000", "localTierMaxLagMillis", "10000");
        try (CacheNode a = CacheNode.start("tier-a", tier); CacheNode b = CacheNode.start("tier-b", tier)) {
            for (CacheNode node : List.of(a, b)) {
                Await.until(Duration.ofSeconds(30), "the local tier serves",
                        () -> node.cache().statistics().isLocalTierServing());
            }
            Set<CacheKeys.Bucket> buckets = new HashSet<>();
            for (int i = 0; i < pages; i++) {
                String path = "/catalog/tagged?tags=tier&n=" + i;
                buckets.add(KEYS.bucketOf(a.url(path).replaceFirst(":\\d+/", "/")));
                assertThat(Http.get(a.url(path)).text()).endsWith("#1");
                // One Redis hit puts the copy in B's tier, the next is served from it.
                Await.until(Duration.ofSeconds(30), "B keeps a copy", () -> {
                    long before = b.cache().statistics().getLocalHits();
                    assertThat(Http.get(b.url(path)).text()).endsWith("#1");
                    return b.cache().statistics().getLocalHits() == before + 1;
                });
            }
            assertThat(buckets).as("pages in several buckets").hasSizeGreaterThan(10);

            assertThat(a.cache().evictTag("tier")).isEqualTo(pages);

            Await.until(Duration.ofSeconds(30), "B's copies leave its tier",
                    () -> b.cache().statistics().getLocalTierCount() == 0);
            for (int i = 0; i < pages; i++) {
                assertThat(Http.get(b.url("/catalog/tagged?tags=tier&n=" + i)).text()).endsWith("#2");
            }
        }
    }

    /**
     * A URL's language and Vary variants, its marker and its lease share its bucket: a POST to the
     * URL (one EVICT_URL script, one slot) evicts them all, whichever shard holds them.
     */
    @Test
    void everyVariantOfAUrlIsInItsBucketAndAnUnsafeRequestEvictsThemAll() throws Exception {
        int urls = 24;
        List<String[]> languages = List.of(new String[0], new String[] {"Accept-Language", "de"},
                new String[] {"Accept-Language", "fr"});
        try (CacheNode node = CacheNode.start("variants", params())) {
            for (String[] language : languages) {
                inParallel(urls, i -> assertThat(Http.get(node.url("/catalog/language?n=" + i), language).cache())
                        .isEqualTo("MISS"));
                inParallel(urls, i -> assertThat(Http.get(node.url("/catalog/language?n=" + i), language).cache())
                        .isEqualTo("HIT"));
            }
            Set<String> tags = new HashSet<>();
            int entries = 0;
            for (RedisNode master : REDIS.get().masters()) {
                for (String key : keysOn(master, PREFIX + "*}e:*")) {
                    tags.add(key.substring(key.indexOf('{'), key.indexOf('}') + 1));
                    entries++;
                }
            }
            assertThat(entries).as("per URL: 3 variants and their Vary markers").isGreaterThanOrEqualTo(3 * urls);
            assertThat(tags).as("buckets used").hasSizeGreaterThan(5);

            inParallel(urls, i -> assertThat(Http.send("POST", node.url("/catalog/language?n=" + i)).status())
                    .isEqualTo(200));

            for (RedisNode master : REDIS.get().masters()) {
                try (Jedis jedis = master.client()) {
                    for (String key : keysOn(master, PREFIX + "*}e:*")) {
                        // What stays is the Vary marker of a language key (no response in it: it only
                        // says which headers to key on), as on standalone.
                        assertThat(jedis.hkeys(key)).as("left on %s: %s", master, key).containsExactly("vary");
                    }
                }
                assertThat(keysOn(master, PREFIX + "*}v:*")).as("variant sets on %s", master).isEmpty();
            }
            for (String[] language : languages) {
                inParallel(urls, i -> assertThat(Http.get(node.url("/catalog/language?n=" + i), language).cache())
                        .isEqualTo("MISS"));
            }
        }
    }

    @Test
    void aStoreWhoseRenderBeganBeforeATagEvictionIsDiscardedInWhateverBucketItLands() {
        try (RedisClientHolder redis = open()) {
            CacheStore store = new CacheStore(redis, KEYS, clock);
            Map<CacheKeys.Bucket, String> urlPerBucket = new HashMap<>();
            for (int i = 0; urlPerBucket.size() < CacheKeys.CLUSTER_BUCKETS; i++) {
                String url = "http://127.0.0.1/shop/catalog/late/" + i;
                urlPerBucket.putIfAbsent(KEYS.bucketOf(url), url);
            }
            Map<String, Long> since = new HashMap<>();
            for (String url : urlPerBucket.values()) {
                since.put(url, store.lookup(url, "late", 5000, true).since());
            }

            // Nothing carries the tag yet: the eviction has nothing to remove, in any bucket.
            assertThat(store.evictTag("promo", 1L << 30)).isZero();

            Random random = new Random(3);
            for (String url : urlPerBucket.values()) {
                assertThat(store.store(entry(url, 32, random, "promo"), url, url, "late", Long.MAX_VALUE,
                        since.get(url))).as("store of %s", url).isEqualTo(CacheStore.DISCARDED_EVICTED);
                assertThat(store.lookup(url, "after", 5000, false).entry()).isNull();
            }
            // A render that began after the eviction is stored.
            String url = urlPerBucket.values().iterator().next();
            assertThat(render(store, entry(url, 32, random, "promo"), Long.MAX_VALUE)).isZero();
        }
    }

    @Test
    void theByteBudgetHoldsForTheWholeCluster() throws Exception {
        long maxCacheBytes = 512 * 1024;
        try (RedisClientHolder redis = open()) {
            CacheStore store = new CacheStore(redis, KEYS, clock);
            inParallel(3000, i -> {
                Random random = new Random(i);
                assertThat(render(store, entry("http://127.0.0.1/shop/catalog/flood/" + i, 200 + random.nextInt(2000),
                        random, "t" + random.nextInt(50)), maxCacheBytes)).isNotNegative();
            });

            long counted = 0;
            for (CacheKeys.Bucket bucket : KEYS.buckets()) {
                try (Jedis jedis = REDIS.get().masterForSlot(JedisClusterCRC16
                        .getSlot(bucket.bytes())).client()) {
                    long bytes = Long.parseLong(jedis.get(bucket.bytes()));
                    assertThat(bytes).as("bucket %s", bucket).isLessThanOrEqualTo(maxCacheBytes / KEYS.buckets().size());
                    counted += bytes;
                }
            }
            long used = 0;
            int entries = 0;
            for (RedisNode master : REDIS.get().masters()) {
                try (Jedis jedis = master.client()) {
                    for (String key : keysOn(master, PREFIX + "*")) {
                        Long usage = jedis.memoryUsage(key, 0);
                        used += usage == null ? 0 : usage;
                    }
                }
                entries += keysOn(master, PREFIX + "*}e:*").size();
            }
            System.out.println("Budget " + maxCacheBytes + " bytes over 3 masters: counted " + counted
                    + ", MEMORY USAGE of the cache's keys " + used + ", entries " + entries + " of 3000");
            assertThat(counted).isEqualTo(store.bytesStored()).isLessThanOrEqualTo(maxCacheBytes);
            assertThat(entries).as("entries were evicted").isLessThan(3000).isPositive();
            assertThat(used).as("MEMORY USAGE of every key of the cache").isLessThanOrEqualTo(maxCacheBytes);
        }
    }

    @Test
    void aResponseLargerThanItsBucketsShareIsServedButNeverStoredAndTheStartWarns() {
        List<LogRecord> warnings = new ArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                warnings.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger logger = Logger.getLogger(RedisCacheFilter.class.getName());
        logger.addHandler(handler);
        try (CacheNode node = CacheNode.start("over-budget", params("maxCacheBytes", Integer.toString(320 * 1024)))) {
            assertThat(warnings).extracting(LogRecord::getMessage).anySatisfy(message -> assertThat(message)
                    .contains("maxEntryBytes (1048576)", "maxCacheBytes (327680) / 32", "= 10240 bytes"));
            for (int i = 0; i < 2; i++) {
                Http.Reply reply = Http.get(node.url("/catalog/noise?kb=16"));
                assertThat(reply.status()).isEqualTo(200);
                assertThat(reply.body()).hasSize(16 * 1024);
                assertThat(reply.cache()).isEqualTo("MISS");
            }
            // The first is rendered for storing and thrown away; it marks the URL "hit for pass", as
            // an oversized render does, so the second goes through (Issue18CacheSpreadAttackIT).
            assertThat(node.cache().statistics().getBypassesByReason()).contains("over-budget=1",
                    "uncacheable-url=1");
            assertThat(Http.get(node.url("/catalog/noise?kb=4")).cache()).isEqualTo("MISS");
            assertThat(Http.get(node.url("/catalog/noise?kb=4")).cache()).isEqualTo("HIT");
            Set<String> entries = new HashSet<>();
            for (RedisNode master : REDIS.get().masters()) {
                entries.addAll(keysOn(master, PREFIX + "*}e:*"));
            }
            assertThat(entries).containsExactly(KEYS.entry("http://127.0.0.1/shop/catalog/noise?kb=4"));
        } finally {
            logger.removeHandler(handler);
        }
    }
}

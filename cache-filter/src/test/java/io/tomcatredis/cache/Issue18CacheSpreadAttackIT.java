package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.RedisNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.util.JedisClusterCRC16;

/**
 * Issue 18, point 3, attacked through the public contract (init-params, HTTP, Redis contents,
 * JMX) on a three-master Redis Cluster, where each of the {@value CacheKeys#CLUSTER_BUCKETS}
 * buckets holds maxCacheBytes / {@value CacheKeys#CLUSTER_BUCKETS}.
 */
class Issue18CacheSpreadAttackIT {

    @RegisterExtension
    static final RedisExtension<ClusterRedis> REDIS = RedisExtension.cluster(3, 0);

    @BeforeEach
    void empty() {
        REDIS.get().flushAll();
        PageServlet.RENDERS.clear();
    }

    @AfterEach
    void openTheGate() {
        PageServlet.gate.complete(null);
    }

    private static final String PREFIX = "tomcat-cache:/shop:";
    private static final CacheKeys KEYS = CacheKeys.cluster(PREFIX);

    /**
     * Moves {@code slot} and its keys from {@code from} (its master, possibly in mid-migration to
     * {@code to}) to {@code to} as {@code redis-cli --cluster reshard} does
     * (IMPORTING, MIGRATING, MIGRATE of its keys, then NODE on every master), while the filter runs,
     * and waits until every master agrees.
     */
    private static void migrateSlot(int slot, RedisNode from, RedisNode to) {
        String id = REDIS.get().id(to);
        try (Jedis target = to.client(); Jedis source = from.client()) {
            target.clusterSetSlotImporting(slot, REDIS.get().id(from));
            source.clusterSetSlotMigrating(slot, id);
            for (List<String> keys = source.clusterGetKeysInSlot(slot, 100); !keys.isEmpty();
                    keys = source.clusterGetKeysInSlot(slot, 100)) {
                List<String> args = new ArrayList<>(List.of(to.host(), Integer.toString(to.port()), "", "0", "5000",
                        "KEYS"));
                args.addAll(keys);
                source.sendCommand(Protocol.Command.MIGRATE, args.toArray(String[]::new));
            }
            target.clusterSetSlotNode(slot, id);
            source.clusterSetSlotNode(slot, id);
        }
        for (RedisNode master : REDIS.get().masters()) {
            if (master != to && master != from) {
                try (Jedis jedis = master.client()) {
                    jedis.clusterSetSlotNode(slot, id);
                }
            }
        }
        Await.until(Duration.ofSeconds(20), "slot " + slot + " served by " + to, () -> {
            for (RedisNode master : REDIS.get().masters()) {
                try (Jedis jedis = master.client()) {
                    if (!jedis.clusterNodes().lines().anyMatch(line -> line.startsWith(id + " ") && serves(line, slot))) {
                        return false;
                    }
                }
            }
            return true;
        });
        REDIS.get().awaitHealthy();
    }

    /** Whether a line of CLUSTER NODES lists {@code slot} in its ranges. */
    private static boolean serves(String line, int slot) {
        String[] f = line.split(" ");
        for (int i = 8; i < f.length; i++) {
            if (f[i].startsWith("[")) {
                continue;
            }
            String[] range = f[i].split("-");
            if (slot >= Integer.parseInt(range[0]) && slot <= Integer.parseInt(range[range.length - 1])) {
                return true;
            }
        }
        return false;
    }

    private static Map<String, String> params(String... namesAndValues) {
        Map<String, String> params = new HashMap<>(Map.of("clusterNodes", REDIS.get().clusterNodes(), "include",
                "/catalog/* 600", "allowedHosts", "127.0.0.1"));
        for (int i = 0; i < namesAndValues.length; i += 2) {
            params.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return params;
    }

    /**
     * A page larger than its bucket's share is never stored (bypass over-budget), as a page over
     * maxEntryBytes is never stored (oversized): the requests that follow must not queue behind
     * each other's renders for a lease whose render will be thrown away. Before the fix the store
     * left no "hit for pass/miss" mark, so each render took the lease again and every concurrent
     * request waited (up to lockTimeoutMillis) for it: renders of a popular over-budget page ran
     * one at a time.
     */
    @Test
    void rendersOfAPageOverItsBucketsBudgetDoNotQueueBehindEachOther() throws Exception {
        // 3200 / 32 = 100 bytes a bucket: no entry fits.
        try (CacheNode node = CacheNode.start("over-budget-queue", params("maxCacheBytes", "3200",
                "lockTimeoutMillis", "60000"))) {
            Http.Reply first = Http.get(node.url("/catalog/gated?n=1"));
            assertThat(first.status()).isEqualTo(200);
            assertThat(node.cache().statistics().getBypassesByReason()).contains("over-budget=1");

            PageServlet.gate = new CompletableFuture<>();
            CompletableFuture<Http.Reply> a = CompletableFuture.supplyAsync(() -> Http.get(node.url("/catalog/gated?n=1")));
            Await.until(Duration.ofSeconds(10), "the second render started",
                    () -> PageServlet.renders("/catalog/gated?n=1") == 2);
            CompletableFuture<Http.Reply> b = CompletableFuture.supplyAsync(() -> Http.get(node.url("/catalog/gated?n=1")));
            try {
                Await.until(Duration.ofSeconds(10), "the third request renders while the second still does"
                        + " (it does not wait for the second's lease)", () -> PageServlet.renders("/catalog/gated?n=1") == 3);
            } finally {
                PageServlet.gate.complete(null);
            }
            assertThat(a.get(30, TimeUnit.SECONDS).status()).isEqualTo(200);
            assertThat(b.get(30, TimeUnit.SECONDS).status()).isEqualTo(200);
            assertThat(node.cache().statistics().getBypassesByReason()).doesNotContain("lock-timeout");
        }
    }

    /**
     * The cluster scales out: a slot of a bucket, with its entries, moves to another master (a
     * resharding) after the filter's client learned the slot map. Tag eviction and the gauges reach
     * every bucket in one pipeline; a bucket whose node answers MOVED must be evicted all the same
     * (the client follows the redirection for single commands), not fail the whole eviction while
     * the tagged entries of that bucket stay served.
     */
    @Test
    void tagEvictionAndGaugesFollowABucketMovedToAnotherMaster() {
        int moved = 5;
        String tag = KEYS.buckets().get(moved).toString();
        int slot = JedisClusterCRC16.getSlot(tag);
        RedisNode from = REDIS.get().masterForSlot(slot);
        RedisNode to = REDIS.get().masters().stream().filter(m -> m != from).findFirst().orElseThrow();
        try (CacheNode node = CacheNode.start("moved-bucket", params())) {
            List<String> urls = new ArrayList<>();
            int inMoved = 0;
            for (int i = 0; urls.size() < 40 || inMoved < 3; i++) {
                String url = "/catalog/tagged?tags=sale&n=" + i;
                if (KEYS.bucketOf("http://127.0.0.1/shop" + url) == KEYS.buckets().get(moved)) {
                    inMoved++;
                } else if (urls.size() >= 40) {
                    continue;
                }
                assertThat(Http.get(node.url(url)).cache()).isEqualTo("MISS");
                assertThat(Http.get(node.url(url)).cache()).isEqualTo("HIT");
                urls.add(url);
            }
            assertThat(node.cache().statistics().getBytesStored()).isPositive();
            migrateSlot(slot, from, to);
            try {
                assertThat(node.cache().statistics().getBytesStored()).isPositive();
                assertThat(node.cache().evictTag("sale")).isEqualTo(urls.size());
                for (String url : urls) {
                    assertThat(Http.get(node.url(url)).cache()).as(url).isEqualTo("MISS");
                }
            } finally {
                migrateSlot(slot, to, from);
            }
        }
    }

    /**
     * The local tier's heartbeats run in every bucket in one pipeline on the subscriber's own
     * client, which runs nothing else: after a resharding moved a bucket's slot, the heartbeat of
     * that bucket must follow it (before the fix it was refused with MOVED on every beat, the
     * client never learned the new map, and the tier stopped serving for good).
     */
    @Test
    void theLocalTiersHeartbeatFollowsABucketMovedToAnotherMaster() throws Exception {
        int moved = 7;
        int slot = JedisClusterCRC16.getSlot(KEYS.buckets().get(moved).toString());
        RedisNode from = REDIS.get().masterForSlot(slot);
        RedisNode to = REDIS.get().masters().stream().filter(m -> m != from).findFirst().orElseThrow();
        try (CacheNode node = CacheNode.start("moved-heartbeat", params("localTierBytes", "1000000",
                "localTierMaxLagMillis", "200"))) {
            Await.until(Duration.ofSeconds(10), "the local tier serves", () -> node.cache().statistics().isLocalTierServing());
            migrateSlot(slot, from, to);
            try (Jedis subscriber = to.client()) {
                CompletableFuture<String> heard = new CompletableFuture<>();
                redis.clients.jedis.JedisPubSub listener = new redis.clients.jedis.JedisPubSub() {
                    @Override
                    public void onMessage(String channel, String message) {
                        if (message.startsWith("heartbeat ") && message.endsWith(" " + moved)) {
                            heard.complete(message);
                            unsubscribe();
                        }
                    }
                };
                CompletableFuture<Void> listening = CompletableFuture.runAsync(
                        () -> subscriber.subscribe(listener, KEYS.invalidations()));
                try {
                    assertThat(heard.get(10, TimeUnit.SECONDS)).startsWith("heartbeat ");
                } finally {
                    if (listener.isSubscribed()) {
                        listener.unsubscribe();
                    }
                    listening.get(10, TimeUnit.SECONDS);
                }
            } finally {
                migrateSlot(slot, to, from);
            }
            Await.until(Duration.ofSeconds(10), "the local tier serves", () -> node.cache().statistics().isLocalTierServing());
        }
    }

    /** The master holding a key (its hash tag's slot). */
    private static Jedis clientFor(String key) {
        return REDIS.get().masterForSlot(JedisClusterCRC16.getSlot(key)).client();
    }

    /**
     * Corrupt bookkeeping in one bucket (keys of the wrong type written by something else): the
     * gauges still count the other buckets, a tag eviction still reaches every bucket (the corrupt
     * one repairs itself), and a store in that bucket repairs it.
     */
    @Test
    void corruptBookkeepingInOneBucketSpoilsNeitherTheGaugesNorTagEvictionOfTheOthers() {
        int corrupt = 9;
        CacheKeys.Bucket bucket = KEYS.buckets().get(corrupt);
        try (CacheNode node = CacheNode.start("corrupt-bucket", params())) {
            List<String> urls = new ArrayList<>();
            String inCorrupt = null;
            for (int i = 0; urls.size() < 20 || inCorrupt == null; i++) {
                String url = "/catalog/tagged?tags=sale&n=" + i;
                if (KEYS.bucketOf("http://127.0.0.1/shop" + url) == bucket) {
                    if (inCorrupt == null) {
                        inCorrupt = url;
                    }
                    continue;
                }
                if (urls.size() < 20) {
                    assertThat(Http.get(node.url(url)).cache()).isEqualTo("MISS");
                    urls.add(url);
                }
            }
            long before = node.cache().statistics().getBytesStored();
            assertThat(before).isPositive();
            try (Jedis jedis = clientFor(bucket.bytes())) {
                jedis.hset(bucket.bytes(), "not", "a number");
                jedis.set(bucket.sizes(), "not a hash");
                jedis.set(bucket.lru(), "not a sorted set");
                jedis.set(bucket.tag("sale"), "not a set");
            }
            assertThat(node.cache().statistics().getBytesStored()).isEqualTo(before);
            assertThat(node.cache().evictTag("sale")).isEqualTo(urls.size());
            for (String url : urls) {
                assertThat(Http.get(node.url(url)).cache()).as(url).isEqualTo("MISS");
            }
            assertThat(Http.get(node.url(inCorrupt)).cache()).isEqualTo("MISS");
            assertThat(Http.get(node.url(inCorrupt)).cache()).isEqualTo("HIT");
            try (Jedis jedis = clientFor(bucket.bytes())) {
                assertThat(jedis.type(bucket.bytes())).isEqualTo("string");
                assertThat(jedis.type(bucket.sizes())).isEqualTo("hash");
                assertThat(jedis.type(bucket.lru())).isEqualTo("zset");
                assertThat(jedis.type(bucket.tag("sale"))).isEqualTo("set");
                assertThat(jedis.hlen(bucket.sizes())).isEqualTo(1);
            }
        }
    }

    /**
     * A resharding in progress: a bucket's slot is MIGRATING with some of its keys already on the
     * new master, so its multi-key scripts are refused ({@code TRYAGAIN}) for a moment. A request
     * of that bucket passes through uncached (the README's word); the cache of the other 31
     * buckets must not be switched off for circuitBreakerMillis by it, which would turn the whole
     * node's cache off for the length of a resharding (every migrating bucket trips it again).
     */
    @Test
    void aBucketInMidMigrationDoesNotSwitchOffTheCacheOfTheOtherBuckets() {
        int moving = 11;
        CacheKeys.Bucket bucket = KEYS.buckets().get(moving);
        int slot = JedisClusterCRC16.getSlot(bucket.toString());
        RedisNode from = REDIS.get().masterForSlot(slot);
        RedisNode to = REDIS.get().masters().stream().filter(m -> m != from).findFirst().orElseThrow();
        try (CacheNode node = CacheNode.start("mid-migration", params())) {
            String inMoving = null;
            String elsewhere = null;
            for (int i = 0; inMoving == null || elsewhere == null; i++) {
                String url = "/catalog/hello?n=" + i;
                boolean ofMoving = KEYS.bucketOf("http://127.0.0.1/shop" + url) == bucket;
                if (ofMoving && inMoving == null) {
                    inMoving = url;
                } else if (!ofMoving && elsewhere == null) {
                    elsewhere = url;
                } else {
                    continue;
                }
                assertThat(Http.get(node.url(url)).cache()).isEqualTo("MISS");
                assertThat(Http.get(node.url(url)).cache()).isEqualTo("HIT");
            }
            String entry = KEYS.entry("http://127.0.0.1/shop" + inMoving);
            try (Jedis target = to.client(); Jedis source = from.client()) {
                target.clusterSetSlotImporting(slot, REDIS.get().id(from));
                source.clusterSetSlotMigrating(slot, REDIS.get().id(to));
                // The entry moved, its bucket's lru, sizes and bytes not yet.
                source.sendCommand(Protocol.Command.MIGRATE, to.host(), Integer.toString(to.port()), entry, "0", "5000");
            }
            try {
                Http.Reply during = Http.get(node.url(inMoving));
                assertThat(during.status()).isEqualTo(200);
                assertThat(Http.get(node.url(elsewhere)).cache()).as("another bucket's page during the migration")
                        .isEqualTo("HIT");
            } finally {
                migrateSlot(slot, from, to);
                migrateSlot(slot, to, from);
            }
        }
    }

    /**
     * Two nodes: renders in flight on node A, in several buckets, when node B evicts their tag: none
     * of them is stored, whatever bucket it lands in, and every page misses afterwards.
     */
    @Test
    void rendersInFlightOnOneNodeWhenAnotherEvictsTheirTagAreNeverStored() throws Exception {
        try (CacheNode a = CacheNode.start("in-flight-a", params());
             CacheNode b = CacheNode.start("in-flight-b", params())) {
            PageServlet.gate = new CompletableFuture<>();
            List<String> urls = new ArrayList<>();
            java.util.Set<CacheKeys.Bucket> buckets = new java.util.HashSet<>();
            for (int i = 0; buckets.size() < 6; i++) {
                String url = "/catalog/gated?tags=sale&n=" + i;
                if (buckets.add(KEYS.bucketOf("http://127.0.0.1/shop" + url))) {
                    urls.add(url);
                }
            }
            List<CompletableFuture<Http.Reply>> renders = new ArrayList<>();
            for (String url : urls) {
                renders.add(CompletableFuture.supplyAsync(() -> Http.get(a.url(url))));
            }
            Await.until(Duration.ofSeconds(10), "every render started",
                    () -> urls.stream().allMatch(url -> PageServlet.renders(url) == 1));
            b.cache().evictTag("sale");
            PageServlet.gate.complete(null);
            for (CompletableFuture<Http.Reply> render : renders) {
                assertThat(render.get(30, TimeUnit.SECONDS).status()).isEqualTo(200);
            }
            assertThat(a.cache().statistics().getBypassesByReason()).contains("evicted=" + urls.size());
            for (String url : urls) {
                assertThat(Http.get(b.url(url)).cache()).as(url).isEqualTo("MISS");
            }
        }
    }

    /**
     * The public API on Cluster: {@link RedisCache#evictUrl} from another node evicts a URL's
     * variants, whatever bucket the URL is in, and the first node's local tier drops its copies.
     */
    @Test
    void evictUrlFromAnotherNodeReachesEveryVariantAndTheLocalTier() throws Exception {
        try (CacheNode a = CacheNode.start("api-a", params("localTierBytes", "1000000"));
             CacheNode b = CacheNode.start("api-b", params())) {
            Await.until(Duration.ofSeconds(10), "the local tier serves", () -> a.cache().statistics().isLocalTierServing());
            java.util.Set<CacheKeys.Bucket> buckets = new java.util.HashSet<>();
            for (int i = 0; i < 8; i++) {
                String url = "/catalog/language?n=" + i;
                buckets.add(KEYS.bucketOf("http://127.0.0.1/shop" + url));
                for (String language : List.of("de", "fr")) {
                    assertThat(Http.get(a.url(url), "Accept-Language", language).cache()).isEqualTo("MISS");
                    assertThat(Http.get(a.url(url), "Accept-Language", language).cache()).isEqualTo("HIT");
                }
            }
            assertThat(buckets).hasSizeGreaterThan(3);
            for (int i = 0; i < 8; i++) {
                assertThat(b.cache().evictUrl("http://127.0.0.1/shop/catalog/language?n=" + i)).isEqualTo(2);
            }
            for (int i = 0; i < 8; i++) {
                String url = "/catalog/language?n=" + i;
                for (String language : List.of("de", "fr")) {
                    Await.until(Duration.ofSeconds(5), url + " " + language + " dropped by the local tier",
                            () -> !"HIT".equals(Http.get(a.url(url), "Accept-Language", language).cache()));
                }
            }
        }
    }

    /** SCAN MATCH {@code pattern} on one master. */
    private static int count(RedisNode master, String pattern) {
        int found = 0;
        try (Jedis jedis = master.client()) {
            String cursor = redis.clients.jedis.params.ScanParams.SCAN_POINTER_START;
            do {
                redis.clients.jedis.resps.ScanResult<String> page = jedis.scan(cursor,
                        new redis.clients.jedis.params.ScanParams().match(pattern).count(1000));
                found += page.getResult().size();
                cursor = page.getCursor();
            } while (!cursor.equals(redis.clients.jedis.params.ScanParams.SCAN_POINTER_START));
        }
        return found;
    }

    /**
     * The README's way to count a master's entries (SCAN MATCH, "Redis Cluster: the cache over
     * every shard") counts entries only, whatever the tags: tags are the application's words and
     * commonly hold colons ("type:shoe", "store:5"). Before, the README's {@code <keyPrefix>*e:*}
     * also counted the tag sets {@code t:type:shoe} and eviction times {@code xt:store:5}.
     */
    @Test
    void theReadmesEntryCountOnAMasterCountsEntriesWhateverTheTags() {
        try (CacheNode node = CacheNode.start("count", params())) {
            for (int i = 0; i < 40; i++) {
                String url = "/catalog/tagged?tags=type:shoe,store:" + i + "&n=" + i;
                assertThat(Http.get(node.url(url)).cache()).isEqualTo("MISS");
            }
            node.cache().evictTag("store:0");
            int entries = 0;
            for (RedisNode master : REDIS.get().masters()) {
                int sizes = 0;
                try (Jedis jedis = master.client()) {
                    for (CacheKeys.Bucket bucket : KEYS.buckets()) {
                        if (REDIS.get().masterForSlot(JedisClusterCRC16.getSlot(bucket.sizes())) == master) {
                            sizes += (int) jedis.hlen(bucket.sizes());
                        }
                    }
                }
                assertThat(count(master, PREFIX + "{cache-*}e:*")).as("entries on %s", master).isEqualTo(sizes);
                entries += sizes;
            }
            assertThat(entries).isEqualTo(39);
        }
    }

    /** The MEMORY USAGE of every key under the keyPrefix, on every master. */
    private static long memoryOfTheCache() {
        long total = 0;
        for (RedisNode master : REDIS.get().masters()) {
            try (Jedis jedis = master.client()) {
                String cursor = redis.clients.jedis.params.ScanParams.SCAN_POINTER_START;
                do {
                    redis.clients.jedis.resps.ScanResult<String> page = jedis.scan(cursor,
                            new redis.clients.jedis.params.ScanParams().match(PREFIX + "*").count(1000));
                    for (String key : page.getResult()) {
                        Long usage = jedis.memoryUsage(key, 0);
                        total += usage == null ? 0 : usage;
                    }
                    cursor = page.getCursor();
                } while (!cursor.equals(redis.clients.jedis.params.ScanParams.SCAN_POINTER_START));
            }
        }
        return total;
    }

    /**
     * Regression (issue 18.3 attack): the budget holds cluster-wide whatever the application
     * evicts. A tag eviction remembers its time for 10 minutes in every bucket ({@code xt:<tag>}: 32
     * keys on Cluster, about 3.8 KB of {@code MEMORY USAGE} per distinct tag evicted), and none was
     * counted in {@code maxCacheBytes}: a shop evicting a tag per product update ("product:&lt;id&gt;")
     * grew Redis past the budget that lets sessions and cache share a {@code noeviction} Redis (200
     * tags: about 740 KB for 64 KiB). They are counted in each bucket's share now, and go least
     * recently used first.
     */
    @Test
    void tagEvictionsOfManyTagsKeepTheCacheWithinItsBudget() {
        long budget = 64 * 1024;
        try (CacheNode node = CacheNode.start("many-tags", params("maxCacheBytes", Long.toString(budget)))) {
            for (int i = 0; i < 20; i++) {
                assertThat(Http.get(node.url("/catalog/tagged?tags=product:" + i + "&n=" + i)).status()).isEqualTo(200);
            }
            for (int i = 0; i < 200; i++) {
                node.cache().evictTag("product:" + i);
            }
            long memory = memoryOfTheCache();
            assertThat(memory).as("MEMORY USAGE of the cache's keys after 200 tag evictions, budget %d", budget)
                    .isLessThanOrEqualTo(budget);
        }
    }
}

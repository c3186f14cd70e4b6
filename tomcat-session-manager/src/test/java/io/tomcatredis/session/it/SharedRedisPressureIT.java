package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.cache.RedisCacheFilter;
import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.ProjectConf;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.StandaloneRedis;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/**
 * Issue 18, "pressure never reaches sessions": one Redis, started with the shipped
 * {@code conf/redis-session.conf} ({@code maxmemory-policy noeviction}, append-only file) and its
 * users ({@code conf/users.acl}), and {@code maxmemory 64mb}, holds the sessions and the page cache of two Tomcat nodes, each with a
 * {@code RedisSessionManager} and a {@code RedisCacheFilter}. The cache is flooded with distinct
 * 128 KiB pages, several times {@code maxmemory} in all, while other clients keep writing session
 * attributes on both nodes.
 *
 * <ul>
 * <li>Well sized ({@code maxCacheBytes} by the README's rule): every save answers 200, no session
 *     or attribute is lost, the cache's keys (sum of {@code MEMORY USAGE} under its keyPrefix)
 *     stay within {@code maxCacheBytes} during and after the flood, and Redis never refuses a
 *     command for memory ({@code errorstat_OOM}).</li>
 * <li>Misconfigured ({@code maxCacheBytes} above {@code maxmemory}): Redis does run out of
 *     memory; every page is still served (200, its own body), a save answers 200 or 503 (never
 *     anything else, never half-written), the cache gives memory back by evicting its own entries
 *     (evictions_total{cause="oom"}), and saves succeed again.</li>
 * <li>Sessions alone fill Redis (no cache entries): a save that does not fit answers 503 with a
 *     warning naming maxmemory; earlier sessions stay readable, read-only requests and
 *     invalidations keep working, and pages pass through.</li>
 * </ul>
 * Figures (used_memory against the cache's bytes, bytes per session) are printed for README
 * "Sizing maxmemory and maxCacheBytes".
 */
class SharedRedisPressureIT {

    private static final String SESSION_PASSWORD = "pressure-session-secret";
    private static final String CACHE_PASSWORD = "pressure-cache-secret";
    private static final String CACHE_PREFIX = "tomcat-cache:/app:";
    private static final long MAXMEMORY = 64L * 1024 * 1024;
    /** README's rule for 64 MB with about 1,000 sessions: half of maxmemory. */
    private static final long WELL_SIZED_CACHE_BYTES = 32L * 1024 * 1024;
    private static final int PAGE_BYTES = 128 * 1024;
    /** 3.5 x maxmemory of distinct pages. */
    private static final int PAGES = (int) (3.5 * MAXMEMORY / PAGE_BYTES);
    private static final int SESSIONS = 1000;
    private static final int ATTRIBUTES = 6;
    private static final int ATTRIBUTE_BYTES = 160;
    private static final int FLOOD_THREADS = 4;
    private static final int WRITER_THREADS = 2;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        Collections.reverse(closing);
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    /**
     * The one place that starts Redis: the shipped conf/redis-session.conf with the shipped users
     * (conf/users.acl: tomcat-session for the manager, tomcat-cache for the filter), and {@code
     * maxmemory}.
     */
    private StandaloneRedis startRedis(long maxmemory) {
        StandaloneRedis redis = StandaloneRedis.start(RedisOptions.DEFAULTS.withShippedConf(
                ProjectConf.aclFileWithPasswords(Map.of("tomcat-session", SESSION_PASSWORD, "tomcat-cache",
                        CACHE_PASSWORD)), "admin", "pressure-admin-secret").withConfig("maxmemory " + maxmemory));
        closing.add(redis);
        return redis;
    }

    /** The session manager's redisUri. */
    private static String sessionUri(StandaloneRedis redis) {
        return "redis://tomcat-session:" + SESSION_PASSWORD + "@" + redis.node().host() + ":" + redis.node().port();
    }

    /** The cache filter's redisUri. */
    private static String cacheUri(StandaloneRedis redis) {
        return "redis://tomcat-cache:" + CACHE_PASSWORD + "@" + redis.node().host() + ":" + redis.node().port();
    }

    private TomcatNode startNode(String name, StandaloneRedis redis, long maxCacheBytes) {
        TomcatNode node = TomcatNode.start(name, m -> {
            m.setRedisUri(sessionUri(redis));
            // Every access is written: a read-only request saves the access time (the read path under OOM).
            m.setProperty("touchInterval", "0");
        }, context -> addCacheAndServlets(context, cacheUri(redis), maxCacheBytes));
        closing.add(node);
        return node;
    }

    private static void addCacheAndServlets(Context context, String redisUri, long maxCacheBytes) {
        FilterDef filter = new FilterDef();
        filter.setFilterName("page-cache");
        filter.setFilterClass(RedisCacheFilter.class.getName());
        filter.addInitParameter("redisUri", redisUri);
        filter.addInitParameter("include", "/page/* 600");
        filter.addInitParameter("allowedHosts", "127.0.0.1");
        filter.addInitParameter("maxCacheBytes", Long.toString(maxCacheBytes));
        context.addFilterDef(filter);
        FilterMap mapping = new FilterMap();
        mapping.setFilterName("page-cache");
        mapping.addURLPattern("/*");
        context.addFilterMap(mapping);
        Tomcat.addServlet(context, "pages", new PageServlet());
        context.addServletMappingDecoded("/page/*", "pages");
        Tomcat.addServlet(context, "kv", new AttributeServlet());
        context.addServletMappingDecoded("/kv", "kv");
    }

    @Test
    void aWellSizedCacheNeverReachesSessions() throws Exception {
        StandaloneRedis redis = startRedis(MAXMEMORY);
        TomcatNode[] nodes = {startNode("node-a", redis, WELL_SIZED_CACHE_BYTES),
            startNode("node-b", redis, WELL_SIZED_CACHE_BYTES)};
        try (Jedis admin = redis.node().client()) {
            long emptyUsed = usedMemory(admin);
            Sessions sessions = createSessions(nodes);
            long sessionsUsed = usedMemory(admin) - emptyUsed;
            System.out.printf("sizing: empty used_memory %d B; %d sessions of %d attributes x %d B:"
                    + " used_memory +%d B, %d B per 1,000 sessions%n", emptyUsed, SESSIONS, ATTRIBUTES,
                    ATTRIBUTE_BYTES, sessionsUsed, sessionsUsed * 1000 / SESSIONS);

            Sampler sampler = new Sampler(admin);
            Load load = flood(nodes, sessions, sampler);
            sampler.sample();

            assertThat(load.pageFailures).as("pages not served whole").isEmpty();
            assertThat(load.saveStatuses).as("session saves by status").containsOnlyKeys(200);
            assertThat(load.saveStatuses.get(200).get()).isGreaterThan(100);
            sessions.assertIntact(this, nodes);
            assertThat(sampler.maxCacheBytes).as("sum of MEMORY USAGE under the cache's keyPrefix")
                    .isPositive().isLessThanOrEqualTo(WELL_SIZED_CACHE_BYTES);
            assertThat(oomRejections(admin)).as("commands Redis refused for memory").isZero();
            assertThat(admin.aclLog()).as("commands the shipped users were refused").isEmpty();
            System.out.printf("sizing: maxCacheBytes %d, counted by the cache %d, cache MEMORY USAGE now %d, max %d;"
                    + " used_memory max %d, counted for maxmemory max %d (%.2f x maxCacheBytes), sessions +%d, empty %d;"
                    + " %s%n", WELL_SIZED_CACHE_BYTES, gauge("bytes_in_redis"), cacheBytes(admin), sampler.maxCacheBytes,
                    sampler.maxUsed, sampler.maxCounted, (double) sampler.maxCounted / WELL_SIZED_CACHE_BYTES,
                    sessionsUsed, emptyUsed, memoryFigures(admin));
        }
    }

    @Test
    void aCacheLargerThanRedisGivesMemoryBackAndNeverFailsAPage() throws Exception {
        StandaloneRedis redis = startRedis(MAXMEMORY);
        long misconfigured = 4 * MAXMEMORY;
        TomcatNode[] nodes = {startNode("node-a", redis, misconfigured), startNode("node-b", redis, misconfigured)};
        try (Jedis admin = redis.node().client()) {
            Sessions sessions = createSessions(nodes);
            Sampler sampler = new Sampler(admin);
            Load load = flood(nodes, sessions, sampler);
            System.out.printf("misconfigured: saves %s, OOM rejections %d, oom evictions %d, used_memory max %d,"
                    + " counted for maxmemory max %d, cache MEMORY USAGE max %d%n", load.saveStatuses, oomRejections(admin),
                    evictionsByCause("oom"), sampler.maxUsed, sampler.maxCounted, sampler.maxCacheBytes);

            assertThat(oomRejections(admin)).as("Redis ran out of memory (the scenario is real)").isPositive();
            assertThat(load.pageFailures).as("pages not served whole").isEmpty();
            assertThat(load.saveStatuses).as("session saves by status: saved, or 503 with nothing written")
                    .containsKey(200).doesNotContainKeys(500, 404, 410);
            assertThat(load.saveStatuses.keySet()).isSubsetOf(200, 503);
            assertThat(evictionsByCause("oom")).as("entries the cache evicted when Redis refused its store")
                    .isPositive();
            assertThat(admin.aclLog()).as("commands the shipped users were refused").isEmpty();
            // The cache gives memory back at its next request when Redis is full (the flood's last
            // store may have taken it over maxmemory): then a save succeeds again, on each node.
            AtomicInteger more = new AtomicInteger();
            for (TomcatNode node : nodes) {
                Await.until(Duration.ofSeconds(20), "a session save on " + node.name(), () -> {
                    String path = "/after-" + more.incrementAndGet();
                    HttpResponse<byte[]> page = get(node, "/page" + path, HttpResponse.BodyHandlers.ofByteArray());
                    assertThat(page.statusCode()).isEqualTo(200);
                    assertThat(page.body()).isEqualTo(PageServlet.body(path));
                    return sessions.write(this, node, sessions.ids.get(0), 0, "after-" + more.get()) == 200;
                });
            }
            sessions.assertIntact(this, nodes);
        }
    }

    @Test
    void sessionsAloneFillingRedisAnswer503AndKeepWhatTheyHad() throws Exception {
        long small = 16L * 1024 * 1024;
        StandaloneRedis redis = startRedis(small);
        TomcatNode[] nodes = {startNode("node-a", redis, WELL_SIZED_CACHE_BYTES),
            startNode("node-b", redis, WELL_SIZED_CACHE_BYTES)};
        try (Jedis admin = redis.node().client(); CapturedLog log = CapturedLog.of("")) {
            assertThat(cacheStatus(get(nodes[0], "/page/kept", HttpResponse.BodyHandlers.ofByteArray()))).contains("fwd=");
            assertThat(cacheStatus(get(nodes[1], "/page/kept", HttpResponse.BodyHandlers.ofByteArray())))
                    .contains("; hit");
            // Sessions of one 256 KiB attribute each, until Redis cannot hold another.
            Sessions sessions = new Sessions();
            String refused = null;
            for (int i = 0; i < 200 && refused == null; i++) {
                TomcatNode node = nodes[i % 2];
                HttpResponse<String> created = sessions.create(this, node, 1, 256 * 1024);
                if (created.statusCode() == 503) {
                    refused = "session " + i;
                } else {
                    assertThat(created.statusCode()).as("session %d", i).isEqualTo(200);
                }
            }
            assertThat(refused).as("Redis filled up").isNotNull();
            assertThat(oomRejections(admin)).isPositive();
            assertThat(log.text()).contains("Answering 503").contains("Redis is out of memory")
                    .contains("maxCacheBytes");
            // Redis refused the write counting its own arguments (its query buffer): a smaller one
            // may still fit. Keep Redis above maxmemory for every write, whatever its size.
            admin.configSet("maxmemory", Long.toString(usedMemory(admin) - 1024 * 1024));

            // A change to an existing session: 503, and it keeps what it had.
            String first = sessions.ids.get(0);
            assertThat(sessions.write(this, nodes[1], first, 0, "refused")).isEqualTo(503);
            // Read-only requests (which write the access time: touchInterval 0) keep working.
            sessions.assertIntact(this, nodes);
            assertThat(log.text()).contains("Requests that changed nothing in their session are answered, but their"
                    + " access is not recorded");
            // So do pages: a cached one is a hit, an unsafe request still evicts its URL, and a new
            // one passes (Redis refuses its lease; the cache then gives back what it holds).
            HttpResponse<byte[]> kept = get(nodes[0], "/page/kept", HttpResponse.BodyHandlers.ofByteArray());
            assertThat(cacheStatus(kept)).contains("; hit");
            assertThat(kept.body()).isEqualTo(PageServlet.body("/kept"));
            assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + nodes[1].port()
                    + "/app/page/kept")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            kept = get(nodes[0], "/page/kept", HttpResponse.BodyHandlers.ofByteArray());
            assertThat(cacheStatus(kept)).doesNotContain("; hit").contains("detail=redis-full");
            assertThat(kept.body()).isEqualTo(PageServlet.body("/kept"));
            assertThat(log.text()).doesNotContain("were not evicted");
            HttpResponse<byte[]> page = get(nodes[0], "/page/under-oom", HttpResponse.BodyHandlers.ofByteArray());
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).isEqualTo(PageServlet.body("/under-oom"));
            assertThat(cacheStatus(page)).contains("detail=redis-full");
            String last = sessions.ids.get(sessions.ids.size() - 1);
            assertThat(send(nodes[0], "/kv?op=invalidate", last).statusCode()).isEqualTo(200);
            assertThat(send(nodes[1], "/kv?op=dump", last).statusCode()).isEqualTo(410);
            assertThat(admin.aclLog()).as("commands the shipped users were refused").isEmpty();
        }
    }

    /**
     * Issue 18.2 attack: a request that only removes from its session (a sign-out that forgets
     * its user attribute, as many applications sign out) needs no memory; save.lua's first write
     * was its ZADD, which a full Redis refuses: the sign-out answered 503 and the session kept the
     * user signed in. Now such a save deletes first (HDEL, which Redis allows when full).
     */
    @Test
    void aSaveThatOnlyRemovesIsSavedWhenRedisIsFull() throws Exception {
        StandaloneRedis redis = startRedis(MAXMEMORY);
        TomcatNode node = startNode("node-a", redis, WELL_SIZED_CACHE_BYTES);
        try (Jedis admin = redis.node().client()) {
            Sessions sessions = new Sessions();
            assertThat(sessions.create(this, node, 2, 1024).statusCode()).isEqualTo(200);
            String id = sessions.ids.get(0);
            admin.configSet("maxmemory", Long.toString(usedMemory(admin) - 1024 * 1024));
            HttpResponse<String> removed = send(node, "/kv?op=remove&a=1", id);
            HttpResponse<String> dump = send(node, "/kv?op=dump", id);
            assertThat(removed.statusCode()).as("the sign-out's status").isEqualTo(200);
            assertThat(dump.body()).isEqualTo("a0=initial\n");
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** What the load did: pages not served whole (URL and why), session saves by HTTP status. */
    private static final class Load {
        final List<String> pageFailures = Collections.synchronizedList(new ArrayList<>());
        final Map<Integer, AtomicLong> saveStatuses = new ConcurrentHashMap<>();
    }

    /**
     * Requests {@link #PAGES} distinct pages from {@link #FLOOD_THREADS} threads, alternately on
     * both nodes, sampling Redis every 32 pages, while {@link #WRITER_THREADS} threads keep writing
     * session attributes, alternately on both nodes, until the flood ends.
     */
    private Load flood(TomcatNode[] nodes, Sessions sessions, Sampler sampler) throws Exception {
        Load load = new Load();
        AtomicInteger next = new AtomicInteger();
        AtomicBoolean flooding = new AtomicBoolean(true);
        ExecutorService pool = Executors.newFixedThreadPool(FLOOD_THREADS + WRITER_THREADS);
        try {
            List<Future<?>> writers = new ArrayList<>();
            for (int w = 0; w < WRITER_THREADS; w++) {
                int writer = w;
                writers.add(pool.submit(() -> {
                    long count = 0;
                    while (flooding.get()) {
                        // Each writer owns the sessions i = writer (mod WRITER_THREADS): one request at a time per session.
                        int i = writer + WRITER_THREADS * (int) (count % (SESSIONS / WRITER_THREADS));
                        String token = "w" + writer + "-" + count;
                        int status = sessions.write(this, nodes[(int) (count % 2)], sessions.ids.get(i),
                                (int) (count % (ATTRIBUTES - 1)), token);
                        load.saveStatuses.computeIfAbsent(status, s -> new AtomicLong()).incrementAndGet();
                        count++;
                    }
                    return null;
                }));
            }
            List<Future<?>> flooders = new ArrayList<>();
            for (int f = 0; f < FLOOD_THREADS; f++) {
                flooders.add(pool.submit(() -> {
                    for (int i = next.getAndIncrement(); i < PAGES; i = next.getAndIncrement()) {
                        String path = "/p" + i;
                        HttpResponse<byte[]> page = get(nodes[i % 2], "/page" + path,
                                HttpResponse.BodyHandlers.ofByteArray());
                        if (page.statusCode() != 200) {
                            load.pageFailures.add(path + ": " + page.statusCode());
                        } else if (!Arrays.equals(page.body(), PageServlet.body(path))) {
                            load.pageFailures.add(path + ": another body of " + page.body().length + " bytes");
                        }
                        if (i % 32 == 0) {
                            sampler.sample();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : flooders) {
                f.get();
            }
            flooding.set(false);
            for (Future<?> w : writers) {
                w.get();
            }
        } finally {
            flooding.set(false);
            pool.shutdownNow();
        }
        return load;
    }

    /** The sessions of a test: their ids, and the value each attribute had when last saved (200). */
    private static final class Sessions {
        final List<String> ids = Collections.synchronizedList(new ArrayList<>());
        final Map<String, Map<String, String>> expected = new ConcurrentHashMap<>();

        HttpResponse<String> create(SharedRedisPressureIT test, TomcatNode node, int attributes, int bytes)
                throws Exception {
            HttpResponse<String> response = test.send(node, "/kv?op=create&n=" + attributes + "&bytes=" + bytes,
                    null);
            if (response.statusCode() == 200) {
                String id = response.headers().firstValue("Set-Cookie").orElseThrow().replaceAll(
                        "^JSESSIONID=([^;]+).*$", "$1");
                Map<String, String> values = new TreeMap<>();
                for (int a = 0; a < attributes; a++) {
                    values.put("a" + a, "initial");
                }
                expected.put(id, values);
                ids.add(id);
            }
            return response;
        }

        /**
         * Sets attributes a{@code attribute} and a{@code attribute + 1} to {@code token} in one
         * request: both or neither are saved. Returns the HTTP status.
         */
        int write(SharedRedisPressureIT test, TomcatNode node, String id, int attribute, String token)
                throws Exception {
            HttpResponse<String> response = test.send(node, "/kv?op=set&a=" + attribute + "&v=" + token, id);
            if (response.statusCode() == 200) {
                expected.get(id).put("a" + attribute, token);
                expected.get(id).put("a" + (attribute + 1), token);
            }
            return response.statusCode();
        }

        /** Reads every session back on the node that did not create it: every attribute has its last saved value. */
        void assertIntact(SharedRedisPressureIT test, TomcatNode[] nodes) throws Exception {
            List<String> all = List.copyOf(ids);
            List<String> mismatches = new ArrayList<>();
            for (int i = 0; i < all.size(); i++) {
                String id = all.get(i);
                HttpResponse<String> dump = test.send(nodes[(i + 1) % 2], "/kv?op=dump", id);
                Map<String, String> found = new TreeMap<>();
                for (String line : dump.body().split("\n")) {
                    int eq = line.indexOf('=');
                    if (eq > 0) {
                        found.put(line.substring(0, eq), line.substring(eq + 1));
                    }
                }
                if (dump.statusCode() != 200 || !found.equals(expected.get(id))) {
                    mismatches.add(i + ": " + dump.statusCode() + " " + found + " expected " + expected.get(id));
                }
            }
            assertThat(mismatches).as("sessions lost or changed").isEmpty();
        }
    }

    /** {@link #SESSIONS} sessions of {@link #ATTRIBUTES} attributes, half created on each node, 4 at a time. */
    private Sessions createSessions(TomcatNode[] nodes) throws Exception {
        Sessions sessions = new Sessions();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> created = new ArrayList<>();
            for (int i = 0; i < SESSIONS; i++) {
                TomcatNode node = nodes[i % 2];
                created.add(pool.submit(() -> sessions.create(this, node, ATTRIBUTES, ATTRIBUTE_BYTES).statusCode()));
            }
            for (Future<Integer> status : created) {
                assertThat(status.get()).isEqualTo(200);
            }
        } finally {
            pool.shutdownNow();
        }
        // Writers index sessions by position: the same order on every run is not needed, only a fixed one.
        return sessions;
    }

    private HttpResponse<String> send(TomcatNode node, String pathAndQuery, String sessionId) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + node.port() + "/app" + pathAndQuery)).timeout(Duration.ofSeconds(30));
        if (sessionId != null) {
            request.header("Cookie", "JSESSIONID=" + sessionId);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private <T> HttpResponse<T> get(TomcatNode node, String path, HttpResponse.BodyHandler<T> body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/app" + path))
                .timeout(Duration.ofSeconds(30)).build(), body);
    }

    // ---------------------------------------------------------------------------------------------

    /**
     * Samples, under one connection, the cache's bytes (layout-independent), used_memory, and what
     * maxmemory is compared with (used_memory less mem_not_counted_for_evict: the AOF buffer, which
     * grows while an fsync is slow, and replication buffers); keeps the maxima.
     */
    private static final class Sampler {
        private final Jedis admin;
        long maxCacheBytes;
        long maxUsed;
        long maxCounted;

        Sampler(Jedis admin) {
            this.admin = admin;
        }

        synchronized void sample() {
            maxCacheBytes = Math.max(maxCacheBytes, cacheBytes(admin));
            String info = admin.info("memory");
            long used = Long.parseLong(infoField(info, "used_memory"));
            maxUsed = Math.max(maxUsed, used);
            maxCounted = Math.max(maxCounted, used - Long.parseLong(infoField(info, "mem_not_counted_for_evict")));
        }
    }

    /**
     * The cache's bytes: the sum of {@code MEMORY USAGE} of every key under its keyPrefix, whatever
     * the layout, at one instant (a script: SCAN of a keyspace that changes meanwhile may return a
     * key twice).
     */
    static long cacheBytes(Jedis jedis) {
        Object total = jedis.eval("""
                local total, cursor, seen = 0, '0', {}
                repeat
                  local page = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
                  cursor = page[1]
                  for _, key in ipairs(page[2]) do
                    if not seen[key] then
                      seen[key] = true
                      total = total + (redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0') or 0)
                    end
                  end
                until cursor == '0'
                return total
                """, List.of(), List.of(CACHE_PREFIX + "*"));
        return (Long) total;
    }

    static long usedMemory(Jedis jedis) {
        return Long.parseLong(infoField(jedis.info("memory"), "used_memory"));
    }

    /** Commands Redis refused for memory: errorstat_OOM (Redis 7 counts errors raised in scripts there too). */
    static long oomRejections(Jedis jedis) {
        String stat = infoField(jedis.info("errorstats"), "errorstat_OOM");
        return stat == null ? 0 : Long.parseLong(stat.replaceAll("^count=(\\d+).*$", "$1"));
    }

    private static String memoryFigures(Jedis jedis) {
        String info = jedis.info("memory");
        StringBuilder figures = new StringBuilder();
        for (String field : List.of("used_memory", "used_memory_peak", "used_memory_rss", "mem_fragmentation_ratio",
                "mem_clients_normal", "mem_aof_buffer", "used_memory_scripts", "used_memory_vm_eval", "used_memory_overhead",
                "used_memory_dataset", "mem_not_counted_for_evict")) {
            figures.append(field).append('=').append(infoField(info, field)).append(' ');
        }
        return figures.toString().trim();
    }

    private static String infoField(String info, String field) {
        for (String line : info.split("\r?\n")) {
            if (line.startsWith(field + ":")) {
                return line.substring(field.length() + 1).trim();
            }
        }
        return null;
    }

    private static String cacheStatus(HttpResponse<?> response) {
        return response.headers().firstValue("Cache-Status").orElse("");
    }

    /** A gauge of the cache's metrics (the same on every node: the largest). */
    static long gauge(String name) throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        long max = -1;
        for (ObjectName bean : server.queryNames(new ObjectName("io.tomcatredis:type=CacheMetrics,*"), null)) {
            max = Math.max(max, ((Number) server.getAttribute(bean, name)).longValue());
        }
        return max;
    }

    /** evictions_total{cause} summed over every cache filter of this JVM (both nodes). */
    static long evictionsByCause(String cause) throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        long total = 0;
        for (ObjectName name : server.queryNames(
                new ObjectName("io.tomcatredis:type=CacheCounters,name=evictions_total,*"), null)) {
            total += ((Number) server.getAttribute(name, cause)).longValue();
        }
        return total;
    }

    /** Distinct incompressible pages of {@link #PAGE_BYTES}, the same for the same path: cacheable for 10 minutes. */
    static final class PageServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        static byte[] body(String path) {
            byte[] body = new byte[PAGE_BYTES];
            SplittableRandom random = new SplittableRandom(path.hashCode());
            for (int i = 0; i < body.length; i += 8) {
                long value = random.nextLong();
                for (int b = 0; b < 8 && i + b < body.length; b++) {
                    body[i + b] = (byte) (value >>> (8 * b));
                }
            }
            return body;
        }

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            byte[] body = body(request.getPathInfo());
            response.setContentType("application/octet-stream");
            response.setHeader("Cache-Control", "public, max-age=600");
            response.setContentLength(body.length);
            response.getOutputStream().write(body);
        }

        /** An unsafe request: the cache evicts the URL after it succeeds. */
        @Override
        protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
            response.setContentType("text/plain");
            response.getWriter().print("posted");
        }
    }

    /**
     * {@code op=create&n=&bytes=}: a new session with attributes a0..a(n-1) = "initial" padded to
     * bytes; {@code op=set&a=&v=}: a{a} and a{a+1} = v (padded), in one request; {@code op=dump}:
     * "name=value" lines (without padding); {@code op=remove&a=}: removes a{a} (a sign-out that
     * forgets the user); {@code op=invalidate}. 410 without a session.
     */
    static final class AttributeServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            String op = request.getParameter("op");
            response.setContentType("text/plain;charset=UTF-8");
            if ("create".equals(op)) {
                HttpSession session = request.getSession(true);
                int bytes = Integer.parseInt(request.getParameter("bytes"));
                for (int a = 0, n = Integer.parseInt(request.getParameter("n")); a < n; a++) {
                    session.setAttribute("a" + a, padded("initial", bytes));
                }
                response.getWriter().print("created");
                return;
            }
            HttpSession session = request.getSession(false);
            if (session == null) {
                response.sendError(410);
                return;
            }
            switch (op) {
                case "set" -> {
                    int a = Integer.parseInt(request.getParameter("a"));
                    String value = padded(request.getParameter("v"), ATTRIBUTE_BYTES);
                    session.setAttribute("a" + a, value);
                    session.setAttribute("a" + (a + 1), value);
                    response.getWriter().print("ok");
                }
                case "dump" -> {
                    StringBuilder out = new StringBuilder();
                    for (String name : Collections.list(session.getAttributeNames())) {
                        String value = (String) session.getAttribute(name);
                        out.append(name).append('=').append(value, 0, value.indexOf('|')).append('\n');
                    }
                    response.getWriter().print(out);
                }
                case "remove" -> {
                    session.removeAttribute("a" + request.getParameter("a"));
                    response.getWriter().print("removed");
                }
                case "invalidate" -> {
                    session.invalidate();
                    response.getWriter().print("invalidated");
                }
                default -> response.sendError(400);
            }
        }

        /** {@code value|} and random letters up to {@code bytes}: as incompressible as text gets. */
        private static String padded(String value, int bytes) {
            StringBuilder padded = new StringBuilder(value).append('|');
            SplittableRandom random = new SplittableRandom();
            while (padded.length() < bytes) {
                padded.append((char) ('a' + random.nextInt(26)));
            }
            return padded.toString();
        }
    }
}

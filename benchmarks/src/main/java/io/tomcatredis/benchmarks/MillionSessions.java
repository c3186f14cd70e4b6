package io.tomcatredis.benchmarks;

import io.tomcatredis.connection.RedisClientHolder;
import io.tomcatredis.session.RedisSessionManager;
import io.tomcatredis.session.codec.AttributeCodec;
import io.tomcatredis.session.codec.ClassFilter;
import io.tomcatredis.session.codec.SerializationException;
import io.tomcatredis.session.store.LoadResult;
import io.tomcatredis.session.store.RedisSessionStore;
import io.tomcatredis.session.store.SessionChanges;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.StandaloneRedis;
import jakarta.servlet.http.HttpSessionEvent;
import jakarta.servlet.http.HttpSessionListener;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.resps.Slowlog;

/**
 * Issue 15's "proof at a million sessions", on one real {@code redis-server} (never a mock):
 * <ol>
 *   <li>load ({@code RedisSessionStore.load(id, 0)}) and save ({@code save(id, update().setAttribute(..))})
 *       latency on random ids with 1,000 sessions in Redis, then 1,000,000, then 1,000 again,
 *       in one sitting (median and p99; ratios 1M ÷ 1k);</li>
 *   <li>Redis memory per session: {@code MEMORY USAGE} of one session hash, the expiry index's
 *       share, and {@code used_memory} growth per session from 1k to 1M;</li>
 *   <li>the expiry sweep of a real {@link RedisSessionManager} (embedded Tomcat, no background
 *       thread: this harness calls {@code processExpires()} as Tomcat's background cycle would)
 *       with 1,000,000 sessions past their deadline: per tick its duration, how many it claimed
 *       (counted by an {@code HttpSessionListener}), how late they were, heap, and afterwards
 *       {@code INFO commandstats} and {@code SLOWLOG} (commands over 10 ms);</li>
 *   <li>what a claim does with a due session whose hash Redis already removed by its TTL (the
 *       300 s grace ran out before the sweep came to it).</li>
 * </ol>
 * Sessions are written in our layout by {@code fill.lua}, from a template that the store itself
 * saved; the harness checks a filled session against the template before measuring. The typical
 * session here: a profile object, a set of 100 ids and a cart of 3 line items, Kryo-encoded by the
 * project's codec (about 0.8 kB of attributes).
 *
 * <p>Run (not part of any test run; 2 to 5 minutes, up to 5 GB of Redis memory):
 * <pre>
 * mvn -B -ntp -pl benchmarks -am package -DskipTests
 * java -Xmx2g -cp benchmarks/target/benchmarks.jar io.tomcatredis.benchmarks.MillionSessions
 * </pre>
 * System properties: {@code sessions} (1000000), {@code small} (1000), {@code rounds} (5) of
 * {@code ops} loads and {@code ops} saves per server (10000), {@code ticks} of the sweep to run (10),
 * {@code hashMaxListpackValue} (unset: Redis' default, 64) to see the session hashes as listpacks.
 * The two sizes live in two redis-servers side by side, measured alternately; the sweep then runs
 * on the large one with {@code sessions} more, due, sessions added.
 *
 * <p>The expiry sweep alone ({@code -Dpart=burst}: {@code sessions} due at once, runs back to back
 * until none is due or {@code ticks} runs) or a steady expiry rate ({@code -Dpart=steady}: deadlines
 * coming due at {@code rate} per second (555: a million sessions with a 30 min interval) for
 * {@code periods} (4) periods of {@code periodSeconds} (60), a run every period), each on one
 * redis-server, with {@code nodes} (1) managers in embedded Tomcats whose runs start together
 * ({@code -Dpaced=true}: the burst's runs {@code periodSeconds} apart, as at Tomcat's cadence):
 * <pre>
 * java -Xmx2g -Dpart=burst -Dticks=200 -cp benchmarks/target/benchmarks.jar io.tomcatredis.benchmarks.MillionSessions
 * java -Xmx2g -Dpart=burst -Dticks=200 -Dpaced=true -cp benchmarks/target/benchmarks.jar io.tomcatredis.benchmarks.MillionSessions
 * java -Xmx2g -Dpart=burst -Dticks=200 -Dnodes=2 -cp benchmarks/target/benchmarks.jar io.tomcatredis.benchmarks.MillionSessions
 * java -Xmx2g -Dpart=steady -cp benchmarks/target/benchmarks.jar io.tomcatredis.benchmarks.MillionSessions
 * </pre>
 */
public final class MillionSessions {

    static final String PREFIX = "tomcat-session:localhost/app:";
    static final String INDEX = PREFIX + "expirations";
    static final int MAX_INACTIVE_SECONDS = 1800;
    static final int TOUCH_INTERVAL_MILLIS = 5000;
    static final long GRACE_MILLIS = SessionKeys.TTL_GRACE_SECONDS * 1000;
    static final String LIVE = "5E551011FEEDBEEF";
    static final String DUE = "DEADBEEF0DDBA115";
    static final int FILL_CHUNK = 10_000;

    private final int large = Integer.getInteger("sessions", 1_000_000);
    private final int small = Integer.getInteger("small", 1_000);
    private final int ops = Integer.getInteger("ops", 10_000);
    private final int ticks = Integer.getInteger("ticks", 10);
    /** all (the default), burst (only the sweep of {@code sessions} due at once) or steady. */
    private final String part = System.getProperty("part", "all");
    /** Managers (each its own embedded Tomcat, as nodes) sweeping the one index, their runs at the same time. */
    private final int nodes = Integer.getInteger("nodes", 1);
    /** steady: deadlines coming due at {@code rate} per second for {@code periods} expiry periods of {@code periodSeconds}. */
    private final int rate = Integer.getInteger("rate", 555);
    private final int periods = Integer.getInteger("periods", 4);
    private final int periodSeconds = Integer.getInteger("periodSeconds", 60);
    /** burst: a run every {@code periodSeconds} (from the end of one to the start of the next), not back to back. */
    private final boolean paced = Boolean.getBoolean("paced");

    private StandaloneRedis redis;
    private UnifiedJedis client;
    private RedisSessionStore store;
    private byte[] fillScript;
    private List<byte[]> template;
    private byte[] cart;

    public static void main(String[] args) throws Exception {
        new MillionSessions().run();
    }

    private void run() throws Exception {
        System.out.printf("MillionSessions %s, %s %s, %d cores, load average %.2f%n", Instant.now(),
                System.getProperty("java.vm.name"), System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(), ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        if (!part.equals("all")) {
            Target target = Target.start();
            try {
                use(target);
                fillScript = resource("fill.lua");
                makeTemplate();
                if (part.equals("steady")) {
                    steady();
                } else {
                    sweep();
                }
            } finally {
                target.close();
            }
            return;
        }
        Target smallTarget = Target.start();
        Target largeTarget = Target.start();
        try {
            use(smallTarget);
            try (Jedis admin = admin()) {
                System.out.println("redis " + admin.info("server").lines()
                        .filter(line -> line.startsWith("redis_version")).findFirst().orElse("?")
                        + ", hash-max-listpack-value " + admin.configGet("hash-max-listpack-value"));
            }
            fillScript = resource("fill.lua");
            makeTemplate();
            latencyAndMemory(smallTarget, largeTarget);
            listpackMemory();
            smallTarget.close();
            use(largeTarget);
            sweep();
        } finally {
            smallTarget.close();
            largeTarget.close();
        }
    }

    /** One redis-server with the store's client; the harness works on one at a time ({@link #use}). */
    private record Target(StandaloneRedis redis, UnifiedJedis client, RedisSessionStore store) {
        static Target start() {
            RedisOptions options = RedisOptions.DEFAULTS.withConfig("slowlog-log-slower-than 10000", "slowlog-max-len 1024");
            String listpackValue = System.getProperty("hashMaxListpackValue");
            if (listpackValue != null) {
                options = options.withConfig("hash-max-listpack-value " + listpackValue);
            }
            StandaloneRedis redis = StandaloneRedis.start(options);
            UnifiedJedis client = RedisClient.builder().hostAndPort(redis.node().hostAndPort())
                    .clientConfig(redis.clientConfig()).build();
            RedisSessionStore store = new RedisSessionStore(new RedisClientHolder(() -> client,
                    RedisClientHolder.Reopen.NEVER, 5000, 100, "bench"), new SessionKeys(PREFIX), false, 5000, 0, 0,
                    TOUCH_INTERVAL_MILLIS);
            return new Target(redis, client, store);
        }

        void close() {
            if (redis.node().isRunning()) {
                client.close();
                redis.close();
            }
        }
    }

    private void use(Target target) {
        redis = target.redis();
        client = target.client();
        store = target.store();
    }

    // ------------------------------------------------------------------ the typical session, the layout

    /** Saves one session through the store and keeps its fields as the template of the fill. */
    private void makeTemplate() throws SerializationException {
        AttributeCodec codec = AttributeCodec.create("kryo", getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY);
        Map<String, byte[]> attributes = new LinkedHashMap<>();
        attributes.put("profile", codec.encode(TypicalSession.profile()));
        attributes.put("recentlyViewed", codec.encode(TypicalSession.recentlyViewed()));
        attributes.put("cart", codec.encode(TypicalSession.cart(3)));
        cart = attributes.get("cart");
        String id = "00000000000000000000000000000001";
        SessionChanges created = SessionChanges.created(System.currentTimeMillis(), MAX_INACTIVE_SECONDS).id(id);
        attributes.forEach(created::setAttribute);
        store.save(id, created);
        Map<byte[], byte[]> hash = client.hgetAll(key(id).getBytes(StandardCharsets.UTF_8));
        template = new ArrayList<>();
        List<String> fields = new ArrayList<>();
        hash.forEach((field, value) -> {
            String name = new String(field, StandardCharsets.UTF_8);
            fields.add(name + "=" + value.length + "B");
            if (!List.of("meta:id", "meta:creationTime", "meta:lastAccessedTime").contains(name)) {
                template.add(field);
                template.add(value);
            }
        });
        System.out.println("template session saved by RedisSessionStore: " + fields);
        client.del(key(id));
        client.zrem(INDEX, id);
    }

    /**
     * Fills sessions number {@code from} to {@code to} (exclusive); {@code agoMillis} is how long ago
     * session 0 was last accessed.
     */
    private void fill(String idPrefix, int from, int to, long agoMillis) {
        long start = System.nanoTime();
        for (int chunk = from; chunk < to; chunk += FILL_CHUNK) {
            List<byte[]> args = new ArrayList<>();
            for (String arg : List.of(PREFIX, INDEX, Integer.toString(chunk), Integer.toString(Math.min(to, chunk + FILL_CHUNK)),
                    idPrefix, Long.toString(agoMillis), Integer.toString(MAX_INACTIVE_SECONDS),
                    Integer.toString(TOUCH_INTERVAL_MILLIS), Long.toString(GRACE_MILLIS))) {
                args.add(arg.getBytes(StandardCharsets.UTF_8));
            }
            args.addAll(template);
            client.eval(fillScript, List.of(), args);
        }
        System.out.printf("filled %,d sessions in %.1f s%n", to - from, (System.nanoTime() - start) / 1e9);
    }

    /** A filled session is what the store writes: the template's fields, the index entry, the TTL. */
    private void checkLayout(String idPrefix, int number) {
        String id = id(idPrefix, number);
        Map<String, String> hash = client.hgetAll(key(id));
        long last = Long.parseLong(hash.get("meta:lastAccessedTime"));
        long deadline = last + MAX_INACTIVE_SECONDS * 1000L + TOUCH_INTERVAL_MILLIS;
        List<String> expectedFields = new ArrayList<>(List.of("meta:id", "meta:creationTime", "meta:lastAccessedTime"));
        for (int i = 0; i < template.size(); i += 2) {
            expectedFields.add(new String(template.get(i), StandardCharsets.UTF_8));
            byte[] stored = client.hget(key(id).getBytes(StandardCharsets.UTF_8), template.get(i));
            require(Arrays.equals(stored, template.get(i + 1)), "field " + expectedFields.get(expectedFields.size() - 1));
        }
        require(hash.keySet().equals(new java.util.HashSet<>(expectedFields)), "fields " + hash.keySet());
        require(id.equals(hash.get("meta:id")), "meta:id");
        Double score = client.zscore(INDEX, id);
        require(score != null && score.longValue() == deadline, "index score " + score + " vs " + deadline);
        long pttl = client.pttl(key(id));
        long redisNow = redisMillis();
        require(Math.abs(pttl - (deadline + GRACE_MILLIS - redisNow)) < 5_000, "PTTL " + pttl);
        require(client.pttl(INDEX) > 0, "index TTL");
        System.out.println("layout check of " + key(id) + ": OK (fields, index score = deadline, PTTL = deadline + grace - now)");
    }

    // ------------------------------------------------------------------ load and save latency, memory

    /**
     * Two Redis servers in one sitting, one holding {@code small} sessions and one {@code large},
     * measured alternately in {@code rounds} rounds, so that the machine's drift (other work on
     * its two cores) falls on both alike.
     */
    private void latencyAndMemory(Target smallTarget, Target largeTarget) {
        use(smallTarget);
        fill(LIVE, 0, small, 0);
        checkLayout(LIVE, small - 1);
        System.out.println("a filled session loads through the store: " + loadOnce(LIVE, 7));
        long usedSmall = usedMemory();
        use(largeTarget);
        fill(LIVE, 0, large, 0);
        checkLayout(LIVE, large - 1);
        long usedLarge = usedMemory();
        memory(usedSmall, usedLarge);
        use(smallTarget);
        measure(LIVE, small);
        use(largeTarget);
        measure(LIVE, large);
        System.out.println("(warm-up done)");
        for (Target target : List.of(smallTarget, largeTarget)) {
            use(target);
            try (Jedis admin = admin()) {
                admin.configResetStat();
            }
        }
        int rounds = Integer.getInteger("rounds", 5);
        List<Latency> smallRounds = new ArrayList<>();
        List<Latency> largeRounds = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            use(smallTarget);
            Latency a = measure(LIVE, small);
            use(largeTarget);
            Latency b = measure(LIVE, large);
            smallRounds.add(a);
            largeRounds.add(b);
            System.out.printf("round %d, %,d loads + %,d saves on random ids per server (µs): N=%,d load median %.1f p99 %.1f,"
                    + " save median %.1f p99 %.1f | N=%,d load median %.1f p99 %.1f, save median %.1f p99 %.1f%n", round,
                    ops, ops, small, a.loadMedian, a.loadP99, a.saveMedian, a.saveP99, large, b.loadMedian, b.loadP99,
                    b.saveMedian, b.saveP99);
        }
        for (Target target : List.of(smallTarget, largeTarget)) {
            use(target);
            try (Jedis admin = admin()) {
                System.out.printf("Redis-side time per command over all rounds, DBSIZE %,d: %s%n", admin.dbSize(),
                        commandCalls());
            }
        }
        System.out.println("median of the rounds, N=" + large + " / N=" + small + ":");
        ratio("load median", largeRounds, smallRounds, Latency::loadMedian);
        ratio("load p99   ", largeRounds, smallRounds, Latency::loadP99);
        ratio("save median", largeRounds, smallRounds, Latency::saveMedian);
        ratio("save p99   ", largeRounds, smallRounds, Latency::saveP99);
    }

    /**
     * Not our layout's default: what one session hash would take if Redis kept it as a listpack
     * ({@code hash-max-listpack-value} above its largest value, 64 bytes by default).
     */
    private void listpackMemory() {
        try (Jedis admin = admin()) {
            String id = id(LIVE, 3);
            long asHashtable = admin.memoryUsage(key(id), 0);
            String encoding = admin.objectEncoding(key(id));
            String configured = admin.configGet("hash-max-listpack-value").values().iterator().next();
            admin.configSet("hash-max-listpack-value", "1024");
            admin.restore(key(id + "X"), 0, admin.dump(key(id)));
            System.out.printf("one session hash: %,d bytes as %s (hash-max-listpack-value %s);"
                    + " %,d bytes as %s with hash-max-listpack-value 1024 (DUMP/RESTORE of the same hash)%n", asHashtable,
                    encoding, configured, admin.memoryUsage(key(id + "X"), 0), admin.objectEncoding(key(id + "X")));
            admin.configSet("hash-max-listpack-value", configured);
        }
    }

    private Map<String, Object> loadOnce(String idPrefix, int number) {
        store.sampleClock();
        LoadResult result = store.load(id(idPrefix, number), 0);
        require(result instanceof LoadResult.Loaded, "load of a filled session: " + result);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("result", result.getClass().getSimpleName());
        summary.put("attributes", ((LoadResult.Loaded) result).session().attributes().keySet());
        return summary;
    }

    private record Latency(double loadMedian, double loadP99, double saveMedian, double saveP99) {
    }

    /** {@code ops} loads, then {@code ops} saves, of random sessions among the first {@code n}; µs. */
    private Latency measure(String idPrefix, int n) {
        SplittableRandom random = new SplittableRandom(n);
        long[] loads = new long[ops];
        long[] saves = new long[ops];
        store.sampleClock();
        for (int i = 0; i < ops; i++) {
            String id = id(idPrefix, random.nextInt(n));
            long start = System.nanoTime();
            LoadResult result = store.load(id, 0);
            loads[i] = System.nanoTime() - start;
            if (!(result instanceof LoadResult.Loaded)) {
                throw new IllegalStateException("not loaded: " + id + " " + result);
            }
            if (i % 5000 == 4999) {
                store.sampleClock();
            }
        }
        for (int i = 0; i < ops; i++) {
            String id = id(idPrefix, random.nextInt(n));
            long start = System.nanoTime();
            long version = store.save(id, SessionChanges.update().setAttribute("cart", cart));
            saves[i] = System.nanoTime() - start;
            require(version > 0, "save of " + id);
        }
        return new Latency(percentile(loads, 50), percentile(loads, 99), percentile(saves, 50), percentile(saves, 99));
    }

    /** Calls per command since the last CONFIG RESETSTAT, from INFO commandstats. */
    private String commandCalls() {
        try (Jedis admin = admin()) {
            return admin.info("commandstats").lines().filter(line -> line.startsWith("cmdstat_"))
                    .filter(line -> !line.startsWith("cmdstat_config") && !line.startsWith("cmdstat_time")
                            && !line.startsWith("cmdstat_info"))
                    .map(line -> line.substring("cmdstat_".length()).replaceAll(",usec=[0-9]+", "")
                            .replaceAll(",rejected_calls=.*", ""))
                    .reduce((a, b) -> a + " " + b).orElse("none");
        }
    }

    private static void ratio(String name, List<Latency> large, List<Latency> small,
            java.util.function.ToDoubleFunction<Latency> figure) {
        double l = median(large.stream().mapToDouble(figure).toArray());
        double m = median(small.stream().mapToDouble(figure).toArray());
        System.out.printf("  %s %.1f µs / %.1f µs = %.3f%n", name, l, m, l / m);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    }

    private void memory(long usedSmall, long usedLarge) {
        try (Jedis admin = admin()) {
            String someKey = key(id(LIVE, large / 2));
            long hash = admin.memoryUsage(someKey, 0);
            long hashLength = admin.hlen(someKey);
            long index = admin.memoryUsage(INDEX, 0);
            long members = admin.zcard(INDEX);
            System.out.printf("MEMORY USAGE of one session hash (SAMPLES 0): %,d bytes (%d fields, %,d bytes of values)%n",
                    hash, hashLength, admin.hvals(someKey.getBytes(StandardCharsets.UTF_8)).stream().mapToLong(v -> v.length).sum());
            System.out.printf("MEMORY USAGE of the expiry index (SAMPLES 0): %,d bytes for %,d members: %.1f bytes per session%n",
                    index, members, (double) index / members);
            System.out.printf("used_memory %,d (N=%d) -> %,d (N=%d): %.1f bytes per session (hash, index entry,"
                    + " keyspace and expires dict entries)%n", usedSmall, small, usedLarge, large,
                    (double) (usedLarge - usedSmall) / (large - small));
        }
    }

    private long usedMemory() {
        return Long.parseLong(redis.node().info("memory", "used_memory"));
    }

    // ------------------------------------------------------------------ the expiry sweep

    /** Counts the sessions the manager expires and how late each was after its deadline. */
    public static final class ExpiryListener implements HttpSessionListener {
        static final LongAdder DESTROYED = new LongAdder();
        static final AtomicLong MAX_LATE = new AtomicLong();
        static final AtomicLong MIN_LATE = new AtomicLong(Long.MAX_VALUE);
        /** The latest of all ticks. */
        static final AtomicLong MAX_LATE_EVER = new AtomicLong();

        @Override
        public void sessionDestroyed(HttpSessionEvent event) {
            long deadline = event.getSession().getLastAccessedTime()
                    + event.getSession().getMaxInactiveInterval() * 1000L + TOUCH_INTERVAL_MILLIS;
            long late = System.currentTimeMillis() - deadline;
            MAX_LATE.accumulateAndGet(late, Math::max);
            MIN_LATE.accumulateAndGet(late, Math::min);
            MAX_LATE_EVER.accumulateAndGet(late, Math::max);
            DESTROYED.increment();
        }

        /** Lateness from here on counts for the next tick only. */
        static void nextTick() {
            MAX_LATE.set(Long.MIN_VALUE);
            MIN_LATE.set(Long.MAX_VALUE);
        }
    }

    /** {@code nodes} embedded Tomcats, each a context with a RedisSessionManager on the one Redis; no background thread. */
    private final class Nodes implements AutoCloseable {
        final List<Tomcat> tomcats = new ArrayList<>();
        final List<RedisSessionManager> managers = new ArrayList<>();

        Nodes(int count) throws Exception {
            for (int n = 1; n <= count; n++) {
                Path base = Files.createTempDirectory("million-sessions-tomcat");
                Tomcat tomcat = new Tomcat();
                tomcat.setBaseDir(base.toString());
                Connector connector = new Connector();
                connector.setPort(0);
                connector.setProperty("address", "127.0.0.1");
                tomcat.setConnector(connector);
                tomcat.getEngine().setName("node" + n);
                tomcat.getEngine().setJvmRoute("node" + n);
                // No background thread: processExpires() runs only when this harness calls it.
                tomcat.getEngine().setBackgroundProcessorDelay(-1);
                Path docBase = Files.createDirectories(base.resolve("app"));
                Context context = tomcat.addContext("/app", docBase.toString());
                RedisSessionManager manager = new RedisSessionManager();
                manager.setRedisUri(redis.uri());
                manager.setKeyPrefix(PREFIX);
                context.setManager(manager);
                context.addApplicationListener(ExpiryListener.class.getName());
                tomcat.start();
                tomcats.add(tomcat);
                managers.add(manager);
            }
        }

        /** One processExpires() on every node, started together; returns when all are done. */
        void tick() throws Exception {
            List<java.util.concurrent.CompletableFuture<Void>> runs = new ArrayList<>();
            for (RedisSessionManager manager : managers) {
                runs.add(java.util.concurrent.CompletableFuture.runAsync(manager::processExpires));
            }
            for (java.util.concurrent.CompletableFuture<Void> run : runs) {
                run.get();
            }
        }

        @Override
        public void close() throws Exception {
            for (Tomcat tomcat : tomcats) {
                tomcat.stop();
                tomcat.destroy();
            }
        }
    }

    /**
     * Deadlines coming due at {@code rate} per second, {@code periods} expiry periods long: the
     * sessions are filled with deadlines from now on, second by second, and every node runs
     * {@code processExpires()} once per {@code periodSeconds}, as Tomcat's background thread would
     * (default cadence: 6 x 10 s), for one period more than the deadlines span.
     */
    private void steady() throws Exception {
        int seconds = periods * periodSeconds;
        long fillStart = System.nanoTime();
        for (int second = 1; second <= seconds; second++) {
            // fill.lua: deadline = now - ago - (i mod 1000) + max * 1000 + touch, so this second's
            // sessions come due between (second - 1) and second seconds from now.
            fillQuietly(DUE, (second - 1) * rate, second * rate,
                    MAX_INACTIVE_SECONDS * 1000L + TOUCH_INTERVAL_MILLIS - second * 1000L);
        }
        long filledAt = System.nanoTime();
        System.out.printf("filled %,d sessions coming due at %,d per second over %,d s, in %.1f s%n", seconds * rate, rate,
                seconds, (filledAt - fillStart) / 1e9);
        try (Nodes cluster = new Nodes(nodes); Jedis admin = admin()) {
            System.out.printf("%nsteady expiry: %,d due per second, %d node(s), a run every %d s%n", rate, nodes, periodSeconds);
            for (int tick = 1; tick <= periods + 1; tick++) {
                long wait = filledAt + tick * periodSeconds * 1_000_000_000L - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000);
                }
                long destroyedBefore = ExpiryListener.DESTROYED.sum();
                ExpiryListener.nextTick();
                long start = System.nanoTime();
                cluster.tick();
                double runSeconds = (System.nanoTime() - start) / 1e9;
                long destroyed = ExpiryListener.DESTROYED.sum() - destroyedBefore;
                System.out.printf("tick %2d at %4d s: run %.2f s, %,d sessionDestroyed, lateness %,d..%,d ms, %,d still due after%n",
                        tick, tick * periodSeconds, runSeconds, destroyed, ExpiryListener.MIN_LATE.get(),
                        ExpiryListener.MAX_LATE.get(), admin.zcount(INDEX, "-inf", Long.toString(redisMillis())));
            }
            System.out.printf("steady: %,d of %,d sessions expired, latest %,d ms after its deadline%n",
                    ExpiryListener.DESTROYED.sum(), (long) seconds * rate, ExpiryListener.MAX_LATE_EVER.get());
        }
    }

    private void fillQuietly(String idPrefix, int from, int to, long agoMillis) {
        List<byte[]> args = new ArrayList<>();
        for (String arg : List.of(PREFIX, INDEX, Integer.toString(from), Integer.toString(to), idPrefix,
                Long.toString(agoMillis), Integer.toString(MAX_INACTIVE_SECONDS), Integer.toString(TOUCH_INTERVAL_MILLIS),
                Long.toString(GRACE_MILLIS))) {
            args.add(arg.getBytes(StandardCharsets.UTF_8));
        }
        args.addAll(template);
        client.eval(fillScript, List.of(), args);
    }

    private void sweep() throws Exception {
        // Every session's deadline passed 1 to 1000 ms before the fill.
        fill(DUE, 0, large, MAX_INACTIVE_SECONDS * 1000L + TOUCH_INTERVAL_MILLIS + 1);
        checkLayout(DUE, large - 1);
        try (Nodes cluster = new Nodes(nodes); Jedis admin = admin()) {
            RedisSessionManager manager = cluster.managers.get(0);
            System.out.printf("%nexpiry sweep: %,d sessions in the index (ZCARD), %,d of them due (ZCOUNT to now), %d node(s), manager %s,"
                    + " processExpiresFrequency %d, engine backgroundProcessorDelay by default 10 s%n", admin.zcard(INDEX),
                    admin.zcount(INDEX, "-inf", Long.toString(redisMillis())), nodes, manager.getClass().getSimpleName(),
                    manager.getProcessExpiresFrequency());
            admin.configResetStat();
            admin.slowlogReset();
            long heapBefore = usedHeapAfterGc();
            long sweepStart = System.nanoTime();
            int tick = 0;
            while (tick < ticks && admin.zcount(INDEX, "-inf", Long.toString(redisMillis())) > 0) {
                if (paced && tick > 0) {
                    // Tomcat's background thread: processExpiresFrequency sleeps of backgroundProcessorDelay after a run.
                    Thread.sleep(periodSeconds * 1000L);
                }
                tick++;
                long destroyedBefore = ExpiryListener.DESTROYED.sum();
                long indexBefore = admin.zcard(INDEX);
                ExpiryListener.nextTick();
                long start = System.nanoTime();
                cluster.tick();
                double seconds = (System.nanoTime() - start) / 1e9;
                long destroyed = ExpiryListener.DESTROYED.sum() - destroyedBefore;
                long removed = indexBefore - admin.zcard(INDEX);
                System.out.printf("tick %2d: %.2f s, %,d sessionDestroyed, %,d index entries removed, %,.0f claims/s,"
                        + " lateness %,d..%,d ms, heap after GC %,d kB%n", tick, seconds, destroyed, removed, destroyed / seconds,
                        ExpiryListener.MIN_LATE.get(), ExpiryListener.MAX_LATE.get(), usedHeapAfterGc() / 1024);
            }
            double total = (System.nanoTime() - sweepStart) / 1e9;
            System.out.printf("%d ticks" + (paced ? " " + periodSeconds + " s apart" : " back to back") + ": %.1f s (incl. a GC per tick for the heap figure), %,d sessions expired,"
                    + " %,d still due, latest %,d ms after its deadline; heap after GC %,d kB before, %,d kB after%n", tick, total,
                    ExpiryListener.DESTROYED.sum(), admin.zcount(INDEX, "-inf", Long.toString(redisMillis())),
                    ExpiryListener.MAX_LATE_EVER.get(), heapBefore / 1024, usedHeapAfterGc() / 1024);
            System.out.println("INFO commandstats during the ticks:");
            admin.info("commandstats").lines().filter(line -> line.startsWith("cmdstat_")).forEach(line -> System.out.println("  " + line));
            List<Slowlog> slow = admin.slowlogGet(20);
            System.out.println("SLOWLOG (commands over 10 ms) during the ticks: " + admin.slowlogLen() + " entries");
            slow.forEach(entry -> System.out.println("  " + entry.getExecutionTime() + " µs " + entry.getArgs().subList(0,
                    Math.min(3, entry.getArgs().size()))));

            // Due sessions whose hash is gone by its TTL: the grace (300 s) ran out before the sweep came to them.
            List<String> next = admin.zrangeByScore(INDEX, "-inf", "+inf", 0, 1000);
            if (next.isEmpty()) {
                return;
            }
            for (String id : next) {
                admin.pexpire(key(id), 1);
            }
            long goneAt = System.nanoTime();
            while (admin.exists(key(next.get(next.size() - 1))) && System.nanoTime() - goneAt < 10_000_000_000L) {
                Thread.onSpinWait();
            }
            long destroyedBefore = ExpiryListener.DESTROYED.sum();
            long indexBefore = admin.zcard(INDEX);
            manager.processExpires();
            System.out.printf("tick with the first %,d due hashes gone by TTL: %,d index entries removed, %,d sessionDestroyed%n",
                    next.size(), indexBefore - admin.zcard(INDEX), ExpiryListener.DESTROYED.sum() - destroyedBefore);
        }
    }

    private static long usedHeapAfterGc() {
        System.gc();
        Runtime runtime = Runtime.getRuntime();
        return runtime.totalMemory() - runtime.freeMemory();
    }

    // ------------------------------------------------------------------ helpers

    static String id(String idPrefix, int number) {
        return idPrefix + String.format("%016X", number);
    }

    static String key(String id) {
        return PREFIX + "{" + id + "}";
    }

    /** An admin connection that waits as long as a FLUSHALL of a million hashes takes. */
    private Jedis admin() {
        return new Jedis(redis.node().hostAndPort(), DefaultJedisClientConfig.builder().timeoutMillis(600_000).build());
    }

    private long redisMillis() {
        List<String> time;
        try (Jedis admin = admin()) {
            time = admin.time();
        }
        return Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
    }

    private static double percentile(long[] nanos, int percent) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return sorted[(int) Math.min(sorted.length - 1, Math.ceil(sorted.length * percent / 100.0) - 1)] / 1000.0;
    }

    private static void require(boolean condition, String what) {
        if (!condition) {
            throw new IllegalStateException("check failed: " + what);
        }
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = MillionSessions.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new UncheckedIOException(new IOException("missing resource " + name));
            }
            return in.readAllBytes();
        }
    }
}

package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import jakarta.servlet.Filter;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 16 part 2: the cache filter's metrics move as they should, read the way the Prometheus
 * JMX exporter reads them (the platform MBean server, the names of README "Metrics"). Each test
 * compares before and after what it does.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CacheMetricsIT {

    private static final MBeanServer JMX = ManagementFactory.getPlatformMBeanServer();
    private static final String SCOPE = "context=/shop,filter=page-cache";

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    /** Requests that reached the filter ahead of the cache: a test knows a request arrived. */
    private static final AtomicInteger ARRIVED = new AtomicInteger();

    private CacheNode node;

    @BeforeAll
    void start() {
        node = CacheNode.start("metrics", Map.of("redisUri", REDIS.get().uri(), "include", "/catalog/* 60",
                "allowedHosts", "127.0.0.1, localhost", "lockTimeoutMillis", "20000", "timeoutMillis", "500",
                "circuitBreakerMillis", "300"), context -> {
                    FilterDef counting = new FilterDef();
                    counting.setFilterName("arrivals");
                    counting.setFilter((Filter) (request, response, chain) -> {
                        ARRIVED.incrementAndGet();
                        chain.doFilter(request, response);
                    });
                    context.addFilterDef(counting);
                    FilterMap mapping = new FilterMap();
                    mapping.setFilterName("arrivals");
                    mapping.addURLPattern("/*");
                    context.addFilterMap(mapping);
                });
    }

    @AfterAll
    void stop() {
        node.close();
    }

    @BeforeEach
    void empty() {
        REDIS.get().flushAll();
        PageServlet.gate = CompletableFuture.completedFuture(null);
    }

    @Test
    void aMissIsRenderedAndStoredAndTheNextRequestIsAHit() throws Exception {
        long misses = counter("requests_total", "outcome", "miss");
        long hits = counter("requests_total", "outcome", "hit");
        long renders = plain("renders_total");
        long stores = plain("stores_total");

        assertThat(Http.get(node.url("/catalog/page?id=metrics")).cache()).isEqualTo("MISS");
        assertThat(Http.get(node.url("/catalog/page?id=metrics")).cache()).isEqualTo("HIT");

        assertThat(counter("requests_total", "outcome", "miss") - misses).isEqualTo(1);
        assertThat(counter("requests_total", "outcome", "hit") - hits).isEqualTo(1);
        assertThat(plain("renders_total") - renders).isEqualTo(1);
        assertThat(plain("stores_total") - stores).isEqualTo(1);
        assertThat(plain("entries_in_redis")).isEqualTo(1);
        assertThat(plain("bytes_in_redis")).isPositive();
        assertThat(plain("pool_max_connections")).isPositive();
    }

    @Test
    void aBypassIsCountedUnderItsReasonAndAPassAsItsOutcome() throws Exception {
        long setCookie = counter("bypasses_total", "reason", "set-cookie");
        long noCache = counter("bypasses_total", "reason", "request-no-cache");
        long passes = counter("requests_total", "outcome", "pass");

        Http.get(node.url("/catalog/cookie"));
        Http.get(node.url("/catalog/page?id=fresh"), "Cache-Control", "no-cache");

        assertThat(counter("bypasses_total", "reason", "set-cookie") - setCookie).as("not stored: set-cookie")
                .isEqualTo(1);
        assertThat(counter("bypasses_total", "reason", "request-no-cache") - noCache).isEqualTo(1);
        assertThat(counter("requests_total", "outcome", "pass") - passes).as("the no-cache request passed")
                .isEqualTo(1);
        assertThat(counter("bypasses_total", "reason", "vary-star")).as("every reason exists from the start")
                .isZero();
    }

    @Test
    void anUnsafeRequestEvictsByUrl() throws Exception {
        Http.get(node.url("/catalog/page?id=evicted"));
        long unsafe = counter("requests_total", "outcome", "unsafe");
        long byUrl = counter("evictions_total", "cause", "url");

        assertThat(Http.send("POST", node.url("/catalog/page?id=evicted")).status()).isEqualTo(200);

        assertThat(counter("requests_total", "outcome", "unsafe") - unsafe).isEqualTo(1);
        assertThat(counter("evictions_total", "cause", "url") - byUrl).isEqualTo(1);
    }

    @Test
    void aRequestWaitingForAnothersRenderIsACoalescedWaitInTheLockWaitHistogram() throws Exception {
        String page = "/catalog/gated?id=coalesced";
        long waits = plain("coalesced_waits_total");
        long waited = histogram("lock_wait_seconds", "count");
        PageServlet.gate = new CompletableFuture<>();
        CompletableFuture<Http.Reply> first;
        CompletableFuture<Http.Reply> second;
        try {
            first = CompletableFuture.supplyAsync(() -> Http.get(node.url(page)));
            Await.until(Duration.ofSeconds(10), "the render to begin", () -> PageServlet.renders(page) == 1);
            int before = ARRIVED.get();
            second = CompletableFuture.supplyAsync(() -> Http.get(node.url(page)));
            Await.until(Duration.ofSeconds(10), "the second request to arrive", () -> ARRIVED.get() > before);
        } finally {
            PageServlet.gate.complete(null);
        }
        assertThat(first.get(30, TimeUnit.SECONDS).text()).isEqualTo("gated #1");
        assertThat(second.get(30, TimeUnit.SECONDS).text()).isEqualTo("gated #1");

        assertThat(plain("coalesced_waits_total") - waits).isEqualTo(1);
        assertThat(histogram("lock_wait_seconds", "count") - waited).isEqualTo(1);
    }

    @Test
    void redisFailingOpensTheCircuitAndItsRequestsPassAsRedisUnavailable() throws Exception {
        long opens = plain("circuit_opens_total");
        long unavailable = counter("bypasses_total", "reason", "redis-unavailable");
        REDIS.get().node().pause();
        try {
            assertThat(Http.get(node.url("/catalog/page?id=down")).status()).isEqualTo(200);
            assertThat(plain("circuit_open")).isEqualTo(1);
        } finally {
            REDIS.get().node().resume();
        }
        assertThat(plain("circuit_opens_total") - opens).isEqualTo(1);
        assertThat(counter("bypasses_total", "reason", "redis-unavailable") - unavailable).isEqualTo(1);
        Await.until(Duration.ofSeconds(10), "the circuit to close", () -> plain("circuit_open") == 0);
    }

    private static long plain(String attribute) {
        try {
            return ((Number) JMX.getAttribute(new ObjectName("io.tomcatredis:type=CacheMetrics," + SCOPE), attribute))
                    .longValue();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static long counter(String name, String label, String value) throws Exception {
        return (Long) JMX.getAttribute(new ObjectName("io.tomcatredis:type=CacheCounters," + SCOPE + ",name=" + name
                + ",label=" + label), value);
    }

    private static long histogram(String name, String attribute) throws Exception {
        return (Long) JMX.getAttribute(new ObjectName("io.tomcatredis:type=CacheHistogram," + SCOPE + ",name=" + name),
                attribute);
    }
}

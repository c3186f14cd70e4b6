package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Lease timeouts, failed renders and the byte budget. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CacheLimitsIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private CacheNode one;
    private CacheNode two;

    @BeforeAll
    void start() {
        Map<String, String> params = Map.of("redisUri", REDIS.get().uri(), "include", "/catalog/* 600",
                "allowedHosts", "127.0.0.1", "lockTimeoutMillis", "300", "maxCacheBytes", "3000");
        one = CacheNode.start("limits1", params);
        two = CacheNode.start("limits2", params);
    }

    @AfterAll
    void stop() {
        one.close();
        two.close();
    }

    @BeforeEach
    void empty() {
        REDIS.get().flushAll();
        PageServlet.RENDERS.clear();
    }

    @Test
    void waiterGivesUpAfterLockTimeoutAndRendersUncachedItself() throws Exception {
        CompletableFuture<Http.Reply> slow = CompletableFuture.supplyAsync(
                () -> Http.get(one.url("/catalog/page?id=slow&sleep=2000")));
        Await.until(Duration.ofSeconds(10), "the slow render to start",
                () -> PageServlet.renders("/catalog/page?id=slow&sleep=2000") > 0);
        Http.Reply waiter = Http.get(two.url("/catalog/page?id=slow&sleep=2000"));

        assertThat(waiter.cache()).isEqualTo("MISS");
        assertThat(waiter.text()).as("rendered by the waiter itself while the lease was held").endsWith("#2");
        assertThat(slow.get(30, TimeUnit.SECONDS).text()).endsWith("#1");
    }

    @Test
    void failedRenderReleasesTheLeaseSoTheNextRequestDoesNotWait() {
        Http.Reply failed = Http.get(one.url("/catalog/boom"));
        assertThat(failed.status()).isEqualTo(500);
        try (var jedis = REDIS.get().node().client()) {
            assertThat(jedis.keys("*{cache}l:*")).as("no lease left behind by the failed render").isEmpty();
        }

        Http.Reply again = Http.get(two.url("/catalog/boom"));
        assertThat(again.status()).isEqualTo(500);
        assertThat(PageServlet.renders("/catalog/boom")).isEqualTo(2);
    }

    @Test
    void cacheStaysWithinItsByteBudgetEvictingLeastRecentlyUsedFirst() {
        for (int i = 0; i < 20; i++) {
            Http.get(one.url("/catalog/page?id=" + i));
        }
        long bytes = one.cache().statistics().getBytesStored();
        System.out.printf("maxCacheBytes=3000: %d bytes stored after 20 entries, %d evictions%n", bytes,
                one.cache().statistics().getEvictions());

        assertThat(bytes).isLessThanOrEqualTo(3000);
        assertThat(one.cache().statistics().getEvictions()).isPositive();
        assertThat(Http.get(two.url("/catalog/page?id=19")).cache()).as("the newest entry").isEqualTo("HIT");
        assertThat(Http.get(two.url("/catalog/page?id=0")).cache()).as("the oldest entry").isEqualTo("MISS");
    }
}

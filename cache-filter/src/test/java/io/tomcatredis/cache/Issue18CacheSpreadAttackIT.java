package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.RedisExtension;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

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
}

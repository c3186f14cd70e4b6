package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.ProjectConf;
import io.tomcatredis.testsupport.RedisNode;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.SentinelRedis;
import io.tomcatredis.testsupport.StandaloneRedis;
import io.tomcatredis.testsupport.TcpProxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/**
 * Redis trouble the filter heals from by itself: Sentinel or Cluster away when the webapp is
 * deployed (the filter passes through until Redis answers, then its permission check runs and
 * passes), and a failover behind a stable address (pooled connections still on the demoted node
 * answer READONLY to every lookup). The Sentinel and Cluster deployments run the shipped
 * conf/redis-session.conf and conf/users.acl, the filter as {@code tomcat-cache} (issue 18): Redis
 * refuses it nothing (ACL LOG).
 */
class CacheRedisTroubleIT {

    private static final int TIMEOUT_MILLIS = 500;
    private static final Duration RECOVERY_BOUND = Duration.ofMillis(TIMEOUT_MILLIS + 4000);
    private static final AtomicInteger PAGES = new AtomicInteger();
    private static final String CACHE_PASSWORD = "trouble-cache-secret";
    private static final RedisOptions SHIPPED_CONF = RedisOptions.DEFAULTS.withShippedConf(
            ProjectConf.aclFileWithPasswords(Map.of("tomcat-cache", CACHE_PASSWORD)), "admin", "harness-admin-secret");
    private static final String CACHE_USER_URI = "redis://tomcat-cache:" + CACHE_PASSWORD + "@ignored";

    @BeforeEach
    void reset() {
        PageServlet.RENDERS.clear();
        PageServlet.failing = false;
    }

    private static Map<String, String> params(String... namesAndValues) {
        Map<String, String> params = new HashMap<>(Map.of("include", "/catalog/* 60", "allowedHosts",
                "127.0.0.1", "timeoutMillis", Integer.toString(TIMEOUT_MILLIS), "circuitBreakerMillis", "200"));
        for (int i = 0; i < namesAndValues.length; i += 2) {
            params.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return params;
    }

    @Test
    void filterDeployedWhileSentinelIsAwayPassesThroughThenCachesOnceRedisAnswers() {
        try (SentinelRedis redis = SentinelRedis.notStarted(SHIPPED_CONF);
             CacheNode node = CacheNode.start("away-sentinel", params("sentinelMaster", SentinelRedis.MASTER_NAME,
                     "sentinels", redis.sentinelAddresses(), "redisUri", CACHE_USER_URI))) {
            passesThroughUntilRedisAnswers(node, redis::startNodes);
            assertNothingRefused(node, redis.dataNodes());
        }
    }

    @Test
    void filterDeployedWhileClusterIsAwayPassesThroughThenCachesOnceItAnswers() {
        try (ClusterRedis redis = ClusterRedis.notStarted(3, 0, SHIPPED_CONF);
             CacheNode node = CacheNode.start("away-cluster", params("clusterNodes", redis.clusterNodes(),
                     "redisUri", CACHE_USER_URI))) {
            passesThroughUntilRedisAnswers(node, redis::startNodes);
            assertNothingRefused(node, redis.nodes());
        }
    }

    /**
     * Issue 18: deployed while the Cluster is away, with a user that lacks HSET: the permission
     * check runs on the first call that reaches Redis, logs SEVERE, and from then on every request
     * passes uncached.
     */
    @Test
    void userLackingAPermissionIsFoundOnceTheClusterAnswers() throws Exception {
        Path acl = ProjectConf.aclFileWithPasswords(Map.of("tomcat-cache", CACHE_PASSWORD));
        Files.write(acl, Files.readAllLines(acl).stream()
                .map(line -> line.startsWith("user tomcat-cache ") ? line.replace(" +hset ", " ") : line).toList());
        try (SevereLog severe = new SevereLog();
             ClusterRedis redis = ClusterRedis.notStarted(3, 0, RedisOptions.DEFAULTS.withShippedConf(acl, "admin",
                     "harness-admin-secret"));
             CacheNode node = CacheNode.start("narrow-cluster", params("clusterNodes", redis.clusterNodes(),
                     "redisUri", CACHE_USER_URI))) {
            String url = node.url("/catalog/narrow?id=" + PAGES.incrementAndGet());
            assertThat(Http.get(url).status()).isEqualTo(200);
            assertThat(severe.messages()).isEmpty();
            redis.startNodes();
            Await.until(RECOVERY_BOUND, "the check to find the user lacking", () -> {
                Http.get(url);
                return node.cache().statistics().getBypassesByReason().contains("redis-permission=");
            });
            for (int i = 0; i < 2; i++) {
                Http.Reply reply = Http.get(url);
                assertThat(reply.status()).isEqualTo(200);
                assertThat(reply.cache()).isNotEqualTo("HIT");
            }
            assertThat(node.cache().statistics().getStores()).isZero();
            assertThat(severe.messages()).hasSize(1);
            assertThat(severe.messages().get(0)).startsWith("RedisCacheFilter page-cache of /shop: the Redis user \"tomcat-cache\""
                    + " is denied commands it needs under keyPrefix \"tomcat-cache:/shop:\": HSET ");
        }
    }

    @Test
    void readonlyAfterFailoverBehindAStableAddressStopsAndPagesAreCachedAgain() {
        try (StandaloneRedis a = StandaloneRedis.start();
             StandaloneRedis b = StandaloneRedis.start();
             TcpProxy address = TcpProxy.forwardingTo(a.node());
             CacheNode one = CacheNode.start("vip-cache1", params("redisUri", address.uri()));
             CacheNode two = CacheNode.start("vip-cache2", params("redisUri", address.uri()))) {
            assertThat(cachedOnBothNodes(one, two)).as("cached before the failover").isTrue();
            try (Jedis replica = b.node().client()) {
                replica.replicaof(a.node().host(), a.node().port());
            }
            Await.until(Duration.ofSeconds(30), "B to replicate A",
                    () -> "up".equals(b.node().info("replication", "master_link_status")));
            try (Jedis promoted = b.node().client(); Jedis demoted = a.node().client()) {
                promoted.replicaofNoOne();
                demoted.replicaof(b.node().host(), b.node().port());
            }
            long moved = System.nanoTime();
            address.forwardTo(b.node());

            Await.until(RECOVERY_BOUND, "pages to be cached again on both nodes", () -> cachedOnBothNodes(one, two));
            System.out.printf("cache filter, failover behind a stable address (timeoutMillis=%d): caching again %d ms"
                    + " after the address moved%n", TIMEOUT_MILLIS, (System.nanoTime() - moved) / 1_000_000);
        }
    }

    private static void passesThroughUntilRedisAnswers(CacheNode node, Runnable startRedis) {
        String url = node.url("/catalog/away?id=" + PAGES.incrementAndGet());
        for (int i = 1; i <= 2; i++) {
            Http.Reply reply = Http.get(url);
            assertThat(reply.status()).as("the application renders while Redis is away").isEqualTo(200);
            assertThat(reply.text()).endsWith("#" + i);
            assertThat(reply.cache()).isNotEqualTo("HIT");
        }

        startRedis.run();

        Await.until(RECOVERY_BOUND, "pages to be cached once Redis answers", () -> {
            String fresh = node.url("/catalog/back?id=" + PAGES.incrementAndGet());
            return Http.get(fresh).cache().equals("MISS") && Http.get(fresh).cache().equals("HIT");
        });
    }

    /** Evictions and the gauges (on Cluster: scripts and pipelines over every bucket) as tomcat-cache, then ACL LOG. */
    private static void assertNothingRefused(CacheNode cache, List<RedisNode> nodes) {
        cache.cache().evictUrl(cache.url("/catalog/back?id=1"));
        cache.cache().evictTag("catalog");
        assertThat(cache.cache().statistics().getBytesStored()).isNotNegative();
        for (RedisNode node : nodes) {
            try (Jedis admin = node.client()) {
                assertThat(admin.aclLog()).as("commands " + node.name() + " refused to tomcat-cache").isEmpty();
            }
        }
    }

    /** Whether a new page, rendered on one node, is served from the cache on the other. */
    private static boolean cachedOnBothNodes(CacheNode one, CacheNode two) {
        String path = "/catalog/vip?id=" + PAGES.incrementAndGet();
        Http.Reply rendered = Http.get(one.url(path));
        Http.Reply hit = Http.get(two.url(path));
        return rendered.status() == 200 && rendered.cache().equals("MISS") && hit.cache().equals("HIT")
                && hit.text().equals(rendered.text());
    }
}

package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.RedisSessionManager;
import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.RedisNode;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.SentinelRedis;
import io.tomcatredis.testsupport.StandaloneRedis;
import io.tomcatredis.testsupport.TcpProxy;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/**
 * Redis trouble the manager heals from by itself: a failover behind a stable address (DNS or
 * virtual IP moved to the promoted replica; modelled by a {@link TcpProxy} whose new connections
 * go to the new master while open ones stay on the demoted node), and Sentinel or Cluster away
 * when the webapp is deployed.
 */
@Tag("tomcat")
class RedisTroubleIT {

    private static final int TIMEOUT_MILLIS = 1000;
    /** Slack for a loaded 2-core machine on top of the promise (timeoutMillis). */
    private static final Duration RECOVERY_BOUND = Duration.ofMillis(TIMEOUT_MILLIS + 4000);

    @Test
    void readonlyAfterFailoverBehindAStableAddressStopsWithinTimeoutMillisAndNoSessionIsLost() throws Exception {
        try (StandaloneRedis a = StandaloneRedis.start();
             StandaloneRedis b = StandaloneRedis.start();
             TcpProxy address = TcpProxy.forwardingTo(a.node());
             TomcatNode one = TomcatNode.start("vip1", behind(address));
             TomcatNode two = TomcatNode.start("vip2", behind(address))) {
            List<HttpSessionClient> browsers = sessionsOnBothNodes(one, two, 12);
            replicate(b.node(), a.node());

            // The failover a managed service does: promote the replica, demote the old master,
            // move the address. Pooled connections still reach the old master, which answers READONLY.
            try (Jedis promoted = b.node().client(); Jedis demoted = a.node().client()) {
                promoted.replicaofNoOne();
                demoted.replicaof(b.node().host(), b.node().port());
            }
            long moved = System.nanoTime();
            address.forwardTo(b.node());

            Await.until(RECOVERY_BOUND, "saves to succeed on both nodes after the address moved", () ->
                    browsers.get(0).get(one.url("incr")).status() == 200
                            && browsers.get(1).get(two.url("incr")).status() == 200);
            System.out.printf("failover behind a stable address (timeoutMillis=%d): saves work again %d ms after"
                    + " the address moved%n", TIMEOUT_MILLIS, (System.nanoTime() - moved) / 1_000_000);

            for (int i = 0; i < browsers.size(); i++) {
                HttpSessionClient browser = browsers.get(i);
                assertThat(browser.ok((i % 2 == 0 ? two : one).url("get?name=user")))
                        .as("session %d written before the failover", i).isEqualTo("u" + i);
                assertThat(browser.ok((i % 2 == 0 ? one : two).url("incr"))).as("a save after it").isNotEmpty();
            }
            try (Jedis newMaster = b.node().client()) {
                assertThat(newMaster.keys(RedisUnderTest.PREFIX + "{*")).as("sessions on the new master")
                        .hasSize(browsers.size());
            }
        }
    }

    @Test
    void savesInFlightDuringAFailoverBehindAStableAddressLoseNoAcknowledgedIncrement() throws Exception {
        try (StandaloneRedis a = StandaloneRedis.start();
             StandaloneRedis b = StandaloneRedis.start();
             TcpProxy address = TcpProxy.forwardingTo(a.node());
             TomcatNode one = TomcatNode.start("load1", behind(address));
             TomcatNode two = TomcatNode.start("load2", behind(address))) {
            List<HttpSessionClient> browsers = sessionsOnBothNodes(one, two, 4);
            replicate(b.node(), a.node());
            long[] acknowledged = new long[browsers.size()];
            boolean[] wentBackwards = new boolean[browsers.size()];
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicLong lastFailure = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.atomic.AtomicInteger failures = new java.util.concurrent.atomic.AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(browsers.size());
            List<Future<?>> load = new ArrayList<>();
            for (int c = 0; c < browsers.size(); c++) {
                int client = c;
                load.add(pool.submit(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        HttpSessionClient.Reply reply = browsers.get(client).get((i % 2 == 0 ? one : two).url("incr"));
                        if (reply.status() == 200) {
                            long value = Long.parseLong(reply.body());
                            wentBackwards[client] |= value <= acknowledged[client];
                            acknowledged[client] = value;
                        } else {
                            failures.incrementAndGet();
                            lastFailure.set(System.nanoTime());
                        }
                    }
                }));
            }
            try {
                Await.until(Duration.ofSeconds(10), "load before the failover", () -> acknowledged[0] > 5);
                // Redis' own coordinated failover, as managed services do it: pause writes, let the
                // replica catch up, swap roles. Saves in flight wait, then get READONLY.
                try (Jedis master = a.node().client()) {
                    master.failover(redis.clients.jedis.params.FailoverParams.failoverParams()
                            .to(b.node().host(), b.node().port()).timeout(5000));
                }
                Await.until(Duration.ofSeconds(10), "the old master to be demoted",
                        () -> "slave".equals(a.node().info("replication", "role")));
                long moved = System.nanoTime();
                address.forwardTo(b.node());
                Await.until(RECOVERY_BOUND, "no failed request for a while after the address moved", () -> {
                    long last = lastFailure.get();
                    return System.nanoTime() - Math.max(last, moved) > Duration.ofMillis(TIMEOUT_MILLIS).toNanos();
                });
                System.out.printf("saves under load during a failover behind a stable address: %d failed requests,"
                        + " the last %d ms after the address moved%n", failures.get(),
                        Math.max(0, lastFailure.get() - moved) / 1_000_000);
            } finally {
                stop.set(true);
                for (Future<?> running : load) {
                    running.get();
                }
                pool.shutdownNow();
            }
            for (int c = 0; c < browsers.size(); c++) {
                assertThat(wentBackwards[c]).as("client %d's counter went backwards", c).isFalse();
                assertThat(Long.parseLong(browsers.get(c).ok(one.url("get?name=counter"))))
                        .as("client %d's counter after the failover", c).isGreaterThanOrEqualTo(acknowledged[c]);
            }
        }
    }

    @Test
    void masterPausedMidRequestThenFailedOverBehindTheAddressRecoversWithoutARestart() throws Exception {
        try (StandaloneRedis a = StandaloneRedis.start();
             StandaloneRedis b = StandaloneRedis.start();
             TcpProxy address = TcpProxy.forwardingTo(a.node());
             TomcatNode one = TomcatNode.start("pause1", behind(address));
             TomcatNode two = TomcatNode.start("pause2", behind(address))) {
            List<HttpSessionClient> browsers = sessionsOnBothNodes(one, two, 4);
            replicate(b.node(), a.node());

            // The old master hangs (a frozen VM) with requests in flight; the address moves to B.
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                a.node().pause();
                List<Future<Integer>> inFlight = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    HttpSessionClient browser = browsers.get(i);
                    TomcatNode node = i % 2 == 0 ? one : two;
                    inFlight.add(pool.submit(() -> browser.get(node.url("incr")).status()));
                }
                try (Jedis promoted = b.node().client()) {
                    promoted.replicaofNoOne();
                }
                long moved = System.nanoTime();
                address.forwardTo(b.node());
                for (Future<Integer> request : inFlight) {
                    assertThat(request.get()).as("a request caught by the freeze ends with 200 or 503").isIn(200, 503);
                }
                Await.until(RECOVERY_BOUND, "saves to succeed on both nodes with the old master still frozen", () ->
                        browsers.get(0).get(one.url("incr")).status() == 200
                                && browsers.get(1).get(two.url("incr")).status() == 200);
                System.out.printf("frozen master, address moved (timeoutMillis=%d): saves work again %d ms later%n",
                        TIMEOUT_MILLIS, (System.nanoTime() - moved) / 1_000_000);
                for (int i = 0; i < browsers.size(); i++) {
                    assertThat(browsers.get(i).ok((i % 2 == 0 ? two : one).url("get?name=user"))).isEqualTo("u" + i);
                }
            } finally {
                a.node().resume();
                pool.shutdownNow();
            }
        }
    }

    @Test
    void sentinelUnreachableAtDeployStartsTheContextAnswers503AndServesOnceSentinelsAnswer() {
        try (SentinelRedis redis = SentinelRedis.notStarted(RedisOptions.DEFAULTS);
             TomcatNode node = TomcatNode.start("away-sentinel", m -> {
                 m.setProperty("sentinelMaster", SentinelRedis.MASTER_NAME);
                 m.setProperty("sentinels", redis.sentinelAddresses());
                 m.setTimeoutMillis(Integer.toString(TIMEOUT_MILLIS));
             })) {
            servesOnlyOnceRedisAnswers(node, redis::startNodes);
        }
    }

    @Test
    void clusterUnreachableAtDeployStartsTheContextAnswers503AndServesOnceItAnswers() {
        try (ClusterRedis redis = ClusterRedis.notStarted(3, 0, RedisOptions.DEFAULTS);
             TomcatNode node = TomcatNode.start("away-cluster", m -> {
                 m.setProperty("clusterNodes", redis.clusterNodes());
                 m.setTimeoutMillis(Integer.toString(TIMEOUT_MILLIS));
             })) {
            servesOnlyOnceRedisAnswers(node, redis::startNodes);
        }
    }

    private static void servesOnlyOnceRedisAnswers(TomcatNode node, Runnable startRedis) {
        assertThat(node.isContextAvailable()).as("the context started without Redis").isTrue();
        HttpSessionClient browser = new HttpSessionClient();
        HttpResponse<String> refused = send(node.url("set?name=user&value=ann"));
        assertThat(refused.statusCode()).as("a request that needs a session").isEqualTo(503);
        assertThat(refused.headers().firstValue("Retry-After")).isPresent();
        assertThat(refused.body()).doesNotContain("Exception");
        assertThat(browser.get(node.url("none")).status()).as("a page that needs no session").isEqualTo(200);

        startRedis.run();

        Await.until(RECOVERY_BOUND, "sessions to be stored once Redis answers",
                () -> browser.get(node.url("set?name=user&value=ann")).status() == 200);
        assertThat(browser.ok(node.url("get?name=user"))).isEqualTo("ann");
        assertThat(node.manager().getActiveSessions()).isEqualTo(1);
    }

    private static HttpResponse<String> send(String url) {
        try {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException("GET " + url + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Consumer<RedisSessionManager> behind(TcpProxy address) {
        return m -> {
            m.setRedisUri(address.uri());
            m.setTimeoutMillis(Integer.toString(TIMEOUT_MILLIS));
        };
    }

    /**
     * {@code count} sessions, each written on one node and read on the other, by concurrent
     * requests so that each node's pool holds several connections.
     */
    private static List<HttpSessionClient> sessionsOnBothNodes(TomcatNode one, TomcatNode two, int count)
            throws Exception {
        List<HttpSessionClient> browsers = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(count);
        try {
            List<Future<?>> writes = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                HttpSessionClient browser = new HttpSessionClient();
                browsers.add(browser);
                int n = i;
                writes.add(pool.submit(() -> {
                    browser.ok((n % 2 == 0 ? one : two).url("set?name=user&value=u" + n));
                    return browser.ok((n % 2 == 0 ? two : one).url("incr"));
                }));
            }
            for (Future<?> write : writes) {
                write.get();
            }
        } finally {
            pool.shutdownNow();
        }
        return browsers;
    }

    /** Makes {@code replica} a replica of {@code master} and waits until it holds every write. */
    private static void replicate(RedisNode replica, RedisNode master) {
        try (Jedis jedis = replica.client()) {
            jedis.replicaof(master.host(), master.port());
        }
        Await.until(Duration.ofSeconds(30), replica + " to replicate " + master,
                () -> "up".equals(replica.info("replication", "master_link_status")));
        try (Jedis jedis = master.client()) {
            assertThat(jedis.waitReplicas(1, 10_000)).as("replicas that have every write").isEqualTo(1);
        }
    }
}

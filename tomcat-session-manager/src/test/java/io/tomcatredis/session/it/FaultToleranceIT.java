package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.ProjectConf;
import io.tomcatredis.testsupport.RedisNode;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.SentinelRedis;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.util.JedisClusterCRC16;

/**
 * Faults a session store must survive: a Sentinel failover under load, a master restarted from
 * its AOF, a Cluster shard losing its master. Each test prints its measured figures.
 */
@Tag("tomcat")
class FaultToleranceIT {

    private static final int TIMEOUT_MILLIS = 1000;
    private static final String USER = "tomcat-session";
    private static final String PASSWORD = "fault-tolerance-secret";
    /**
     * The shipped configuration, which refuses clients without a user, and the session manager's
     * user of conf/users.acl; the harness and the sentinels log in as the file's administrator.
     */
    private static final RedisOptions SHIPPED_CONF = RedisOptions.DEFAULTS.withShippedConf(
            ProjectConf.aclFileWithPasswords(Map.of(USER, PASSWORD)), "admin", "harness-admin-secret");

    /** What one client saw while incrementing its session counter. */
    static final class Client {
        final HttpSessionClient browser = new HttpSessionClient();
        long lastAcknowledged;
        int failures;
        long maxLatencyMillis;
        boolean wentBackwards;
    }

    @Test
    void sentinelFailoverUnderLoadLosesNoAcknowledgedIncrement() throws Exception {
        try (SentinelRedis redis = SentinelRedis.start(SHIPPED_CONF);
             TomcatNode one = TomcatNode.start("f1", m -> sentinelManager(m, redis));
             TomcatNode two = TomcatNode.start("f2", m -> sentinelManager(m, redis))) {
            List<Client> clients = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                Client client = new Client();
                client.lastAcknowledged = Long.parseLong(client.browser.ok(one.url("incr")));
                clients.add(client);
            }
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong firstFailure = new AtomicLong();
            AtomicLong lastFailure = new AtomicLong();
            ExecutorService pool = Executors.newFixedThreadPool(clients.size());
            List<Future<?>> running = new ArrayList<>();
            for (Client client : clients) {
                running.add(pool.submit(() -> incrementUntil(stop, client, one, two, firstFailure, lastFailure)));
            }
            Await.until(Duration.ofSeconds(10), "some load before the crash",
                    () -> clients.stream().allMatch(c -> c.lastAcknowledged > 10));
            RedisNode master = redis.currentMaster();
            long crash = System.currentTimeMillis();
            master.kill();
            redis.awaitNewMaster(master);
            Await.until(Duration.ofSeconds(30), "every client to succeed again after the failover",
                    () -> lastFailure.get() == 0 || System.currentTimeMillis() - lastFailure.get() > 2000);
            stop.set(true);
            for (Future<?> future : running) {
                future.get();
            }
            pool.shutdown();

            long window = lastFailure.get() == 0 ? 0 : lastFailure.get() - Math.max(crash, firstFailure.get());
            int failed = clients.stream().mapToInt(c -> c.failures).sum();
            long maxLatency = clients.stream().mapToLong(c -> c.maxLatencyMillis).max().orElse(0);
            long total = clients.stream().mapToLong(c -> c.lastAcknowledged).sum();
            System.out.printf("sentinel failover (kill -9 master, waitReplicas=1): %d acknowledged increments,"
                    + " %d failed requests, unavailability window %d ms, max request latency %d ms%n",
                    total, failed, window, maxLatency);
            for (Client client : clients) {
                long now = Long.parseLong(client.browser.ok(two.url("get?name=counter")));
                assertThat(now).as("counter after failover vs last acknowledged").isGreaterThanOrEqualTo(
                        client.lastAcknowledged);
                assertThat(client.wentBackwards).as("a counter went backwards: an acknowledged write was lost").isFalse();
            }
            assertThat(maxLatency).as("no request hangs").isLessThan(2L * TIMEOUT_MILLIS + 1500);
            assertThat(one.manager().getReplicationShortfalls() + two.manager().getReplicationShortfalls())
                    .as("saves that a replica did not acknowledge").isLessThanOrEqualTo(failed + 12L);
        }
    }

    private static void sentinelManager(io.tomcatredis.session.RedisSessionManager m, SentinelRedis redis) {
        m.setProperty("sentinelMaster", SentinelRedis.MASTER_NAME);
        m.setProperty("sentinels", redis.sentinelAddresses());
        m.setRedisUri("redis://" + USER + ":" + PASSWORD + "@ignored");
        m.setTimeoutMillis(Integer.toString(TIMEOUT_MILLIS));
        m.setProperty("waitReplicas", "1");
        m.setProperty("waitTimeoutMillis", "500");
    }

    private static void incrementUntil(AtomicBoolean stop, Client client, TomcatNode one, TomcatNode two,
            AtomicLong firstFailure, AtomicLong lastFailure) {
        for (int i = 0; !stop.get() && i < 100_000; i++) {
            long start = System.nanoTime();
            HttpSessionClient.Reply reply = client.browser.get((i % 2 == 0 ? one : two).url("incr"));
            long latency = (System.nanoTime() - start) / 1_000_000;
            client.maxLatencyMillis = Math.max(client.maxLatencyMillis, latency);
            if (reply.status() == 200) {
                long value = Long.parseLong(reply.body());
                if (value <= client.lastAcknowledged) {
                    client.wentBackwards = true;
                }
                client.lastAcknowledged = value;
            } else {
                client.failures++;
                firstFailure.compareAndSet(0, System.currentTimeMillis());
                lastFailure.set(System.currentTimeMillis());
            }
        }
    }

    @Test
    void masterRestartedFromItsAppendOnlyFileBringsSessionsBack() {
        try (StandaloneRedis redis = StandaloneRedis.start(SHIPPED_CONF);
             TomcatNode node = TomcatNode.start("aof", m -> m.setRedisUri("redis://" + USER + ":" + PASSWORD + "@"
                     + redis.node().host() + ":" + redis.node().port()))) {
            List<HttpSessionClient> browsers = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                HttpSessionClient browser = new HttpSessionClient();
                browser.ok(node.url("set?name=user&value=u" + i));
                browsers.add(browser);
            }
            assertThat(redis.node().info("persistence", "aof_enabled")).isEqualTo("1");

            long start = System.currentTimeMillis();
            redis.node().restart();
            Await.until(Duration.ofSeconds(30), "sessions to be served again",
                    () -> browsers.get(0).get(node.url("get?name=user")).status() == 200);
            System.out.printf("master restarted from AOF: unavailable %d ms, 20 of 20 sessions back%n",
                    System.currentTimeMillis() - start);

            for (int i = 0; i < browsers.size(); i++) {
                assertThat(browsers.get(i).ok(node.url("get?name=user"))).isEqualTo("u" + i);
            }
        }
    }

    @Test
    void clusterShardLosingItsMasterFailsOverWhileOtherShardsServeThroughout() throws Exception {
        try (ClusterRedis redis = ClusterRedis.start(3, 1, RedisOptions.DEFAULTS);
             TomcatNode one = TomcatNode.start("c1", m -> clusterManager(m, redis));
             TomcatNode two = TomcatNode.start("c2", m -> clusterManager(m, redis))) {
            RedisNode victim = redis.masters().get(0);
            List<HttpSessionClient> onVictim = new ArrayList<>();
            List<HttpSessionClient> elsewhere = new ArrayList<>();
            for (int i = 0; i < 60 && (onVictim.size() < 3 || elsewhere.size() < 6); i++) {
                HttpSessionClient browser = new HttpSessionClient();
                browser.ok(one.url("set?name=n&value=" + i));
                boolean victimShard = redis.masterForSlot(JedisClusterCRC16.getSlot(
                        io.tomcatredis.session.store.SessionKeys.baseId(browser.sessionId()))) == victim;
                (victimShard ? onVictim : elsewhere).add(browser);
            }
            try (var jedis = victim.client()) {
                jedis.waitReplicas(1, 5000);
            }

            victim.kill();
            long start = System.currentTimeMillis();
            int otherShardFailures = 0;
            int otherShardRequests = 0;
            boolean recovered = false;
            while (System.currentTimeMillis() - start < 30_000 && !recovered) {
                for (HttpSessionClient browser : elsewhere) {
                    otherShardRequests++;
                    if (browser.get(two.url("incr")).status() != 200) {
                        otherShardFailures++;
                    }
                }
                recovered = onVictim.stream().allMatch(b -> b.get(two.url("get?name=n")).status() == 200);
            }
            long window = System.currentTimeMillis() - start;
            System.out.printf("cluster shard master killed: shard back after %d ms; other shards %d of %d requests"
                    + " failed%n", window, otherShardFailures, otherShardRequests);

            assertThat(recovered).as("the failed shard's sessions are served after failover").isTrue();
            assertThat(otherShardFailures).as("requests to sessions on other shards").isZero();
            for (HttpSessionClient browser : onVictim) {
                assertThat(browser.ok(one.url("get?name=n"))).isNotEqualTo("null");
            }
        }
    }

    private static void clusterManager(io.tomcatredis.session.RedisSessionManager m, ClusterRedis redis) {
        m.setProperty("clusterNodes", redis.clusterNodes());
        m.setTimeoutMillis(Integer.toString(TIMEOUT_MILLIS));
    }
}

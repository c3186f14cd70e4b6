package io.tomcatredis.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.RedisSentinelClient;

@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SentinelRedisTest {

    @RegisterExtension
    static final RedisExtension<SentinelRedis> REDIS = RedisExtension.sentinel();

    @Test
    @Order(1)
    void sentinelClientWritesThroughMasterAndFollowsFailover() {
        SentinelRedis redis = REDIS.get();
        assertThat(redis.sentinels()).hasSize(3);
        assertThat(redis.dataNodes()).hasSize(2);
        try (RedisSentinelClient client = RedisSentinelClient.builder()
                .masterName(SentinelRedis.MASTER_NAME)
                .sentinels(redis.sentinelHostAndPorts())
                .clientConfig(redis.clientConfig())
                .build()) {
            redis.awaitHealthy();
            RedisNode oldMaster = redis.currentMaster();
            try (Jedis jedis = oldMaster.client()) {
                jedis.set("before", "1");
            }
            RedisNode replica = redis.dataNodes().stream().filter(n -> n != oldMaster).findFirst().orElseThrow();
            try (Jedis jedis = oldMaster.client()) {
                assertThat(jedis.waitReplicas(1, 5000)).isEqualTo(1);
            }

            RedisNode newMaster = redis.failover();

            assertThat(newMaster).isSameAs(replica);
            redis.awaitHealthy();
            try (Jedis jedis = newMaster.client()) {
                assertThat(jedis.get("before")).isEqualTo("1");
            }
            Await.until(java.time.Duration.ofSeconds(30), "sentinel client to follow the failover", () -> {
                client.set("after", "2");
                try (Jedis jedis = newMaster.client()) {
                    return "2".equals(jedis.get("after"));
                }
            });
        }
    }

    @Test
    @Order(2)
    void killedMasterIsReplacedBySentinels() {
        SentinelRedis redis = REDIS.get();
        redis.awaitHealthy();
        RedisNode master = redis.currentMaster();
        long pid = master.pid();

        master.kill();
        RedisNode promoted = redis.awaitNewMaster(master);

        assertThat(promoted).isNotSameAs(master);
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        master.start();
        redis.awaitHealthy();
        // The sentinels turn the returning old master into a replica of whichever node is master now.
        Await.until(java.time.Duration.ofSeconds(60), "the old master to rejoin as a replica",
                () -> "slave".equals(master.info("replication", "role")) || redis.currentMaster() == master);
        redis.awaitHealthy();
        assertThat(redis.dataNodes()).allMatch(RedisNode::isRunning);
    }
}

package io.tomcatredis.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.util.JedisClusterCRC16;

class ClusterRedisTest {

    @Test
    void threeMasterClusterServesKeysOnEveryShard() {
        try (ClusterRedis cluster = ClusterRedis.start();
             RedisClusterClient client = RedisClusterClient.builder().nodes(cluster.hostAndPorts())
                     .clientConfig(cluster.clientConfig()).build()) {
            assertThat(cluster.masters()).hasSize(3);
            Map<RedisNode, Integer> keysPerMaster = new HashMap<>();
            for (int i = 0; i < 100; i++) {
                client.set("key-" + i, Integer.toString(i));
                keysPerMaster.merge(cluster.masterForSlot(JedisClusterCRC16.getSlot("key-" + i)), 1, Integer::sum);
            }
            assertThat(keysPerMaster).hasSize(3);
            assertThat(client.get("key-42")).isEqualTo("42");
        }
    }

    @Test
    void killedShardMasterFailsOverWhileOtherShardsKeepServing() {
        try (ClusterRedis cluster = ClusterRedis.start(3, 1, RedisOptions.DEFAULTS);
             RedisClusterClient client = RedisClusterClient.builder().nodes(cluster.hostAndPorts())
                     .clientConfig(cluster.clientConfig()).build()) {
            assertThat(cluster.replicas()).hasSize(3);
            String key = "shard-key";
            client.set(key, "value");
            RedisNode master = cluster.masterForSlot(JedisClusterCRC16.getSlot(key));
            try (var jedis = master.client()) {
                jedis.waitReplicas(1, 5000);
            }

            master.kill();
            cluster.awaitHealthy();

            RedisNode promoted = cluster.masterForSlot(JedisClusterCRC16.getSlot(key));
            assertThat(promoted).isNotSameAs(master);
            Await.until(java.time.Duration.ofSeconds(30), "cluster client to read from the promoted master",
                    () -> "value".equals(client.get(key)));
        }
    }
}

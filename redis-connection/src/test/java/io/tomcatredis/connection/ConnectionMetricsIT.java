package io.tomcatredis.connection;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.SentinelRedis;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue 16: the pool gauges read the pools of the client open now, for every topology; the
 * borrow wait is measured where this project owns the pool (standalone).
 */
class ConnectionMetricsIT {

    @Test
    void standalonePoolUsageAndEveryBorrowAreMeasured() {
        try (StandaloneRedis redis = StandaloneRedis.start()) {
            ConnectionMetrics metrics = new ConnectionMetrics();
            try (RedisClientHolder holder = RedisConnector.connect(RedisConnectionSettings.parse(Map.of(
                    RedisConnectionSettings.REDIS_URI, redis.uri(), RedisConnectionSettings.MAX_CONNECTIONS, "7")::get),
                    "metrics-test", metrics)) {
                long borrows = metrics.borrowWaitSeconds().count();
                for (int i = 0; i < 3; i++) {
                    String key = "k" + i;
                    holder.call(jedis -> jedis.set(key, "v"));
                }
                assertThat(metrics.max()).isEqualTo(7);
                assertThat(metrics.active()).isZero();
                assertThat(metrics.idle()).isEqualTo(1);
                assertThat(metrics.waiting()).isZero();
                assertThat(metrics.borrowWaitSeconds().count() - borrows).as("one borrow per command").isEqualTo(3);
            }
        }
    }

    @Test
    void sentinelAndClusterPoolsAreReadFromTheClientJedisBuilt() {
        try (SentinelRedis sentinel = SentinelRedis.start()) {
            ConnectionMetrics metrics = new ConnectionMetrics();
            try (RedisClientHolder holder = RedisConnector.connect(RedisConnectionSettings.parse(Map.of(
                    RedisConnectionSettings.SENTINEL_MASTER, SentinelRedis.MASTER_NAME,
                    RedisConnectionSettings.SENTINELS, sentinel.sentinelAddresses(),
                    RedisConnectionSettings.MAX_CONNECTIONS, "5")::get), "metrics-test", metrics)) {
                holder.call(jedis -> jedis.set("k", "v"));
                assertThat(metrics.max()).as("the master's pool").isEqualTo(5);
                assertThat(metrics.idle()).isPositive();
            }
        }
        try (ClusterRedis cluster = ClusterRedis.start()) {
            ConnectionMetrics metrics = new ConnectionMetrics();
            try (RedisClientHolder holder = RedisConnector.connect(RedisConnectionSettings.parse(Map.of(
                    RedisConnectionSettings.CLUSTER_NODES, cluster.clusterNodes(),
                    RedisConnectionSettings.MAX_CONNECTIONS, "5")::get), "metrics-test", metrics)) {
                for (int i = 0; i < 20; i++) {
                    String key = "k" + i;
                    holder.call(jedis -> jedis.set(key, "v"));
                }
                assertThat(metrics.max()).as("a pool per node, summed").isGreaterThanOrEqualTo(5 * cluster.masters().size());
                assertThat(metrics.idle()).isPositive();
            }
        }
    }
}

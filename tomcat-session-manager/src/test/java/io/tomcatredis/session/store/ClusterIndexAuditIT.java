package io.tomcatredis.session.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.connection.RedisClientHolder;
import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.RedisExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.util.JedisClusterCRC16;

/** The expiry index audit and the never-expiring scores on Redis Cluster, one index key per slot. */
class ClusterIndexAuditIT {

    @RegisterExtension
    static final RedisExtension<ClusterRedis> REDIS = RedisExtension.cluster(3, 0);

    private static final String PREFIX = "tomcat-session:localhost/app:";
    private static final String KEPT = "0123456789ABCDEF0123456789ABCDEF";
    private static final String GONE = "FEDCBA9876543210FEDCBA9876543210";

    private UnifiedJedis jedis;
    private RedisSessionStore store;

    @BeforeEach
    void connect() {
        REDIS.get().flushAll();
        jedis = RedisClusterClient.builder().nodes(REDIS.get().hostAndPorts()).clientConfig(REDIS.get().clientConfig())
                .build();
        UnifiedJedis client = jedis;
        store = new RedisSessionStore(new RedisClientHolder(() -> client, RedisClientHolder.Reopen.NEVER, 2000, 100,
                "test"), new SessionKeys(PREFIX), true, 2000, 0, 0, 0);
    }

    @AfterEach
    void close() {
        jedis.close();
    }

    @Test
    void auditRemovesTheEntryOfAVanishedSessionFromItsSlotsIndexKey() {
        store.save(KEPT, SessionChanges.created(1_000, 0));
        store.save(GONE, SessionChanges.created(1_000, 0));
        jedis.del(PREFIX + "{" + GONE + "}");
        int slot = JedisClusterCRC16.getSlot(GONE);

        store.auditIndex(new RedisSessionStore.IndexPosition(slot, 0));

        assertThat(jedis.zrange(store.topology().expiryIndexKey(GONE), 0, -1)).doesNotContain(GONE);
        assertThat(jedis.zrange(store.topology().expiryIndexKey(KEPT), 0, -1)).containsExactly(KEPT);
        assertThat(store.count()).isEqualTo(1);
    }

    @Test
    void successiveAuditsCycleThroughEverySlot() {
        RedisSessionStore.IndexPosition position = RedisSessionStore.IndexPosition.START;
        int calls = 0;
        do {
            position = store.auditIndex(position);
            calls++;
        } while (!position.equals(RedisSessionStore.IndexPosition.START) && calls < 1000);

        assertThat(calls).as("audits of 128 index keys each, over 16,384 slots").isEqualTo(128);
    }
}

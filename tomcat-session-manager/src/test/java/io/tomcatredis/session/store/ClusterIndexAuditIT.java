package io.tomcatredis.session.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.connection.RedisClientHolder;
import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.RedisExtension;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.util.JedisClusterCRC16;

/**
 * The expiry index audit, the never-expiring scores and the sweep's batch claim on Redis Cluster,
 * one index key per slot.
 */
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
    /**
     * The sweep's read from any window finds due sessions of every slot (the keys wrap around),
     * their keys are kept alive slot by slot, and one pipelined batch claims sessions of different
     * slots on their own masters.
     */
    @Test
    void aBatchOfExpiryClaimsAcrossSlotsIsClaimedFromAnyWindow() {
        for (String id : List.of(KEPT, GONE)) {
            store.save(id, SessionChanges.created(1_000, 600));
            jedis.hset(PREFIX + "{" + id + "}", "meta:lastAccessedTime", "1000");
            jedis.zadd(store.topology().expiryIndexKey(id), 1_000, id);
        }
        long now = System.currentTimeMillis();

        for (int window = 0; window < 16; window++) {
            assertThat(store.dueForExpiry(now, 100, window, 16).ids()).as("window " + window)
                    .containsExactlyInAnyOrder(KEPT, GONE);
        }
        store.keepDueAlive(now, 100_000_000, -1);
        assertThat(jedis.pttl(PREFIX + "{" + KEPT + "}")).as("kept alive in its slot").isGreaterThan(90_000_000L);
        assertThat(jedis.pttl(PREFIX + "{" + GONE + "}")).as("kept alive in its slot").isGreaterThan(90_000_000L);
        List<ExpiryClaim> claims = store.claimExpired(List.of(KEPT, GONE), List.of());

        assertThat(claims).allSatisfy(claim -> assertThat(claim).isInstanceOf(ExpiryClaim.Won.class));
        assertThat(store.count()).isZero();
        store.releaseClaims(List.of(KEPT, GONE));
        assertThat(jedis.exists(PREFIX + "{" + KEPT + "}:claimed")).isFalse();
        assertThat(jedis.exists(PREFIX + "{" + GONE + "}:claimed")).isFalse();
    }
}

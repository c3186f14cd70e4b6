package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.RedisSessionManager;
import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.RedisNode;
import io.tomcatredis.testsupport.SentinelRedis;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/**
 * {@code nearCacheStalenessMillis} across a Sentinel failover: the node's invalidation subscription
 * follows the master (nothing is answered from the cache meanwhile), and a change made on the new
 * master is seen within the bound.
 */
@Tag("tomcat")
class NearCacheTrackingSentinelIT {

    private static final int BOUND_MILLIS = 300;
    private static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void aFailoverMovesTheSubscriptionToTheNewMasterAndChangesThereAreSeen() {
        try (SentinelRedis redis = SentinelRedis.start();
             RedisUnderTest underTest = RedisUnderTest.sentinel(redis);
             TomcatNode nodeA = TomcatNode.start("trackSentA", m -> configure(m, underTest));
             TomcatNode nodeB = TomcatNode.start("trackSentB", m -> configure(m, underTest))) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(nodeA.url("set?name=color&value=red"));
            Await.until(WAIT, "a request answered from the near cache", () -> {
                long hits = nodeA.manager().getNearCacheHitCount();
                browser.ok(nodeA.url("get?name=color"));
                return nodeA.manager().getNearCacheHitCount() > hits;
            });

            RedisNode newMaster = redis.failover();
            Await.until(WAIT, "node A's subscription on the new master", () -> {
                try (Jedis jedis = newMaster.client()) {
                    return jedis.clientList().contains("name=tomcat-redis-session-invalidations")
                            && nodeA.manager().isNearCacheTrackingCurrent();
                }
            });
            Await.until(WAIT, "node B writes to the new master", () -> browser.get(nodeB.url("set?name=color&value=blue"))
                    .status() == 200);
            long changed = System.nanoTime();

            Await.until(WAIT, "the change seen on node A, and a request begun after the bound", () -> {
                long began = System.nanoTime();
                String shown = browser.get(nodeA.url("get?name=color")).body();
                if (began - changed > Duration.ofMillis(BOUND_MILLIS).toNanos()) {
                    assertThat(shown).as("a request begun after the bound").isEqualTo("blue");
                    return true;
                }
                return false;
            });
        }
    }

    private static void configure(RedisSessionManager manager, RedisUnderTest redis) {
        redis.configure(manager);
        manager.setProperty("nearCacheStalenessMillis", Integer.toString(BOUND_MILLIS));
    }
}

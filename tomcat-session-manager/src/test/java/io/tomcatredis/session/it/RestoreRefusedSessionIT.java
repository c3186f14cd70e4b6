package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.RedisOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.UnifiedJedis;

/**
 * changeSessionId on a Redis Cluster whose masters refuse RESTORE ({@code rename-command RESTORE ""},
 * as an ACL without {@code restore} or a master of an older version refuses it): the session moves
 * to its new slot field by field, attributes and structures included, the old id stops working, and
 * each node says once, as a WARN, why.
 */
class RestoreRefusedSessionIT {

    @RegisterExtension
    static final RedisExtension<ClusterRedis> REDIS = RedisExtension.of(() -> ClusterRedis.start(3, 0,
            RedisOptions.DEFAULTS.withConfig("rename-command RESTORE \"\"")));

    @Test
    void idChangesMoveTheSessionFieldByFieldAndTheOldIdStopsWorking() {
        RedisUnderTest redis = RedisUnderTest.cluster(REDIS.get());
        try (CapturedLog log = CapturedLog.of("io.tomcatredis.session.store.ClusterTopology");
             TomcatNode a = TomcatNode.start("restore-a", redis::configure);
             TomcatNode b = TomcatNode.start("restore-b", redis::configure)) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(a.url("set?name=color&value=blue"));
            browser.ok(a.url("recommend?value=p-1"));
            browser.ok(b.url("recommend?value=p-2"));
            UnifiedJedis jedis = redis.client();
            for (int i = 0; i < 3; i++) {
                String before = browser.sessionId();
                browser.ok((i % 2 == 0 ? a : b).url("change-id"));
                String after = browser.sessionId();
                assertThat(after).isNotEqualTo(before);

                assertThat(browser.ok((i % 2 == 0 ? b : a).url("get?name=color"))).isEqualTo("blue");
                assertThat(browser.ok(a.url("recommendations"))).isEqualTo("p-1,p-2");
                assertThat(jedis.exists(redis.sessionKey(before))).as("old hash").isFalse();
                assertThat(jedis.exists(redis.sessionKey(before) + ":data:recommendations")).as("old structure").isFalse();
                assertThat(jedis.pttl(redis.sessionKey(after) + ":data:recommendations")).as("structure TTL").isPositive();

                HttpSessionClient stale = new HttpSessionClient();
                stale.sessionId(before);
                assertThat(stale.ok(b.url("get?name=color"))).as("the old id is no session").isEqualTo("no session");
            }
            assertThat(log.messages()).as("once per node: node a moved the session twice, b once").hasSize(2)
                    .allSatisfy(message -> assertThat(message).contains("RESTORE refused", "Unknown Redis command",
                            "field by field"));
        } finally {
            redis.close();
        }
    }
}

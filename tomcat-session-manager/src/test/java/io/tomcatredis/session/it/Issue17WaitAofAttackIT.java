package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tomcatredis.session.RedisStore;
import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.RedisNode;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.RedisServer;
import io.tomcatredis.testsupport.StandaloneRedis;
import org.apache.catalina.session.PersistentManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;

/**
 * Attack on issue 17's WAITAOF option ({@code waitAofLocal}, {@code waitAofReplicas}): the append-only
 * file switched off at runtime, bad values, both waits together with a paused replica, Redis 7.0 with
 * {@code waitAofLocal} alone, and RedisStore (PersistentManager).
 */
class Issue17WaitAofAttackIT {

    @RegisterExtension
    static final RedisExtension<ClusterRedis> VALKEY = RedisExtension.of(() -> ClusterRedis.start(1, 1,
            RedisOptions.DEFAULTS.withServer(RedisServer.VALKEY).withConfig("appendonly yes", "appendfsync always")));

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> VALKEY_AOF = RedisExtension.of(() -> StandaloneRedis.start(
            RedisOptions.DEFAULTS.withServer(RedisServer.VALKEY).withConfig("appendonly yes")));

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS_7_0 = RedisExtension.of(() -> StandaloneRedis.start(
            RedisOptions.DEFAULTS.withServer(RedisServer.REDIS)));

    /** CONFIG SET appendonly no after start: WAITAOF 1 errors; the save is in Redis, so a shortfall, not a 500. */
    @Test
    void appendOnlySwitchedOffAtRuntimeIsAShortfallNotAnError() {
        try (CapturedLog log = CapturedLog.of("io.tomcatredis.session.store.RedisSessionStore");
             TomcatNode node = TomcatNode.start("aof-runtime-off", m -> {
                 m.setRedisUri(VALKEY_AOF.get().uri());
                 m.setProperty("waitAofLocal", "true");
             })) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(node.url("set?name=a&value=1"));
            assertThat(node.manager().getReplicationShortfalls()).isZero();
            try (Jedis admin = VALKEY_AOF.get().node().client()) {
                admin.configSet("appendonly", "no");
            }
            try {
                browser.ok(node.url("set?name=a&value=2"));
                assertThat(browser.ok(node.url("get?name=a"))).isEqualTo("2");
                assertThat(node.manager().getReplicationShortfalls()).isEqualTo(1);
                assertThat(log.text()).contains("WAITAOF failed", "appendonly");
            } finally {
                try (Jedis admin = VALKEY_AOF.get().node().client()) {
                    admin.configSet("appendonly", "yes");
                }
            }
        }
    }

    @Test
    void badValuesAreRefusedWithExactMessages() {
        String[][] cases = {
            {"waitAofReplicas", "-1", "Invalid value for attribute 'waitAofReplicas': -1 is outside the allowed range 0..100"},
            {"waitAofReplicas", "101", "Invalid value for attribute 'waitAofReplicas': 101 is outside the allowed range 0..100"},
            {"waitAofReplicas", "yes", "Invalid value for attribute 'waitAofReplicas': \"yes\" is not a whole number"},
            {"waitAofLocal", "yes", "Invalid value for attribute 'waitAofLocal': \"yes\" is neither true nor false"},
            {"waitAofLocal", "1", "Invalid value for attribute 'waitAofLocal': \"1\" is neither true nor false"},
        };
        for (String[] bad : cases) {
            try (CapturedLog log = CapturedLog.of("")) {
                assertThatThrownBy(() -> TomcatNode.start("aof-bad", m -> {
                    m.setRedisUri(VALKEY_AOF.get().uri());
                    m.setProperty(bad[0], bad[1]);
                })).as(bad[0] + "=" + bad[1]).isInstanceOf(IllegalStateException.class);
                assertThat(log.text()).as(bad[0] + "=" + bad[1]).contains(bad[2]);
            }
        }
    }

    /** Redis 7.0 has no WAITAOF: waitAofLocal alone (numlocal 1, no replicas) must refuse to start too. */
    @Test
    void waitAofLocalAloneRefusesToStartOnRedis70() {
        try (CapturedLog log = CapturedLog.of("")) {
            assertThatThrownBy(() -> TomcatNode.start("aof-local-redis70", m -> {
                m.setRedisUri(REDIS_7_0.get().uri());
                m.setProperty("waitAofLocal", "true");
            })).isInstanceOf(IllegalStateException.class);
            assertThat(log.text()).contains("'waitAofLocal'", "WAITAOF", "Redis 7.2", "redis 7.0.");
        }
    }

    /** waitReplicas and waitAofReplicas together, the replica paused: both fall short within their timeouts, no hang. */
    @Test
    void waitAndWaitAofTogetherWithAPausedReplicaCountShortfallsAndAnswer() {
        RedisNode replica = VALKEY.get().replicas().get(0);
        try (CapturedLog log = CapturedLog.of("io.tomcatredis.session.store.RedisSessionStore");
             TomcatNode node = TomcatNode.start("aof-both", m -> {
                 m.setProperty("clusterNodes", VALKEY.get().clusterNodes());
                 m.setProperty("waitReplicas", "1");
                 m.setProperty("waitAofLocal", "true");
                 m.setProperty("waitAofReplicas", "1");
                 m.setProperty("waitTimeoutMillis", "100");
             })) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(node.url("set?name=a&value=1"));
            assertThat(node.manager().getReplicationShortfalls()).isZero();
            replica.pause();
            try {
                browser.ok(node.url("set?name=a&value=2"));
            } finally {
                replica.resume();
            }
            assertThat(browser.ok(node.url("get?name=a"))).isEqualTo("2");
            assertThat(node.manager().getReplicationShortfalls()).as("WAIT's and WAITAOF's of the one save")
                    .isBetween(1L, 2L);
            assertThat(log.text()).contains("acknowledged by 0 of 1 replicas within 100 ms",
                    "fsynced on the master and by 0 of 1 replicas within 100 ms");
        }
    }

    /** RedisStore takes the same attributes and the same start check. */
    @Test
    void redisStoreRefusesWaitAofOnRedis70() {
        try (CapturedLog log = CapturedLog.of("")) {
            assertThatThrownBy(() -> TomcatNode.startWith("aof-store-redis70", () -> {
                PersistentManager manager = new PersistentManager();
                RedisStore store = new RedisStore();
                store.setProperty("redisUri", REDIS_7_0.get().uri());
                store.setProperty("waitAofReplicas", "1");
                manager.setStore(store);
                return manager;
            }, context -> { })).isInstanceOf(IllegalStateException.class);
            assertThat(log.text()).contains("'waitAofReplicas'", "WAITAOF", "Redis 7.2");
        }
    }

    @Test
    void redisStoreWithWaitAofLocalSavesOnValkey() {
        try (TomcatNode node = TomcatNode.startWith("aof-store", () -> {
            PersistentManager manager = new PersistentManager();
            RedisStore store = new RedisStore();
            store.setProperty("redisUri", VALKEY_AOF.get().uri());
            store.setProperty("waitAofLocal", "true");
            manager.setStore(store);
            manager.setSaveOnRestart(true);
            return manager;
        }, context -> { })) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(node.url("set?name=a&value=1"));
            assertThat(browser.ok(node.url("get?name=a"))).isEqualTo("1");
        }
    }
}

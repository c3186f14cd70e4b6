package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.RedisNode;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.RedisServer;
import io.tomcatredis.testsupport.StandaloneRedis;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;

/**
 * {@code waitAofLocal} and {@code waitAofReplicas}: every save is followed, in its pipeline, by
 * {@code WAITAOF <local> <replicas> <waitTimeoutMillis>}, so "acknowledged" means fsynced to the
 * append-only file of the master and of that many replicas; a shortfall is counted and logged as
 * for {@code waitReplicas}. A server without WAITAOF (Redis before 7.2), or {@code waitAofLocal}
 * on a master without an append-only file, stops the manager from starting.
 */
class WaitAofIT {

    /** Valkey 8, a master and its replica, both with an append-only file fsynced at every write. */
    @RegisterExtension
    static final RedisExtension<ClusterRedis> VALKEY = RedisExtension.of(() -> ClusterRedis.start(1, 1,
            RedisOptions.DEFAULTS.withServer(RedisServer.VALKEY).withConfig("appendonly yes", "appendfsync always")));

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> VALKEY_WITHOUT_AOF = RedisExtension.of(() -> StandaloneRedis.start(
            RedisOptions.DEFAULTS.withServer(RedisServer.VALKEY)));

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS_7_0 = RedisExtension.of(() -> StandaloneRedis.start(
            RedisOptions.DEFAULTS.withServer(RedisServer.REDIS)));

    @Test
    void savesWaitUntilTheMasterAndAReplicaFsyncedTheirAppendOnlyFiles() {
        RedisNode master = VALKEY.get().masters().get(0);
        try (CapturedLog log = CapturedLog.of("io.tomcatredis.session");
             TomcatNode node = TomcatNode.start("aof", m -> {
                 m.setProperty("clusterNodes", VALKEY.get().clusterNodes());
                 m.setProperty("waitAofLocal", "true");
                 m.setProperty("waitAofReplicas", "1");
             })) {
            try (Jedis admin = master.client()) {
                admin.configResetStat();
            }
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(node.url("set?name=a&value=1"));
            browser.ok(node.url("set?name=a&value=2"));
            assertThat(browser.ok(node.url("get?name=a"))).isEqualTo("2");

            assertThat(node.manager().getReplicationShortfalls()).isZero();
            try (Jedis admin = master.client()) {
                assertThat(admin.info("commandstats")).as("one WAITAOF per save; the read saves nothing")
                        .contains("cmdstat_waitaof:calls=2,");
            }
            assertThat(log.text()).contains("WAITAOF 1 1 up to 1000 ms after each save");
        }
    }

    /** The shipped ACL rule ({@code +@all -@dangerous}) denies INFO and CONFIG: the start check needs neither. */
    @Test
    void startsAndWaitsUnderTheShippedAclRule() {
        for (RedisNode node : VALKEY.get().nodes()) {
            try (Jedis admin = node.client()) {
                admin.aclSetUser("tomcat", "on", ">tomcat-secret", "resetchannels", "~tomcat-session:*", "+@all",
                        "-@dangerous", "+restore");
            }
        }
        try (TomcatNode node = TomcatNode.start("aof-acl", m -> {
            m.setRedisUri("redis://tomcat:tomcat-secret@ignored");
            m.setProperty("clusterNodes", VALKEY.get().clusterNodes());
            m.setProperty("waitAofLocal", "true");
            m.setProperty("waitAofReplicas", "1");
        })) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(node.url("set?name=a&value=1"));
            assertThat(browser.ok(node.url("get?name=a"))).isEqualTo("1");
            assertThat(node.manager().getReplicationShortfalls()).isZero();
        }
    }

    @Test
    void replicaThatDoesNotFsyncInTimeIsAShortfallCountedAndLoggedAndTheRequestStillSucceeds() {
        RedisNode replica = VALKEY.get().replicas().get(0);
        try (CapturedLog log = CapturedLog.of("io.tomcatredis.session.store.RedisSessionStore");
             TomcatNode node = TomcatNode.start("aof-shortfall", m -> {
                 m.setProperty("clusterNodes", VALKEY.get().clusterNodes());
                 m.setProperty("waitAofReplicas", "1");
                 m.setProperty("waitTimeoutMillis", "100");
             })) {
            HttpSessionClient browser = new HttpSessionClient();
            replica.pause();
            try {
                browser.ok(node.url("set?name=a&value=2"));
            } finally {
                replica.resume();
            }
            assertThat(browser.ok(node.url("get?name=a"))).isEqualTo("2");
            assertThat(node.manager().getReplicationShortfalls()).as("the one save; the read saves nothing").isEqualTo(1);
            assertThat(log.text()).contains("fsynced by 0 of 1 replicas within 100 ms");
        }
    }

    @Test
    void managerRefusesToStartOnAServerWithoutWaitAof() {
        try (CapturedLog log = CapturedLog.of("")) {
            assertThatThrownBy(() -> TomcatNode.start("aof-redis70", m -> {
                m.setRedisUri(REDIS_7_0.get().uri());
                m.setProperty("waitAofReplicas", "1");
            })).isInstanceOf(IllegalStateException.class);
            assertThat(log.text()).contains("'waitAofReplicas'", "WAITAOF", "Redis 7.2", "redis 7.0.");
        }
    }

    @Test
    void waitAofLocalRefusesToStartOnAMasterWithoutAppendOnlyFile() {
        try (CapturedLog log = CapturedLog.of("")) {
            assertThatThrownBy(() -> TomcatNode.start("aof-off", m -> {
                m.setRedisUri(VALKEY_WITHOUT_AOF.get().uri());
                m.setProperty("waitAofLocal", "true");
            })).isInstanceOf(IllegalStateException.class);
            assertThat(log.text()).contains("'waitAofLocal'", "appendonly yes", "valkey 8.");
        }
    }

    @Test
    void bothWaitsMustFitInTheConnectionTimeout() {
        try (CapturedLog log = CapturedLog.of("")) {
            assertThatThrownBy(() -> TomcatNode.start("aof-timeout", m -> {
                m.setProperty("clusterNodes", VALKEY.get().clusterNodes());
                m.setProperty("waitReplicas", "1");
                m.setProperty("waitAofLocal", "true");
                m.setProperty("waitTimeoutMillis", "1500");
            })).isInstanceOf(IllegalStateException.class);
            assertThat(log.text()).contains("'waitTimeoutMillis'", "WAIT and WAITAOF");
            assertThatThrownBy(() -> TomcatNode.start("aof-negative", m -> {
                m.setProperty("clusterNodes", VALKEY.get().clusterNodes());
                m.setProperty("waitAofReplicas", "-1");
            })).isInstanceOf(IllegalStateException.class);
            assertThat(log.text()).contains("'waitAofReplicas'");
        }
    }
}

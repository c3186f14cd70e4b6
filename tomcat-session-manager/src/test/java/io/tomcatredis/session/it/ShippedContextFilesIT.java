package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.ProjectConf;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.SentinelRedis;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The project's conf/context-sentinel.xml and conf/context-cluster.xml, read by Tomcat as they
 * stand (only their ${...} values come from system properties, the credentials among them), keep
 * sessions across two nodes of a deployment that runs conf/redis-session.conf and so requires a
 * user and password: the session manager's user of conf/users.acl ({@code tomcat-session}), which
 * no command is refused to (ACL LOG). The harness logs in as the file's administrator.
 */
@Tag("tomcat")
class ShippedContextFilesIT {

    private static final String PASSWORD = "shipped-context-secret";
    private static final String SENTINEL_PASSWORD = "shipped-sentinel-secret";
    private static final RedisOptions SHIPPED_CONF = RedisOptions.DEFAULTS.withShippedConf(
            ProjectConf.aclFileWithPasswords(Map.of("tomcat-session", PASSWORD, "replica", "replica-secret",
                    "sentinel", "sentinel-user-secret")), "admin", "harness-admin-secret");

    /**
     * Replicas and sentinels log in as the replica and sentinel users of conf/users.acl, and a
     * failover (sentinels reconfiguring both data nodes) works with them.
     */
    @Test
    void sentinelContextFileWorksAsShipped() {
        RedisOptions documentedUsers = SHIPPED_CONF
                .withConfig("masteruser replica", "masterauth replica-secret")
                .withSentinelConfig("sentinel auth-user " + SentinelRedis.MASTER_NAME + " sentinel",
                        "sentinel auth-pass " + SentinelRedis.MASTER_NAME + " sentinel-user-secret")
                .withSentinelPassword(SENTINEL_PASSWORD);
        try (SentinelRedis redis = SentinelRedis.start(documentedUsers)) {
            System.setProperty("tomcatredis.sentinels", redis.sentinelAddresses());
            System.setProperty("tomcatredis.sentinelPassword", SENTINEL_PASSWORD);
            System.setProperty("tomcatredis.redisUri", "redis://tomcat-session:" + PASSWORD + "@ignored");
            try (TomcatNode one = TomcatNode.startFromContextXml("s1", ProjectConf.file("context-sentinel.xml"));
                 TomcatNode two = TomcatNode.startFromContextXml("s2", ProjectConf.file("context-sentinel.xml"))) {
                assertSessionsShared(one, two);
                assertThat(one.manager().getReplicationShortfalls()).isZero();
                redis.failover();
                redis.awaitHealthy();
                HttpSessionClient browser = new HttpSessionClient();
                // Until the nodes hear of the new master, a save may meet the demoted one (503).
                Await.until(Duration.ofSeconds(30), "a save on the new master",
                        () -> browser.get(two.url("set?name=color&value=plum")).status() == 200);
                assertThat(browser.ok(one.url("get?name=color"))).isEqualTo("plum");
                assertNothingRefused(redis.dataNodes());
            } finally {
                System.clearProperty("tomcatredis.sentinels");
                System.clearProperty("tomcatredis.sentinelPassword");
                System.clearProperty("tomcatredis.redisUri");
            }
        }
    }

    @Test
    void sentinelsThatRequireAPasswordAreReachedWithSentinelPassword() {
        try (SentinelRedis redis = SentinelRedis.start(RedisOptions.DEFAULTS.withSentinelPassword("sentinel-secret"))) {
            try (TomcatNode one = TomcatNode.start("sp1", m -> {
                     m.setProperty("sentinelMaster", SentinelRedis.MASTER_NAME);
                     m.setProperty("sentinels", redis.sentinelAddresses());
                     m.setProperty("sentinelPassword", "sentinel-secret");
                 });
                 TomcatNode two = TomcatNode.start("sp2", m -> {
                     m.setProperty("sentinelMaster", SentinelRedis.MASTER_NAME);
                     m.setProperty("sentinels", redis.sentinelAddresses());
                     m.setProperty("sentinelPassword", "sentinel-secret");
                 })) {
                assertSessionsShared(one, two);
            }
        }
    }

    @Test
    void clusterContextFileWorksAsShipped() {
        try (ClusterRedis redis = ClusterRedis.start(3, 0, SHIPPED_CONF)) {
            System.setProperty("tomcatredis.clusterNodes", redis.clusterNodes());
            System.setProperty("tomcatredis.redisUri", "redis://tomcat-session:" + PASSWORD + "@ignored");
            try (TomcatNode one = TomcatNode.startFromContextXml("k1", ProjectConf.file("context-cluster.xml"));
                 TomcatNode two = TomcatNode.startFromContextXml("k2", ProjectConf.file("context-cluster.xml"))) {
                assertSessionsShared(one, two);
                assertNothingRefused(redis.masters());
            } finally {
                System.clearProperty("tomcatredis.clusterNodes");
                System.clearProperty("tomcatredis.redisUri");
            }
        }
    }

    private static void assertSessionsShared(TomcatNode one, TomcatNode two) {
        assertThat(one.manager()).as("the manager declared in the file").isNotNull();
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(one.url("set?name=color&value=teal"));
        browser.ok(two.url("cart-add?value=apple"));
        assertThat(browser.ok(one.url("get?name=color"))).isEqualTo("teal");
        assertThat(browser.ok(one.url("get?name=cart"))).isEqualTo("[apple]");
        // On Cluster the new id usually hashes to another slot: the session moves by DUMP/RESTORE.
        browser.ok(two.url("change-id"));
        assertThat(browser.ok(one.url("get?name=color"))).isEqualTo("teal");
    }

    private static void assertNothingRefused(java.util.List<io.tomcatredis.testsupport.RedisNode> nodes) {
        for (io.tomcatredis.testsupport.RedisNode node : nodes) {
            try (redis.clients.jedis.Jedis admin = node.client()) {
                assertThat(admin.aclLog()).as("commands refused to the documented Tomcat user on " + node).isEmpty();
            }
        }
    }
}

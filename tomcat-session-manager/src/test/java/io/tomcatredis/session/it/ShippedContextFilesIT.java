package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.ProjectConf;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.SentinelRedis;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The project's conf/context-sentinel.xml and conf/context-cluster.xml, read by Tomcat as they
 * stand (only their ${...:-default} values come from system properties), keep sessions across
 * two nodes.
 */
@Tag("tomcat")
class ShippedContextFilesIT {

    @Test
    void sentinelContextFileWorksAsShipped() {
        try (SentinelRedis redis = SentinelRedis.start()) {
            System.setProperty("tomcatredis.sentinels", redis.sentinelAddresses());
            System.setProperty("tomcatredis.redisUri", "redis://ignored");
            try (TomcatNode one = TomcatNode.startFromContextXml("s1", ProjectConf.file("context-sentinel.xml"));
                 TomcatNode two = TomcatNode.startFromContextXml("s2", ProjectConf.file("context-sentinel.xml"))) {
                assertSessionsShared(one, two);
                assertThat(one.manager().getReplicationShortfalls()).isZero();
            } finally {
                System.clearProperty("tomcatredis.sentinels");
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
        try (ClusterRedis redis = ClusterRedis.start(3, 0, RedisOptions.DEFAULTS)) {
            System.setProperty("tomcatredis.clusterNodes", redis.clusterNodes());
            try (TomcatNode one = TomcatNode.startFromContextXml("k1", ProjectConf.file("context-cluster.xml"));
                 TomcatNode two = TomcatNode.startFromContextXml("k2", ProjectConf.file("context-cluster.xml"))) {
                assertSessionsShared(one, two);
            } finally {
                System.clearProperty("tomcatredis.clusterNodes");
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
    }
}

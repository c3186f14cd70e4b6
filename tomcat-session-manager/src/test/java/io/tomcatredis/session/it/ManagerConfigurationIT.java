package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.lang.management.ManagementFactory;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Manager attributes as a context.xml sets them: validation, logging, serializers, JMX. */
@Tag("tomcat")
class ManagerConfigurationIT {

    private static final String PASSWORD = "Pa55-w0rd-never-logged";

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone(
            RedisOptions.DEFAULTS.withAclUser("sessions", PASSWORD));

    @Test
    void badAttributeStopsTheContextWithAMessageNamingIt() {
        try (CapturedLog log = CapturedLog.of("")) {
            assertThatThrownBy(() -> TomcatNode.start("bad", m -> {
                m.setRedisUri(REDIS.get().uri());
                m.setTimeoutMillis("two seconds");
            })).isInstanceOf(IllegalStateException.class);

            assertThat(log.text()).contains("Invalid value for attribute 'timeoutMillis': \"two seconds\"");
            assertThat(log.text()).doesNotContain(PASSWORD);
        }
    }

    @ParameterizedTest
    @CsvSource({
            "touchInterval, -1",
            "touchInterval, 3600001",
            "touchInterval, 5s",
            "touchInterval, 1.5",
            "nearCacheSize, -1",
            "nearCacheSize, 1000001",
            "nearCacheSize, many",
            "nearCacheSize, 1.5",
            "nearCacheStalenessMillis, -1",
            "nearCacheStalenessMillis, 60001",
            "nearCacheStalenessMillis, soon",
            "nearCacheStalenessMillis, 0.5",
            "compressionThreshold, 16777217",
            "compressionThreshold, big",
            "compressionThreshold, 1.5",
            "compressionThreshold, 256B"})
    void aBadValueStopsTheContextWithAMessageNamingTheAttribute(String attribute, String value) {
        try (CapturedLog log = CapturedLog.of("")) {
            assertThatThrownBy(() -> TomcatNode.start("bad-" + attribute, m -> {
                m.setRedisUri(REDIS.get().uri());
                m.setProperty(attribute, value);
            })).isInstanceOf(IllegalStateException.class);

            assertThat(log.text()).contains("Invalid value for attribute '" + attribute + "': ");
        }
    }

    @Test
    void nearCacheStalenessWithoutANearCacheIsRefused() {
        try (CapturedLog log = CapturedLog.of("")) {
            assertThatThrownBy(() -> TomcatNode.start("stale-no-cache", m -> {
                m.setRedisUri(REDIS.get().uri());
                m.setProperty("nearCacheSize", "0");
                m.setProperty("nearCacheStalenessMillis", "100");
            })).isInstanceOf(IllegalStateException.class);

            assertThat(log.text()).contains("Invalid value for attribute 'nearCacheStalenessMillis': 100 needs a near"
                    + " cache: nearCacheSize is 0");
        }
    }

    @Test
    void nearCacheStalenessOnRedisClusterIsRefused() {
        try (CapturedLog log = CapturedLog.of("")) {
            assertThatThrownBy(() -> TomcatNode.start("stale-cluster", m -> {
                m.setRedisUri(REDIS.get().uri());
                m.setProperty("clusterNodes", REDIS.get().node().host() + ":" + REDIS.get().node().port());
                m.setProperty("nearCacheStalenessMillis", "100");
            })).isInstanceOf(IllegalStateException.class);

            assertThat(log.text()).contains("Invalid value for attribute 'nearCacheStalenessMillis': 100 is not"
                    + " supported on Redis Cluster");
        }
    }

    /**
     * Values at or above compressionThreshold are stored LZ4-compressed (first byte 0xC4); a node
     * with compression off reads them and writes uncompressed; an unchanged value is not rewritten
     * by a node with the other setting; an in-place change of a compressed value is kept.
     */
    @Test
    void compressionThresholdCanDifferBetweenNodesAndDeploys() {
        try (TomcatNode on = TomcatNode.start("lz4on", m -> {
                m.setRedisUri(REDIS.get().uri());
                m.setProperty("compressionThreshold", "64");
            });
            TomcatNode off = TomcatNode.start("lz4off", m -> {
                m.setRedisUri(REDIS.get().uri());
                m.setProperty("compressionThreshold", "-1");
            });
            redis.clients.jedis.Jedis jedis = REDIS.get().node().client()) {
            HttpSessionClient browser = new HttpSessionClient();
            StringBuilder cart = new StringBuilder();
            for (int i = 0; i < 8; i++) {
                String item = "product-" + (100_000 + i) + "-blue-cotton-shirt";
                cart.append(cart.length() == 0 ? "" : ", ").append(item);
                browser.ok(on.url("cart-add?value=" + item));
            }
            byte[] key = (RedisUnderTest.PREFIX + "{" + SessionKeys.baseId(browser.sessionId()) + "}")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8);
            byte[] field = "attr:cart".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            byte[] compressed = jedis.hget(key, field);
            assertThat(compressed[0]).as("LZ4-flagged").isEqualTo((byte) 0xC4);

            assertThat(browser.ok(off.url("get?name=cart"))).isEqualTo("[" + cart + "]");
            assertThat(jedis.hget(key, field)).as("an unchanged value is not rewritten").isEqualTo(compressed);

            browser.ok(off.url("cart-add?value=last"));
            byte[] plain = jedis.hget(key, field);
            assertThat(plain[0]).as("written by the node with compression off").isEqualTo((byte) 0xF2);

            assertThat(browser.ok(on.url("get?name=cart"))).isEqualTo("[" + cart + ", last]");
            assertThat(jedis.hget(key, field)).as("an unchanged value is not rewritten").isEqualTo(plain);
        }
    }

    @Test
    void touchIntervalZeroWritesEveryAccess() {
        try (TomcatNode node = TomcatNode.start("touch0", m -> {
            m.setRedisUri(REDIS.get().uri());
            m.setProperty("touchInterval", "0");
        })) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(node.url("set?name=a&value=1"));
            long saves = node.manager().getSaves();
            assertThat(browser.ok(node.url("get?name=a"))).isEqualTo("1");

            assertThat(node.manager().getSaves() - saves).as("the read writes its access time").isEqualTo(1);
            try (redis.clients.jedis.Jedis jedis = REDIS.get().node().client()) {
                assertThat(jedis.hget(RedisUnderTest.PREFIX + "{" + SessionKeys.baseId(browser.sessionId()) + "}",
                        "meta:touchInterval")).isEqualTo("0");
            }
        }
    }

    @Test
    void malformedUriIsReportedWithoutItsPassword() {
        try (CapturedLog log = CapturedLog.of("")) {
            assertThatThrownBy(() -> TomcatNode.start("bad-uri", m ->
                    m.setRedisUri("redis://sessions:" + PASSWORD + "@127.0.0.1:notaport")))
                    .isInstanceOf(IllegalStateException.class);

            assertThat(log.text()).contains("'redisUri'").doesNotContain(PASSWORD);
        }
    }

    @Test
    void badSerializerAndSerialFilterAreRejected() {
        try (CapturedLog log = CapturedLog.of("")) {
            assertThatThrownBy(() -> TomcatNode.start("bad-serializer", m -> {
                m.setRedisUri(REDIS.get().uri());
                m.setSerializer("xml");
            })).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> TomcatNode.start("bad-filter", m -> {
                m.setRedisUri(REDIS.get().uri());
                m.setSerialFilter("maxdepth=abc");
            })).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> TomcatNode.start("bad-prefix", m -> {
                m.setRedisUri(REDIS.get().uri());
                m.setKeyPrefix("app{1}:");
            })).isInstanceOf(IllegalStateException.class);

            assertThat(log.text()).contains("'serializer'").contains("'serialFilter'").contains("'keyPrefix'");
        }
    }

    @Test
    void aclPasswordIsUsedButNeverLogged() {
        try (CapturedLog log = CapturedLog.of("");
             TomcatNode node = TomcatNode.start("acl", m -> m.setRedisUri(REDIS.get().uri()))) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(node.url("set?name=a&value=1"));
            assertThat(browser.ok(node.url("get?name=a"))).isEqualTo("1");

            assertThat(node.manager().getRedisUri()).doesNotContain(PASSWORD).contains("***");
            assertThat(log.text()).contains("sessions:***@").doesNotContain(PASSWORD);
        }
    }

    @Test
    void javaSerializationWorksAcrossNodes() {
        try (TomcatNode one = TomcatNode.start("java1", m -> {
                 m.setRedisUri(REDIS.get().uri());
                 m.setSerializer("java");
             });
             TomcatNode two = TomcatNode.start("java2", m -> {
                 m.setRedisUri(REDIS.get().uri());
                 m.setSerializer("java");
             })) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(one.url("value-object?name=profile&value=ann"));
            browser.ok(two.url("cart-add?value=apple"));
            browser.ok(one.url("cart-add?value=pear"));

            assertThat(browser.ok(two.url("get?name=profile"))).isEqualTo("Profile[name=ann, email=ann@example.com]");
            assertThat(browser.ok(one.url("get?name=cart"))).isEqualTo("[apple, pear]");
        }
    }

    @Test
    void serialFilterDropsRejectedClassWithAWarningAndKeepsTheRest() {
        String filter = "!io.tomcatredis.session.it.SessionServlet$Profile";
        try (CapturedLog log = CapturedLog.of("io.tomcatredis.session.RedisSessionManager");
             TomcatNode writer = TomcatNode.start("writer", m -> m.setRedisUri(REDIS.get().uri()));
             TomcatNode reader = TomcatNode.start("reader", m -> {
                 m.setRedisUri(REDIS.get().uri());
                 m.setSerialFilter(filter);
             })) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(writer.url("value-object?name=profile&value=ann"));
            browser.ok(writer.url("set?name=plain&value=kept"));

            assertThat(browser.ok(reader.url("get?name=profile"))).isEqualTo("null");
            assertThat(browser.ok(reader.url("get?name=plain"))).isEqualTo("kept");
            assertThat(log.text()).contains("'profile'").contains("rejected by serialFilter");
        }
    }

    @Test
    void replicaShortfallOfWaitIsLoggedAndCountedAndTheRequestStillSucceeds() {
        try (CapturedLog log = CapturedLog.of("io.tomcatredis.session.store.RedisSessionStore");
             TomcatNode node = TomcatNode.start("wait", m -> {
                 m.setRedisUri(REDIS.get().uri());
                 m.setProperty("waitReplicas", "1");
                 m.setProperty("waitTimeoutMillis", "50");
             })) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(node.url("set?name=a&value=1"));
            browser.ok(node.url("set?name=a&value=2"));
            assertThat(browser.ok(node.url("get?name=a"))).isEqualTo("2");

            assertThat(node.manager().getReplicationShortfalls()).as("a WAIT per save; the read saves nothing").isEqualTo(2);
            assertThat(log.text()).contains("acknowledged by 0 of 1 replicas");
        }
    }

    @Test
    void waitTimeoutMustBeBelowTheConnectionTimeout() {
        try (CapturedLog log = CapturedLog.of("")) {
            assertThatThrownBy(() -> TomcatNode.start("bad-wait", m -> {
                m.setRedisUri(REDIS.get().uri());
                m.setProperty("waitReplicas", "1");
                m.setProperty("waitTimeoutMillis", "5000");
            })).isInstanceOf(IllegalStateException.class);
            assertThat(log.text()).contains("'waitTimeoutMillis'");
            assertThat(new io.tomcatredis.session.RedisSessionManager().setProperty("waitReplica", "1"))
                    .as("a misspelt attribute is refused, so Tomcat warns").isFalse();
        }
    }

    @Test
    void statisticsAreReadableThroughJmx() throws Exception {
        try (TomcatNode node = TomcatNode.start("jmx", m -> m.setRedisUri(REDIS.get().uri()))) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(node.url("set?name=a&value=1"));
            browser.ok(node.url("get?name=a"));

            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            ObjectName name = new ObjectName("jmx:type=Manager,host=localhost,context=/app");
            assertThat((Long) server.getAttribute(name, "saves")).as("the read changed nothing").isEqualTo(1);
            assertThat((Long) server.getAttribute(name, "loads")).isEqualTo(1);
            assertThat((Long) server.getAttribute(name, "bytesWritten")).isPositive();
            assertThat((Long) server.getAttribute(name, "bytesRead")).isPositive();
            assertThat((Long) server.getAttribute(name, "failures")).isZero();
            assertThat((Double) server.getAttribute(name, "meanSaveMillis")).isPositive();
            assertThat((Double) server.getAttribute(name, "maxLoadMillis")).isPositive();
            assertThat((Double) server.getAttribute(name, "roundTripsPerRequest")).isEqualTo(1.0);
            assertThat((String) server.getAttribute(name, "redisUri")).doesNotContain(PASSWORD);
        }
    }
}

package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tomcatredis.testsupport.FreePorts;
import io.tomcatredis.testsupport.ProjectConf;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * conf/redis-session.conf as shipped requires authentication, and the Tomcat user it documents
 * (least privilege: the session keyspace, no dangerous command) is enough for the manager, reached
 * through conf/context-standalone.xml with the credentials in {@code tomcatredis.redisUri}.
 * The harness logs in as its own administrator, declared after the shipped file.
 */
@Tag("valkey")
class ShippedRedisConfIT {

    private static final String ADMIN_PASSWORD = "harness-admin-secret";
    /** Percent-encoding in redisUri is documented; make the test need it. */
    private static final String TOMCAT_PASSWORD = "p@ss:w/rd%-" + Long.toHexString(System.nanoTime());

    private static RedisOptions shippedConf(String... extraConfig) {
        return RedisOptions.DEFAULTS.withInclude(ProjectConf.file("redis-session.conf"))
                .withAdminUser("admin", ADMIN_PASSWORD).withConfig(extraConfig);
    }

    @Test
    void shippedConfRefusesClientsThatDoNotLogIn() {
        try (StandaloneRedis redis = StandaloneRedis.start(shippedConf());
             Jedis anonymous = new Jedis(redis.node().host(), redis.node().port())) {
            assertThatThrownBy(anonymous::ping).isInstanceOf(JedisDataException.class).hasMessageStartingWith("NOAUTH");
            assertThatThrownBy(() -> anonymous.set("tomcat-session:localhost/app:{x}", "planted"))
                    .hasMessageStartingWith("NOAUTH");
            assertThatThrownBy(() -> anonymous.auth("")).hasMessageStartingWith("WRONGPASS");
            assertThatThrownBy(() -> anonymous.auth("default", "")).hasMessageStartingWith("WRONGPASS");
            try (Jedis admin = redis.node().client()) {
                assertThat(admin.exists("tomcat-session:localhost/app:{x}")).isFalse();
            }
        }
    }

    /** Its placeholders make Sentinel refuse to start, rather than run without its passwords. */
    @Test
    void shippedSentinelConfDoesNotStartUntilItsPasswordsAreChosen() throws Exception {
        Path dir = Files.createTempDirectory("shipped-sentinel-");
        try {
            // Sentinel rewrites its file: give it a copy.
            Path copy = Files.copy(ProjectConf.file("sentinel.conf"),
                    dir.resolve("sentinel.conf"));
            Process sentinel = new ProcessBuilder("redis-sentinel", copy.toString(), "--port",
                    Integer.toString(FreePorts.next()))
                    .directory(dir.toFile()).redirectErrorStream(true).start();
            try {
                assertThat(sentinel.waitFor(30, TimeUnit.SECONDS)).as("sentinel exited").isTrue();
                assertThat(sentinel.exitValue()).isNotZero();
                assertThat(new String(sentinel.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                        .contains("FATAL CONFIG FILE ERROR").contains("REPLACE WITH");
            } finally {
                sentinel.destroyForcibly();
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** No silent fallback to a Redis without credentials: the context does not start, and says why. */
    @Test
    @Tag("tomcat")
    void shippedContextFileWithoutTheCredentialsPropertyDoesNotStart() {
        System.clearProperty("tomcatredis.redisUri");
        try (CapturedLog log = CapturedLog.of("")) {
            assertThatThrownBy(() -> TomcatNode.startFromContextXml("nocred",
                    ProjectConf.file("context-standalone.xml")).close())
                    .hasMessageContaining("did not start");
            assertThat(log.text()).contains("Invalid value for attribute 'redisUri': refers to the system property"
                    + " tomcatredis.redisUri, which is not set");
        }
    }

    @Test
    @Tag("tomcat")
    void documentedTomcatUserRunsTheShippedContextFile() {
        String aclUser = ProjectConf.documentedAclUser("tomcat", TOMCAT_PASSWORD);
        try (StandaloneRedis redis = StandaloneRedis.start(shippedConf(aclUser))) {
            System.setProperty("tomcatredis.redisUri", "redis://tomcat:"
                    + URLEncoder.encode(TOMCAT_PASSWORD, StandardCharsets.UTF_8)
                    + "@" + redis.node().host() + ":" + redis.node().port());
            try (TomcatNode one = TomcatNode.startFromContextXml("acl1", ProjectConf.file("context-standalone.xml"));
                 TomcatNode two = TomcatNode.startFromContextXml("acl2", ProjectConf.file("context-standalone.xml"))) {
                HttpSessionClient browser = new HttpSessionClient();
                browser.ok(one.url("set?name=color&value=teal"));
                browser.ok(two.url("cart-add?value=apple"));
                browser.ok(two.url("recommend?value=book"));
                assertThat(browser.ok(one.url("get?name=color"))).isEqualTo("teal");
                assertThat(browser.ok(one.url("get?name=cart"))).isEqualTo("[apple]");
                assertThat(browser.ok(one.url("recommendations"))).isEqualTo("book");
                browser.ok(one.url("change-id"));
                assertThat(browser.ok(two.url("get?name=color"))).isEqualTo("teal");
                one.manager().processExpires();
                browser.ok(two.url("invalidate"));
                assertThat(browser.ok(one.url("count"))).isEqualTo("no session");
            } finally {
                System.clearProperty("tomcatredis.redisUri");
            }
            try (Jedis admin = redis.node().client()) {
                assertThat(admin.aclLog()).as("commands the documented user was refused").isEmpty();
            }
        }
    }
}

package io.tomcatredis.connection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class RedisConnectionSettingsTest {

    private static RedisConnectionSettings parse(Map<String, String> attributes) {
        return RedisConnectionSettings.parse(attributes::get);
    }

    @Test
    void defaultsToLocalRedisWithTwoSecondTimeout() {
        RedisConnectionSettings settings = parse(Map.of());
        assertThat(settings.host()).isEqualTo("localhost");
        assertThat(settings.port()).isEqualTo(6379);
        assertThat(settings.timeoutMillis()).isEqualTo(2000);
        assertThat(settings.tls()).isFalse();
    }

    @Test
    void parsesUserPasswordDatabaseAndTls() {
        RedisConnectionSettings settings = parse(Map.of("redisUri", "rediss://app:p%40ss@redis.example:6380/3"));
        assertThat(settings.tls()).isTrue();
        assertThat(settings.user()).isEqualTo("app");
        assertThat(settings.password()).isEqualTo("p@ss");
        assertThat(settings.database()).isEqualTo(3);
        assertThat(settings.port()).isEqualTo(6380);
        assertThat(settings.toString()).doesNotContain("p@ss").doesNotContain("p%40ss").contains("app:***@");
    }

    @Test
    void passwordOnlyUri() {
        RedisConnectionSettings settings = parse(Map.of("redisUri", "redis://:secret@h:1"));
        assertThat(settings.user()).isNull();
        assertThat(settings.password()).isEqualTo("secret");
    }

    @Test
    void badValuesNameTheAttributeAndNeverThePassword() {
        assertThatThrownBy(() -> parse(Map.of("timeoutMillis", "abc")))
                .isInstanceOf(InvalidSettingException.class)
                .hasMessage("Invalid value for attribute 'timeoutMillis': \"abc\" is not a whole number");
        assertThatThrownBy(() -> parse(Map.of("timeoutMillis", "0")))
                .hasMessageContaining("'timeoutMillis'").hasMessageContaining("1..600000");
        // Beyond an int (or a long) is out of range, never "not a whole number".
        assertThatThrownBy(() -> parse(Map.of("timeoutMillis", "4294967296")))
                .hasMessage("Invalid value for attribute 'timeoutMillis': 4294967296 is outside the allowed range 1..600000");
        assertThatThrownBy(() -> parse(Map.of("timeoutMillis", "99999999999999999999")))
                .hasMessage("Invalid value for attribute 'timeoutMillis': 99999999999999999999 is outside the allowed range"
                        + " 1..600000");
        assertThatThrownBy(() -> parse(Map.of("redisUri", "http://user:topsecret@host:1")))
                .isInstanceOf(InvalidSettingException.class)
                .hasMessageContaining("'redisUri'").hasMessageNotContaining("topsecret");
        assertThatThrownBy(() -> parse(Map.of("redisUri", "redis://user:topsecret@host:1/x")))
                .hasMessageContaining("'redisUri'").hasMessageNotContaining("topsecret");
        assertThatThrownBy(() -> parse(Map.of("redisUri", "redis://user:top secret@host:1")))
                .hasMessageContaining("'redisUri'").hasMessageNotContaining("top secret");
        assertThatThrownBy(() -> parse(Map.of("maxConnections", "-1"))).hasMessageContaining("'maxConnections'");
    }

    @Test
    void redactsPasswords() {
        assertThat(RedisConnectionSettings.redact("redis://u:p@h:1")).isEqualTo("redis://u:***@h:1");
        assertThat(RedisConnectionSettings.redact("redis://p@h:1")).isEqualTo("redis://***@h:1");
        assertThat(RedisConnectionSettings.redact("redis://h:1")).isEqualTo("redis://h:1");
    }

    @Test
    void sentinelAndClusterTopologies() {
        RedisConnectionSettings sentinel = parse(Map.of("sentinelMaster", "mymaster",
                "sentinels", "10.0.0.1:26379, 10.0.0.2:26379", "sentinelPassword", "sp"));
        assertThat(sentinel.topology()).isEqualTo(RedisConnectionSettings.Topology.SENTINEL);
        assertThat(sentinel.sentinels()).hasSize(2);
        assertThat(sentinel.toString()).contains("mymaster").doesNotContain("sp");

        RedisConnectionSettings cluster = parse(Map.of("clusterNodes", "h1:7000,h2:7001"));
        assertThat(cluster.topology()).isEqualTo(RedisConnectionSettings.Topology.CLUSTER);
        assertThat(parse(Map.of()).topology()).isEqualTo(RedisConnectionSettings.Topology.STANDALONE);
    }

    @Test
    void inconsistentTopologyAttributesAreRejectedByName() {
        assertThatThrownBy(() -> parse(Map.of("sentinelMaster", "m"))).hasMessageContaining("'sentinels'");
        assertThatThrownBy(() -> parse(Map.of("sentinels", "h:1"))).hasMessageContaining("'sentinelMaster'");
        assertThatThrownBy(() -> parse(Map.of("sentinelMaster", "m", "sentinels", "h:1", "clusterNodes", "h:2")))
                .hasMessageContaining("'clusterNodes'");
        assertThatThrownBy(() -> parse(Map.of("clusterNodes", "h1"))).hasMessageContaining("'clusterNodes'")
                .hasMessageContaining("host:port");
        assertThatThrownBy(() -> parse(Map.of("clusterNodes", "h1:x"))).hasMessageContaining("'clusterNodes'");
        assertThatThrownBy(() -> parse(Map.of("clusterNodes", "h1:1", "redisUri", "redis://h/2")))
                .hasMessageContaining("database");
    }

    @Test
    void tlsAttributesAreValidated() {
        assertThatThrownBy(() -> parse(Map.of("redisUri", "rediss://h:1", "truststore", "/no/such/file.p12")))
                .hasMessageContaining("'truststore'").hasMessageContaining("/no/such/file.p12");
        assertThatThrownBy(() -> parse(Map.of("truststore", "/etc/hostname")))
                .hasMessageContaining("'truststore'").hasMessageContaining("rediss://");
        assertThatThrownBy(() -> parse(Map.of("redisUri", "rediss://h:1", "tlsVerify", "maybe")))
                .hasMessageContaining("'tlsVerify'");
        assertThat(parse(Map.of("redisUri", "rediss://h:1")).tlsSettings().verify()).isEqualTo("full");
    }

    @Test
    void valueCanComeFromASystemPropertyWithADefault() {
        assertThat(parse(Map.of("redisUri", "${no.such.property:redis://fallback:7000}")).host()).isEqualTo("fallback");
        System.setProperty("tomcatredis.test.uri", "redis://fromproperty:7001");
        try {
            assertThat(parse(Map.of("redisUri", "${tomcatredis.test.uri:redis://fallback:7000}")).port())
                    .isEqualTo(7001);
            assertThat(parse(Map.of("redisUri", "${tomcatredis.test.uri:-redis://fallback:7000}")).port())
                    .isEqualTo(7001);
            assertThat(parse(Map.of("redisUri", "${no.such:-redis://other:7002}")).port()).isEqualTo(7002);
        } finally {
            System.clearProperty("tomcatredis.test.uri");
        }
    }

    /**
     * The shipped context files read the credentials from {@code ${tomcatredis.redisUri}} with no
     * default: a Tomcat that lacks the property must not connect anonymously to redis://localhost.
     * Tomcat leaves an unknown {@code ${name}} as it is, inside a value too.
     */
    @Test
    void aPropertyWithoutDefaultThatIsNotSetStopsTheStartInsteadOfFallingBack() {
        assertThatThrownBy(() -> parse(Map.of("redisUri", "${tomcatredis.test.unset}")))
                .isInstanceOf(InvalidSettingException.class)
                .hasMessageContaining("'redisUri'")
                .hasMessageContaining("system property tomcatredis.test.unset, which is not set");
        assertThatThrownBy(() -> parse(Map.of("redisUri", "redis://tomcat:${tomcatredis.test.secret}@h:6379")))
                .isInstanceOf(InvalidSettingException.class)
                .hasMessageContaining("'redisUri'")
                .hasMessageContaining("system property tomcatredis.test.secret, which is not set");
        assertThatThrownBy(() -> parse(Map.of("sentinelPassword", "${tomcatredis.test.unset}")))
                .hasMessageContaining("'sentinelPassword'");
    }
}

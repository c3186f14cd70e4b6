package io.tomcatredis.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.SslOptions;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisException;

class StandaloneRedisTest {

    private static final List<Long> PIDS = new ArrayList<>();

    @AfterAll
    static void noRedisProcessIsLeftBehind() {
        assertThat(PIDS).isNotEmpty();
        for (long pid : PIDS) {
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
                    .as("redis process %d is still alive", pid).isFalse();
        }
    }

    @Test
    void plainRedisServesCommandsThroughJedisUri() {
        try (StandaloneRedis redis = StandaloneRedis.start();
             RedisClient client = RedisClient.create(java.net.URI.create(redis.uri()))) {
            PIDS.add(redis.node().pid());
            client.set("greeting", "hello");
            assertThat(client.get("greeting")).isEqualTo("hello");
        }
    }

    @Test
    void tlsRedisAcceptsTrustedClientsAndRefusesPlainText() {
        try (StandaloneRedis redis = StandaloneRedis.start(RedisOptions.DEFAULTS.withTls());
             RedisClient client = RedisClient.builder().hostAndPort(redis.node().hostAndPort())
                     .clientConfig(redis.clientConfig()).build()) {
            PIDS.add(redis.node().pid());
            assertThat(redis.uri()).startsWith("rediss://");
            client.set("k", "v");
            assertThat(client.get("k")).isEqualTo("v");
            DefaultJedisClientConfig plainText = DefaultJedisClientConfig.builder().timeoutMillis(1000).build();
            assertThatThrownBy(() -> new Jedis(redis.node().hostAndPort(), plainText).ping())
                    .isInstanceOf(JedisException.class);
        }
    }

    @Test
    void mutualTlsRefusesClientWithoutCertificate() {
        try (StandaloneRedis redis = StandaloneRedis.start(RedisOptions.DEFAULTS.withMutualTls())) {
            PIDS.add(redis.node().pid());
            try (Jedis withCertificate = redis.node().client()) {
                assertThat(withCertificate.ping()).isEqualTo("PONG");
            }
            SslOptions trustOnly = SslOptions.builder()
                    .truststore(redis.tls().truststore().toFile(), TlsMaterial.STORE_PASSWORD.toCharArray())
                    .trustStoreType("PKCS12").build();
            DefaultJedisClientConfig noCertificate = DefaultJedisClientConfig.builder().timeoutMillis(1000).ssl(true)
                    .sslOptions(trustOnly).build();
            assertThatThrownBy(() -> new Jedis(redis.node().hostAndPort(), noCertificate).ping())
                    .isInstanceOf(JedisException.class);
        }
    }

    @Test
    void aclUserIsRequired() {
        try (StandaloneRedis redis = StandaloneRedis.start(RedisOptions.DEFAULTS.withAclUser("app", "s3cret"));
             RedisClient client = RedisClient.create(java.net.URI.create(redis.uri()))) {
            PIDS.add(redis.node().pid());
            assertThat(redis.uri()).isEqualTo("redis://app:s3cret@127.0.0.1:" + redis.node().port());
            client.set("k", "v");
            try (Jedis anonymous = new Jedis(redis.node().hostAndPort(),
                    DefaultJedisClientConfig.builder().timeoutMillis(1000).build())) {
                assertThatThrownBy(() -> anonymous.get("k")).isInstanceOf(JedisException.class)
                        .hasMessageContaining("NOAUTH");
            }
        }
    }

    @Test
    void restartOnSameDataFolderKeepsPersistedKeys() {
        try (StandaloneRedis redis = StandaloneRedis.start(RedisOptions.DEFAULTS.withConfig("appendonly yes",
                "appendfsync always"))) {
            RedisNode node = redis.node();
            long firstPid = node.pid();
            PIDS.add(firstPid);
            try (Jedis jedis = node.client()) {
                jedis.set("survivor", "yes");
            }
            node.kill();
            assertThat(node.isRunning()).isFalse();
            node.start();
            PIDS.add(node.pid());
            assertThat(node.pid()).isNotEqualTo(firstPid);
            try (Jedis jedis = node.client()) {
                assertThat(jedis.get("survivor")).isEqualTo("yes");
            }
            node.restart();
            PIDS.add(node.pid());
            try (Jedis jedis = node.client()) {
                assertThat(jedis.get("survivor")).isEqualTo("yes");
            }
        }
    }

    @Test
    void pausedNodeTimesOutAndAnswersAgainAfterResume() {
        try (StandaloneRedis redis = StandaloneRedis.start();
             Jedis jedis = new Jedis(redis.node().hostAndPort(),
                     DefaultJedisClientConfig.builder().timeoutMillis(300).build())) {
            PIDS.add(redis.node().pid());
            assertThat(jedis.ping()).isEqualTo("PONG");
            redis.node().pause();
            assertThatThrownBy(jedis::ping).isInstanceOf(JedisConnectionException.class);
            redis.node().resume();
            try (Jedis fresh = redis.node().client()) {
                assertThat(fresh.ping()).isEqualTo("PONG");
            }
        }
    }

    @Test
    void closedDeploymentLeavesNoProcess() {
        StandaloneRedis redis = StandaloneRedis.start();
        long pid = redis.node().pid();
        redis.node().pause();
        redis.close();
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThat(redis.node().dir()).doesNotExist();
    }
}

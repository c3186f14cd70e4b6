package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.RedisOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.UnifiedJedis;

/**
 * Attack on issue 17's RESTORE fallback at the manager: a signed-in session with encrypted values
 * moved field by field several times (RESTORE refused by every master): the values stay readable
 * (meta:sealId moves with them), stay encrypted in Redis, and sign-out everywhere still finds the
 * moved session by its user.
 */
class Issue17RestoreFallbackSessionAttackIT {

    @RegisterExtension
    static final RedisExtension<ClusterRedis> REDIS = RedisExtension.of(() -> ClusterRedis.start(3, 0,
            RedisOptions.DEFAULTS.withConfig("rename-command RESTORE \"\"")));

    private static final String K1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    @Test
    void encryptedSignedInSessionMovedFieldByFieldStaysReadableAndFoundBySignOutEverywhere() throws Exception {
        Path keys = Files.createTempFile("issue17-keys", ".keys");
        Files.writeString(keys, "k1=" + K1);
        RedisUnderTest redis = RedisUnderTest.cluster(REDIS.get());
        try (TomcatNode a = TomcatNode.start("i17-enc-a", m -> {
                 redis.configure(m);
                 m.setProperty("encryptionKeyFile", keys.toString());
             });
             TomcatNode b = TomcatNode.start("i17-enc-b", m -> {
                 redis.configure(m);
                 m.setProperty("encryptionKeyFile", keys.toString());
             })) {
            HttpSessionClient browser = new HttpSessionClient();
            String first = browser.ok(a.url("create"));
            browser.ok(a.url("set?name=color&value=blue"));
            browser.ok(b.url("recommend?value=p-1"));
            // the container's login changes the id: a first field-by-field move
            browser.ok(b.url("login?user=eve"));
            assertThat(browser.sessionId()).isNotEqualTo(first);
            UnifiedJedis jedis = redis.client();
            for (int i = 0; i < 3; i++) {
                String before = browser.sessionId();
                browser.ok((i % 2 == 0 ? a : b).url("change-id"));
                String after = browser.sessionId();
                assertThat(after).isNotEqualTo(before);
                assertThat(jedis.exists(redis.sessionKey(before))).as("old hash").isFalse();
                assertThat(browser.ok((i % 2 == 0 ? b : a).url("get?name=color"))).as("move " + i).isEqualTo("blue");
                assertThat(browser.ok(a.url("recommendations"))).isEqualTo("p-1");
                assertThat(browser.ok(b.url("whoami"))).isEqualTo("eve");
                byte[] stored = jedis.hget(redis.sessionKey(after).getBytes(StandardCharsets.UTF_8),
                        "attr:color".getBytes(StandardCharsets.UTF_8));
                assertThat(new String(stored, StandardCharsets.ISO_8859_1)).as("still encrypted").doesNotContain("blue");
                assertThat(jedis.hget(redis.sessionKey(after), "meta:sealId")).as("bound to the first id")
                        .isEqualTo(first.split("\\.")[0]);
                assertThat(new HttpSessionClient().ok(b.url("sessions-of?user=eve"))).as("index after move " + i)
                        .isEqualTo(after);
            }
            assertThat(new HttpSessionClient().ok(a.url("invalidate-all?user=eve"))).isEqualTo("1");
            assertThat(browser.ok(b.url("get?name=color"))).isEqualTo("no session");
            assertThat(browser.ok(a.url("whoami"))).isEqualTo("null");
        } finally {
            redis.close();
            Files.deleteIfExists(keys);
        }
    }
}

package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.RedisExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The core session suite on a three-master Redis Cluster: sessions spread over every shard. */
@Tag("valkey")
class ClusterSessionIT extends CoreSessionSuite {

    @RegisterExtension
    static final RedisExtension<ClusterRedis> REDIS = RedisExtension.cluster(3, 0);

    @Override
    RedisUnderTest redisUnderTest() {
        return RedisUnderTest.cluster(REDIS.get());
    }

    /**
     * An id change moves an encrypted session to another slot (export.lua, import.lua) without
     * re-encrypting it: its values stay bound to the first id ({@code meta:sealId}) on every node.
     */
    @Test
    void encryptedSessionKeepsItsValuesWhenItsIdMovesItToAnotherSlot() throws IOException {
        Path keys = Files.createTempFile("cluster-keys", ".txt");
        Files.writeString(keys, "k1=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n");
        RedisUnderTest redis = redisUnderTest();
        try (TomcatNode a = TomcatNode.start("encA", m -> {
            redis.configure(m);
            m.setProperty("encryptionKeyFile", keys.toString());
        }); TomcatNode b = TomcatNode.start("encB", m -> {
            redis.configure(m);
            m.setProperty("encryptionKeyFile", keys.toString());
        })) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(a.url("set?name=color&value=blue"));
            String first = browser.sessionId().split("\\.")[0];
            for (int i = 0; i < 3; i++) {
                browser.ok((i % 2 == 0 ? a : b).url("change-id"));
                assertThat(browser.ok((i % 2 == 0 ? b : a).url("get?name=color"))).isEqualTo("blue");
            }
            byte[] seal = redis.client().hget(redis.sessionKey(browser.sessionId()).getBytes(StandardCharsets.UTF_8),
                    "meta:sealId".getBytes(StandardCharsets.UTF_8));
            assertThat(new String(seal, StandardCharsets.UTF_8)).isEqualTo(first);
            browser.ok(b.url("set?name=size&value=L"));
            assertThat(browser.ok(a.url("get?name=size"))).isEqualTo("L");
        } finally {
            redis.close();
            Files.deleteIfExists(keys);
        }
    }
}

package io.tomcatredis.session.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.util.JedisClusterCRC16;

/** The principal index key of a user name: its own hash tag, whatever the name holds. */
class SessionKeysTest {

    private final SessionKeys keys = new SessionKeys("tomcat-session:localhost/app:");

    @Test
    void aShortNameIsReadableBase64urlInItsOwnHashTag() {
        assertThat(keys.principalIndexKey("ann")).isEqualTo("tomcat-session:localhost/app:principal:{u:YW5u}");
        assertThat(keys.principalIndexKey("{ann}:x y")).isEqualTo("tomcat-session:localhost/app:principal:{u:e2Fubn06eCB5}");
    }

    @Test
    void aNameOfMoreThan96Utf8BytesIsItsSha256() {
        String ninetySix = "ü".repeat(48);
        assertThat(ninetySix.getBytes(StandardCharsets.UTF_8)).hasSize(96);
        assertThat(SessionKeys.principalTag(ninetySix)).startsWith("u:");
        assertThat(SessionKeys.principalTag(ninetySix + "x")).startsWith("h:").hasSize(66);
        assertThat(SessionKeys.principalTag("x".repeat(10 * 1024)))
                .isEqualTo("h:" + java.util.HexFormat.of().formatHex(sha256("x".repeat(10 * 1024))));
    }

    @Test
    void braceColonsSpacesAndUnicodeNeverMoveTheHashTagNorCollide() {
        List<String> names = List.of("}", "{", "}{", "a}b", "a:b", "a b", "Zoë 🙂", "", "u:YW5u", "h:00");
        for (String name : names) {
            String key = keys.principalIndexKey(name);
            String tag = key.substring(key.indexOf('{') + 1, key.indexOf('}'));
            assertThat(tag).as(name).isEqualTo(SessionKeys.principalTag(name)).doesNotContain("{", "}");
            assertThat(key).endsWith("{" + tag + "}");
            assertThat(JedisClusterCRC16.getSlot(key)).isEqualTo(JedisClusterCRC16.getSlot(tag));
        }
        assertThat(names.stream().map(keys::principalIndexKey).distinct()).hasSize(names.size());
        assertThat(keys.sessionIdOfKey(keys.principalIndexKey("ann"))).as("no session's key").isNull();
    }

    private static byte[] sha256(String text) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

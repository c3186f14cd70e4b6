package io.tomcatredis.session.it;

import static io.tomcatredis.session.it.SignOutEverywhereSuite.login;
import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.resps.Tuple;

/**
 * Attacks on encryption at rest (issue 16, part 4): short and malformed values, key id tricks, a
 * key file as editors write it, rotation back to an older first key with sign-out everywhere,
 * plaintext anywhere in Redis (every key type), and a copy that brings its binding along.
 */
@Tag("tomcat")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Issue16EncryptionAttackIT {

    static final String K1 = EncryptionIT.K1;
    static final String K2 = EncryptionIT.K2;

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private RedisUnderTest redis;
    private Path keys;
    private TomcatNode k1;
    private TomcatNode k21;
    private TomcatNode k12;

    @BeforeAll
    void startNodes() throws IOException {
        redis = RedisUnderTest.standalone(REDIS.get());
        keys = Files.createTempDirectory("encryption-attack");
        k1 = node("atkK1", "k1=" + K1);
        k21 = node("atkK21", "k2=" + K2 + "\nk1=" + K1 + "\n");
        k12 = node("atkK12", "k1=" + K1 + "\nk2=" + K2 + "\n");
    }

    private TomcatNode node(String name, String keyFile) {
        Path file = keys.resolve(name + ".keys");
        try {
            Files.write(file, keyFile.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return TomcatNode.start(name, m -> {
            redis.configure(m);
            m.setProperty("encryptionKeyFile", file.toString());
        });
    }

    @AfterAll
    void stopNodes() {
        TomcatNode.closeAll(k1, k21, k12);
        if (redis != null) {
            redis.close();
        }
    }

    @BeforeEach
    void emptyRedis() {
        redis.flushAll();
    }

    private byte[] field(HttpSessionClient browser, String field) {
        return redis.client().hget(redis.sessionKey(browser.sessionId()).getBytes(StandardCharsets.UTF_8),
                field.getBytes(StandardCharsets.UTF_8));
    }

    private void setField(HttpSessionClient browser, String field, byte[] bytes) {
        redis.client().hset(redis.sessionKey(browser.sessionId()).getBytes(StandardCharsets.UTF_8),
                field.getBytes(StandardCharsets.UTF_8), bytes);
    }

    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    private static byte[] concat(byte[] head, int zeros) {
        return Arrays.copyOf(head, head.length + zeros);
    }

    /**
     * Values shorter than header + nonce + tag, id length 0 / 255 / longer than the value, a
     * non-ASCII key id, a value of exactly header + nonce + tag (no ciphertext): each dropped,
     * the page a 200, the other attribute intact; as the principal: not signed in, a 200.
     */
    @Test
    void shortAndMalformedEncryptedValuesAreDroppedAndThePageAnswers() {
        byte[] k1Header = bytes(0xE7, 2, 'k', '1');
        List<byte[]> malformed = List.of(
                bytes(0xE7), bytes(0xE7, 0), bytes(0xE7, 0, 1, 2, 3),
                concat(bytes(0xE7, 255), 40), concat(bytes(0xE7, 255), 300),
                concat(bytes(0xE7, 64), 10), concat(bytes(0xE7, 65), 100),
                concat(k1Header, 12 + 16), concat(k1Header, 12 + 15), concat(k1Header, 12 + 17),
                concat(bytes(0xE7, 2, 0xC3, 0xA9), 40), concat(bytes(0xE7, 2, 'k', 0), 40),
                concat(bytes(0xE7, 3, 'k', '1', '\n'), 40));
        for (byte[] value : malformed) {
            String what = Base64.getEncoder().encodeToString(Arrays.copyOf(value, Math.min(value.length, 8))) + "… ("
                    + value.length + " bytes)";
            HttpSessionClient browser = new HttpSessionClient();
            login(browser, k1, "mallory");
            browser.ok(k1.url("set?name=role&value=user"));
            browser.ok(k1.url("set?name=color&value=blue"));
            setField(browser, "attr:role", value);
            for (TomcatNode node : List.of(k1, k21)) {
                HttpSessionClient.Reply reply = browser.get(node.url("get?name=role"));
                assertThat(reply.status()).as(what + " on " + node.name()).isEqualTo(200);
                assertThat(reply.body()).as(what + " on " + node.name()).isEqualTo("null");
                assertThat(browser.ok(node.url("get?name=color"))).as(what).isEqualTo("blue");
            }
            setField(browser, "meta:principal", value);
            HttpSessionClient.Reply whoami = browser.get(k12.url("whoami"));
            assertThat(whoami.status()).as("principal " + what).isEqualTo(200);
            assertThat(whoami.body()).as("principal " + what).isEqualTo("null");
        }
    }

    /** A key file written on Windows (BOM, CRLF), with spaces around entries: read as the keys it lists. */
    @Test
    void aKeyFileWithBomCrlfAndTrailingSpacesIsRead() {
        TomcatNode bom = node("atkBom", "\uFEFFk1=" + K1 + "   \r\n  k2 = " + K2 + "\t\r\n\r\n");
        try {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(bom.url("set?name=x&value=windows"));
            byte[] stored = field(browser, "attr:x");
            assertThat(stored[0]).isEqualTo((byte) 0xE7);
            assertThat(new String(stored, 2, stored[1], StandardCharsets.US_ASCII)).isEqualTo("k1");
            assertThat(browser.ok(k1.url("get?name=x"))).isEqualTo("windows");
        } finally {
            TomcatNode.closeAll(bom);
        }
    }

    /**
     * Rotation back: a user signed in under k2 (node [k2, k1]) is found and signed out by a node
     * listing [k1, k2], and one signed in under k1 by [k2, k1].
     */
    @Test
    void signOutEverywhereFindsSessionsAfterRotationInBothDirections() {
        HttpSessionClient underK2 = new HttpSessionClient();
        HttpSessionClient underK1 = new HttpSessionClient();
        login(underK2, k21, "rota");
        login(underK1, k1, "rota");
        assertThat(new String(field(underK2, "meta:principalName"), StandardCharsets.UTF_8)).startsWith("hmac:k2:");
        assertThat(new String(field(underK1, "meta:principalName"), StandardCharsets.UTF_8)).startsWith("hmac:k1:");
        assertThat(k12.manager().listSessionIdsOf("rota").split(" "))
                .containsExactlyInAnyOrder(underK1.sessionId(), underK2.sessionId());
        assertThat(k21.manager().listSessionIdsOf("rota").split(" "))
                .containsExactlyInAnyOrder(underK1.sessionId(), underK2.sessionId());
        assertThat(k12.manager().expireSessionsOf("rota")).isEqualTo(2);
        assertThat(underK1.ok(k21.url("whoami"))).isEqualTo("null");
        assertThat(underK2.ok(k21.url("whoami"))).isEqualTo("null");
    }

    /** Every key, and every member, field and value of every type: no user name, no value in clear. */
    private String everythingInRedis() {
        StringBuilder all = new StringBuilder();
        for (String key : redis.keys()) {
            byte[] k = key.getBytes(StandardCharsets.UTF_8);
            all.append(key).append('\n');
            List<byte[]> parts = new ArrayList<>();
            switch (redis.client().type(key)) {
                case "hash" -> redis.client().hgetAll(k).forEach((f, v) -> {
                    parts.add(f);
                    parts.add(v);
                });
                case "zset" -> redis.client().zrangeWithScores(k, 0, -1).stream().map(Tuple::getBinaryElement)
                        .forEach(parts::add);
                case "set" -> parts.addAll(redis.client().smembers(k));
                case "list" -> parts.addAll(redis.client().lrange(k, 0, -1));
                case "string" -> parts.add(redis.client().get(k));
                default -> all.append("(").append(redis.client().type(key)).append(")");
            }
            for (byte[] part : parts) {
                all.append(new String(part, StandardCharsets.ISO_8859_1)).append('\n');
            }
        }
        return all.toString();
    }

    @Test
    void noUserNameOrValueInClearAnywhereInRedis() {
        String user = "quentin.unique-user";
        String value = "value-in-clear-7f3a";
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(k1.url("set?name=before&value=" + value));
        login(browser, k1, user);
        browser.ok(k21.url("set?name=after&value=" + value));
        browser.ok(k12.url("cart-add?value=" + value));
        browser.ok(k1.url("change-id"));
        HttpSessionClient second = new HttpSessionClient();
        second.ok(k12.url("app-login?user=" + user));
        String raw = everythingInRedis();
        for (String secret : List.of(user, "quentin", value,
                Base64.getUrlEncoder().withoutPadding().encodeToString(user.getBytes(StandardCharsets.UTF_8)),
                Base64.getEncoder().encodeToString(user.getBytes(StandardCharsets.UTF_8)))) {
            assertThat(raw).as(secret).doesNotContain(secret);
        }
        assertThat(raw).doesNotContain(new String(user.getBytes(StandardCharsets.UTF_16BE), StandardCharsets.ISO_8859_1));
        assertThat(k21.manager().expireSessionsOf(user)).isEqualTo(2);
    }

    /**
     * Known limit, documented in the README ("Encryption at rest": {@code meta:sealId} is not
     * authenticated): a writer of Redis who copies a value from the admin's session into another
     * together with the admin's {@code meta:sealId} makes it readable there, and the other session's
     * own values then fail authentication. Pinned so that a change of the binding updates the README.
     */
    @Test
    void knownLimitAValueCopiedTogetherWithItsBindingReadsInTheOtherSession() {
        HttpSessionClient admin = new HttpSessionClient();
        admin.ok(k1.url("set?name=role&value=admin"));
        HttpSessionClient attacker = new HttpSessionClient();
        attacker.ok(k1.url("set?name=role&value=user"));
        byte[] adminSeal = field(admin, "meta:sealId");
        String binding = adminSeal != null ? new String(adminSeal, StandardCharsets.UTF_8)
                : io.tomcatredis.session.store.SessionKeys.baseId(admin.sessionId());

        setField(attacker, "meta:sealId", binding.getBytes(StandardCharsets.UTF_8));
        setField(attacker, "attr:role", field(admin, "attr:role"));

        assertThat(attacker.ok(k21.url("get?name=role"))).as("the admin's value read in the attacker's session")
                .isEqualTo("admin");
    }
}

package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Encryption at rest (issue 16, part 4) on real Redis and Tomcat: AES-GCM values and principal
 * bound to session and field, rotation across nodes with different key lists, forged, copied and
 * plaintext values dropped with a WARN (a 200 page all the same), id changes, change detection.
 * Nodes: K1 encrypts with k1; K21 encrypts with k2 and reads k1; K2 knows only k2; MIG has k1
 * and accepts unencrypted values (a migration); DEC has k1 and writes unencrypted (decrypt-only);
 * PLAIN encrypts nothing.
 */
@Tag("tomcat")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EncryptionIT {

    static final byte AES_GCM = (byte) 0xE7;
    static final String K1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    static final String K2 = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
    static final String BASIC = "Basic " + Base64.getEncoder().encodeToString("ann:secret".getBytes(StandardCharsets.UTF_8));

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private RedisUnderTest redis;
    private Path keys;
    private TomcatNode k1;
    private TomcatNode k21;
    private TomcatNode k2;
    private TomcatNode mig;
    private TomcatNode dec;
    private TomcatNode plain;

    @BeforeAll
    void startNodes() throws IOException {
        redis = RedisUnderTest.standalone(REDIS.get());
        keys = Files.createTempDirectory("encryption-it");
        k1 = node("encK1", "k1=" + K1, false);
        k21 = node("encK21", "# rotated\nk2=" + K2 + "\nk1=" + K1 + "\n", false);
        k2 = node("encK2", "k2=" + K2, false);
        mig = node("encMig", "k1=" + K1, true);
        dec = node("encDec", "k1=" + K1, false, "encryptValues", "false");
        plain = TomcatNode.start("encPlain", redis::configure);
    }

    private TomcatNode node(String name, String keyFile, boolean acceptUnencrypted, String... more) {
        Path file = keys.resolve(name + ".keys");
        try {
            Files.writeString(file, keyFile);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return TomcatNode.start(name, m -> {
            redis.configure(m);
            m.setProperty("encryptionKeyFile", file.toString());
            m.setProperty("compressionThreshold", "64");
            if (acceptUnencrypted) {
                m.setProperty("acceptUnencryptedValues", "true");
            }
            for (int i = 0; i < more.length; i += 2) {
                m.setProperty(more[i], more[i + 1]);
            }
        });
    }

    @AfterAll
    void stopNodes() {
        TomcatNode.closeAll(k1, k21, k2, mig, dec, plain);
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

    private static String keyId(byte[] value) {
        assertThat(value[0]).as("flagged encrypted").isEqualTo(AES_GCM);
        return new String(value, 2, value[1], StandardCharsets.US_ASCII);
    }

    /** Every key and every field and value of every hash in Redis, as one text. */
    private String everythingInRedis() {
        StringBuilder all = new StringBuilder();
        for (String key : redis.keys()) {
            all.append(key).append('\n');
            if (redis.client().type(key).equals("hash")) {
                for (Map.Entry<byte[], byte[]> entry : redis.client().hgetAll(key.getBytes(StandardCharsets.UTF_8))
                        .entrySet()) {
                    all.append(new String(entry.getKey(), StandardCharsets.ISO_8859_1)).append('=')
                            .append(new String(entry.getValue(), StandardCharsets.ISO_8859_1)).append('\n');
                }
            }
        }
        return all.toString();
    }

    @Test
    void valuesAndPrincipalRoundTripEncryptedAndNoPlaintextIsInRedis() {
        HttpSessionClient browser = new HttpSessionClient();
        String secret = "card-4111111111111111";
        browser.ok(k1.url("set?name=card&value=" + secret));
        browser.ok(k1.url("cart-add?value=" + secret + "-book"));
        assertThat(browser.get(k1.url("secure/whoami"), "Authorization", BASIC).body()).isEqualTo("ann BASIC");

        assertThat(keyId(field(browser, "attr:card"))).isEqualTo("k1");
        assertThat(keyId(field(browser, "attr:cart"))).isEqualTo("k1");
        assertThat(keyId(field(browser, "meta:principal"))).isEqualTo("k1");
        String raw = everythingInRedis();
        assertThat(raw).doesNotContain("4111111111111111").doesNotContain("-book")
                .doesNotContain("GenericPrincipal").doesNotContain("secret");
        for (TomcatNode node : new TomcatNode[] {k1, k21, mig}) {
            assertThat(browser.ok(node.url("get?name=card"))).as(node.name()).isEqualTo(secret);
            assertThat(browser.ok(node.url("get?name=cart"))).as(node.name()).isEqualTo("[" + secret + "-book]");
            assertThat(browser.ok(node.url("secure/whoami"))).as(node.name()).isEqualTo("ann BASIC");
        }
    }

    /**
     * Rotation: [k2, k1] reads what [k1] wrote and writes with k2; a node with only [k2] drops
     * the k1 values with a WARN and answers 200.
     */
    @Test
    void rotationReadsOldKeysWritesTheNewOneAndANodeWithoutTheOldKeyDropsItsValues() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(k1.url("set?name=old&value=one"));
        browser.ok(k1.url("cart-add?value=a"));
        byte[] old = field(browser, "attr:old");
        byte[] cart = field(browser, "attr:cart");

        assertThat(browser.ok(k21.url("get?name=old"))).isEqualTo("one");
        assertThat(browser.ok(k21.url("get?name=cart"))).isEqualTo("[a]");
        assertThat(field(browser, "attr:old")).as("read, not rewritten").isEqualTo(old);
        assertThat(field(browser, "attr:cart")).as("a mutable value read unchanged is not rewritten").isEqualTo(cart);
        browser.ok(k21.url("set?name=new&value=two"));
        browser.ok(k21.url("cart-add?value=b"));
        assertThat(keyId(field(browser, "attr:new"))).isEqualTo("k2");
        assertThat(keyId(field(browser, "attr:cart"))).as("changed: rewritten with the first key").isEqualTo("k2");
        assertThat(keyId(field(browser, "attr:old"))).as("not changed: left under k1").isEqualTo("k1");

        try (CapturedLog log = CapturedLog.of("io.tomcatredis")) {
            HttpSessionClient.Reply reply = browser.get(k2.url("get?name=old"));
            assertThat(reply.status()).isEqualTo(200);
            assertThat(reply.body()).isEqualTo("null");
            assertThat(browser.ok(k2.url("get?name=new"))).isEqualTo("two");
            assertThat(browser.ok(k2.url("get?name=cart"))).isEqualTo("[a, b]");
            assertThat(log.text()).contains("Dropping session attribute 'old'")
                    .contains("the value is encrypted with key id \"k1\", which is not among the configured keys [k2]");
        }
        assertThat(browser.ok(k1.url("get?name=new"))).as("k1 alone cannot read k2").isEqualTo("null");
    }

    /**
     * Issue 16, sign out everywhere with encryption on: Redis holds no user name (the principal
     * index key and {@code meta:principalName} hold an HMAC under the key that wrote them), and a
     * lookup finds the sessions indexed under every configured key, and in clear while unencrypted
     * values are read (a migration).
     */
    @Test
    void userNamesAreNotInRedisAndSignOutEverywhereFindsSessionsIndexedUnderEveryKey() {
        String user = "zelda.signs-out@example.com";
        HttpSessionClient underK1 = new HttpSessionClient();
        HttpSessionClient underK2 = new HttpSessionClient();
        HttpSessionClient inClear = new HttpSessionClient();
        underK1.ok(k1.url("app-login?user=" + user));
        underK2.ok(k21.url("app-login?user=" + user));
        String raw = everythingInRedis();
        assertThat(raw).doesNotContain(user).doesNotContain("zelda")
                .doesNotContain(Base64.getUrlEncoder().withoutPadding().encodeToString(user.getBytes(StandardCharsets.UTF_8)));
        assertThat(new String(field(underK1, "meta:principalName"), StandardCharsets.UTF_8)).startsWith("hmac:k1:");
        assertThat(new String(field(underK2, "meta:principalName"), StandardCharsets.UTF_8)).startsWith("hmac:k2:");
        assertThat(new HttpSessionClient().ok(k21.url("sessions-of?user=" + user)).split(" "))
                .containsExactlyInAnyOrder(underK1.sessionId(), underK2.sessionId());
        assertThat(new HttpSessionClient().ok(k1.url("sessions-of?user=" + user))).as("k1 alone knows no k2 index")
                .isEqualTo(underK1.sessionId());

        inClear.ok(plain.url("app-login?user=" + user));
        assertThat(new HttpSessionClient().ok(mig.url("sessions-of?user=" + user)).split(" ")).as("migrating: k1 and in clear")
                .containsExactlyInAnyOrder(underK1.sessionId(), inClear.sessionId());

        assertThat(new HttpSessionClient().ok(k21.url("invalidate-all?user=" + user))).isEqualTo("2");
        assertThat(underK1.ok(k21.url("get?name=x"))).isEqualTo("no session");
        // A session read by a node whose first key is another moves to that key's index at its save.
        HttpSessionClient moved = new HttpSessionClient();
        moved.ok(k1.url("app-login?user=" + user));
        moved.ok(k21.url("set?name=x&value=1"));
        assertThat(new String(field(moved, "meta:principalName"), StandardCharsets.UTF_8)).startsWith("hmac:k2:");
        assertThat(new HttpSessionClient().ok(k21.url("sessions-of?user=" + user))).isEqualTo(moved.sessionId());
        assertThat(underK2.ok(k1.url("get?name=x"))).isEqualTo("no session");
        assertThat(new HttpSessionClient().ok(plain.url("sessions-of?user=" + user))).as("not read by k21: not signed out")
                .isEqualTo(inClear.sessionId());
    }

    /** A byte flipped in Redis: the value is dropped with a WARN, the page is a 200, the rest stays. */
    @Test
    void forgedValueIsDroppedWithAWarnAndThePageStillAnswers() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(k1.url("set?name=role&value=user"));
        browser.ok(k1.url("set?name=color&value=blue"));
        byte[] forged = field(browser, "attr:role");
        forged[forged.length - 20] ^= 0x01;
        setField(browser, "attr:role", forged);
        try (CapturedLog log = CapturedLog.of("io.tomcatredis")) {
            for (TomcatNode node : new TomcatNode[] {k21, mig}) {
                HttpSessionClient.Reply reply = browser.get(node.url("get?name=role"));
                assertThat(reply.status()).as(node.name()).isEqualTo(200);
                assertThat(reply.body()).as(node.name()).isEqualTo("null");
                assertThat(browser.ok(node.url("get?name=color"))).isEqualTo("blue");
            }
            assertThat(log.text()).contains("Dropping session attribute 'role'").contains("fails authentication");
        }
    }

    /** A value or principal copied into another session, or another field, fails authentication there. */
    @Test
    void valuesCopiedToAnotherSessionOrFieldAreDropped() {
        HttpSessionClient admin = new HttpSessionClient();
        admin.ok(k1.url("set?name=role&value=admin"));
        assertThat(admin.get(k1.url("secure/whoami"), "Authorization", BASIC).body()).isEqualTo("ann BASIC");
        HttpSessionClient attacker = new HttpSessionClient();
        attacker.ok(k1.url("set?name=role&value=user"));
        attacker.ok(k1.url("set?name=note&value=x"));

        setField(attacker, "attr:role", field(admin, "attr:role"));
        setField(attacker, "meta:principal", field(admin, "meta:principal"));
        setField(attacker, "attr:note", field(attacker, "attr:role"));
        try (CapturedLog log = CapturedLog.of("io.tomcatredis")) {
            assertThat(attacker.ok(k21.url("get?name=role"))).isEqualTo("null");
            assertThat(attacker.ok(k21.url("get?name=note"))).isEqualTo("null");
            assertThat(attacker.get(k21.url("secure/whoami")).status()).as("no principal: asked to log in").isEqualTo(401);
            assertThat(log.text()).contains("Dropping session attribute 'role'").contains("Dropping session attribute 'note'")
                    .contains("Dropping session attribute '(principal)'").contains("fails authentication");
        }
        assertThat(admin.ok(k21.url("get?name=role"))).as("the original still reads").isEqualTo("admin");
    }

    /**
     * changeSessionId moves the hash without re-encrypting: values stay bound to the first id
     * ({@code meta:sealId}), on every node, through several changes, and new values bind the same way.
     */
    @Test
    void changeSessionIdKeepsEncryptedValuesReadable() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(k1.url("set?name=a&value=1"));
        String first = browser.sessionId();
        // Tomcat changes the id at authentication (changeSessionIdOnAuthentication): a first id change
        assertThat(browser.get(k1.url("secure/whoami"), "Authorization", BASIC).body()).isEqualTo("ann BASIC");
        assertThat(browser.sessionId()).isNotEqualTo(first);
        browser.ok(k1.url("change-id"));
        assertThat(new String(field(browser, "meta:sealId"), StandardCharsets.UTF_8)).as("the first id, without route")
                .isEqualTo(first.split("\\.")[0]);
        browser.ok(k1.url("set?name=b&value=2"));
        assertThat(browser.ok(k21.url("get?name=a"))).isEqualTo("1");
        assertThat(browser.ok(k21.url("get?name=b"))).isEqualTo("2");
        assertThat(browser.ok(k21.url("secure/whoami"))).isEqualTo("ann BASIC");
        browser.ok(k21.url("change-id"));
        browser.ok(k21.url("set?name=c&value=3"));
        for (TomcatNode node : new TomcatNode[] {k1, k21}) {
            assertThat(browser.ok(node.url("get?name=a"))).as(node.name()).isEqualTo("1");
            assertThat(browser.ok(node.url("get?name=b"))).as(node.name()).isEqualTo("2");
            assertThat(browser.ok(node.url("secure/whoami"))).as(node.name()).isEqualTo("ann BASIC");
        }
        assertThat(browser.ok(k21.url("get?name=c"))).isEqualTo("3");
        assertThat(browser.ok(k1.url("get?name=c"))).as("written with k2, which k1 does not hold").isEqualTo("null");
    }

    /**
     * Values written before encryption was on are refused by default (dropped with a WARN), read
     * with acceptUnencryptedValues, and written encrypted once changed; a node without keys drops
     * encrypted values.
     */
    @Test
    void plaintextValuesAreRefusedUnlessMigratingAndEncryptedOnesNeedKeys() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(plain.url("set?name=a&value=1"));
        browser.ok(plain.url("cart-add?value=x"));
        try (CapturedLog log = CapturedLog.of("io.tomcatredis")) {
            assertThat(browser.ok(k21.url("get?name=a"))).isEqualTo("null");
            assertThat(log.text()).contains("Dropping session attribute 'a'").contains("the value is not encrypted");
        }
        browser.ok(plain.url("set?name=a&value=1"));
        assertThat(browser.ok(mig.url("get?name=a"))).isEqualTo("1");
        assertThat(browser.ok(mig.url("cart-add?value=y"))).isEqualTo("[x, y]");
        assertThat(keyId(field(browser, "attr:cart"))).as("changed during the migration: encrypted").isEqualTo("k1");
        assertThat(field(browser, "attr:a")[0]).as("unchanged: left as it was").isNotEqualTo(AES_GCM);
        try (CapturedLog log = CapturedLog.of("io.tomcatredis")) {
            assertThat(browser.ok(plain.url("get?name=cart"))).isEqualTo("null");
            assertThat(log.text()).contains("encryption is not configured");
        }
    }

    /**
     * A rolling restart that turns encryption on: nodes first restarted decrypt-only (DEC) read what
     * encrypting nodes wrote and write what nodes without keys still read.
     */
    @Test
    void decryptOnlyNodesBridgeARollingRestart() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(plain.url("set?name=a&value=1"));
        browser.ok(k1.url("set?name=b&value=2"));
        assertThat(browser.ok(dec.url("get?name=a"))).isEqualTo("1");
        assertThat(browser.ok(dec.url("get?name=b"))).isEqualTo("2");
        browser.ok(dec.url("set?name=c&value=3"));
        assertThat(field(browser, "attr:c")[0]).as("written unencrypted").isNotEqualTo(AES_GCM);
        assertThat(browser.ok(plain.url("get?name=c"))).isEqualTo("3");
        assertThat(browser.ok(mig.url("get?name=c"))).isEqualTo("3");
        assertThat(keyId(field(browser, "attr:b"))).as("read, left as it was").isEqualTo("k1");
    }

    /** A bad key file stops the context at start, with the exact message and no key material. */
    @Test
    void badKeyFileStopsTheContext() throws IOException {
        Path file = keys.resolve("bad.keys");
        Files.writeString(file, "k1=" + K1 + "\nk1=" + K2 + "\n");
        try (CapturedLog log = CapturedLog.of("")) {
            assertThatThrownBy(() -> TomcatNode.start("encBad", m -> {
                redis.configure(m);
                m.setProperty("encryptionKeyFile", file.toString());
            })).isNotNull();
            assertThat(log.text()).contains("Invalid value for attribute 'encryptionKeyFile': entry 2: its key id is"
                    + " already used by entry 1").doesNotContain(K1).doesNotContain(K2);
        }
    }
}

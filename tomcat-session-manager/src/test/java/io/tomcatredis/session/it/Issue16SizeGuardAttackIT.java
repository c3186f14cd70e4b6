package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Attacks on the size guards (issue 16, part 3): the exact boundary, removals while the session is
 * over the limit, many small attributes, an update that pushes the session over (no older value
 * left readable), and limits with compression and encryption together (never a 500 in warn mode).
 * WARN: limits only; SEALED: limits, compression and encryption; FREE: no limit.
 */
@Tag("tomcat")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Issue16SizeGuardAttackIT {

    static final int MAX_ATTRIBUTE = 1000;
    static final int MAX_SESSION = 3000;

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private RedisUnderTest redis;
    private TomcatNode warn;
    private TomcatNode sealed;
    private TomcatNode free;

    @BeforeAll
    void startNodes() throws IOException {
        redis = RedisUnderTest.standalone(REDIS.get());
        Path keyFile = Files.createTempDirectory("size-attack").resolve("keys");
        Files.writeString(keyFile, "k1=" + EncryptionIT.K1 + "\n");
        warn = TomcatNode.start("atkSizeWarn", m -> {
            redis.configure(m);
            m.setProperty("maxAttributeBytes", Integer.toString(MAX_ATTRIBUTE));
            m.setProperty("maxSessionBytes", Integer.toString(MAX_SESSION));
        }, SizeGuardIT::pages);
        sealed = TomcatNode.start("atkSizeSealed", m -> {
            redis.configure(m);
            m.setProperty("maxAttributeBytes", Integer.toString(MAX_ATTRIBUTE));
            m.setProperty("maxSessionBytes", Integer.toString(MAX_SESSION));
            m.setProperty("compressionThreshold", "64");
            m.setProperty("encryptionKeyFile", keyFile.toString());
        }, SizeGuardIT::pages);
        free = TomcatNode.start("atkSizeFree", redis::configure, SizeGuardIT::pages);
    }

    @AfterAll
    void stopNodes() {
        TomcatNode.closeAll(warn, sealed, free);
        if (redis != null) {
            redis.close();
        }
    }

    @BeforeEach
    void emptyRedis() {
        redis.flushAll();
    }

    private static String z(TomcatNode node, String path) {
        return node.url("").replace("/app/s/", "/app/z/") + path;
    }

    private byte[] field(HttpSessionClient browser, String field) {
        return redis.client().hget(redis.sessionKey(browser.sessionId()).getBytes(StandardCharsets.UTF_8),
                field.getBytes(StandardCharsets.UTF_8));
    }

    private long attributeBytes(HttpSessionClient browser) {
        long total = 0;
        for (Map.Entry<byte[], byte[]> entry : redis.client()
                .hgetAll(redis.sessionKey(browser.sessionId()).getBytes(StandardCharsets.UTF_8)).entrySet()) {
            if (new String(entry.getKey(), StandardCharsets.UTF_8).startsWith("attr:")) {
                total += entry.getKey().length + entry.getValue().length;
            }
        }
        return total;
    }

    /** A value of exactly maxAttributeBytes as stored is kept; one byte more is not. */
    @Test
    void exactlyAtTheAttributeLimitIsStoredOneByteMoreIsNot() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(z(warn, "put?name=probe&n=500"));
        int overhead = field(browser, "attr:probe").length - 500;
        int atLimit = MAX_ATTRIBUTE - overhead;

        browser.ok(z(warn, "put?name=edge&n=" + atLimit));
        assertThat(field(browser, "attr:edge")).as("exactly at the limit").hasSize(MAX_ATTRIBUTE);
        assertThat(browser.ok(free.url("get?name=edge"))).hasSize(atLimit);

        HttpSessionClient.Reply over = browser.get(z(warn, "put?name=edge&n=" + (atLimit + 1)));
        assertThat(over.status()).isEqualTo(200);
        assertThat(field(browser, "attr:edge")).as("one byte over").isNull();
        assertThat(browser.ok(free.url("get?name=edge"))).isEqualTo("null");
    }

    /** A session already over maxSessionBytes (written by a node without limits): removals pass, 200. */
    @Test
    void removingAnAttributeAlwaysPassesEvenWhenTheSessionIsOverTheLimit() {
        HttpSessionClient browser = new HttpSessionClient();
        for (String name : new String[] {"a", "b", "c", "d", "e"}) {
            browser.ok(z(free, "put?name=" + name + "&n=900"));
        }
        assertThat(attributeBytes(browser)).isGreaterThan(MAX_SESSION);
        for (String name : new String[] {"a", "b"}) {
            HttpSessionClient.Reply reply = browser.get(warn.url("remove?name=" + name));
            assertThat(reply.status()).isEqualTo(200);
            assertThat(field(browser, "attr:" + name)).as(name + " removed").isNull();
        }
        assertThat(browser.ok(free.url("get?name=a"))).isEqualTo("null");
        assertThat(browser.ok(free.url("get?name=c"))).as("untouched attributes stay").hasSize(900);
        assertThat(browser.get(warn.url("set?name=tiny&value=1")).status()).isEqualTo(200);
    }

    /** Hundreds of small attributes in one request: 200, and what Redis holds stays within maxSessionBytes. */
    @Test
    void manySmallAttributesStayWithinTheSessionLimit() {
        for (TomcatNode node : new TomcatNode[] {warn, sealed}) {
            HttpSessionClient browser = new HttpSessionClient();
            HttpSessionClient.Reply reply = browser.get(node.url("many?value=500"));
            assertThat(reply.status()).as(node.name()).isEqualTo(200);
            assertThat(attributeBytes(browser)).as(node.name()).isLessThanOrEqualTo(MAX_SESSION).isPositive();
            reply = browser.get(node.url("many?value=500"));
            assertThat(reply.status()).as(node.name() + " again").isEqualTo(200);
            assertThat(attributeBytes(browser)).as(node.name() + " again").isLessThanOrEqualTo(MAX_SESSION);
        }
    }

    /**
     * An update of an existing attribute that pushes the session over maxSessionBytes: the new
     * value is not stored, and the older one is not readable on any node either.
     */
    @Test
    void anUpdatePushingTheSessionOverLeavesNoOlderValueReadable() {
        for (TomcatNode node : new TomcatNode[] {warn, sealed}) {
            HttpSessionClient browser = new HttpSessionClient();
            for (String name : new String[] {"a", "b", "c"}) {
                browser.ok(z(node, "put?name=" + name + "&n=900"));
            }
            // FREE has no keys: it reads what WARN wrote; SEALED's own values only SEALED reads.
            TomcatNode reader = node == sealed ? sealed : free;
            String old = browser.ok(reader.url("get?name=a"));
            assertThat(old).as(node.name()).hasSize(900);
            HttpSessionClient.Reply reply = browser.get(z(node, "put?name=a&n=990"));
            assertThat(reply.status()).isEqualTo(200);
            assertThat(attributeBytes(browser)).as(node.name()).isLessThanOrEqualTo(MAX_SESSION);
            String now = browser.ok(reader.url("get?name=a"));
            assertThat(now).as(node.name() + ": the older value is never current").isNotEqualTo(old);
            assertThat(browser.ok(node.url("get?name=a"))).as(node.name() + " itself").isNotEqualTo(old);
        }
    }

    /** With compression and encryption, incompressible values over the limit: 200, not stored, counted by stored size. */
    @Test
    void withCompressionAndEncryptionWarnModeNeverAnswers500() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(z(sealed, "put?name=x&n=100"));
        for (int n : new int[] {960, 970, 980, 990, 1000, 1001, 5000, 100_000}) {
            HttpSessionClient.Reply reply = browser.get(z(sealed, "put?name=x&n=" + n));
            assertThat(reply.status()).as("n=" + n).isEqualTo(200);
            byte[] stored = field(browser, "attr:x");
            if (stored != null) {
                assertThat(stored.length).as("n=" + n).isLessThanOrEqualTo(MAX_ATTRIBUTE);
                assertThat(browser.ok(sealed.url("get?name=x"))).hasSize(n);
            } else {
                assertThat(browser.ok(sealed.url("get?name=x"))).isEqualTo("null");
            }
        }
        HttpSessionClient.Reply repeat = browser.get(z(sealed, "put?name=y&n=100000&kind=repeat"));
        assertThat(repeat.status()).isEqualTo(200);
        assertThat(browser.ok(sealed.url("get?name=y"))).as("compressed under the limit").hasSize(100_000);
    }
}

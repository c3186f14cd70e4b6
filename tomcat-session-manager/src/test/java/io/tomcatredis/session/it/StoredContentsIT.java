package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Output;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What Redis hands back is not trusted blindly (issue 11): kinds of bad stored contents the
 * {@link StoredSessionFuzzer} explores, pinned as regression tests. The request gets its session
 * minus the bad attribute, or a clear 503; never a 500, and the expiry sweep goes on.
 */
@Tag("tomcat")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StoredContentsIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private RedisUnderTest redis;
    private TomcatNode node;
    private HttpSessionClient owner;
    private String base;

    @BeforeAll
    void startNode() {
        redis = RedisUnderTest.standalone(REDIS.get());
        node = TomcatNode.start("stored", redis::configure);
    }

    @AfterAll
    void stopNode() {
        node.close();
        redis.close();
    }

    @BeforeEach
    void ownerSession() {
        redis.flushAll();
        owner = new HttpSessionClient();
        owner.ok(node.url("set?name=a&value=kept"));
        base = SessionKeys.baseId(owner.sessionId());
    }

    @Test
    void attributeNestedTooDeeplyIsDropped_regressionStackOverflowErrorIs500() {
        redis.client().hset(bytes(redis.sessionKey(base)), bytes("attr:deep"), nestedLists(200_000));

        assertThat(owner.ok(node.url("get?name=deep"))).isEqualTo("null");
        assertThat(owner.ok(node.url("get?name=a"))).isEqualTo("kept");
    }

    @Test
    void attributeDeclaringAHugeStringIsDropped_regressionOutOfMemoryErrorIs500() {
        owner.ok(node.url("set?name=u&value=%C3%A9"));
        byte[] stored = redis.client().hget(bytes(redis.sessionKey(base)), bytes("attr:u"));
        // Kryo writes a non-ASCII string as a flag byte holding its length + 1 (0x82) and then UTF-8:
        // declare 2^31 - 1 characters instead.
        int at = indexOf(stored, new byte[] {(byte) 0x82, (byte) 0xC3, (byte) 0xA9});
        ByteArrayOutputStream patched = new ByteArrayOutputStream();
        patched.write(stored, 0, at);
        patched.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F, (byte) 0xC3, (byte) 0xA9});
        redis.client().hset(bytes(redis.sessionKey(base)), bytes("attr:u"), patched.toByteArray());

        assertThat(owner.ok(node.url("get?name=u"))).isEqualTo("null");
        assertThat(owner.ok(node.url("get?name=a"))).isEqualTo("kept");
    }

    @Test
    void hugeStoredMaxInactiveIntervalStillSaves_regressionPexpireOutOfRange() {
        redis.client().hset(redis.sessionKey(base), "meta:maxInactiveInterval", "99999999999999999999");

        assertThat(owner.get(node.url("set?name=b&value=1")).status()).isEqualTo(200);
        assertThat(owner.ok(node.url("get?name=b"))).isEqualTo("1");
    }

    @Test
    void expiryIndexOfTheWrongTypeAnswers503_regressionWrongTypeIs500() {
        redis.client().del(redis.indexKey(base));
        redis.client().set(redis.indexKey(base), "not an index");

        HttpSessionClient.Reply reply = owner.get(node.url("set?name=b&value=1"));

        assertThat(reply.status()).isEqualTo(503);
    }

    @Test
    void sessionKeyOfTheWrongTypeInTheIndexDoesNotStallTheExpirySweep() {
        String foreign = "0".repeat(base.length());
        redis.client().set(redis.sessionKey(foreign), "not a session");
        redis.client().zadd(redis.indexKey(base), 1, foreign);
        // The owner's session is due as well, by the deadline in its hash and in the index.
        redis.client().hset(redis.sessionKey(base), "meta:lastAccessedTime", "1000");
        redis.client().zadd(redis.indexKey(base), 2, base);

        node.manager().processExpires();

        assertThat(redis.client().exists(redis.sessionKey(base))).isFalse();
        assertThat(redis.client().zrange(redis.indexKey(base), 0, -1)).isEmpty();
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Kryo's bytes for {@code depth} nested one-element ArrayLists, built without recursion: the
     * encoding of depth 3 is that of depth 2 with one more level's bytes inserted.
     */
    private static byte[] nestedLists(int depth) {
        byte[] two = kryo(nest(2));
        byte[] three = kryo(nest(3));
        int prefix = 0;
        while (two[prefix] == three[prefix]) {
            prefix++;
        }
        byte[] level = Arrays.copyOfRange(three, prefix, prefix + three.length - two.length);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(two, 0, prefix);
        for (int i = 2; i < depth; i++) {
            out.writeBytes(level);
        }
        out.write(two, prefix, two.length - prefix);
        return out.toByteArray();
    }

    private static List<Object> nest(int depth) {
        List<Object> list = new ArrayList<>();
        for (int i = 1; i < depth; i++) {
            List<Object> outer = new ArrayList<>();
            outer.add(list);
            list = outer;
        }
        return list;
    }

    private static byte[] kryo(Object value) {
        Kryo kryo = new Kryo();
        kryo.setRegistrationRequired(false);
        kryo.setReferences(true);
        try (Output output = new Output(256, -1)) {
            kryo.writeClassAndObject(output, value);
            return output.toBytes();
        }
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new AssertionError("not found: " + Arrays.toString(needle) + " in " + Arrays.toString(haystack));
    }
}

package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.tomcatredis.session.store.SessionHashFormat;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import redis.clients.jedis.StreamEntryID;

/**
 * Fuzzes what Redis hands back (issue 11): random, truncated or flipped bytes in any {@code meta:*}
 * and {@code attr:*} field of a real session hash (values AES-GCM encrypted, one of them compressed
 * first), missing and unknown fields, multi-megabyte fields, LZ4-flagged fields of fuzzed header and
 * block, encryption-flagged fields of fuzzed key id, nonce and ciphertext, and a key of the wrong
 * type; then one request of the session's owner on either node. Both nodes encrypt with one key;
 * node1 also reads unencrypted values ({@code acceptUnencryptedValues}), so fuzzed bytes reach the
 * deserializers there, and the decryption's checks on node2.
 * Properties of every request:
 * <ul>
 * <li>no server error (5xx other than a deliberate 503) and no hang;</li>
 * <li>the session minus its bad attributes: an attribute whose field (and {@code meta:sealId}, which
 *     its encryption is bound to) was left intact reads back unchanged whenever the session is found;</li>
 * <li>never another user's data, and no Redis key but the two sessions', the index, a claim, and
 *     sessions the server issued in its reply.</li>
 * </ul>
 * Runs its seeds under {@code StoredSessionFuzzerInputs/} in regression mode and fuzzes with
 * {@code JAZZER_FUZZ=1} in its own surefire execution (group {@code fuzz-stored-sessions}).
 */
@Tag("fuzz-stored-sessions")
class StoredSessionFuzzer {

    private static final int REQUEST_TIMEOUT_MILLIS = 10_000;
    /** First byte of an LZ4-compressed value (README, "Serialization"). */
    private static final byte LZ4 = (byte) 0xC4;
    /** First byte of an encrypted value, and the header of one encrypted with the nodes' key k1. */
    private static final byte[] AES_GCM_K1 = {(byte) 0xE7, 2, 'k', '1'};
    private static final String KEY_FILE_CONTENT = "k1=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n";
    private static final List<String> OPERATIONS = List.of("get?name=a", "get?name=big", "get?name=p", "names", "count",
            "set?name=n&value=1", "incr", "cart-add?value=z", "times", "id", "invalidate", "max-inactive?value=60",
            "secure/whoami");
    private static final String INTACT_VALUE = "alpha";
    /** Above the default compressionThreshold (512 bytes): stored compressed. */
    private static final String INTACT_COMPRESSED_VALUE = "compressible-".repeat(60);

    private static StandaloneRedis redisServer;
    private static RedisUnderTest redis;
    private static TomcatNode node1;
    private static TomcatNode node2;
    private static String victimId;
    private static byte[] victimKey;
    private static Map<byte[], byte[]> victimHash;
    private static List<String> victimFields;
    private static String otherSecret;
    private static Set<String> expectedKeys;

    @BeforeAll
    static void startNodes() {
        redisServer = StandaloneRedis.start();
        redis = RedisUnderTest.standalone(redisServer);
        String keyFile;
        try {
            Path file = Files.createTempFile("fuzz-keys", ".txt");
            file.toFile().deleteOnExit();
            Files.writeString(file, KEY_FILE_CONTENT);
            keyFile = file.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        node1 = TomcatNode.start("node1", m -> {
            redis.configure(m);
            m.setProperty("encryptionKeyFile", keyFile);
            m.setProperty("acceptUnencryptedValues", "true");
        });
        node2 = TomcatNode.start("node2", m -> {
            redis.configure(m);
            m.setProperty("encryptionKeyFile", keyFile);
        });

        HttpSessionClient other = new HttpSessionClient();
        otherSecret = "secret-" + UUID.randomUUID();
        other.ok(node1.url("set?name=a&value=" + otherSecret));

        HttpSessionClient victim = new HttpSessionClient();
        victim.ok(node1.url("set?name=a&value=" + INTACT_VALUE));
        victim.ok(node2.url("value-object?name=p&value=ann"));
        victim.ok(node1.url("cart-add?value=book"));
        victim.ok(node2.url("incr"));
        victim.ok(node1.url("set?name=big&value=" + INTACT_COMPRESSED_VALUE));
        victimId = victim.sessionId();
        String base = SessionKeys.baseId(victimId);
        victimKey = redis.sessionKey(base).getBytes(StandardCharsets.UTF_8);
        victimHash = redis.client().hgetAll(victimKey);
        victimFields = new ArrayList<>();
        victimHash.keySet().forEach(field -> victimFields.add(new String(field, StandardCharsets.UTF_8)));
        victimFields.sort(null);
        expectedKeys = Set.of(redis.sessionKey(base), redis.sessionKey(base) + ":claimed",
                redis.sessionKey(other.sessionId()), redis.indexKey(base));
        assertThat(victimFields).contains(SessionHashFormat.attributeField("a"), SessionHashFormat.CREATION_TIME);
        byte[] big = victimHash.get(SessionHashFormat.attributeField("big").getBytes(StandardCharsets.UTF_8));
        assertThat(big[0]).as("stored encrypted").isEqualTo(AES_GCM_K1[0]);
        assertThat(big.length).as("compressed before encryption").isLessThan(INTACT_COMPRESSED_VALUE.length() / 2);
    }

    @AfterAll
    static void stopNodes() {
        if (node1 != null) {
            node1.close();
        }
        if (node2 != null) {
            node2.close();
        }
        if (redis != null) {
            redis.close();
        }
        if (redisServer != null) {
            redisServer.close();
        }
    }

    @FuzzTest(maxDuration = "15s")
    void storedSession(FuzzedDataProvider data) {
        // Jazzer reports every connection as a possible SSRF; these tests talk to Redis and Tomcat on
        // loopback. (Its agent is installed after @BeforeAll, so this is set here.)
        BugDetectors.allowNetworkConnections((host, port) -> host.equals("localhost") || host.equals("127.0.0.1"));
        Map<String, byte[]> hash = new HashMap<>();
        victimHash.forEach((field, value) -> hash.put(new String(field, StandardCharsets.UTF_8), value));
        Set<String> touched = new HashSet<>();
        String wrongType = null;
        int mutations = data.consumeInt(1, 4);
        for (int i = 0; i < mutations && wrongType == null; i++) {
            String field = victimFields.get(data.consumeInt(0, victimFields.size() - 1));
            byte[] value = hash.getOrDefault(field, new byte[0]);
            touched.add(field);
            switch (data.consumeInt(0, 9)) {
                case 0 -> hash.put(field, data.consumeBytes(data.consumeInt(0, 64)));
                case 1 -> hash.put(field, Arrays.copyOf(value, data.consumeInt(0, value.length)));
                case 2 -> hash.remove(field);
                // Rare, as each costs tens of milliseconds: most of the budget goes to variety.
                case 3 -> hash.put(field, data.consumeInt(0, 7) == 0 ? megabytes(data) : data.consumeBytes(4096));
                case 4 -> {
                    String added = data.pickValue(List.of("attr:", "meta:", "")) + data.consumeString(16);
                    touched.add(added);
                    hash.put(added, data.consumeBytes(data.consumeInt(0, 64)));
                }
                case 5 -> wrongType = data.pickValue(List.of("string", "list", "set", "zset", "stream"));
                case 6 -> {
                    if (value.length > 0) {
                        byte[] flipped = value.clone();
                        flipped[data.consumeInt(0, value.length - 1)] ^= (byte) data.consumeInt(1, 255);
                        hash.put(field, flipped);
                    }
                }
                case 7 -> {
                    // the compressed format's flag, then a fuzzed length header and LZ4 block
                    byte[] fuzzed = data.consumeBytes(data.consumeInt(0, 300));
                    byte[] flagged = new byte[fuzzed.length + 1];
                    flagged[0] = LZ4;
                    System.arraycopy(fuzzed, 0, flagged, 1, fuzzed.length);
                    hash.put(field, flagged);
                }
                case 8 -> {
                    // the encrypted format's header naming the configured key, then fuzzed nonce and ciphertext
                    byte[] fuzzed = data.consumeBytes(data.consumeInt(0, 300));
                    byte[] flagged = new byte[AES_GCM_K1.length + fuzzed.length];
                    System.arraycopy(AES_GCM_K1, 0, flagged, 0, AES_GCM_K1.length);
                    System.arraycopy(fuzzed, 0, flagged, AES_GCM_K1.length, fuzzed.length);
                    // or a fuzzed key id length and id
                    if (data.consumeBoolean() && flagged.length > 1) {
                        flagged[1] = data.consumeByte();
                    }
                    hash.put(field, flagged);
                }
                default -> hash.put(field, data.pickValue(List.of("-1", "0", "1e400", "9223372036854775807",
                        "-9223372036854775808", "99999999999999999999", "nan", "inf", "0x10", " 1", "")).getBytes(
                        StandardCharsets.US_ASCII));
            }
        }
        store(hash, wrongType);
        String operation = data.pickValue(OPERATIONS);
        TomcatNode node = data.consumeBoolean() ? node1 : node2;

        RawHttp.Reply reply = RawHttp.get(node.port(), "/app/s/" + operation, List.of("JSESSIONID=" + victimId),
                REQUEST_TIMEOUT_MILLIS);

        String request = operation + " on " + node.name() + " after changing " + touched
                + (wrongType == null ? "" : " and making the key a " + wrongType);
        assertThat(reply.status()).as("status of %s: %s", request, reply.body())
                .satisfiesAnyOf(status -> assertThat(status).isLessThan(500), status -> assertThat(status).isEqualTo(503));
        assertThat(reply.body()).as("another user's data in %s", request).doesNotContain(otherSecret);
        if (operation.equals("get?name=a") && reply.status() == 200 && !reply.body().equals("no session")
                && !touched.contains(SessionHashFormat.attributeField("a")) && !touched.contains(SessionHashFormat.SEAL_ID)) {
            assertThat(reply.body()).as("intact attribute after %s", request).isEqualTo(INTACT_VALUE);
        }
        if (operation.equals("get?name=big") && reply.status() == 200 && !reply.body().equals("no session")
                && !touched.contains(SessionHashFormat.attributeField("big"))
                && !touched.contains(SessionHashFormat.SEAL_ID)) {
            assertThat(reply.body()).as("intact compressed attribute after %s", request)
                    .isEqualTo(INTACT_COMPRESSED_VALUE);
        }
        Set<String> allowed = new HashSet<>(expectedKeys);
        for (String issued : reply.issuedSessionIds()) {
            allowed.add(redis.sessionKey(issued));
        }
        assertThat(allowed).as("Redis keys after %s", request).containsAll(redis.keys());
        for (String issued : reply.issuedSessionIds()) {
            if (!SessionKeys.baseId(issued).equals(SessionKeys.baseId(victimId))) {
                redis.client().del(redis.sessionKey(issued));
                redis.client().zrem(redis.indexKey(issued), SessionKeys.baseId(issued));
            }
        }
    }

    /** One to four megabytes of a repeated random pattern. */
    private static byte[] megabytes(FuzzedDataProvider data) {
        byte[] pattern = data.consumeBytes(16);
        byte[] big = new byte[data.consumeInt(1 << 20, 4 << 20)];
        for (int i = 0; pattern.length > 0 && i < big.length; i++) {
            big[i] = pattern[i % pattern.length];
        }
        return big;
    }

    /** Puts the victim's key back, with {@code hash} as its fields or as a key of another type. */
    private static void store(Map<String, byte[]> hash, String wrongType) {
        String key = new String(victimKey, StandardCharsets.UTF_8);
        String base = SessionKeys.baseId(victimId);
        redis.client().del(key, key + ":claimed");
        switch (wrongType == null ? "hash" : wrongType) {
            case "string" -> redis.client().set(key, "not a session");
            case "list" -> redis.client().rpush(key, "not", "a", "session");
            case "set" -> redis.client().sadd(key, "not a session");
            case "zset" -> redis.client().zadd(key, 1, "not a session");
            case "stream" -> redis.client().xadd(key, StreamEntryID.NEW_ENTRY,
                    Map.of("not", "a session"));
            default -> {
                Map<byte[], byte[]> fields = new HashMap<>();
                hash.forEach((field, value) -> fields.put(field.getBytes(StandardCharsets.UTF_8), value));
                if (!fields.isEmpty()) {
                    redis.client().hset(victimKey, fields);
                }
            }
        }
        redis.client().pexpire(key, 3_600_000);
        redis.client().zadd(redis.indexKey(base), System.currentTimeMillis() + 3_600_000.0, base);
    }
}

package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.testsupport.Await;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.UnifiedJedis;

/**
 * Sign a user out everywhere (issue 16, part 1): two embedded Tomcat nodes sharing one Redis
 * deployment, users logging in with {@code HttpServletRequest.login} (the authenticator changes
 * the session id and caches the principal, as a login form does), the principal index
 * ({@code <keyPrefix>principal:{<tag>}}) asserted as Redis holds it. Each topology runs it
 * through a subclass.
 */
@Tag("tomcat")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SignOutEverywhereSuite {

    static final String PREFIX = RedisUnderTest.PREFIX;

    TomcatNode nodeA;
    TomcatNode nodeB;
    RedisUnderTest redis;
    final DestroyedSessions destroyed = new DestroyedSessions();

    /** The deployment under test, started by the subclass's extension. */
    abstract RedisUnderTest redisUnderTest();

    @BeforeAll
    void startNodes() {
        redis = redisUnderTest();
        nodeA = TomcatNode.start(getClass().getSimpleName() + "-a", redis::configure, destroyed::register);
        nodeB = TomcatNode.start(getClass().getSimpleName() + "-b", redis::configure, destroyed::register);
    }

    @AfterAll
    void stopNodes() {
        TomcatNode.closeAll(nodeA, nodeB);
        if (redis != null) {
            redis.close();
        }
    }

    @BeforeEach
    void emptyRedis() {
        redis.flushAll();
        destroyed.clear();
    }

    @Test
    void signingOutEverywhereEndsEveryDeviceOfTheUserOnBothNodesAndFiresListenersOncePerSession() {
        HttpSessionClient phone = new HttpSessionClient();
        HttpSessionClient laptop = new HttpSessionClient();
        HttpSessionClient bob = new HttpSessionClient();
        login(phone, nodeA, "ann");
        login(laptop, nodeB, "ann");
        login(bob, nodeA, "bob");
        // Every session is used on both nodes, so each node has read each of them.
        for (HttpSessionClient client : List.of(phone, laptop, bob)) {
            client.ok(nodeA.url("set?name=seen&value=a"));
            client.ok(nodeB.url("whoami"));
        }
        assertThat(phone.ok(nodeB.url("whoami"))).isEqualTo("ann");
        assertThat(nodeB.manager().listSessionIdsOf("ann").split(" "))
                .containsExactlyInAnyOrder(phone.sessionId(), laptop.sessionId());
        assertThat(redis.client().zrange(indexKey("ann"), 0, -1))
                .containsExactlyInAnyOrder(base(phone), base(laptop));

        assertThat(phone.ok(nodeA.url("signout-everywhere"))).isEqualTo("2");

        for (TomcatNode node : List.of(nodeA, nodeB)) {
            assertThat(phone.ok(node.url("whoami"))).as("phone on " + node.name()).isEqualTo("null");
            assertThat(laptop.ok(node.url("whoami"))).as("laptop on " + node.name()).isEqualTo("null");
            assertThat(phone.ok(node.url("get?name=seen"))).isEqualTo("no session");
            assertThat(laptop.ok(node.url("get?name=seen"))).isEqualTo("no session");
            assertThat(bob.ok(node.url("whoami"))).as("bob on " + node.name()).isEqualTo("bob");
        }
        assertThat(destroyed.calls()).containsOnlyKeys(base(phone), base(laptop));
        assertThat(destroyed.calls().values()).extracting(AtomicInteger::get).containsOnly(1);
        assertThat(redis.client().exists(indexKey("ann"))).as("the index of ann is empty").isFalse();
        assertThat(redis.client().zrange(indexKey("bob"), 0, -1)).containsExactly(base(bob));
        assertThat(bob.ok(nodeB.url("sessions-of?user=bob"))).isEqualTo(bob.sessionId());
    }

    /**
     * A request of the laptop in flight on node B while the phone signs out everywhere on node A:
     * it ends without bringing the session back, its listeners fire once (on A), and the laptop's
     * next request on either node is not signed in.
     */
    @Test
    void aRequestInFlightOnTheOtherNodeDoesNotBringTheSessionBack() throws Exception {
        HttpSessionClient phone = new HttpSessionClient();
        HttpSessionClient laptop = new HttpSessionClient();
        login(phone, nodeA, "ann");
        login(laptop, nodeB, "ann");
        String barrier = "signout-" + getClass().getSimpleName();
        SessionServlet.BARRIERS.put(barrier, new CountDownLatch(2));
        CompletableFuture<HttpSessionClient.Reply> inFlight = CompletableFuture.supplyAsync(
                () -> laptop.get(nodeB.url("set?name=late&value=1&barrier=" + barrier)));
        Await.until(Duration.ofSeconds(30), "the laptop's request holds its session on node B",
                () -> SessionServlet.BARRIERS.get(barrier).getCount() == 1);

        assertThat(phone.ok(nodeA.url("signout-everywhere"))).isEqualTo("2");
        SessionServlet.BARRIERS.get(barrier).countDown();
        assertThat(inFlight.get(30, TimeUnit.SECONDS).status()).isEqualTo(200);

        for (TomcatNode node : List.of(nodeA, nodeB)) {
            assertThat(laptop.ok(node.url("whoami"))).isEqualTo("null");
            assertThat(laptop.ok(node.url("get?name=late"))).isEqualTo("no session");
        }
        assertThat(redis.client().exists(redis.sessionKey(laptop.sessionId()))).isFalse();
        assertThat(destroyed.calls()).containsOnlyKeys(base(phone), base(laptop));
        assertThat(destroyed.calls().values()).extracting(AtomicInteger::get).containsOnly(1);
    }

    @Test
    void theIndexFollowsLoginIdChangeLogoutInvalidationAndExpiry() {
        HttpSessionClient ann = new HttpSessionClient();
        ann.ok(nodeA.url("create"));
        String anonymous = base(ann);
        login(ann, nodeA, "ann");
        assertThat(base(ann)).as("the authenticator changed the id").isNotEqualTo(anonymous);
        assertThat(redis.client().zrange(indexKey("ann"), 0, -1)).containsExactly(base(ann));
        assertThat(redis.client().hget(redis.sessionKey(ann.sessionId()), "meta:principalName")).isEqualTo("ann");
        assertThat(redis.client().ttl(indexKey("ann"))).as("TTL: at least the session's")
                .isGreaterThanOrEqualTo(redis.client().ttl(redis.sessionKey(ann.sessionId())));

        String before = base(ann);
        ann.ok(nodeB.url("change-id"));
        assertThat(redis.client().zrange(indexKey("ann"), 0, -1)).containsExactly(base(ann)).doesNotContain(before);

        ann.ok(nodeB.url("logout"));
        assertThat(redis.client().exists(indexKey("ann"))).as("index after logout").isFalse();
        assertThat(redis.client().hexists(redis.sessionKey(ann.sessionId()), "meta:principalName")).isFalse();
        assertThat(ann.ok(nodeA.url("whoami"))).isEqualTo("null");

        login(ann, nodeB, "ann");
        login(ann, nodeA, "carol");
        assertThat(redis.client().exists(indexKey("ann"))).as("index of the previous user").isFalse();
        assertThat(redis.client().zrange(indexKey("carol"), 0, -1)).containsExactly(base(ann));

        ann.ok(nodeB.url("invalidate"));
        assertThat(redis.client().exists(indexKey("carol"))).as("index after invalidation").isFalse();

        HttpSessionClient dan = new HttpSessionClient();
        login(dan, nodeA, "dan");
        String key = redis.sessionKey(dan.sessionId());
        redis.client().hset(key, "meta:lastAccessedTime", "1000");
        redis.client().zadd(redis.indexKey(dan.sessionId()), 0, base(dan));
        nodeB.manager().processExpires();
        assertThat(destroyed.calls()).containsKey(base(dan));
        assertThat(redis.client().exists(indexKey("dan"))).as("index after expiry").isFalse();
    }

    @Test
    void aStaleMemberIsRemovedWhenReadAndAYoungOneIsKept() {
        HttpSessionClient ann = new HttpSessionClient();
        HttpSessionClient bob = new HttpSessionClient();
        login(ann, nodeA, "ann");
        login(bob, nodeA, "bob");
        UnifiedJedis jedis = redis.client();
        String gone = "0123456789ABCDEF0123456789ABCDEF";
        String young = "FEDCBA9876543210FEDCBA9876543210";
        jedis.zadd(indexKey("ann"), 0, gone);
        jedis.zadd(indexKey("ann"), 0, base(bob));
        jedis.zadd(indexKey("ann"), (double) redisMillis(jedis, indexKey("ann")), young);

        assertThat(ann.ok(nodeB.url("sessions-of?user=ann"))).isEqualTo(ann.sessionId());

        assertThat(jedis.zrange(indexKey("ann"), 0, -1)).as("hash gone, or names bob: removed; written just now: kept")
                .containsExactlyInAnyOrder(base(ann), young);
        assertThat(bob.ok(nodeA.url("whoami"))).isEqualTo("bob");
    }

    @Test
    void aSessionWithoutPrincipalBelongsToTheUserItsApplicationNamesInTheAttribute() {
        HttpSessionClient phone = new HttpSessionClient();
        HttpSessionClient laptop = new HttpSessionClient();
        phone.ok(nodeA.url("app-login?user=eve"));
        laptop.ok(nodeB.url("app-login?user=eve"));
        laptop.ok(nodeA.url("set?name=seen&value=1"));
        assertThat(redis.client().hget(redis.sessionKey(phone.sessionId()), "meta:principalName")).isEqualTo("eve");

        assertThat(new HttpSessionClient().ok(nodeB.url("sessions-of?user=eve")).split(" "))
                .containsExactlyInAnyOrder(phone.sessionId(), laptop.sessionId());
        assertThat(new HttpSessionClient().ok(nodeB.url("invalidate-all?user=eve"))).isEqualTo("2");

        assertThat(phone.ok(nodeB.url("get?name=" + "io.tomcatredis.session.principalName"))).isEqualTo("no session");
        assertThat(laptop.ok(nodeA.url("get?name=seen"))).isEqualTo("no session");
        assertThat(destroyed.calls()).containsOnlyKeys(base(phone), base(laptop));
        assertThat(redis.client().exists(indexKey("eve"))).isFalse();
    }

    static List<String> oddNames() {
        return List.of("{ann}", "}{", "a:b:c", "ann smith", "Zoë 🙂 日本語", "tab\tand%25", "x".repeat(10 * 1024),
                "ü".repeat(49));
    }

    @ParameterizedTest
    @MethodSource("oddNames")
    void anyUserNameHasItsOwnIndexKeyAndIsSignedOutEverywhere(String name) {
        HttpSessionClient one = new HttpSessionClient();
        HttpSessionClient two = new HttpSessionClient();
        login(one, nodeA, name);
        login(two, nodeB, name);
        HttpSessionClient other = new HttpSessionClient();
        login(other, nodeB, "ann");

        assertThat(redis.client().zrange(indexKey(name), 0, -1)).containsExactlyInAnyOrder(base(one), base(two));
        assertThat(two.ok(nodeA.url("whoami"))).isEqualTo(name);
        assertThat(two.ok(nodeA.url("signout-everywhere"))).isEqualTo("2");

        assertThat(one.ok(nodeB.url("whoami"))).isEqualTo("null");
        assertThat(two.ok(nodeB.url("whoami"))).isEqualTo("null");
        assertThat(other.ok(nodeA.url("whoami"))).isEqualTo("ann");
        assertThat(destroyed.calls()).containsOnlyKeys(base(one), base(two));
    }

    /** Logs {@code client} in as {@code user} on {@code node}; the client then holds the new session id. */
    static void login(HttpSessionClient client, TomcatNode node, String user) {
        String id = client.ok(node.url("login?user=" + URLEncoder.encode(user, StandardCharsets.UTF_8)));
        client.sessionId(id);
    }

    static String base(HttpSessionClient client) {
        return SessionKeys.baseId(client.sessionId());
    }

    /**
     * The index key as the README documents it, computed here on its own: {@code u:} and the
     * unpadded base64url of the UTF-8 name up to 96 bytes, else {@code h:} and its SHA-256 in hex.
     */
    static String indexKey(String user) {
        byte[] name = user.getBytes(StandardCharsets.UTF_8);
        String tag;
        try {
            tag = name.length <= 96 ? "u:" + Base64.getUrlEncoder().withoutPadding().encodeToString(name)
                    : "h:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(name));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return PREFIX + "principal:{" + tag + "}";
    }

    /** Redis' clock, ms, on the node that holds {@code key}. */
    private static long redisMillis(UnifiedJedis jedis, String key) {
        List<?> time = (List<?>) jedis.sendCommand(key.getBytes(StandardCharsets.UTF_8), Protocol.Command.TIME);
        return Long.parseLong(new String((byte[]) time.get(0), StandardCharsets.US_ASCII)) * 1000
                + Long.parseLong(new String((byte[]) time.get(1), StandardCharsets.US_ASCII)) / 1000;
    }
}

package io.tomcatredis.session.it;

import static io.tomcatredis.session.it.SignOutEverywhereSuite.base;
import static io.tomcatredis.session.it.SignOutEverywhereSuite.indexKey;
import static io.tomcatredis.session.it.SignOutEverywhereSuite.login;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Attacks on sign out everywhere (issue 16, part 1), standalone Redis, two embedded Tomcat nodes:
 * names that collide or nearly collide after encoding, the 96-byte boundary of the index key's
 * readable form, the index's TTL after the interval changes, JMX input, three devices with one
 * mid-request.
 */
@Tag("tomcat")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Issue16SignOutAttackIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private RedisUnderTest redis;
    private TomcatNode nodeA;
    private TomcatNode nodeB;
    private final DestroyedSessions destroyed = new DestroyedSessions();

    @BeforeAll
    void startNodes() {
        redis = RedisUnderTest.standalone(REDIS.get());
        nodeA = TomcatNode.start("attack16-a", redis::configure, destroyed::register);
        nodeB = TomcatNode.start("attack16-b", redis::configure, destroyed::register);
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

    /**
     * Two Java strings, one UTF-8 byte string: "ann?" and "ann" followed by a lone surrogate
     * (String.getBytes(UTF_8) writes '?' for it). Signing out the second must not end the first's
     * session, nor list it.
     */
    @Test
    void aNameWithALoneSurrogateDoesNotSignOutTheUserWhoseNameEncodesTheSame() {
        HttpSessionClient victim = new HttpSessionClient();
        login(victim, nodeA, "ann?");
        assertThat(victim.ok(nodeB.url("whoami"))).isEqualTo("ann?");

        String lookalike = "ann\uD800";
        // Fixed: refused with a clear error (no session is indexed under a name without a UTF-8 form).
        assertThatThrownBy(() -> nodeB.manager().listSessionIdsOf(lookalike))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not well-formed");
        assertThatThrownBy(() -> nodeB.manager().expireSessionsOf(lookalike))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(victim.ok(nodeA.url("whoami"))).isEqualTo("ann?");
        assertThat(nodeB.manager().listSessionIdsOf("ann?")).isEqualTo(victim.sessionId());
    }

    /** Case and Unicode normalization: names that differ only so are different users; each sign-out ends its own. */
    @Test
    void namesDifferingInCaseOrNormalizationAreDifferentUsers() {
        String nfc = Normalizer.normalize("Zoé", Normalizer.Form.NFC);
        String nfd = Normalizer.normalize("Zoé", Normalizer.Form.NFD);
        assertThat(nfc).isNotEqualTo(nfd);
        List<String> names = List.of("ann", "Ann", "ANN", nfc, nfd);
        List<HttpSessionClient> clients = names.stream().map(n -> new HttpSessionClient()).toList();
        for (int i = 0; i < names.size(); i++) {
            login(clients.get(i), i % 2 == 0 ? nodeA : nodeB, names.get(i));
        }
        for (int i = 0; i < names.size(); i++) {
            assertThat(nodeA.manager().listSessionIdsOf(names.get(i))).as(names.get(i))
                    .isEqualTo(clients.get(i).sessionId());
        }
        assertThat(clients.get(0).ok(nodeB.url("signout-everywhere"))).isEqualTo("1");
        assertThat(clients.get(3).ok(nodeA.url("signout-everywhere"))).isEqualTo("1");
        assertThat(clients.get(0).ok(nodeA.url("whoami"))).isEqualTo("null");
        assertThat(clients.get(3).ok(nodeB.url("whoami"))).isEqualTo("null");
        for (int i : new int[] {1, 2, 4}) {
            assertThat(clients.get(i).ok(nodeA.url("whoami"))).as(names.get(i)).isEqualTo(names.get(i));
        }
        assertThat(destroyed.calls()).containsOnlyKeys(base(clients.get(0)), base(clients.get(3)));
    }

    /** 96 UTF-8 bytes: the readable form; 97: the SHA-256 form; both sign out, neither touches the other. */
    @Test
    void namesAtAndJustOverTheReadableBoundaryEachSignOutOnlyThemselves() {
        String at = "é".repeat(48);
        String over = at + "x";
        String under = "é".repeat(47) + "x";
        assertThat(at.getBytes(StandardCharsets.UTF_8)).hasSize(96);
        assertThat(over.getBytes(StandardCharsets.UTF_8)).hasSize(97);
        HttpSessionClient[] clients = {new HttpSessionClient(), new HttpSessionClient(), new HttpSessionClient()};
        login(clients[0], nodeA, at);
        login(clients[1], nodeB, over);
        login(clients[2], nodeA, under);
        assertThat(indexKey(at)).contains("{u:");
        assertThat(indexKey(over)).contains("{h:");
        assertThat(redis.client().zrange(indexKey(at), 0, -1)).containsExactly(base(clients[0]));
        assertThat(redis.client().zrange(indexKey(over), 0, -1)).containsExactly(base(clients[1]));

        assertThat(clients[1].ok(nodeA.url("signout-everywhere"))).isEqualTo("1");
        assertThat(clients[0].ok(nodeB.url("whoami"))).isEqualTo(at);
        assertThat(clients[2].ok(nodeB.url("whoami"))).isEqualTo(under);
        assertThat(clients[0].ok(nodeB.url("signout-everywhere"))).isEqualTo("1");
        assertThat(clients[2].ok(nodeA.url("whoami"))).isEqualTo(under);
        assertThat(clients[1].ok(nodeA.url("whoami"))).isEqualTo("null");
    }

    /**
     * The index never expires before a session it lists: after the interval is raised well past the
     * one at sign-in, and for a session that never expires (0 and negative).
     */
    @Test
    void theIndexOutlivesItsSessionWhenTheIntervalIsRaisedOrNeverExpires() {
        for (String interval : List.of("864000", "0", "-1")) {
            HttpSessionClient client = new HttpSessionClient();
            login(client, nodeA, "ivan");
            client.ok(nodeB.url("max-inactive?value=" + interval));
            long sessionTtl = redis.client().pttl(redis.sessionKey(client.sessionId()));
            long indexTtl = redis.client().pttl(indexKey("ivan"));
            assertThat(sessionTtl).as("session TTL, interval " + interval).isPositive();
            assertThat(indexTtl).as("index TTL, interval " + interval).isGreaterThanOrEqualTo(sessionTtl);
            // A read-only request afterwards keeps both at least as long.
            client.ok(nodeA.url("whoami"));
            assertThat(redis.client().pttl(indexKey("ivan"))).as("after a read, interval " + interval)
                    .isGreaterThanOrEqualTo(redis.client().pttl(redis.sessionKey(client.sessionId())) - 1000);
            assertThat(nodeB.manager().listSessionIdsOf("ivan")).isEqualTo(client.sessionId());
            assertThat(client.ok(nodeB.url("signout-everywhere"))).isEqualTo("1");
        }
        // Raised in the very request that signs in.
        HttpSessionClient client = new HttpSessionClient();
        client.ok(nodeA.url("max-inactive?value=-1"));
        login(client, nodeA, "ivan");
        assertThat(redis.client().pttl(indexKey("ivan")))
                .isGreaterThanOrEqualTo(redis.client().pttl(redis.sessionKey(client.sessionId())));
    }

    /** JMX operations with null, empty and huge names: a clear error or an empty answer, no other user touched. */
    @Test
    void jmxOperationsWithNullEmptyAndHugeNames() throws Exception {
        HttpSessionClient ann = new HttpSessionClient();
        login(ann, nodeA, "ann");
        HttpSessionClient anonymous = new HttpSessionClient();
        anonymous.ok(nodeB.url("create"));
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName manager = new ObjectName(nodeA.name() + ":type=Manager,host=localhost,context=/app");
        String[] signature = {String.class.getName()};
        for (String operation : List.of("listSessionIdsOf", "expireSessionsOf")) {
            Throwable thrown = null;
            try {
                server.invoke(manager, operation, new Object[] {null}, signature);
            } catch (Exception e) {
                thrown = e;
            }
            assertThat(thrown).as(operation + "(null)").isNotNull();
            Throwable root = thrown;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            assertThat(root).as(operation + "(null)").isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("The user name must not be null");
        }
        assertThat(server.invoke(manager, "listSessionIdsOf", new Object[] {""}, signature)).isEqualTo("");
        assertThat(server.invoke(manager, "expireSessionsOf", new Object[] {""}, signature)).isEqualTo(0);
        String huge = "a".repeat(1 << 20);
        assertThat(server.invoke(manager, "listSessionIdsOf", new Object[] {huge}, signature)).isEqualTo("");
        assertThat(server.invoke(manager, "expireSessionsOf", new Object[] {huge}, signature)).isEqualTo(0);
        assertThat(ann.ok(nodeB.url("whoami"))).isEqualTo("ann");
        assertThat(anonymous.ok(nodeA.url("get?name=x"))).isEqualTo("null");
        assertThat(destroyed.calls()).isEmpty();
    }

    /** An application that names no user (empty name attribute) is not signed out by an empty name's sign-out. */
    @Test
    void anEmptyUserNameInTheAttributeIsNotIndexedOrIsOnlyItsOwn() {
        HttpSessionClient empty = new HttpSessionClient();
        empty.ok(nodeA.url("app-login?user="));
        HttpSessionClient ann = new HttpSessionClient();
        login(ann, nodeB, "ann");
        int signedOut = nodeB.manager().expireSessionsOf("");
        assertThat(signedOut).isLessThanOrEqualTo(1);
        assertThat(ann.ok(nodeA.url("whoami"))).isEqualTo("ann");
    }

    /** Three devices, one mid-request on node B, signed out from node A: all three end, listeners once each, none comes back. */
    @Test
    void threeDevicesOneMidRequestOnTheOtherNodeAllEndWithListenersOnce() throws Exception {
        threeDevicesOneMidRequest(nodeA, true);
    }

    /**
     * The same, signed out from the node that runs the in-flight request (node B): the session is
     * invalidated under the request, so its setAttribute throws IllegalStateException as Tomcat's
     * StandardSession does (a 500 from the application, unless it catches it); everything else holds.
     */
    @Test
    void threeDevicesOneMidRequestOnTheSameNodeAllEndWithListenersOnce() throws Exception {
        threeDevicesOneMidRequest(nodeB, false);
    }

    private void threeDevicesOneMidRequest(TomcatNode signingOutOn, boolean inFlightAnswers200) throws Exception {
        HttpSessionClient[] devices = {new HttpSessionClient(), new HttpSessionClient(), new HttpSessionClient()};
        login(devices[0], nodeA, "tri");
        login(devices[1], nodeB, "tri");
        login(devices[2], nodeA, "tri");
        HttpSessionClient other = new HttpSessionClient();
        login(other, nodeB, "triangle");
        String barrier = "attack16-three-" + signingOutOn.name();
        SessionServlet.BARRIERS.put(barrier, new CountDownLatch(2));
        CompletableFuture<HttpSessionClient.Reply> inFlight = CompletableFuture.supplyAsync(
                () -> devices[2].get(nodeB.url("set?name=late&value=1&barrier=" + barrier)));
        Await.until(Duration.ofSeconds(30), "device 3's request holds its session on node B",
                () -> SessionServlet.BARRIERS.get(barrier).getCount() == 1);

        assertThat(devices[0].ok(signingOutOn.url("signout-everywhere"))).isEqualTo("3");
        SessionServlet.BARRIERS.get(barrier).countDown();
        int status = inFlight.get(30, TimeUnit.SECONDS).status();
        assertThat(status).isEqualTo(inFlightAnswers200 ? 200 : 500);

        for (TomcatNode node : List.of(nodeA, nodeB)) {
            for (HttpSessionClient device : devices) {
                assertThat(device.ok(node.url("whoami"))).isEqualTo("null");
                assertThat(device.ok(node.url("get?name=late"))).isEqualTo("no session");
            }
            assertThat(other.ok(node.url("whoami"))).isEqualTo("triangle");
        }
        assertThat(destroyed.calls()).containsOnlyKeys(base(devices[0]), base(devices[1]), base(devices[2]));
        assertThat(destroyed.calls().values()).extracting(AtomicInteger::get).containsOnly(1);
        assertThat(redis.client().exists(indexKey("tri"))).isFalse();
    }

    /**
     * Both nodes sign the same user out at the same time: every session ends once, its listener
     * fires once, and the two answers add up to the number of sessions.
     */
    @Test
    void twoNodesSigningTheSameUserOutAtOnceEndEachSessionOnce() throws Exception {
        List<HttpSessionClient> devices = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            HttpSessionClient device = new HttpSessionClient();
            login(device, i % 2 == 0 ? nodeA : nodeB, "duo");
            devices.add(device);
        }
        CountDownLatch start = new CountDownLatch(1);
        CompletableFuture<Integer> fromA = CompletableFuture.supplyAsync(() -> {
            awaitQuietly(start);
            return nodeA.manager().expireSessionsOf("duo");
        });
        CompletableFuture<Integer> fromB = CompletableFuture.supplyAsync(() -> {
            awaitQuietly(start);
            return nodeB.manager().expireSessionsOf("duo");
        });
        start.countDown();
        assertThat(fromA.get(30, TimeUnit.SECONDS) + fromB.get(30, TimeUnit.SECONDS)).isEqualTo(6);
        for (HttpSessionClient device : devices) {
            assertThat(device.ok(nodeA.url("whoami"))).isEqualTo("null");
        }
        assertThat(destroyed.calls()).hasSize(6);
        assertThat(destroyed.calls().values()).extracting(AtomicInteger::get).containsOnly(1);
        assertThat(redis.client().exists(indexKey("duo"))).isFalse();
    }

    /**
     * The index entry lost while the session lives (on Redis Cluster the index is on another shard:
     * a failover there loses the ZADD of principal_add.lua, replicated asynchronously, while the
     * session's own shard keeps the save; or the key deleted by hand): the session's next saves
     * must bring it back, or it can never be signed out everywhere.
     */
    @Test
    void aLostIndexEntryComesBackWithTheSessionsNextSave() {
        HttpSessionClient phone = new HttpSessionClient();
        login(phone, nodeA, "lost");
        redis.client().del(indexKey("lost"));
        phone.ok(nodeB.url("set?name=cart&value=1"));
        phone.ok(nodeA.url("set?name=cart&value=2"));
        assertThat(nodeA.manager().listSessionIdsOf("lost")).isEqualTo(phone.sessionId());
        assertThat(nodeB.manager().expireSessionsOf("lost")).isEqualTo(1);
        assertThat(phone.ok(nodeA.url("whoami"))).isEqualTo("null");
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.args.ClientPauseMode;
import redis.clients.jedis.args.ClientType;
import redis.clients.jedis.params.ClientKillParams;

/**
 * Attacks on loads answered from the near cache with no round trip
 * ({@code nearCacheStalenessMillis}). Node A answers from its copies with a long bound, node B
 * keeps nothing and always reads Redis. A stale answer on A within the bound is allowed by the
 * promise; to get one deterministically, A's invalidation reader is held (suspended) while B
 * changes the session, exactly as a slow or descheduled reader thread would. What a request
 * answered from such a copy then writes must never overwrite or resurrect what B wrote.
 */
@Tag("tomcat")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NearCacheTrackingAttackIT {

    /** Long: while A's reader is held, its last confirmation stays within the bound. */
    static final int BOUND_MILLIS = 20_000;
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String READER = "tomcat-redis-invalidations " + RedisUnderTest.PREFIX;

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    static final DestroyedSessions DESTROYED = new DestroyedSessions();

    private RedisUnderTest redis;
    private RedisCommands commands;
    private TomcatNode nodeA;
    private TomcatNode nodeB;

    @BeforeAll
    void startNodes() {
        redis = RedisUnderTest.standalone(REDIS.get());
        commands = new RedisCommands(() -> List.of(REDIS.get().node()));
        nodeA = TomcatNode.start("tatkA", m -> {
            redis.configure(m);
            m.setProperty("nearCacheStalenessMillis", Integer.toString(BOUND_MILLIS));
        }, DESTROYED::register);
        nodeB = TomcatNode.start("tatkB", m -> {
            redis.configure(m);
            m.setProperty("nearCacheSize", "0");
        }, DESTROYED::register);
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
        REDIS.get().node().resume();
        redis.flushAll();
        DESTROYED.clear();
        Await.until(WAIT, "invalidations current on node A", () -> nodeA.manager().isNearCacheTrackingCurrent());
    }

    /** Repeats {@code url} until a request of it needs no Redis command; returns that answer. */
    private String answeredWithoutRedis(HttpSessionClient browser, String url) {
        return commands.untilAnsweredWithoutRedis(() -> browser.ok(url));
    }

    /**
     * Runs {@code whileHeld} while node A's invalidation reader thread is suspended (as a
     * descheduled thread would be), then lets it go and waits until it heard everything sent so far.
     */
    @SuppressWarnings({"deprecation", "removal"})
    private void withReaderHeld(Runnable whileHeld) {
        Thread reader = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(READER))
                .findFirst().orElseThrow();
        // Suspend only while it waits on its socket, never while it holds a lock of the near cache.
        Await.until(WAIT, "the reader suspended while reading its socket", () -> {
            reader.suspend();
            for (StackTraceElement frame : reader.getStackTrace()) {
                if (frame.getClassName().contains("NearCache") || frame.getClassName().contains("RedisSessionManager")
                        || frame.getMethodName().equals("heard")) {
                    reader.resume();
                    return false;
                }
            }
            return true;
        });
        try {
            whileHeld.run();
        } finally {
            reader.resume();
        }
    }

    /** What node A answers once its reader heard what Redis sent (a stale answer is allowed until then). */
    private void eventuallyOnA(HttpSessionClient browser, String path, String expected) {
        Await.until(WAIT, "node A answering " + expected, () -> browser.ok(nodeA.url(path)).equals(expected));
    }

    private String hashKey(HttpSessionClient browser) {
        return RedisUnderTest.PREFIX + "{" + SessionKeys.baseId(browser.sessionId()) + "}";
    }

    @Test
    void aSaveFromAStaleCopyDoesNotOverwriteTheSameAttributeAnotherNodeSaved() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("cart-add?value=a"));
        answeredWithoutRedis(browser, nodeA.url("get?name=cart"));
        String[] onA = new String[1];

        withReaderHeld(() -> {
            assertThat(browser.ok(nodeB.url("cart-add?value=b"))).isEqualTo("[a, b]");
            onA[0] = browser.ok(nodeA.url("cart-add?value=c"));
        });

        assertThat(onA[0]).as("node A answered from its copy, within the bound").isEqualTo("[a, c]");
        // The write computed from the stale copy is refused (WARN), not written over node B's.
        assertThat(browser.ok(nodeB.url("get?name=cart"))).isEqualTo("[a, b]");
    }

    @Test
    void aSaveFromAStaleCopyKeepsADifferentAttributeAnotherNodeSaved() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=red"));
        answeredWithoutRedis(browser, nodeA.url("get?name=color"));

        withReaderHeld(() -> {
            browser.ok(nodeB.url("set?name=size&value=L"));
            browser.ok(nodeA.url("set?name=color&value=blue"));
        });

        assertThat(browser.ok(nodeB.url("get?name=size"))).isEqualTo("L");
        eventuallyOnA(browser, "get?name=size", "L");
        assertThat(browser.ok(nodeB.url("get?name=color"))).isEqualTo("blue");
    }

    @Test
    void aSaveFromAStaleCopyDoesNotResurrectAnAttributeAnotherNodeRemoved() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("cart-add?value=a"));
        answeredWithoutRedis(browser, nodeA.url("get?name=cart"));
        String[] onA = new String[1];

        withReaderHeld(() -> {
            browser.ok(nodeB.url("remove?name=cart"));
            onA[0] = browser.ok(nodeA.url("cart-add?value=c"));
        });

        assertThat(browser.ok(nodeB.url("get?name=cart"))).as("node A answered %s from its copy", onA[0])
                .doesNotContain("a");
    }

    @Test
    void aSessionInvalidatedOnAnotherNodeIsNotRecreatedByAWriteFromAStaleCopy() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=red"));
        answeredWithoutRedis(browser, nodeA.url("get?name=color"));
        String id = SessionKeys.baseId(browser.sessionId());
        String key = hashKey(browser);

        withReaderHeld(() -> {
            browser.ok(nodeB.url("invalidate"));
            browser.get(nodeA.url("set?name=color&value=blue"));
        });

        try (Jedis jedis = REDIS.get().node().client()) {
            assertThat(jedis.exists(key)).as("the invalidated session's hash").isFalse();
        }
        browser.sessionId(id);
        eventuallyOnA(browser, "get?name=color", "no session");
        assertThat(DESTROYED.calls().get(id)).as("sessionDestroyed, once").hasValue(1);
    }

    @Test
    void theOldIdOfASessionWhoseIdChangedOnAnotherNodeIsNotAnsweredOnceHeard() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=red"));
        answeredWithoutRedis(browser, nodeA.url("get?name=color"));
        String oldId = browser.sessionId();
        String[] newId = new String[1];

        withReaderHeld(() -> newId[0] = browser.ok(nodeB.url("change-id")));

        HttpSessionClient attacker = new HttpSessionClient();
        attacker.sessionId(oldId);
        eventuallyOnA(attacker, "get?name=color", "no session");
        browser.sessionId(newId[0]);
        assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("red");
    }

    @Test
    void aChangeMadeWhileThePubsubConnectionWasKilledIsSeen() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=red"));
        answeredWithoutRedis(browser, nodeA.url("get?name=color"));

        withReaderHeld(() -> {
            try (Jedis jedis = REDIS.get().node().client()) {
                jedis.clientKill(new ClientKillParams()
                        .type(ClientType.PUBSUB));
            }
            browser.ok(nodeB.url("set?name=color&value=green"));
        });

        eventuallyOnA(browser, "get?name=color", "green");
    }

    @Test
    void aRedisRestartThatLostTheDataIsSeen() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=red"));
        answeredWithoutRedis(browser, nodeA.url("get?name=color"));

        // No persistence in the harness: the restarted Redis holds nothing, and sends no flush message.
        REDIS.get().node().restart();
        Await.until(WAIT, "node A current again", () -> nodeA.manager().isNearCacheTrackingCurrent());

        assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("no session");
    }

    /**
     * This node's own write outside any request (a detached HttpSession) while one of its requests
     * reads the session: the request read Redis before the write landed and must not keep that
     * hash, or the next request answers it from the copy without the write.
     */
    @Test
    void aWriteOfThisNodeIsSeenAtOnceAlsoWhenARequestReadTheSessionWhileItWasInFlight() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=red"));
        answeredWithoutRedis(browser, nodeA.url("get?name=color"));
        jakarta.servlet.http.HttpSession detached =
                ((org.apache.catalina.Session) nodeA.manager().findSession(browser.sessionId())).getSession();
        Thread writer = new Thread(() -> detached.setAttribute("color", "blue"), "detached-writer");
        try (Jedis jedis = REDIS.get().node().client()) {
            // Writes (the save script) wait; reads (HGETALL) go on.
            jedis.clientPause(WAIT.toMillis(), ClientPauseMode.WRITE);
            try {
                writer.start();
                Await.until(WAIT, "the detached write sent and held by Redis",
                        () -> java.util.Arrays.stream(writer.getStackTrace())
                                .anyMatch(f -> f.getClassName().endsWith("RedisSessionStore") && f.getMethodName().equals("save")));
                assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("red");
                withReaderHeld(() -> {
                    jedis.clientUnpause();
                    try {
                        writer.join(WAIT.toMillis());
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                    assertThat(browser.ok(nodeA.url("get?name=color"))).as("the next request after this node's write")
                            .isEqualTo("blue");
                });
            } finally {
                jedis.clientUnpause();
            }
        }
    }

    private static long invalidationThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("tomcat-redis-invalidations")).count();
    }

    private static long invalidationConnections() {
        try (Jedis jedis = REDIS.get().node().client()) {
            return jedis.clientList().lines().filter(l -> l.contains("name=tomcat-redis-session-invalidations")).count();
        }
    }

    @Test
    void restartsOfAWebappWithTrackingLeakNoThreadAndNoConnection() {
        long threads = invalidationThreads();
        long connections = invalidationConnections();
        TomcatNode node = TomcatNode.start("tatkR", m -> {
            redis.configure(m);
            m.setProperty("nearCacheStalenessMillis", "300");
        });
        try {
            HttpSessionClient browser = new HttpSessionClient();
            for (int i = 0; i < 4; i++) {
                node.restart();
                TomcatNode started = node;
                Await.until(WAIT, "tracking current after a restart", () -> started.manager().isNearCacheTrackingCurrent());
                browser.ok(node.url("set?name=n&value=" + i));
                assertThat(browser.ok(node.url("get?name=n"))).isEqualTo(Integer.toString(i));
            }
        } finally {
            node.close();
        }

        Await.until(WAIT, "no invalidation thread nor connection left",
                () -> invalidationThreads() == threads && invalidationConnections() == connections);
    }

    @Test
    void anAclUserWithoutChannelPermissionsFallsBackToReadingRedis() {
        try (Jedis jedis = REDIS.get().node().client()) {
            jedis.aclSetUser("nochannels", "reset", "on", ">secret", "~*", "resetchannels", "+@all");
        }
        String uri = "redis://nochannels:secret@" + REDIS.get().node().host() + ":" + REDIS.get().node().port();
        TomcatNode node = TomcatNode.start("tatkN", m -> {
            m.setRedisUri(uri);
            m.setProperty("nearCacheStalenessMillis", "300");
        });
        try {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(node.url("set?name=color&value=red"));
            for (int i = 0; i < 5; i++) {
                assertThat(browser.ok(node.url("get?name=color"))).isEqualTo("red");
            }
            try (Jedis jedis = REDIS.get().node().client()) {
                jedis.hset(hashKey(browser), "attr:color", jedis.hget(hashKey(browser), "attr:color") + "x");
                jedis.hdel(hashKey(browser), "attr:color");
            }
            assertThat(browser.ok(node.url("get?name=color"))).isEqualTo("null");
            assertThat(node.manager().isNearCacheTrackingCurrent()).isFalse();
            assertThat(node.manager().getNearCacheHitCount()).isZero();
        } finally {
            node.close();
            try (Jedis jedis = REDIS.get().node().client()) {
                jedis.aclDelUser("nochannels");
            }
        }
    }

    @Test
    void aKeyPrefixWithGlobAndOddCharactersIsTrackedExactly() {
        String prefix = "odd *?[x]\\ \u00e9:";
        TomcatNode node = TomcatNode.start("tatkP", m -> {
            redis.configure(m);
            m.setProperty("keyPrefix", prefix);
            m.setProperty("nearCacheStalenessMillis", "300");
        });
        try {
            Await.until(WAIT, "tracking current", () -> node.manager().isNearCacheTrackingCurrent());
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(node.url("set?name=color&value=red"));
            Await.until(WAIT, "a load answered from the copy", () -> {
                long hits = node.manager().getNearCacheHitCount();
                browser.ok(node.url("get?name=color"));
                return node.manager().getNearCacheHitCount() > hits;
            });
            String key = prefix + "{" + SessionKeys.baseId(browser.sessionId()) + "}";
            try (Jedis jedis = REDIS.get().node().client()) {
                assertThat(jedis.exists(key)).isTrue();
                jedis.hdel(key, "attr:color");
            }
            Await.until(WAIT, "the tool's edit seen", () -> browser.ok(node.url("get?name=color")).equals("null"));
        } finally {
            node.close();
        }
    }

    /** This node's own changes need no message from Redis: seen at once while its reader hears nothing. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"save", "invalidate", "change-id", "jmx-expire"})
    void thisNodesOwnChangeIsSeenAtOnceWithoutRedisMessage(String change) {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=red"));
        answeredWithoutRedis(browser, nodeA.url("get?name=color"));
        String oldId = browser.sessionId();
        String id = SessionKeys.baseId(oldId);

        withReaderHeld(() -> {
            switch (change) {
                case "save" -> {
                    browser.ok(nodeA.url("set?name=color&value=blue"));
                    assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("blue");
                }
                case "invalidate" -> {
                    browser.ok(nodeA.url("invalidate"));
                    browser.sessionId(oldId);
                    assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("no session");
                }
                case "change-id" -> {
                    String newId = browser.ok(nodeA.url("change-id"));
                    HttpSessionClient attacker = new HttpSessionClient();
                    attacker.sessionId(oldId);
                    assertThat(attacker.ok(nodeA.url("get?name=color"))).isEqualTo("no session");
                    browser.sessionId(newId);
                    assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("red");
                }
                default -> {
                    nodeA.manager().expireSession(oldId);
                    assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("no session");
                }
            }
        });
        if (!change.equals("save") && !change.equals("change-id")) {
            assertThat(DESTROYED.calls().get(id)).as("sessionDestroyed, once").hasValue(1);
        }
    }
}

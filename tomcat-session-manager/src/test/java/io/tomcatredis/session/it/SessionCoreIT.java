package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.store.SessionHashFormat;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import jakarta.servlet.http.HttpSessionEvent;
import jakarta.servlet.http.HttpSessionListener;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import jakarta.servlet.ServletException;
import java.io.IOException;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.realm.GenericPrincipal;
import org.apache.catalina.valves.ValveBase;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.ErrorPage;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import redis.clients.jedis.UnifiedJedis;

/**
 * The failing inputs of issue 10 (session core): a node's in-memory copy, error pages, other
 * threads, the response overtaking the save, one session under concurrent requests on one node,
 * expiry and keys. Two embedded Tomcat nodes on one standalone Redis; every request may go to
 * either node. Requests are held in flight with {@link CoreScenarioServlet.Gate}s the test opens.
 */
@Tag("tomcat")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionCoreIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    /** sessionDestroyed events per session id, on both nodes. */
    static final Map<String, AtomicInteger> DESTROYED = new ConcurrentHashMap<>();

    /** Runs the requests held in flight (the common pool has one thread on a 2-core machine). */
    private static final ExecutorService IN_FLIGHT = Executors.newCachedThreadPool(r -> {
        Thread thread = new Thread(r, "request-in-flight");
        thread.setDaemon(true);
        return thread;
    });
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final String BASIC_ANN = "Basic "
            + Base64.getEncoder().encodeToString("ann:secret".getBytes(StandardCharsets.UTF_8));

    private RedisUnderTest redis;
    private TomcatNode nodeA;
    private TomcatNode nodeB;
    /** Session objects each node held when the current test began (non-zero only after a leak). */
    private final Map<String, Integer> heldBefore = new ConcurrentHashMap<>();

    @BeforeAll
    void startNodes() {
        redis = RedisUnderTest.standalone(REDIS.get());
        nodeA = TomcatNode.start("nodeA", redis::configure, SessionCoreIT::scenarios);
        nodeB = TomcatNode.start("nodeB", redis::configure, SessionCoreIT::scenarios);
    }

    @AfterAll
    void stopNodes() {
        if (nodeA != null) {
            nodeA.close();
        }
        if (nodeB != null) {
            nodeB.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @BeforeEach
    void emptyRedis() {
        redis.flushAll();
        DESTROYED.clear();
        CoreScenarioServlet.Flaky.FAIL = false;
        heldBefore.put(nodeA.name(), nodeA.manager().getLocalSessionCount());
        heldBefore.put(nodeB.name(), nodeB.manager().getLocalSessionCount());
    }

    /** Never leave a request of a failed test held in flight. */
    @AfterEach
    void openEveryGate() {
        CoreScenarioServlet.GATES.values().forEach(CoreScenarioServlet.Gate::open);
        CoreScenarioServlet.GATES.clear();
        CoreScenarioServlet.KEPT.clear();
        CoreScenarioServlet.Flaky.FAIL = false;
    }

    /**
     * {@link CoreScenarioServlet} under {@code /core/*}; error pages: 404 and {@link CoreScenarioServlet.Boom}
     * create the session and set {@code rendered}; 500 changes {@code color} of the existing session.
     */
    static void scenarios(Context context) {
        context.getPipeline().addValve(new SkipsTheAuthenticatorsSessionLookup());
        Tomcat.addServlet(context, "core", new CoreScenarioServlet()).setAsyncSupported(true);
        context.addServletMappingDecoded("/core/*", "core");
        context.addErrorPage(errorPage(404, null, "/core/error-create"));
        context.addErrorPage(errorPage(0, CoreScenarioServlet.Boom.class.getName(), "/core/error-create"));
        context.addErrorPage(errorPage(500, null, "/core/error-change"));
        context.addServletContainerInitializer((classes, servletContext) -> servletContext.addListener(
                new HttpSessionListener() {
                    @Override
                    public void sessionDestroyed(HttpSessionEvent se) {
                        DESTROYED.computeIfAbsent(se.getSession().getId(), k -> new AtomicInteger()).incrementAndGet();
                    }
                }), null);
    }

    /** Request header that makes {@link SkipsTheAuthenticatorsSessionLookup} act. */
    static final String NO_SESSION_LOOKUP_BEFORE_THE_SERVLET = "X-No-Session-Lookup-Before-The-Servlet";

    /**
     * Tomcat's authenticator (every node has one, for {@code /s/secure/*}) looks the session up
     * before the servlet runs, and the Request keeps that object. In a webapp without a
     * login-config nobody does: the first lookup is the application's own, possibly on another
     * thread. For requests with {@link #NO_SESSION_LOOKUP_BEFORE_THE_SERVLET}, this valve (ahead of
     * the authenticator) gives the request a principal, so the authenticator skips its lookup.
     */
    static final class SkipsTheAuthenticatorsSessionLookup extends ValveBase {
        SkipsTheAuthenticatorsSessionLookup() {
            super(true);
        }

        @Override
        public void invoke(Request request, Response response) throws IOException, ServletException {
            if (request.getHeader(NO_SESSION_LOOKUP_BEFORE_THE_SERVLET) != null) {
                request.setUserPrincipal(new GenericPrincipal("no-login-config", List.of()));
            }
            getNext().invoke(request, response);
        }
    }

    private static ErrorPage errorPage(int code, String exceptionType, String location) {
        ErrorPage page = new ErrorPage();
        if (code != 0) {
            page.setErrorCode(code);
        }
        if (exceptionType != null) {
            page.setExceptionType(exceptionType);
        }
        page.setLocation(location);
        return page;
    }

    private static String core(TomcatNode node, String pathAndQuery) {
        return node.url("").replace("/app/s/", "/app/core/") + pathAndQuery;
    }

    /** A browser that shares {@code browser}'s session cookie: a second tab. */
    private static HttpSessionClient tabOf(HttpSessionClient browser) {
        HttpSessionClient tab = new HttpSessionClient();
        tab.sessionId(browser.sessionId());
        return tab;
    }

    /** Starts {@code url} in the background with {@code browser}'s cookie and waits until the servlet holds at its gate. */
    private static CompletableFuture<HttpSessionClient.Reply> holdInFlight(HttpSessionClient browser, String url,
            CoreScenarioServlet.Gate gate) throws InterruptedException {
        HttpSessionClient tab = tabOf(browser);
        CompletableFuture<HttpSessionClient.Reply> reply = CompletableFuture.supplyAsync(() -> tab.get(url), IN_FLIGHT);
        gate.awaitEntered();
        return reply;
    }

    /**
     * Waits (bounded) for the node to hold no session object this test left, then asserts it: when
     * no request is in flight, a node holds none. Counted from what the node held when the test
     * began (zero unless an earlier test leaked), since the nodes serve the whole class.
     */
    private void assertHoldsNoSession(TomcatNode node, String why) {
        int before = heldBefore.get(node.name());
        try {
            Await.until(Duration.ofSeconds(2), "node " + node.name() + " to hold no session",
                    () -> node.manager().getLocalSessionCount() <= before);
        } catch (IllegalStateException timedOut) {
            // reported by the assertion below, with the count
        }
        assertThat(node.manager().getLocalSessionCount() - before)
                .as(why + " (getLocalSessionCount() " + node.manager().getLocalSessionCount() + ", " + before
                        + " of them left by earlier tests)").isZero();
    }

    private static Map<String, Long> tally(List<String> answers) {
        return new java.util.TreeMap<>(answers.stream().collect(
                java.util.stream.Collectors.groupingBy(a -> a, java.util.stream.Collectors.counting())));
    }

    private String dataKey(String id, String name) {
        return redis.sessionKey(id) + ":data:" + name;
    }

    // ====================================================================== 1. a node's in-memory copy

    @Test
    void sessionInvalidatedOnAnotherNodeIsGoneForNewRequestsWhileAnotherRequestHoldsItInMemory() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=a&value=1"));
        CoreScenarioServlet.Gate gate = CoreScenarioServlet.gate("slow");
        CompletableFuture<HttpSessionClient.Reply> slow = holdInFlight(browser, core(nodeA, "hold?gate=slow"), gate);

        browser.ok(nodeB.url("invalidate"));
        String seen = browser.ok(nodeA.url("get?name=a"));
        String names = browser.ok(nodeA.url("names"));
        gate.open();
        slow.get(30, TimeUnit.SECONDS);

        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(seen).as("a new request on the node still holding the invalidated session").isEqualTo("no session");
        soft.assertThat(names).as("attribute names seen by a new request").isEmpty();
        soft.assertThat(redis.keys()).as("keys after the slow request saved").isEmpty();
        soft.assertAll();
    }

    @Test
    void signOutOnAnotherNodeUnauthenticatesNewRequestsWhileAnotherRequestHoldsTheSessionInMemory() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("create"));
        assertThat(browser.get(nodeA.url("secure/whoami"), "Authorization", BASIC_ANN).body()).isEqualTo("ann BASIC");
        assertThat(browser.ok(nodeA.url("secure/whoami"))).as("the principal is cached in the session").isEqualTo("ann BASIC");
        CoreScenarioServlet.Gate gate = CoreScenarioServlet.gate("slow");
        CompletableFuture<HttpSessionClient.Reply> slow = holdInFlight(browser, core(nodeA, "hold?gate=slow"), gate);

        browser.ok(nodeB.url("invalidate"));
        HttpSessionClient.Reply whoami = browser.get(nodeA.url("secure/whoami"));
        gate.open();
        slow.get(30, TimeUnit.SECONDS);

        assertThat(whoami.status() == 401 || whoami.body().equals("null null"))
                .as("signed out on node B, yet node A answered " + whoami.status() + " \"" + whoami.body()
                        + "\" (want 401 or anonymous) while a slow request held the session")
                .isTrue();
    }

    @Test
    void newRequestOnANodeHoldingTheSessionInFlightReadsTheAttributeAnotherNodeSaved() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=blue"));
        CoreScenarioServlet.Gate gate = CoreScenarioServlet.gate("slow");
        CompletableFuture<HttpSessionClient.Reply> slow = holdInFlight(browser, core(nodeA, "hold?gate=slow"), gate);

        browser.ok(nodeB.url("set?name=color&value=red"));
        String onA = browser.ok(nodeA.url("get?name=color"));
        gate.open();
        slow.get(30, TimeUnit.SECONDS);

        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(onA).as("color read on node A after node B saved red").isEqualTo("red");
        soft.assertThat(browser.ok(nodeB.url("get?name=color"))).as("color after the slow request saved").isEqualTo("red");
        soft.assertAll();
    }

    @Test
    void inPlaceChangeOnAStaleCopyNeverOverwritesAnotherNodesChange() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("cart-add?value=apple"));
        CoreScenarioServlet.Gate gate = CoreScenarioServlet.gate("slow");
        CompletableFuture<HttpSessionClient.Reply> slow = holdInFlight(browser, core(nodeA, "hold?gate=slow"), gate);

        browser.ok(nodeB.url("cart-add?value=pear"));
        String onA = browser.ok(nodeA.url("cart-add?value=plum"));
        gate.open();
        slow.get(30, TimeUnit.SECONDS);

        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(onA).as("cart after adding plum on node A").isEqualTo("[apple, pear, plum]");
        soft.assertThat(browser.ok(nodeB.url("get?name=cart"))).as("stored cart").isEqualTo("[apple, pear, plum]");
        soft.assertAll();
    }

    @Test
    void saveFromAStaleCopyNeverOverridesMaxInactiveIntervalSetByAnotherNode() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=a&value=1"));
        CoreScenarioServlet.Gate gate = CoreScenarioServlet.gate("slow");
        CompletableFuture<HttpSessionClient.Reply> slow = holdInFlight(browser,
                core(nodeA, "hold?gate=slow&name=b&value=2"), gate);

        browser.ok(nodeB.url("max-inactive?value=100"));
        gate.open();
        assertThat(slow.get(30, TimeUnit.SECONDS).status()).isEqualTo(200);

        String key = redis.sessionKey(browser.sessionId());
        UnifiedJedis jedis = redis.client();
        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(jedis.hget(key, SessionHashFormat.MAX_INACTIVE_INTERVAL)).as("meta:maxInactiveInterval").isEqualTo("100");
        soft.assertThat(jedis.ttl(key)).as("TTL of the session hash (s), for maxInactiveInterval 100")
                .isBetween(1L, 100L + 5 + SessionKeys.TTL_GRACE_SECONDS);
        String lastAccessed = jedis.hget(key, SessionHashFormat.LAST_ACCESSED_TIME);
        soft.assertThat(jedis.zscore(redis.indexKey(browser.sessionId()), SessionKeys.baseId(browser.sessionId())))
                .as("deadline in the expiry index = lastAccessedTime + 100 s + touchInterval (5 s)")
                .isEqualTo(lastAccessed == null ? null : Double.parseDouble(lastAccessed) + 100_000 + 5_000);
        soft.assertThat(browser.ok(nodeA.url("times"))).as("maxInactiveInterval read on node A").endsWith(" 100");
        soft.assertAll();
    }

    @Test
    void saveThatFindsTheSessionGoneDropsTheLocalObjectWithoutASecondDestroyedEvent() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=a&value=1"));
        String id = browser.sessionId();
        CoreScenarioServlet.Gate gate = CoreScenarioServlet.gate("slow");
        CompletableFuture<HttpSessionClient.Reply> slow = holdInFlight(browser,
                core(nodeA, "hold?gate=slow&name=b&value=2"), gate);

        browser.ok(nodeB.url("invalidate"));
        browser.get(nodeA.url("get?name=a"));
        gate.open();
        slow.get(30, TimeUnit.SECONDS);

        assertHoldsNoSession(nodeA, "session objects node A holds once the session is gone and no request is in flight");
        assertThat(DESTROYED).as("sessionDestroyed events per id, both nodes").containsOnlyKeys(id);
        assertThat(DESTROYED.get(id).get()).as("sessionDestroyed events of the invalidated session").isEqualTo(1);
        assertThat(redis.keys()).isEmpty();
    }

    // ====================================================================== 2. error pages

    @Test
    void sessionCreatedByA404ErrorPageIsSavedAndReleased() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            HttpSessionClient.Reply reply = new HttpSessionClient().get(
                    nodeA.url("").replace("/app/s/", "/app/missing/page-" + i));
            assertThat(reply.status()).isEqualTo(404);
            assertThat(reply.body()).isEqualTo("error page 404");
            ids.add(reply.setSessionId().orElseThrow(() -> new AssertionError("the error page created no session")));
        }

        List<String> onB = ids.stream().map(id -> {
            HttpSessionClient browser = new HttpSessionClient();
            browser.sessionId(id);
            return browser.ok(nodeB.url("get?name=rendered"));
        }).toList();
        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(tally(onB)).as("attribute set by the error page, read on node B for each client's cookie" + ", answers by count")
                .containsOnlyKeys("error-page");
        soft.check(() -> assertHoldsNoSession(nodeA, "session objects left on node A by 20 error pages"));
        soft.assertAll();
    }

    @Test
    void sessionCreatedByAnExceptionErrorPageIsSavedAndReleased() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            HttpSessionClient.Reply reply = new HttpSessionClient().get(core(nodeA, "throw"));
            assertThat(reply.status()).isEqualTo(500);
            assertThat(reply.body()).isEqualTo("error page 500");
            ids.add(reply.setSessionId().orElseThrow(() -> new AssertionError("the error page created no session")));
        }

        List<String> onB = ids.stream().map(id -> {
            HttpSessionClient browser = new HttpSessionClient();
            browser.sessionId(id);
            return browser.ok(nodeB.url("get?name=rendered"));
        }).toList();
        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(tally(onB)).as("attribute set by the exception error page, read on node B" + ", answers by count").containsOnlyKeys("error-page");
        soft.check(() -> assertHoldsNoSession(nodeA, "session objects left on node A by 20 exception error pages"));
        soft.assertAll();
    }

    @Test
    void changeMadeByAStatusErrorPageAfterSendErrorIsSaved() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=blue"));

        HttpSessionClient.Reply reply = browser.get(core(nodeA, "send-500"));
        assertThat(reply.status()).isEqualTo(500);
        assertThat(reply.body()).isEqualTo("error page 500");

        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(browser.ok(nodeB.url("get?name=color"))).as("color changed by the 500 error page, read on node B")
                .isEqualTo("changed-by-error-page");
        soft.check(() -> assertHoldsNoSession(nodeA, "session objects left on node A by the error page"));
        soft.assertAll();
    }

    // ====================================================================== 3. other threads

    /**
     * Variants: the session exists and the runnable is the first to look it up (no authenticator
     * looked it up before the servlet, as in a webapp without login-config); the runnable creates
     * it; it exists and Tomcat's authenticator already looked it up; the servlet used it before
     * startAsync.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"existing-session-first-looked-up-by-the-runnable", "session-created-by-the-runnable",
            "existing-session-looked-up-by-the-authenticator", "existing-session-used-before-startAsync"})
    void changeMadeByAnAsyncContextStartRunnableIsSaved(String variant) {
        HttpSessionClient browser = new HttpSessionClient();
        if (variant.startsWith("existing")) {
            browser.ok(nodeA.url("set?name=before&value=0"));
        }
        String mode = variant.endsWith("before-startAsync") ? "touch" : "lookup";
        String url = core(nodeA, "async-set?mode=" + mode + "&name=a&value=1");

        HttpSessionClient.Reply reply = variant.endsWith("by-the-runnable")
                ? browser.get(url, NO_SESSION_LOOKUP_BEFORE_THE_SERVLET, "1") : browser.get(url);

        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.body()).isEqualTo(browser.sessionId());
        assertThat(browser.ok(nodeB.url("get?name=a"))).as("attribute set in the AsyncContext.start runnable, read on node B")
                .isEqualTo("1");
        assertHoldsNoSession(nodeA, "session objects left on node A after the async cycle");
    }

    /**
     * Variants: the request hands its HttpSession to the application thread; the application
     * thread creates the session with request.getSession(); the session exists and the application
     * thread is the first to look it up (no authenticator did).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"captured-session", "session-created-on-the-worker",
            "existing-session-first-looked-up-on-the-worker"})
    void changeMadeByAnApplicationThreadWhileTheRequestWaitsForItIsSaved(String variant) {
        HttpSessionClient browser = new HttpSessionClient();
        if (!variant.startsWith("session-created")) {
            browser.ok(nodeA.url("set?name=before&value=0"));
        }
        String mode = variant.equals("captured-session") ? "captured" : "on-worker";
        String url = core(nodeA, "executor-set?mode=" + mode + "&name=b&value=2");

        HttpSessionClient.Reply reply = variant.startsWith("existing")
                ? browser.get(url, NO_SESSION_LOOKUP_BEFORE_THE_SERVLET, "1") : browser.get(url);

        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.body()).isEqualTo(browser.sessionId());
        assertThat(browser.ok(nodeB.url("get?name=b"))).as("attribute set on an application thread, read on node B")
                .isEqualTo("2");
        assertHoldsNoSession(nodeA, "session objects left on node A");
    }

    @Test
    void changeMadeOutsideAnyRequestToAKeptHttpSessionIsSaved() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(core(nodeA, "keep?key=ws"));

        CoreScenarioServlet.KEPT.get("ws").setAttribute("ws", "hello");

        assertThat(browser.ok(nodeB.url("get?name=ws")))
                .as("attribute set on the HttpSession a WebSocket endpoint kept, with no request in flight,"
                        + " read on node B right after setAttribute returned")
                .isEqualTo("hello");
    }

    // ====================================================================== 4. the response must not overtake the save

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"flush-hold", "big-hold", "async-complete-hold", "redirect-hold", "error-hold"})
    void responseTheClientReceivedNeverOvertakesTheSaveOfChangesMadeBeforeIt(String op) throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("create"));
        CoreScenarioServlet.Gate gate = CoreScenarioServlet.gate(op);
        // Tomcat sends a redirect or an error only when the servlet returns; the others commit while it works on.
        boolean commitsWhileHeld = !op.equals("redirect-hold") && !op.equals("error-hold");

        CompletableFuture<HttpResponse<InputStream>> response = HTTP.sendAsync(
                HttpRequest.newBuilder(URI.create(core(nodeA, op + "?gate=" + op + "&name=f&value=1")))
                        .header("Cookie", "JSESSIONID=" + browser.sessionId()).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        HttpResponse<InputStream> received;
        if (commitsWhileHeld) {
            received = response.get(30, TimeUnit.SECONDS);
        } else {
            gate.awaitEntered();
            gate.open();
            received = response.get(30, TimeUnit.SECONDS);
        }
        String seenOnB = browser.ok(nodeB.url("get?name=f"));
        gate.open();
        try (InputStream body = received.body()) {
            body.readAllBytes();
        }

        assertThat(seenOnB).as("attribute set before the response (status " + received.statusCode()
                + ") reached the client, read on node B at once").isEqualTo("1");
    }

    @Test
    void saveThatFailsBeforeTheCommitTurnsInto503() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("create"));
        CoreScenarioServlet.Gate gate = CoreScenarioServlet.gate("flush");
        CompletableFuture<HttpSessionClient.Reply> reply = holdInFlight(browser,
                core(nodeA, "load-hold-flush?gate=flush&name=f&value=1"), gate);

        HttpSessionClient.Reply answered;
        REDIS.get().node().pause();
        try {
            gate.open();
            answered = reply.get(60, TimeUnit.SECONDS);
        } finally {
            REDIS.get().node().resume();
        }

        assertThat(answered.status()).as("a flushed response whose session could not be saved; body \""
                + answered.body() + "\"").isEqualTo(503);
    }

    // ====================================================================== 5. one session, several requests on one node

    @Test
    void concurrentRequestsOfOneSessionOnOneNodeNeverFailAndNeverLoseTheInPlaceChanges() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(core(nodeA, "cart-new"));
        ExecutorService threads = Executors.newFixedThreadPool(8);
        List<Future<List<Integer>>> results = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int thread = t;
            results.add(threads.submit(() -> {
                HttpSessionClient tab = tabOf(browser);
                List<Integer> statuses = new ArrayList<>();
                for (int i = 0; i < 25; i++) {
                    String op = i % 2 == 0 ? "cart-append?value=t" + thread + "-" + i : "cart-read";
                    statuses.add(tab.get(core(nodeA, op)).status());
                }
                return statuses;
            }));
        }
        List<Integer> statuses = new ArrayList<>();
        for (Future<List<Integer>> result : results) {
            statuses.addAll(result.get(120, TimeUnit.SECONDS));
        }
        threads.shutdown();

        String cart = browser.ok(nodeB.url("get?name=cart"));
        SoftAssertions soft = new SoftAssertions();
        Map<Integer, Long> byStatus = new java.util.TreeMap<>(statuses.stream().collect(
                java.util.stream.Collectors.groupingBy(s -> s, java.util.stream.Collectors.counting())));
        soft.assertThat(byStatus).as("responses by status, of 200 concurrent requests of one session on node A")
                .containsOnlyKeys(200);
        soft.assertThat(cart).as("cart read on node B after the run").isNotEqualTo("null");
        soft.assertThat(cart.equals("null") ? 0 : cart.split(",").length)
                .as("items in the stored cart (8 threads x 13 appends, saved in order)").isEqualTo(8 * 13);
        soft.check(() -> assertHoldsNoSession(nodeA, "session objects left on node A after the run"));
        soft.assertAll();
    }

    @Test
    void transientFailureToSerializeAnAttributeNeverDeletesItsStoredValue() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(core(nodeA, "flaky-set?value=v1"));
        assertThat(browser.ok(nodeB.url("get?name=flaky"))).isEqualTo("Flaky[v1]");

        CoreScenarioServlet.Flaky.FAIL = true;
        HttpSessionClient.Reply touched = browser.get(core(nodeA, "flaky-read"));
        CoreScenarioServlet.Flaky.FAIL = false;

        assertThat(touched.status()).isEqualTo(200);
        assertThat(browser.ok(nodeB.url("get?name=flaky"))).as("stored value after a request whose encode of it failed")
                .isEqualTo("Flaky[v1]");
    }

    // ====================================================================== 6. expiry and keys

    @Test
    void localExpiryCheckNeverExpiresASessionAnotherNodeKeptAlive() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=a&value=1"));
        browser.ok(nodeA.url("max-inactive?value=2"));
        String id = browser.sessionId();
        CoreScenarioServlet.Gate gate = CoreScenarioServlet.gate("slow");
        CompletableFuture<HttpSessionClient.Reply> slow = holdInFlight(browser, core(nodeA, "hold?gate=slow"), gate);

        // The scenario's own clock: node A's copy ages past maxInactiveInterval while B keeps the session alive.
        long start = System.nanoTime();
        while (System.nanoTime() - start < 3_500_000_000L) {
            assertThat(browser.ok(nodeB.url("get?name=a"))).as("node B keeps the session alive").isEqualTo("1");
            Thread.sleep(500);
        }
        String onA = browser.ok(nodeA.url("get?name=a"));
        gate.open();
        slow.get(30, TimeUnit.SECONDS);

        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(onA).as("a new request on node A, whose in-memory copy is older than 2 s").isEqualTo("1");
        soft.assertThat(browser.sessionId()).isEqualTo(id);
        soft.assertThat(redis.client().exists(redis.sessionKey(id))).as("session still in Redis").isTrue();
        soft.assertThat(DESTROYED).as("sessionDestroyed events").isEmpty();
        soft.assertAll();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"stored-session", "session-new-in-the-request"})
    void sessionScopedStructureCreatedBeforeChangeSessionIdInTheSameRequestMovesWithTheSession(String variant) {
        HttpSessionClient browser = new HttpSessionClient();
        if (variant.equals("stored-session")) {
            browser.ok(nodeA.url("set?name=a&value=1"));
        }

        String[] ids = browser.ok(core(nodeB, "recommend-change-id?value=p-1")).split(" ");
        String oldId = ids[0];
        String newId = ids[1];

        UnifiedJedis jedis = redis.client();
        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(browser.sessionId()).isEqualTo(newId);
        soft.assertThat(jedis.exists(dataKey(oldId, "recommendations"))).as("structure under the old id").isFalse();
        soft.assertThat(jedis.exists(dataKey(newId, "recommendations"))).as("structure under the new id").isTrue();
        soft.assertThat(browser.ok(nodeA.url("recommendations"))).as("structure read on node A").isEqualTo("p-1");
        for (String key : redis.keys()) {
            soft.assertThat(jedis.ttl(key)).as("TTL of " + key).isPositive();
        }
        browser.ok(nodeA.url("invalidate"));
        soft.assertThat(redis.keys()).as("keys left after invalidate").isEmpty();
        soft.assertAll();
    }

    @Test
    void sessionScopedStructureCreatedInARequestWhoseSaveFailedNeverOutlivesItsSession() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=a&value=1"));
        String id = browser.sessionId();
        // An access time older than touchInterval: the request must write it, so its save is due.
        redis.client().hset(redis.sessionKey(id), SessionHashFormat.LAST_ACCESSED_TIME,
                Long.toString(System.currentTimeMillis() - 60_000));
        CoreScenarioServlet.Gate gate = CoreScenarioServlet.gate("save-fails");
        CompletableFuture<HttpSessionClient.Reply> reply = holdInFlight(browser,
                core(nodeA, "recommend-hold?gate=save-fails&value=p-1"), gate);

        // Redis refuses every write from now on (NOREPLICAS): the save fails, and surely never lands later.
        HttpSessionClient.Reply answered;
        redis.client().configSet("min-replicas-to-write", "1");
        try {
            gate.open();
            answered = reply.get(60, TimeUnit.SECONDS);
        } finally {
            redis.client().configSet("min-replicas-to-write", "0");
        }

        assertThat(answered.status()).as("the request whose save failed").isNotEqualTo(200);
        UnifiedJedis jedis = redis.client();
        long sessionTtl = jedis.ttl(redis.sessionKey(id));
        SoftAssertions soft = new SoftAssertions();
        for (String key : redis.keys()) {
            soft.assertThat(jedis.ttl(key)).as("TTL of " + key + " (the session's: " + sessionTtl + ")")
                    .isBetween(1L, Math.max(sessionTtl, 1L));
        }
        browser.ok(nodeB.url("invalidate"));
        soft.assertThat(redis.keys()).as("keys left after invalidate").isEmpty();
        soft.assertAll();
    }

    @Test
    void sessionThatNeverExpiresLeavesNoIndexEntryOrKeyOnceInvalidated() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=a&value=1"));
        browser.ok(nodeA.url("max-inactive?value=-1"));
        String id = browser.sessionId();
        assertThat(redis.client().zscore(redis.indexKey(id), SessionKeys.baseId(id))).as("indexed at its key's TTL end")
                .isGreaterThan(System.currentTimeMillis() + (SessionKeys.NEVER_EXPIRES_TTL_SECONDS - 3600) * 1000.0);

        browser.ok(nodeB.url("invalidate"));

        assertThat(redis.client().zrange(redis.indexKey(id), 0, -1)).as("members of the expiry index").isEmpty();
        assertThat(redis.keys()).as("keys left").isEmpty();
    }
}

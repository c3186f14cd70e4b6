package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.RedisSessions;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import jakarta.servlet.http.HttpSessionActivationListener;
import jakarta.servlet.http.HttpSessionEvent;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Attacks on the near cache ({@code nearCacheSize}). Node A keeps values (the default), node C
 * keeps none ({@code nearCacheSize="0"}) and serves as the reference: every scenario must look the
 * same on A as on C, and a request on A must see what Redis holds (read through C). Node E keeps
 * one session ({@code nearCacheSize="1"}). Written by the attack pass on the near cache; the two
 * breaks it found are fixed and kept as regressions, the third (transient state) is documented.
 */
@Tag("tomcat")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NearCacheAttackIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    /** A list value a request handed to "another thread" (the test) after the request ended. */
    static final Map<String, List<String>> LEAKED = new ConcurrentHashMap<>();
    /** Activation events per tag and kind, e.g. "A:didActivate". */
    static final Map<String, AtomicInteger> ACTIVATIONS = new ConcurrentHashMap<>();

    private RedisUnderTest redis;
    private TomcatNode nodeA;
    private TomcatNode nodeC;
    private TomcatNode nodeE;
    /** Tomcat's sessionAttributeValueClassNameFilter admits java.lang and java.util only. */
    private TomcatNode nodeF;

    @BeforeAll
    void startNodes() {
        redis = RedisUnderTest.standalone(REDIS.get());
        nodeA = TomcatNode.start("atkA", redis::configure, NearCacheAttackIT::pages);
        nodeC = TomcatNode.start("atkC", m -> {
            redis.configure(m);
            m.setProperty("nearCacheSize", "0");
        }, NearCacheAttackIT::pages);
        nodeE = TomcatNode.start("atkE", m -> {
            redis.configure(m);
            m.setProperty("nearCacheSize", "1");
        }, NearCacheAttackIT::pages);
        nodeF = TomcatNode.start("atkF", m -> {
            redis.configure(m);
            m.setSessionAttributeValueClassNameFilter("java\\.lang\\..*|java\\.util\\..*");
        }, NearCacheAttackIT::pages);
    }

    @AfterAll
    void stopNodes() {
        TomcatNode.closeAll(nodeA, nodeC, nodeE, nodeF);
        if (redis != null) {
            redis.close();
        }
    }

    @BeforeEach
    void emptyRedis() {
        redis.flushAll();
        LEAKED.clear();
        ACTIVATIONS.clear();
    }

    static void pages(Context context) {
        Tomcat.addServlet(context, "atk", new AttackServlet()).setAsyncSupported(true);
        context.addServletMappingDecoded("/atk/*", "atk");
    }

    /** A value with state that is not stored: a transient field, e.g. a lazily built cache. */
    static final class Holder implements Serializable {
        private static final long serialVersionUID = 1L;
        String stored = "s";
        transient String note;
    }

    /** Counts its activation events under its tag. */
    static final class Activated implements Serializable, HttpSessionActivationListener {
        private static final long serialVersionUID = 1L;
        final String tag;

        Activated(String tag) {
            this.tag = tag;
        }

        @Override
        public void sessionWillPassivate(HttpSessionEvent se) {
            ACTIVATIONS.computeIfAbsent(tag + ":willPassivate", k -> new AtomicInteger()).incrementAndGet();
        }

        @Override
        public void sessionDidActivate(HttpSessionEvent se) {
            ACTIVATIONS.computeIfAbsent(tag + ":didActivate", k -> new AtomicInteger()).incrementAndGet();
        }
    }

    static final class AttackServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            response.setContentType("text/plain;charset=UTF-8");
            String op = request.getPathInfo().substring(1);
            String value = request.getParameter("value");
            switch (op) {
                case "new" -> {
                    request.getSession().setAttribute("list", new ArrayList<String>());
                    response.getWriter().write("ok");
                    return;
                }
                case "holder-new" -> {
                    request.getSession().setAttribute("holder", new Holder());
                    response.getWriter().write("ok");
                    return;
                }
                case "act-new" -> {
                    request.getSession().setAttribute("act", new Activated(value));
                    response.getWriter().write("ok");
                    return;
                }
                default -> {
                }
            }
            HttpSession session = request.getSession(false);
            if (session == null) {
                response.getWriter().write("no session");
                return;
            }
            switch (op) {
                case "touch" -> response.getWriter().write("touched");
                case "act-get" -> response.getWriter().write(String.valueOf(session.getAttribute("act") != null));
                case "holder-mark" -> {
                    Holder holder = (Holder) session.getAttribute("holder");
                    holder.note = "marked";
                    response.getWriter().write("ok");
                }
                case "holder-show" -> {
                    Holder holder = (Holder) session.getAttribute("holder");
                    response.getWriter().write(holder == null ? "no holder" : String.valueOf(holder.note));
                }
                case "rotate" -> {
                    request.changeSessionId();
                    response.getWriter().write(String.valueOf(list(session)));
                }
                case "async-flush-append" -> {
                    List<String> list = list(session);
                    AsyncContext async = request.startAsync();
                    async.start(() -> {
                        try {
                            async.getResponse().getWriter().write("async");
                            async.getResponse().flushBuffer();
                            list.add(value);
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        } finally {
                            async.complete();
                        }
                    });
                }
                default -> {
                    List<String> list = list(session);
                    switch (op) {
                        case "show" -> response.getWriter().write(String.valueOf(list));
                        case "append" -> {
                            list.add(value);
                            response.getWriter().write(String.valueOf(list));
                        }
                        case "leak" -> {
                            LEAKED.put(request.getParameter("key"), list);
                            response.getWriter().write(String.valueOf(list));
                        }
                        case "append-throw" -> {
                            list.add(value);
                            throw new IllegalStateException("thrown on purpose after an in-place change");
                        }
                        case "append-send-error" -> {
                            list.add(value);
                            response.sendError(500, "error on purpose");
                        }
                        case "flush-append-hold" -> {
                            // Committed: saved before commit, while the only user of the session.
                            response.getWriter().write(String.valueOf(list));
                            response.flushBuffer();
                            list.add(value);
                            CoreScenarioServlet.gate(request.getParameter("gate")).hold();
                            if (request.getParameter("redis-call") != null) {
                                // Fails while Redis is paused: the request then sends nothing more, its
                                // final save included (a frozen Redis would still run a write it timed out on).
                                try {
                                    RedisSessions.of(session).sadd("marks", "x");
                                } catch (RuntimeException e) {
                                    // The response is committed; the failure is the point.
                                }
                            }
                        }
                        default -> response.sendError(404);
                    }
                }
            }
        }

        @SuppressWarnings("unchecked")
        private static List<String> list(HttpSession session) {
            return (List<String>) session.getAttribute("list");
        }
    }

    private static String atk(TomcatNode node, String pathAndQuery) {
        return node.url("").replace("/app/s/", "/app/atk/") + pathAndQuery;
    }

    /** What Redis holds, read by the node that keeps nothing. */
    private String truth(HttpSessionClient browser) {
        return browser.ok(atk(nodeC, "show"));
    }

    // ------------------------------------------------------------------ failed saves

    /**
     * The save before commit (flushBuffer) finds the session in sync; the request then changes the
     * list in place, and its final save fails because Redis is paused. The kept list is the changed
     * one, and Redis still holds the bytes it was read from.
     */
    /** Regression: the save before the commit marked the object in sync; the final save never happened. */
    @Test
    void anInPlaceChangeAfterTheSaveBeforeCommitWhoseRequestFailedLaterIsNotServed() throws Exception {
        Map<String, String> seen = new TreeMap<>();
        Map<String, String> storedBefore = new TreeMap<>();
        Map<String, String> storedAfter = new TreeMap<>();
        for (TomcatNode node : new TomcatNode[] {nodeC, nodeA}) {
            String key = node.manager().getJvmRoute();
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(atk(node, "new"));
            browser.ok(atk(node, "append?value=saved"));
            browser.ok(atk(node, "show"));
            String gateName = "atk-flush-" + key;
            CoreScenarioServlet.Gate gate = CoreScenarioServlet.gate(gateName);
            CompletableFuture<HttpSessionClient.Reply> reply = CompletableFuture.supplyAsync(
                    () -> browser.get(atk(node, "flush-append-hold?value=lost&redis-call=1&gate=" + gateName)));
            gate.awaitEntered();
            REDIS.get().node().pause();
            try {
                gate.open();
                reply.get(60, TimeUnit.SECONDS);
            } finally {
                REDIS.get().node().resume();
                CoreScenarioServlet.GATES.remove(gateName);
            }

            storedBefore.put(key, truth(browser));
            seen.put(key, browser.ok(atk(node, "show")));
            storedAfter.put(key, truth(browser));
        }
        assertThat(storedBefore).as("Redis never got the change").containsEntry("atkC", "[saved]").containsEntry("atkA", "[saved]");
        assertThat(seen).as("the next request on the node sees what Redis holds").containsEntry("atkC", "[saved]");
        assertThat(seen).as("with the near cache as without; Redis afterwards: " + storedAfter)
                .containsEntry("atkA", "[saved]");
        assertThat(storedAfter).as("and the unsaved change is not written by a later request")
                .containsEntry("atkC", "[saved]").containsEntry("atkA", "[saved]");
    }

    @Test
    void aValueTheClassNameFilterExcludesIsNeverServedFromTheCache() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(atk(nodeC, "holder-new"));
        browser.ok(atk(nodeC, "holder-mark"));

        assertThat(browser.ok(atk(nodeF, "holder-show"))).as("excluded by the filter when read").isEqualTo("no holder");
        assertThat(browser.ok(atk(nodeF, "holder-show"))).isEqualTo("no holder");
        assertThat(browser.ok(atk(nodeC, "holder-show"))).isEqualTo("null");
    }

    /** Regression: a kept value is used only if serializing it still gives the bytes Redis holds. */
    @Test
    void aValueChangedInPlaceByAnotherThreadAfterItsRequestEndedIsNotServed() {
        Map<String, String> seen = new TreeMap<>();
        Map<String, String> stored = new TreeMap<>();
        for (TomcatNode node : new TomcatNode[] {nodeC, nodeA}) {
            String key = node.manager().getJvmRoute();
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(atk(node, "new"));
            browser.ok(atk(node, "append?value=saved"));
            browser.ok(atk(node, "leak?key=" + key));
            LEAKED.get(key).add("ghost");

            seen.put(key, browser.ok(atk(node, "show")));
            stored.put(key, truth(browser));
        }
        assertThat(seen).as("what the next request saw, per node").containsEntry("atkC", "[saved]");
        assertThat(stored).as("what Redis holds afterwards, per node").containsEntry("atkC", "[saved]");
        assertThat(seen).as("with the near cache as without; Redis afterwards: " + stored)
                .containsEntry("atkA", "[saved]");
        assertThat(stored).as("with the near cache as without").containsEntry("atkA", "[saved]");
    }

    /**
     * Documented (README, nearCacheSize): a kept value is the object the application last used on
     * this node, as with Tomcat's in-memory manager, so a transient field keeps what a request put
     * there; a node without the cache, or another node, deserializes it afresh (null).
     */
    @Test
    void aTransientFieldOfAKeptValueKeepsItsValueOnItsNodeAsWithTomcatsInMemoryManager() {
        Map<String, String> seen = new TreeMap<>();
        for (TomcatNode node : new TomcatNode[] {nodeC, nodeA}) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(atk(node, "holder-new"));
            browser.ok(atk(node, "holder-mark"));
            seen.put(node.manager().getJvmRoute(), browser.ok(atk(node, "holder-show")));
        }
        assertThat(seen).containsEntry("atkC", "null");
        assertThat(seen).as("the kept object").containsEntry("atkA", "marked");
    }

    // ------------------------------------------------------------------ requests that fail

    /** {@code append-throw}: the servlet throws (500); {@code append-send-error}: it calls sendError(500). */
    @ParameterizedTest
    @ValueSource(strings = {"append-throw?value=thrown", "append-send-error?value=err"})
    void aRequestThatFailsAfterAnInPlaceChangeBehavesAsWithoutTheCache(String failing) {
        Map<String, String> seen = new TreeMap<>();
        for (TomcatNode node : new TomcatNode[] {nodeC, nodeA}) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(atk(node, "new"));
            browser.ok(atk(node, "append?value=saved"));
            browser.ok(atk(node, "show"));
            assertThat(browser.get(atk(node, failing)).status()).isEqualTo(500);
            String shown = browser.ok(atk(node, "show"));
            assertThat(shown).as("what Redis holds").isEqualTo(truth(browser));
            seen.put(node.manager().getJvmRoute(), shown);
        }
        assertThat(seen.get("atkA")).isEqualTo(seen.get("atkC"));
    }

    @Test
    void twoConcurrentRequestsOnOneNodeWhereOneThrowsLoseNoInPlaceChange() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(atk(nodeA, "new"));
        browser.ok(atk(nodeA, "append?value=saved"));
        browser.ok(atk(nodeA, "show"));
        String gateName = "atk-concurrent-" + System.nanoTime();
        CoreScenarioServlet.Gate gate = CoreScenarioServlet.gate(gateName);
        CompletableFuture<HttpSessionClient.Reply> held = CompletableFuture.supplyAsync(
                () -> browser.get(atk(nodeA, "flush-append-hold?value=held&gate=" + gateName)));
        try {
            gate.awaitEntered();
            assertThat(browser.get(atk(nodeA, "append-throw?value=thrown")).status()).isEqualTo(500);
        } finally {
            gate.open();
            held.get(60, TimeUnit.SECONDS);
            CoreScenarioServlet.GATES.remove(gateName);
        }

        assertThat(truth(browser)).isEqualTo("[saved, held, thrown]");
        assertThat(browser.ok(atk(nodeA, "show"))).isEqualTo("[saved, held, thrown]");
    }

    // ------------------------------------------------------------------ async, id change

    @Test
    void anAsyncThreadChangingInPlaceAfterTheSaveBeforeCommitIsSaved() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(atk(nodeA, "new"));
        browser.ok(atk(nodeA, "append?value=saved"));
        browser.ok(atk(nodeA, "show"));

        assertThat(browser.ok(atk(nodeA, "async-flush-append?value=async"))).isEqualTo("async");

        assertThat(truth(browser)).isEqualTo("[saved, async]");
        assertThat(browser.ok(atk(nodeA, "show"))).isEqualTo("[saved, async]");
    }

    @Test
    void aChangedSessionIdKeepsServingWhatRedisHolds() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(atk(nodeA, "new"));
        browser.ok(atk(nodeA, "append?value=1"));
        browser.ok(atk(nodeA, "show"));
        String before = browser.sessionId();

        assertThat(browser.ok(atk(nodeA, "rotate"))).isEqualTo("[1]");
        assertThat(browser.sessionId()).isNotEqualTo(before);
        browser.ok(atk(nodeA, "append?value=2"));
        browser.ok(atk(nodeA, "show"));

        assertThat(truth(browser)).isEqualTo("[1, 2]");
        assertThat(browser.ok(atk(nodeA, "show"))).isEqualTo("[1, 2]");
        HttpSessionClient old = new HttpSessionClient();
        old.sessionId(before);
        assertThat(old.ok(atk(nodeA, "show"))).as("the old id is gone").isEqualTo("no session");
    }

    // ------------------------------------------------------------------ listeners, eviction

    @Test
    void activationListenersHearTheSameEventsWithAndWithoutTheCache() {
        for (TomcatNode node : new TomcatNode[] {nodeC, nodeA}) {
            String tag = node.manager().getJvmRoute();
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(atk(node, "act-new?value=" + tag));
            browser.ok(atk(node, "touch"));
            browser.ok(atk(node, "act-get"));
            browser.ok(atk(node, "act-get"));
            browser.ok(atk(node, "touch"));
        }
        for (String event : new String[] {"didActivate", "willPassivate"}) {
            assertThat(count("atkA:" + event)).as(event + " " + ACTIVATIONS).isEqualTo(count("atkC:" + event));
        }
        assertThat(count("atkC:didActivate")).as("one per load").isEqualTo(4);
    }

    private static int count(String key) {
        AtomicInteger n = ACTIVATIONS.get(key);
        return n == null ? 0 : n.get();
    }

    @Test
    void nearCacheSizeOneKeepsOneSessionAndServesEachSessionItsOwnValues() {
        List<HttpSessionClient> browsers = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(atk(nodeE, "new"));
            browser.ok(atk(nodeE, "append?value=v" + i));
            browser.ok(atk(nodeE, "show"));
            browsers.add(browser);
            assertThat(nodeE.manager().getNearCacheCount()).isLessThanOrEqualTo(1);
        }
        for (int i = 19; i >= 0; i--) {
            assertThat(browsers.get(i).ok(atk(nodeE, "show"))).isEqualTo("[v" + i + "]");
            assertThat(browsers.get(i).ok(atk(nodeE, "show"))).isEqualTo("[v" + i + "]");
        }
        assertThat(nodeE.manager().getNearCacheCount()).isEqualTo(1);
    }
}

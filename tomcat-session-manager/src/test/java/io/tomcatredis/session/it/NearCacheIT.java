package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.RedisSessions;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;

/**
 * The near cache ({@code nearCacheSize}): a node keeps the values it deserialized of a session
 * its last request left in sync with Redis, and a later load of the session there uses a kept value
 * only where Redis holds exactly the bytes it was read from. Each test is named for the
 * promise it checks: what another node, a tool, an invalidation, an expiry, a failed save or an
 * unserializable value did is never hidden by a kept value. Nodes A and B keep values (the
 * default), node C none ({@code nearCacheSize="0"}).
 */
@Tag("tomcat")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NearCacheIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    /** sessionDestroyed calls per session id without route, across the nodes. */
    static final DestroyedSessions DESTROYED = new DestroyedSessions();

    private RedisUnderTest redis;
    private RedisCommands commands;
    private TomcatNode nodeA;
    private TomcatNode nodeB;
    private TomcatNode nodeC;
    /** Writes what its serialFilter forbids it to read: SessionServlet$Profile. */
    private TomcatNode nodeD;

    @BeforeAll
    void startNodes() {
        redis = RedisUnderTest.standalone(REDIS.get());
        commands = new RedisCommands(() -> List.of(REDIS.get().node()));
        nodeA = TomcatNode.start("nearA", redis::configure, NearCacheIT::pages);
        nodeB = TomcatNode.start("nearB", redis::configure, NearCacheIT::pages);
        nodeC = TomcatNode.start("nearC", m -> {
            redis.configure(m);
            m.setProperty("nearCacheSize", "0");
        }, NearCacheIT::pages);
        nodeD = TomcatNode.start("nearD", m -> {
            redis.configure(m);
            m.setSerialFilter("!io.tomcatredis.session.it.SessionServlet$Profile");
        }, NearCacheIT::pages);
    }

    @AfterAll
    void stopNodes() {
        TomcatNode.closeAll(nodeA, nodeB, nodeC, nodeD);
        if (redis != null) {
            redis.close();
        }
    }

    @BeforeEach
    void emptyRedis() {
        redis.flushAll();
        DESTROYED.clear();
    }

    static void pages(Context context) {
        Tomcat.addServlet(context, "list", new ListServlet());
        context.addServletMappingDecoded("/list/*", "list");
        DESTROYED.register(context);
    }

    /**
     * {@code /list/new} sets attribute {@code list} to an empty list; {@code /list/append?value=v}
     * appends in place (no setAttribute), then, with {@code gate=g}, waits on that gate and adds to
     * a session-scoped set; {@code /list/show} answers the list and the identity of
     * the object the request got, so a test sees whether a node reused its decoded copy.
     */
    static final class ListServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            response.setContentType("text/plain;charset=UTF-8");
            String op = request.getPathInfo().substring(1);
            if (op.equals("new")) {
                request.getSession().setAttribute("list", new ArrayList<String>());
                response.getWriter().write("ok");
                return;
            }
            HttpSession session = request.getSession(false);
            if (session == null) {
                response.getWriter().write("no session");
                return;
            }
            @SuppressWarnings("unchecked")
            List<String> list = (List<String>) session.getAttribute("list");
            if (op.equals("show-and-count")) {
                Integer count = (Integer) session.getAttribute("count");
                session.setAttribute("count", count == null ? 1 : count + 1);
            }
            if (op.equals("append")) {
                list.add(request.getParameter("value"));
                if (request.getParameter("gate") != null) {
                    CoreScenarioServlet.gate(request.getParameter("gate")).hold();
                    // A Redis call that fails while Redis is paused: the request sends nothing more.
                    RedisSessions.of(session).sadd("marks", "x");
                }
            }
            response.getWriter().write(list + " @" + System.identityHashCode(list));
        }
    }

    private static String listOf(String shown) {
        return shown.substring(0, shown.indexOf(" @"));
    }

    private static String identityOf(String shown) {
        return shown.substring(shown.indexOf(" @") + 2);
    }

    private static String list(TomcatNode node, String pathAndQuery) {
        return node.url("").replace("/app/s/", "/app/list/") + pathAndQuery;
    }

    private String hashKey(HttpSessionClient browser) {
        return RedisUnderTest.PREFIX + "{" + SessionKeys.baseId(browser.sessionId()) + "}";
    }

    @Test
    void aLoadReusesTheValuesTheNodeDeserializedWhileRedisHoldsTheirBytesUnchanged() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(list(nodeA, "new"));
        browser.ok(list(nodeA, "append?value=1"));
        String first = browser.ok(list(nodeA, "show"));
        commands.reset();

        String second = browser.ok(list(nodeA, "show"));

        assertThat(listOf(second)).isEqualTo("[1]");
        assertThat(identityOf(second)).as("the value the previous request deserialized").isEqualTo(identityOf(first));
        Map<String, Long> calls = commands.calls();
        assertThat(calls.getOrDefault("hgetall", 0L)).as("Redis is read as ever: " + calls).isEqualTo(1);
        assertThat(nodeA.manager().getNearCacheCount()).isPositive();
        assertThat(nodeA.manager().getLocalSessionCount()).as("no session object in use").isZero();
    }

    @Test
    void aWritingRequestKeepsTheValuesItOnlyRead() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(list(nodeA, "new"));
        String first = browser.ok(list(nodeA, "show-and-count"));

        String second = browser.ok(list(nodeA, "show-and-count"));
        String third = browser.ok(list(nodeA, "show-and-count"));

        assertThat(identityOf(second)).isEqualTo(identityOf(first));
        assertThat(identityOf(third)).isEqualTo(identityOf(first));
        assertThat(browser.ok(nodeB.url("get?name=count"))).isEqualTo("3");
    }

    @Test
    void aValueThisNodeWroteIsReadBackFromRedisNotKept() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(list(nodeA, "new"));
        String read = browser.ok(list(nodeA, "show"));
        String appended = browser.ok(list(nodeA, "append?value=1"));
        assertThat(identityOf(appended)).as("deserialized value, then changed in place").isEqualTo(identityOf(read));

        String shown = browser.ok(list(nodeA, "show"));

        assertThat(listOf(shown)).isEqualTo("[1]");
        assertThat(identityOf(shown)).as("rewritten in Redis: deserialized afresh").isNotEqualTo(identityOf(appended));
    }

    @Test
    void aValueThatNoNodeCanReadBackIsNeverServedFromTheNodeThatWroteIt() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeD.url("value-object?name=profile&value=ann"));

        assertThat(browser.ok(nodeD.url("get?name=profile"))).as("rejected by serialFilter when read").isEqualTo("null");
        assertThat(browser.ok(nodeD.url("get?name=profile"))).isEqualTo("null");
    }

    @Test
    void aChangeSavedByAnotherNodeIsNeverHiddenByAKeptValue() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(list(nodeA, "new"));
        browser.ok(list(nodeA, "append?value=from-A"));
        String onA = browser.ok(list(nodeA, "show"));
        browser.ok(list(nodeB, "append?value=from-B"));
        browser.ok(nodeA.url("set?name=color&value=red"));
        browser.ok(nodeB.url("set?name=color&value=blue"));

        String shown = browser.ok(list(nodeA, "show"));
        assertThat(listOf(shown)).isEqualTo("[from-A, from-B]");
        assertThat(identityOf(shown)).as("deserialized afresh").isNotEqualTo(identityOf(onA));
        assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("blue");
    }

    @Test
    void anEditByAToolThatLeavesTheVersionAloneIsSeenAtOnce() {
        HttpSessionClient other = new HttpSessionClient();
        other.ok(nodeB.url("set?name=color&value=green"));
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=red"));
        assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("red");
        try (Jedis jedis = REDIS.get().node().client()) {
            byte[] green = jedis.hget(hashKey(other).getBytes(), "attr:color".getBytes());
            jedis.hset(hashKey(browser).getBytes(), "attr:color".getBytes(), green);
        }

        assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("green");
    }

    @Test
    void anInvalidationOnAnotherNodeIsSeenAtOnceAndListenersDoNotFireAgain() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=red"));
        browser.ok(nodeA.url("get?name=color"));
        String id = SessionKeys.baseId(browser.sessionId());
        int kept = nodeA.manager().getNearCacheCount();

        browser.ok(nodeB.url("invalidate"));

        assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("no session");
        assertThat(DESTROYED.calls().get(id)).as("sessionDestroyed, once, on node B").hasValue(1);
        assertThat(nodeA.manager().getNearCacheCount()).as("nothing kept of a session Redis no longer has")
                .isEqualTo(kept - 1);
    }

    @Test
    void aValueThatCannotBeStoredIsNeverReadBackFromAKeptValue() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=red"));

        browser.ok(nodeA.url("unserializable?name=bad"));

        assertThat(browser.ok(nodeA.url("get?name=bad"))).as("Redis never held it").isEqualTo("null");
        assertThat(browser.ok(nodeA.url("get?name=ok"))).isEqualTo("stored");
    }

    @Test
    void anInPlaceChangeOfARequestWhoseRedisCallFailedIsNotSeenLater() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(list(nodeA, "new"));
        browser.ok(list(nodeA, "append?value=saved"));
        CoreScenarioServlet.Gate gate = CoreScenarioServlet.gate("near-save");
        CompletableFuture<HttpSessionClient.Reply> reply = CompletableFuture.supplyAsync(
                () -> browser.get(list(nodeA, "append?value=lost&gate=near-save")));
        gate.awaitEntered();

        HttpSessionClient.Reply failed;
        REDIS.get().node().pause();
        try {
            gate.open();
            failed = reply.get(60, TimeUnit.SECONDS);
        } finally {
            REDIS.get().node().resume();
            CoreScenarioServlet.GATES.remove("near-save");
        }

        assertThat(failed.status()).as("Redis paused: " + failed.body()).isEqualTo(503);
        assertThat(listOf(browser.ok(list(nodeA, "show")))).as("what Redis holds").isEqualTo("[saved]");
    }

    @Test
    void aNodeWithNearCacheSizeZeroDeserializesEveryLoad() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(list(nodeC, "new"));
        String first = browser.ok(list(nodeC, "show"));

        String second = browser.ok(list(nodeC, "show"));

        assertThat(listOf(second)).isEqualTo("[]");
        assertThat(identityOf(second)).isNotEqualTo(identityOf(first));
        assertThat(nodeC.manager().getNearCacheCount()).isZero();
    }

    @Test
    void aSessionThatExpiredInRedisIsNotRevivedByAKeptValue() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(nodeA.url("set?name=color&value=red"));
        browser.ok(nodeA.url("get?name=color"));
        String id = SessionKeys.baseId(browser.sessionId());
        try (Jedis jedis = REDIS.get().node().client()) {
            // Time passes: the session was last used longer ago than its interval (the version stays).
            List<String> time = jedis.time();
            long now = Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
            jedis.hset(hashKey(browser), "meta:lastAccessedTime", Long.toString(now - 1_900_000));
        }

        assertThat(browser.ok(nodeA.url("get?name=color"))).isEqualTo("no session");
        assertThat(DESTROYED.calls().get(id)).as("sessionDestroyed once, by the claim").hasValue(1);
    }
}

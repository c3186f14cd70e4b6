package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import jakarta.servlet.http.HttpSessionBindingEvent;
import jakarta.servlet.http.HttpSessionBindingListener;
import jakarta.servlet.http.HttpSessionEvent;
import jakarta.servlet.http.HttpSessionListener;
import java.io.Serializable;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.catalina.Context;
import org.apache.catalina.Session;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;

/** Expiry, metadata, listing and session-scoped structures, with two nodes on one Redis. */
@Tag("tomcat")
class SessionSemanticsIT {

    private static final String PREFIX = "tomcat-session:localhost/app:";

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    static final Map<String, AtomicInteger> DESTROYED = new ConcurrentHashMap<>();
    static final Map<String, AtomicInteger> UNBOUND = new ConcurrentHashMap<>();

    private TomcatNode node1;
    private TomcatNode node2;

    @BeforeEach
    void start() {
        REDIS.get().flushAll();
        DESTROYED.clear();
        UNBOUND.clear();
        node1 = node("node1");
        node2 = node("node2");
    }

    @AfterEach
    void stop() {
        node1.close();
        node2.close();
    }

    private static TomcatNode node(String name) {
        return TomcatNode.start(name, m -> {
            m.setRedisUri(REDIS.get().uri());
            m.setProcessExpiresFrequency(1);
        }, SessionSemanticsIT::instrument);
    }

    static void instrument(Context context) {
        context.setBackgroundProcessorDelay(1);
        context.addServletContainerInitializer((classes, servletContext) -> servletContext.addListener(
                new HttpSessionListener() {
                    @Override
                    public void sessionDestroyed(HttpSessionEvent se) {
                        Object label = se.getSession().getAttribute("label");
                        DESTROYED.computeIfAbsent(String.valueOf(label), k -> new AtomicInteger()).incrementAndGet();
                    }
                }), null);
        Tomcat.addServlet(context, "labelled", new jakarta.servlet.http.HttpServlet() {
            @Override
            protected void doGet(jakarta.servlet.http.HttpServletRequest req, jakarta.servlet.http.HttpServletResponse resp)
                    throws java.io.IOException {
                var session = req.getSession();
                String label = req.getParameter("label");
                session.setAttribute("label", label);
                session.setAttribute("unbind", new CountsUnbinding(label));
                session.setMaxInactiveInterval(Integer.parseInt(req.getParameter("max")));
                resp.getWriter().write(session.getId());
            }
        });
        context.addServletMappingDecoded("/labelled", "labelled");
    }

    /** Counts its own valueUnbound calls. */
    record CountsUnbinding(String label) implements HttpSessionBindingListener, Serializable {
        @Override
        public void valueUnbound(HttpSessionBindingEvent event) {
            UNBOUND.computeIfAbsent(label, k -> new AtomicInteger()).incrementAndGet();
        }
    }

    private static String labelled(TomcatNode node, String label, int maxInactive) {
        return new HttpSessionClient().ok(node.url("").replace("/s/", "/labelled?label=" + label + "&max=" + maxInactive));
    }

    @Test
    void timedOutSessionsExpireExactlyOnceAcrossNodesEvenWhenNoNodeHoldsThem() {
        for (int i = 0; i < 20; i++) {
            labelled(i % 2 == 0 ? node1 : node2, "s" + i, 1);
        }
        node1.restart();
        node2.restart();

        Await.until(Duration.ofSeconds(30), "20 sessions to expire", () -> DESTROYED.size() == 20);
        for (int sweep = 0; sweep < 3; sweep++) {
            node1.manager().processExpires();
            node2.manager().processExpires();
        }

        assertThat(DESTROYED.keySet()).hasSize(20).doesNotContain("null");
        assertThat(DESTROYED.values()).allMatch(count -> count.get() == 1);
        assertThat(UNBOUND.values()).hasSize(20).allMatch(count -> count.get() == 1);
        try (Jedis jedis = REDIS.get().node().client()) {
            assertThat(jedis.keys("*")).isEmpty();
        }
    }

    @Test
    void sessionIsNeverExpiredBeforeItsDeadline() {
        String id = labelled(node1, "long", 3600);
        node1.manager().processExpires();
        node2.manager().processExpires();

        assertThat(DESTROYED).isEmpty();
        try (Jedis jedis = REDIS.get().node().client()) {
            assertThat(jedis.exists(PREFIX + "{" + SessionKeys.baseId(id) + "}")).isTrue();
        }
    }

    @Test
    void zeroOrNegativeMaxInactiveIntervalNeverExpires() {
        String zero = labelled(node1, "zero", 0);
        String negative = labelled(node2, "negative", -1);
        node1.manager().processExpires();
        node2.manager().processExpires();

        assertThat(DESTROYED).isEmpty();
        try (Jedis jedis = REDIS.get().node().client()) {
            for (String id : List.of(zero, negative)) {
                assertThat(jedis.zscore(PREFIX + "expirations", SessionKeys.baseId(id))).as("at its key's TTL end")
                        .isGreaterThan(System.currentTimeMillis() + (SessionKeys.NEVER_EXPIRES_TTL_SECONDS - 3600) * 1000.0);
                assertThat(jedis.ttl(PREFIX + "{" + SessionKeys.baseId(id) + "}"))
                        .isGreaterThan(SessionKeys.NEVER_EXPIRES_TTL_SECONDS - 60);
            }
        }
    }

    @Test
    void creationTimeLastAccessedTimeIsNewAndMaxInactiveIntervalMatchStandardManagerAcrossNodes() {
        HttpSessionClient browser = new HttpSessionClient();
        String[] first = browser.ok(node1.url("times")).split(" ");
        assertThat(first[2]).isEqualTo("true");
        assertThat(first[1]).as("a new session was last accessed when created").isEqualTo(first[0]);

        browser.ok(node1.url("max-inactive?value=600"));
        String key = PREFIX + "{" + SessionKeys.baseId(browser.sessionId()) + "}";
        String lastEnd;
        try (Jedis jedis = REDIS.get().node().client()) {
            lastEnd = jedis.hget(key, "meta:lastAccessedTime");
        }
        String[] second = browser.ok(node2.url("times")).split(" ");

        assertThat(second[0]).as("creation time").isEqualTo(first[0]);
        assertThat(second[1]).as("last access = end of the previous request").isEqualTo(lastEnd);
        assertThat(second[2]).as("isNew").isEqualTo("false");
        assertThat(second[3]).as("maxInactiveInterval").isEqualTo("600");
    }

    @Test
    void maxActiveSessionsRefusesNewSessionsBeyondTheLimitAcrossNodes() {
        node1.manager().setMaxActiveSessions(3);
        node2.manager().setMaxActiveSessions(3);
        labelled(node1, "a", 600);
        labelled(node2, "b", 600);
        labelled(node1, "c", 600);

        HttpSessionClient.Reply refused = new HttpSessionClient().get(node2.url("create"));

        assertThat(refused.status()).isEqualTo(500);
        assertThat(node2.manager().getRejectedSessions()).isEqualTo(1);
        assertThat(node1.manager().getActiveSessions()).isEqualTo(3);
    }

    @Test
    void managerWebappListsSessionsFromRedisShowsAttributesAndInvalidates() {
        String a = labelled(node1, "listed-a", 600);
        String b = labelled(node2, "listed-b", 600);

        Session[] sessions = node1.manager().findSessions();

        // Listed under the ids clients know (meta:id), which the Manager webapp compares with its links.
        assertThat(Arrays.stream(sessions).map(Session::getIdInternal)).containsExactlyInAnyOrder(a, b);
        assertThat(Arrays.stream(sessions).map(s -> s.getSession().getAttribute("label")))
                .containsExactlyInAnyOrder("listed-a", "listed-b");
        assertThat(node1.manager().listSessionIds()).contains(SessionKeys.baseId(a)).contains(SessionKeys.baseId(b));
        assertThat(node1.manager().getSessionAttribute(b, "label")).isEqualTo("listed-b");

        node1.manager().expireSession(b);

        assertThat(DESTROYED).containsOnlyKeys("listed-b");
        assertThat(node2.manager().findSessions()).extracting(Session::getIdInternal).containsExactly(a);
    }

    @Test
    void sessionScopedStructureSharesTheSlotExpiresMovesAndDiesWithTheSession() {
        HttpSessionClient browser = new HttpSessionClient();
        String key = browser.ok(node1.url("recommend?value=p-17"));
        browser.ok(node2.url("recommend?value=p-42"));
        assertThat(key).isEqualTo(PREFIX + "{" + SessionKeys.baseId(browser.sessionId()) + "}:data:recommendations");
        assertThat(browser.ok(node1.url("recommendations"))).isEqualTo("p-17,p-42");
        try (Jedis jedis = REDIS.get().node().client()) {
            assertThat(jedis.ttl(key)).as("interval + touchInterval + grace").isBetween(1800L, 1800L + 5 + SessionKeys.TTL_GRACE_SECONDS);
        }

        String newId = browser.ok(node2.url("change-id"));
        assertThat(browser.ok(node1.url("recommendations"))).isEqualTo("p-17,p-42");
        try (Jedis jedis = REDIS.get().node().client()) {
            assertThat(jedis.exists(key)).isFalse();
            assertThat(jedis.exists(PREFIX + "{" + SessionKeys.baseId(newId) + "}:data:recommendations")).isTrue();
        }

        browser.ok(node1.url("invalidate"));
        try (Jedis jedis = REDIS.get().node().client()) {
            assertThat(jedis.keys("*")).isEmpty();
        }
    }

    @Test
    void sessionScopedStructureDiesWhenTheSessionTimesOut() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(node1.url("recommend?value=p-1"));
        browser.ok(node1.url("max-inactive?value=1"));

        Await.until(Duration.ofSeconds(30), "the session and its structure to expire", () -> {
            try (Jedis jedis = REDIS.get().node().client()) {
                return jedis.keys("*").isEmpty();
            }
        });
    }
}

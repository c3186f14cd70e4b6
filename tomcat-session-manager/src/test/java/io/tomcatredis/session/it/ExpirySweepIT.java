package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSessionBindingEvent;
import jakarta.servlet.http.HttpSessionBindingListener;
import jakarta.servlet.http.HttpSessionEvent;
import jakarta.servlet.http.HttpSessionListener;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;

/**
 * Issue 15, "expiry sweep with 1,000,000: bounded per tick, none late": a run of the sweep is
 * bounded by time, not by a count, and several nodes sweeping one index share the work. Time is
 * injected: the nodes' tickers stand still, so a run ends when nothing is due, never by the
 * machine's speed. Sessions are copies, in Redis, of one session a request made, due since a
 * minute.
 */
@Tag("tomcat")
class ExpirySweepIT {

    private static final String PREFIX = RedisUnderTest.PREFIX;
    private static final String INDEX = PREFIX + "expirations";
    /** More than the old bound of one run (100 batches of 100). */
    private static final int DUE = 10_500;

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    /** session id -> node names where sessionDestroyed fired. */
    static final Map<String, List<String>> DESTROYED = new ConcurrentHashMap<>();
    static final Map<String, AtomicInteger> UNBOUND = new ConcurrentHashMap<>();

    private TomcatNode node1;
    private TomcatNode node2;

    @BeforeEach
    void start() {
        REDIS.get().flushAll();
        DESTROYED.clear();
        UNBOUND.clear();
        node1 = node("sweep1");
        node2 = node("sweep2");
    }

    @AfterEach
    void stop() {
        TomcatNode.closeAll(node1, node2);
    }

    private static TomcatNode node(String name) {
        return TomcatNode.start(name, manager -> {
            manager.setRedisUri(REDIS.get().uri());
            manager.setTicker(() -> 0L);
        }, context -> instrument(context, name));
    }

    private static void instrument(Context context, String node) {
        // No background thread: the test runs each sweep.
        context.getParent().getParent().setBackgroundProcessorDelay(-1);
        context.addServletContainerInitializer((classes, servletContext) -> servletContext.addListener(
                new HttpSessionListener() {
                    @Override
                    public void sessionDestroyed(HttpSessionEvent se) {
                        DESTROYED.computeIfAbsent(SessionKeys.baseId(se.getSession().getId()),
                                k -> java.util.Collections.synchronizedList(new ArrayList<>())).add(node);
                    }
                }), null);
        Tomcat.addServlet(context, "unbinding", new HttpServlet() {
            @Override
            protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                req.getSession().setAttribute("unbind", new CountsUnbinding());
                resp.getWriter().write(req.getSession().getId());
            }
        });
        context.addServletMappingDecoded("/unbinding", "unbinding");
    }

    /** Counts its own valueUnbound calls per session. */
    record CountsUnbinding() implements HttpSessionBindingListener, Serializable {
        @Override
        public void valueUnbound(HttpSessionBindingEvent event) {
            UNBOUND.computeIfAbsent(SessionKeys.baseId(event.getSession().getId()), k -> new AtomicInteger())
                    .incrementAndGet();
        }
    }

    /** {@link #DUE} copies of one session made by a request, each with its own id, due since a minute. */
    private Set<String> dueSessions() {
        String template = SessionKeys.baseId(new HttpSessionClient().ok(node1.url("").replace("/s/", "/unbinding")));
        Set<String> ids = new HashSet<>();
        try (Jedis jedis = REDIS.get().node().client()) {
            Map<byte[], byte[]> hash = jedis.hgetAll((PREFIX + "{" + template + "}").getBytes());
            jedis.del(PREFIX + "{" + template + "}");
            jedis.zrem(INDEX, template);
            List<String> time = jedis.time();
            long now = Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
            long lastAccessed = now - 1_800_000 - 60_000;
            Pipeline pipeline = jedis.pipelined();
            for (int i = 0; i < DUE; i++) {
                String id = String.format("%032X", 0xE0000L + i);
                ids.add(id);
                byte[] key = (PREFIX + "{" + id + "}").getBytes();
                pipeline.hset(key, hash);
                pipeline.hset(PREFIX + "{" + id + "}", Map.of("meta:id", id, "meta:lastAccessedTime",
                        Long.toString(lastAccessed), "meta:maxInactiveInterval", "1800", "meta:touchInterval", "0"));
                pipeline.pexpire(key, 60_000 + SessionKeys.TTL_GRACE_SECONDS * 1000);
                pipeline.zadd(INDEX, lastAccessed + 1_800_000, id);
            }
            pipeline.sync();
        }
        return ids;
    }

    /** Before issue 15, a run stopped after 10,000 claims: the rest waited a whole period, late. */
    @Test
    void moreSessionsDueThanTheOldCountBoundExpireInOneRunWithEveryListenerOnce() {
        Set<String> ids = dueSessions();

        node1.manager().processExpires();

        assertThat(DESTROYED.keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(DESTROYED.values()).allSatisfy(nodes -> assertThat(nodes).containsExactly("sweep1"));
        assertThat(UNBOUND.keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(UNBOUND.values()).allSatisfy(count -> assertThat(count.get()).isEqualTo(1));
        try (Jedis jedis = REDIS.get().node().client()) {
            assertThat(jedis.zcard(INDEX)).isZero();
            assertThat(jedis.keys(PREFIX + "*")).as("no session, index or claim key left").isEmpty();
        }
    }

    /** Two nodes sweeping one index at once: each session's listeners fire once, on one node. */
    @Test
    void twoNodesSweepingOneIndexFireDisjointSetsThatTogetherAreComplete() throws Exception {
        Set<String> ids = dueSessions();

        List<CompletableFuture<Void>> sweeps = List.of(node1, node2).stream()
                .map(node -> CompletableFuture.runAsync(() -> node.manager().processExpires())).toList();
        for (CompletableFuture<Void> sweep : sweeps) {
            sweep.get(120, TimeUnit.SECONDS);
        }

        assertThat(DESTROYED.keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(DESTROYED.values()).as("each fired on exactly one node").allSatisfy(nodes -> assertThat(nodes).hasSize(1));
        assertThat(UNBOUND.values()).allSatisfy(count -> assertThat(count.get()).isEqualTo(1));
        try (Jedis jedis = REDIS.get().node().client()) {
            assertThat(jedis.zcard(INDEX)).isZero();
        }
    }
}

package io.tomcatredis.session.it;

import static io.tomcatredis.session.it.SignOutEverywhereSuite.login;
import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.management.Attribute;
import javax.management.MBeanAttributeInfo;
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
 * Attacks on the metrics (issue 16, part 2), as a JMX scrape (what the Prometheus JMX exporter
 * does: every attribute of every MBean) sees them: no label or value carries user input, a scrape
 * while Redis is frozen ends within the bound of one Redis call and still answers the counters,
 * counters never go back.
 */
@Tag("tomcat")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Issue16MetricsAttackIT {

    static final String MARKER = "piimarker";

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private RedisUnderTest redis;
    private TomcatNode node;
    private TomcatNode other;

    @BeforeAll
    void startNodes() {
        redis = RedisUnderTest.standalone(REDIS.get());
        node = TomcatNode.start("atkMetrics", m -> {
            redis.configure(m);
            m.setProperty("maxAttributeBytes", "1000");
        }, SizeGuardIT::pages);
        other = TomcatNode.start("atkMetricsOther", redis::configure);
    }

    @AfterAll
    void stopNodes() {
        TomcatNode.closeAll(node, other);
        if (redis != null) {
            redis.close();
        }
    }

    @BeforeEach
    void emptyRedis() {
        redis.flushAll();
    }

    private static String z(TomcatNode node, String path) {
        return node.url("").replace("/app/s/", "/app/z/") + path;
    }

    /** Every io.tomcatredis MBean and the webapps' Manager MBeans: name to (attribute to value). */
    private static Map<ObjectName, Map<String, Object>> scrape() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        Map<ObjectName, Map<String, Object>> all = new HashMap<>();
        List<ObjectName> names = new ArrayList<>(server.queryNames(new ObjectName("io.tomcatredis:*"), null));
        names.addAll(server.queryNames(new ObjectName("*:type=Manager,*"), null));
        for (ObjectName name : names) {
            List<String> attributes = new ArrayList<>();
            for (MBeanAttributeInfo info : server.getMBeanInfo(name).getAttributes()) {
                if (info.isReadable()) {
                    attributes.add(info.getName());
                }
            }
            Map<String, Object> values = new HashMap<>();
            for (Object attribute : server.getAttributes(name, attributes.toArray(String[]::new))) {
                values.put(((Attribute) attribute).getName(), ((Attribute) attribute).getValue());
            }
            all.put(name, values);
        }
        return all;
    }

    /** Attribute names, user names, URLs and values a request carries appear in no MBean name, attribute name or String value. */
    @Test
    void noLabelOrMetricCarriesUserInput() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        login(browser, node, MARKER + "-user");
        browser.ok(z(node, "put?name=" + MARKER + "-attribute&n=5000"));
        browser.ok(node.url("set?name=" + MARKER + "-small&value=" + MARKER + "-value"));
        browser.get(node.url(MARKER + "-url"));
        browser.get(node.url("get?name=x").replace("/app/", "/app/" + MARKER + "-path/"));
        for (Map.Entry<ObjectName, Map<String, Object>> bean : scrape().entrySet()) {
            if (bean.getKey().getKeyProperty("type").equals("Manager")) {
                continue; // Tomcat's own Manager bean (session ids and the like are Tomcat's; not labels)
            }
            assertThat(bean.getKey().toString()).doesNotContainIgnoringCase(MARKER);
            for (Map.Entry<String, Object> attribute : bean.getValue().entrySet()) {
                assertThat(attribute.getKey()).as(bean.getKey().toString()).doesNotContainIgnoringCase(MARKER);
                assertThat(String.valueOf(attribute.getValue())).as(bean.getKey() + " " + attribute.getKey())
                        .doesNotContainIgnoringCase(MARKER);
            }
        }
    }

    /** Scrapes every bean of this JVM in another thread, bounded by {@code millis}. */
    private static Map<ObjectName, Map<String, Object>> scrapeWithin(long millis) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return scrape();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).get(millis, TimeUnit.MILLISECONDS);
    }

    /**
     * While Redis is frozen a scrape still answers every counter of the session metrics bean: the
     * exporter reads a bean with one getAttributes, and one gauge that needs Redis (sessions_in_redis)
     * threw out of it, so the whole bean, unavailable_responses_total included, vanished during
     * the outage. No counter goes back after.
     */
    @Test
    void aScrapeWhileRedisIsFrozenStillAnswersTheCountersAndNoneGoesBack() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(node.url("set?name=a&value=1"));
        Map<ObjectName, Map<String, Object>> before = scrape();
        Map<ObjectName, Map<String, Object>> during;
        redis.pauseMasters();
        try {
            assertThat(browser.get(node.url("get?name=a")).status()).isEqualTo(503);
            during = scrapeWithin(120_000);
        } finally {
            redis.resumeMasters();
        }
        ObjectName sessionMetrics = new ObjectName("io.tomcatredis:type=SessionMetrics,host=localhost,context=/app");
        assertThat(during.get(sessionMetrics)).as("the session metrics while Redis is frozen")
                .containsKeys("unavailable_responses_total", "loads_total", "saves_total");
        assertThat(((Number) during.get(sessionMetrics).get("unavailable_responses_total")).longValue()).isPositive();
        browser.ok(node.url("get?name=a"));
        Map<ObjectName, Map<String, Object>> after = scrape();
        for (Map<ObjectName, Map<String, Object>> later : List.of(during, after)) {
            for (Map.Entry<ObjectName, Map<String, Object>> bean : before.entrySet()) {
                for (String name : bean.getValue().keySet()) {
                    Object old = bean.getValue().get(name);
                    Object now = later.getOrDefault(bean.getKey(), Map.of()).get(name);
                    boolean counter = name.endsWith("_total") || name.endsWith("count") || name.startsWith("le_")
                            || bean.getKey().getKeyProperty("type").endsWith("Counters");
                    if (counter && old instanceof Number o
                            && now instanceof Number n) {
                        assertThat(n.doubleValue()).as(bean.getKey() + " " + name).isGreaterThanOrEqualTo(o.doubleValue());
                    }
                }
            }
        }
    }

    /**
     * A full scrape (every attribute of every bean, as the exporter reads them) while Redis is
     * frozen ends within about timeoutMillis per manager (RedisUnderTest.unavailableMillis: 2 s +
     * margin; two managers in this JVM): each counts in Redis once, and answers the failure at once
     * to the other attributes that count (RecentFailure). Before, each such attribute waited
     * timeoutMillis on its own (10-12 s here).
     */
    @Test
    void aScrapeWhileRedisIsFrozenEndsWithinTheTimeout() throws Exception {
        new HttpSessionClient().ok(node.url("set?name=a&value=1"));
        redis.pauseMasters();
        try {
            assertThat(scrapeWithin(2 * redis.unavailableMillis())).isNotEmpty();
        } finally {
            redis.resumeMasters();
        }
    }

    /**
     * sessions_created_on_node_total counts the sessions this node created: it never goes back and
     * does not move when another node creates or invalidates sessions. Regression: it was Tomcat's
     * getSessionCounter(), which Tomcat 10.1/11 compute as getActiveSessions() + getExpiredSessions(),
     * and getActiveSessions() is the webapp's count in Redis (it went from 2 to 0 here).
     */
    @Test
    void sessionsCreatedOnNodeCountsThisNodesSessionsAndNeverGoesBack() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName metrics = new ObjectName("io.tomcatredis:type=SessionMetrics,host=localhost,context=/app");
        long start = ((Number) server.getAttribute(metrics, "sessions_created_on_node_total")).longValue();
        HttpSessionClient one = new HttpSessionClient();
        HttpSessionClient two = new HttpSessionClient();
        one.ok(node.url("create"));
        two.ok(node.url("create"));
        long created = ((Number) server.getAttribute(metrics, "sessions_created_on_node_total")).longValue();
        assertThat(created - start).isEqualTo(2);
        one.ok(other.url("invalidate"));
        two.ok(other.url("invalidate"));
        assertThat(((Number) server.getAttribute(metrics, "sessions_created_on_node_total")).longValue())
                .as("after the other node invalidated this node's 2 sessions").isEqualTo(created);
        for (int i = 0; i < 3; i++) {
            new HttpSessionClient().ok(other.url("create"));
        }
        assertThat(((Number) server.getAttribute(metrics, "sessions_created_on_node_total")).longValue())
                .as("after the other node created 3").isEqualTo(created);
    }
}

package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.StandaloneRedis;
import java.lang.management.ManagementFactory;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue 16 part 2: the session metrics move as they should, read the way the Prometheus JMX
 * exporter reads them (the platform MBean server, the names of README "Metrics"). Each test
 * compares before and after what it does, so the order of the tests does not matter.
 */
@Tag("tomcat")
class SessionMetricsIT {

    private static final MBeanServer JMX = ManagementFactory.getPlatformMBeanServer();
    private static final String SCOPE = "host=localhost,context=/app";

    private static StandaloneRedis redis;
    private static TomcatNode node;

    @BeforeAll
    static void start() {
        redis = StandaloneRedis.start();
        node = TomcatNode.start("metrics", m -> {
            m.setRedisUri(redis.uri());
            m.setTimeoutMillis("500");
            m.setMaxConnections("5");
        });
    }

    @AfterAll
    static void stop() {
        TomcatNode.closeAll(node);
        redis.close();
    }

    @Test
    void aLoadIncrementsLoadsTotalTheLoadHistogramAndItsRoundTrips() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(node.url("set?name=a&value=" + "x".repeat(300)));
        long loads = plain("loads_total");
        long loadCount = histogram("load_seconds", "count");
        long loadBuckets = histogram("load_seconds", "le_+Inf");
        long loadTrips = counter("round_trips_total", "operation", "load");
        long saves = plain("saves_total");
        long saveCount = histogram("save_seconds", "count");
        long attributeCount = histogram("attribute_bytes", "count");
        long sessionCount = histogram("session_bytes", "count");

        browser.ok(node.url("set?name=b&value=2"));

        assertThat(plain("loads_total") - loads).as("loads_total").isEqualTo(1);
        assertThat(histogram("load_seconds", "count") - loadCount).as("load_seconds count").isEqualTo(1);
        assertThat(histogram("load_seconds", "le_+Inf") - loadBuckets).as("load_seconds le=+Inf").isEqualTo(1);
        assertThat((Double) JMX.getAttribute(histogramName("load_seconds"), "sum")).isPositive();
        assertThat(counter("round_trips_total", "operation", "load") - loadTrips).isEqualTo(1);
        assertThat(plain("saves_total") - saves).isEqualTo(1);
        assertThat(histogram("save_seconds", "count") - saveCount).isEqualTo(1);
        assertThat(histogram("attribute_bytes", "count") - attributeCount).as("the one value written").isEqualTo(1);
        assertThat(histogram("session_bytes", "count") - sessionCount).isEqualTo(1);
        assertThat(histogram("session_bytes", "le_256")).as("a session of 300+ bytes is above 256")
                .isLessThan(histogram("session_bytes", "le_1024"));
    }

    @Test
    void anUnserializableValueCountsAsSkippedForItsReason() throws Exception {
        long skipped = counter("attributes_skipped_total", "reason", "notSerializable");
        long filtered = counter("attributes_skipped_total", "reason", "filtered");
        new HttpSessionClient().ok(node.url("unserializable?name=u"));
        assertThat(counter("attributes_skipped_total", "reason", "notSerializable") - skipped).isEqualTo(1);
        assertThat(counter("attributes_skipped_total", "reason", "filtered") - filtered).isZero();
        assertThat(counter("attributes_skipped_total", "reason", "attributeTooLarge"))
                .as("the size guard's reasons exist from the start").isZero();
    }

    @Test
    void a503IsCountedWithItsErrorKind() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(node.url("set?name=a&value=1"));
        long answered = plain("unavailable_responses_total");
        long errors = counter("errors_total", "kind", "timeout") + counter("errors_total", "kind", "connection")
                + counter("errors_total", "kind", "notConnected");
        redis.node().pause();
        try {
            assertThat(browser.get(node.url("get?name=a")).status()).isEqualTo(503);
        } finally {
            redis.node().resume();
        }
        assertThat(plain("unavailable_responses_total") - answered).isEqualTo(1);
        assertThat(counter("errors_total", "kind", "timeout")).as("a frozen Redis times out").isPositive();
        assertThat(counter("errors_total", "kind", "timeout") + counter("errors_total", "kind", "connection")
                + counter("errors_total", "kind", "notConnected") - errors).isPositive();
    }

    @Test
    void sessionCountsAndThePoolAreGaugesNamedForTheirScope() throws Exception {
        new HttpSessionClient().ok(node.url("set?name=a&value=1"));
        assertThat(plain("sessions_in_redis")).isEqualTo(node.manager().getActiveSessions()).isPositive();
        assertThat(plain("sessions_in_use_on_node")).as("no request in flight").isZero();
        assertThat(plain("pool_max_connections")).isEqualTo(5);
        assertThat(plain("pool_idle_connections")).as("connections opened by the requests").isPositive();
        assertThat(histogram("pool_borrow_wait_seconds", "count")).as("every borrow is timed").isPositive();
        assertThat(JMX.getAttribute(managerName(), "sessionsInRedis")).isEqualTo(node.manager().getActiveSessions());
        assertThat(JMX.getAttribute(managerName(), "sessionsInUseOnNode")).isEqualTo(0);
        assertThat(JMX.getAttribute(managerName(), "activeSessions")).as("kept: public API")
                .isEqualTo(node.manager().getActiveSessions());
    }

    private static ObjectName managerName() throws Exception {
        return JMX.queryNames(new ObjectName("*:type=Manager,context=/app,host=localhost"), null).iterator().next();
    }

    private static long plain(String attribute) throws Exception {
        return ((Number) JMX.getAttribute(new ObjectName("io.tomcatredis:type=SessionMetrics," + SCOPE), attribute))
                .longValue();
    }

    private static long counter(String name, String label, String value) throws Exception {
        return (Long) JMX.getAttribute(new ObjectName("io.tomcatredis:type=SessionCounters," + SCOPE + ",name=" + name
                + ",label=" + label), value);
    }

    private static ObjectName histogramName(String name) throws Exception {
        return new ObjectName("io.tomcatredis:type=SessionHistogram," + SCOPE + ",name=" + name);
    }

    private static long histogram(String name, String attribute) throws Exception {
        return (Long) JMX.getAttribute(histogramName(name), attribute);
    }
}

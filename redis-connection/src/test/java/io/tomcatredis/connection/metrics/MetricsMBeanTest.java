package io.tomcatredis.connection.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.AttributeNotFoundException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

class MetricsMBeanTest {

    private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();

    @Test
    void histogramAttributesAreCumulativeBucketsSumAndCountReadLive() throws Exception {
        Histogram histogram = new Histogram(0.01, 0.1);
        MetricsMBean bean = MetricsMBean.of(histogram, "test");
        assertThat(Arrays.stream(bean.getMBeanInfo().getAttributes()).map(MBeanAttributeInfo::getName))
                .containsExactly("le_0.01", "le_0.1", "le_+Inf", "sum", "count");
        histogram.record(0.05);
        histogram.record(0.5);
        assertThat(bean.getAttribute("le_0.01")).isEqualTo(0L);
        assertThat(bean.getAttribute("le_0.1")).isEqualTo(1L);
        assertThat(bean.getAttribute("le_+Inf")).isEqualTo(2L);
        assertThat(bean.getAttribute("count")).isEqualTo(2L);
        assertThat((Double) bean.getAttribute("sum")).isEqualTo(0.55, org.assertj.core.data.Offset.offset(1e-12));
        assertThatThrownBy(() -> bean.getAttribute("nope")).isInstanceOf(AttributeNotFoundException.class);
    }

    @Test
    void registeredBeansAreReadThroughTheMBeanServerAndGoneAfterClose() throws Exception {
        AtomicLong loads = new AtomicLong();
        CounterSet errors = new CounterSet("kind", List.of("timeout", "connection"));
        String name = "io.tomcatredis.test:type=T,context=/x";
        try (MBeanRegistrations registrations = new MBeanRegistrations()) {
            registrations.register(name, MetricsMBean.builder("test")
                    .counter("loads_total", "loads", loads::get)
                    .gauge("sessions_in_redis", "sessions", () -> 7)
                    .build());
            registrations.register(name + ",name=errors_total,label=kind", MetricsMBean.of(errors, "errors"));
            loads.addAndGet(3);
            errors.increment("timeout");
            assertThat(server.getAttribute(new ObjectName(name), "loads_total")).isEqualTo(3L);
            assertThat(server.getAttribute(new ObjectName(name), "sessions_in_redis")).isEqualTo(7L);
            assertThat(server.getAttribute(new ObjectName(name + ",name=errors_total,label=kind"), "timeout"))
                    .isEqualTo(1L);
        }
        assertThat(server.isRegistered(new ObjectName(name))).isFalse();
    }

    @Test
    void namesSayWhatTheyAre() {
        assertThatThrownBy(() -> MetricsMBean.builder("x").counter("loads", "", () -> 1L))
                .hasMessageContaining("_total");
        assertThatThrownBy(() -> MetricsMBean.builder("x").gauge("loads_total", "", () -> 1L))
                .hasMessageContaining("_total");
        assertThat(MBeanRegistrations.value("/shop")).isEqualTo("/shop");
        assertThat(MBeanRegistrations.value("a,b")).isEqualTo("\"a,b\"");
    }
}

package io.tomcatredis.connection.metrics;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * The metric MBeans of one session manager or cache filter in the platform MBean server (the one
 * Tomcat and the Prometheus JMX exporter use), unregistered together when it stops. A name already
 * taken (two embedded Tomcats with the same host and context in one JVM, or a filter declared
 * twice under one name) gets a key {@code instance=<n>} appended, with a WARNING, so that neither
 * hides nor unregisters the other's metrics.
 */
public final class MBeanRegistrations implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(MBeanRegistrations.class.getName());

    private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    private final List<ObjectName> registered = new ArrayList<>();
    /** One WARNING per set of beans, not one per bean. */
    private boolean warned;

    /**
     * Registers {@code bean} under {@code name}; a failure is logged (metrics are not worth
     * failing a deploy for).
     *
     * @param name an ObjectName, e.g. {@code io.tomcatredis:type=SessionMetrics,host=localhost,context=/shop}
     */
    public synchronized void register(String name, Object bean) {
        try {
            ObjectName objectName = new ObjectName(name);
            for (int instance = 2; server.isRegistered(objectName); instance++) {
                objectName = new ObjectName(name + ",instance=" + instance);
            }
            if (!objectName.getCanonicalName().equals(new ObjectName(name).getCanonicalName()) && !warned) {
                warned = true;
                LOG.warning("The MBean name " + name + " is taken (another instance with the same scope in this JVM);"
                        + " registered as " + objectName + " (and so on for its other metric MBeans)");
            }
            server.registerMBean(bean, objectName);
            registered.add(objectName);
        } catch (JMException | RuntimeException e) {
            LOG.warning("Metrics MBean " + name + " is not available over JMX: " + e);
        }
    }

    /**
     * Registers a counter set as {@code io.tomcatredis:type=<type>,<scope>,name=<name>,label=<label>},
     * the shape {@code conf/jmx-exporter.yml} maps to {@code <name>{<label>="..."}}.
     */
    public void counters(String type, String scope, String name, CounterSet counters) {
        register("io.tomcatredis:type=" + type + "," + scope + ",name=" + name + ",label=" + counters.label(),
                MetricsMBean.of(counters, name + " by " + counters.label()));
    }

    /**
     * Registers a histogram as {@code io.tomcatredis:type=<type>,<scope>,name=<name>}, the shape
     * {@code conf/jmx-exporter.yml} maps to the {@code <name>_buckets_total}, {@code _sum_total} and
     * {@code _count_total} families.
     */
    public void histogram(String type, String scope, String name, Histogram histogram) {
        register("io.tomcatredis:type=" + type + "," + scope + ",name=" + name, MetricsMBean.of(histogram, name));
    }

    /** Quotes an ObjectName value when it holds a character that needs it ({@code , = : " * ?} or a newline). */
    public static String value(String raw) {
        return raw.matches("[^,=:\"*?\\n]*") ? raw : ObjectName.quote(raw);
    }

    @Override
    public synchronized void close() {
        for (ObjectName name : registered) {
            try {
                server.unregisterMBean(name);
            } catch (JMException e) {
                LOG.fine("MBean " + name + " was already gone: " + e);
            }
        }
        registered.clear();
    }
}

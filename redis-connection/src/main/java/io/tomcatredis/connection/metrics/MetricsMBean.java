package io.tomcatredis.connection.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;

/**
 * Read-only metrics as a JMX {@link DynamicMBean}, one attribute per series, in the shape the
 * Prometheus JMX exporter maps with the rules of {@code conf/jmx-exporter.yml}:
 *
 * <ul>
 *   <li>{@link #builder plain metrics}: one attribute per metric, named as the metric
 *       ({@code loads_total}: a counter, {@code sessions_in_redis}: a gauge);</li>
 *   <li>{@link #of(CounterSet, String) a counter set}: one attribute per label value (the bean's
 *       ObjectName names the metric and the label);</li>
 *   <li>{@link #of(Histogram, String) a histogram}: {@code le_<bound>} per bucket, cumulative,
 *       {@code le_+Inf}, {@code sum} and {@code count}.</li>
 * </ul>
 *
 * Reading an attribute calls its supplier: no copy is kept, nothing is computed between reads.
 */
public final class MetricsMBean implements DynamicMBean {

    private static final Logger LOG = Logger.getLogger(MetricsMBean.class.getName());

    private final String description;
    private final Supplier<Map<String, Metric>> attributes;

    /** One attribute: its JMX type ({@code long} or {@code double}), description and value. */
    private record Metric(String type, String description, Supplier<Object> value) {
    }

    private MetricsMBean(String description, Supplier<Map<String, Metric>> attributes) {
        this.description = description;
        this.attributes = attributes;
    }

    /** Plain metrics, added one by one. */
    public static Builder builder(String description) {
        return new Builder(description);
    }

    /** One attribute per label value of {@code counters}, each a {@code long}. */
    public static MetricsMBean of(CounterSet counters, String description) {
        return new MetricsMBean(description, () -> {
            Map<String, Metric> metrics = new LinkedHashMap<>();
            counters.snapshot().keySet().forEach(value -> metrics.put(value, new Metric("long",
                    counters.label() + "=" + value, () -> counters.count(value))));
            return metrics;
        });
    }

    /**
     * {@code le_<bound>} per bucket (cumulative counts, {@link Histogram#le} formats the bound),
     * {@code le_+Inf}, {@code sum} (base units) and {@code count}.
     */
    public static MetricsMBean of(Histogram histogram, String description) {
        Map<String, Metric> metrics = new LinkedHashMap<>();
        double[] bounds = histogram.bounds();
        for (int i = 0; i <= bounds.length; i++) {
            int bucket = i;
            String le = Histogram.le(i < bounds.length ? bounds[i] : Double.POSITIVE_INFINITY);
            metrics.put("le_" + le, new Metric("long", "observations at most " + le + " (cumulative)",
                    () -> histogram.cumulativeCounts()[bucket]));
        }
        metrics.put("sum", new Metric("double", "sum of the observations", histogram::sum));
        metrics.put("count", new Metric("long", "number of observations", histogram::count));
        return new MetricsMBean(description, () -> metrics);
    }

    @Override
    public Object getAttribute(String attribute) throws AttributeNotFoundException {
        Metric metric = attributes.get().get(attribute);
        if (metric == null) {
            throw new AttributeNotFoundException(attribute);
        }
        return metric.value().get();
    }

    @Override
    public void setAttribute(Attribute attribute) {
        throw new UnsupportedOperationException("metrics are read-only");
    }

    /**
     * {@inheritDoc}
     *
     * <p>As the JMX contract says ({@link DynamicMBean#getAttributes}: "the list of attributes
     * retrieved"), an attribute whose reading fails (a gauge that asks Redis while Redis is down) is
     * left out of the list rather than failing the call: the Prometheus JMX exporter reads a bean
     * with one getAttributes and drops the whole bean when it throws, which would hide every counter
     * of the bean (errors, 503s answered) exactly during the outage they count. The failure itself
     * is counted where it happens (errors_total); here it is logged at FINE only.
     */
    @Override
    public AttributeList getAttributes(String[] names) {
        AttributeList list = new AttributeList();
        Map<String, Metric> current = attributes.get();
        for (String name : names) {
            Metric metric = current.get(name);
            if (metric != null) {
                try {
                    list.add(new Attribute(name, metric.value().get()));
                } catch (RuntimeException e) {
                    LOG.log(Level.FINE, "Metric " + name + " left out of this read: " + e.getMessage(), e);
                }
            }
        }
        return list;
    }

    @Override
    public AttributeList setAttributes(AttributeList attributes) {
        return new AttributeList();
    }

    @Override
    public Object invoke(String actionName, Object[] params, String[] signature) {
        throw new UnsupportedOperationException("metrics have no operations");
    }

    @Override
    public MBeanInfo getMBeanInfo() {
        List<MBeanAttributeInfo> infos = new ArrayList<>();
        attributes.get().forEach((name, metric) -> infos.add(
                new MBeanAttributeInfo(name, metric.type(), metric.description(), true, false, false)));
        return new MBeanInfo(MetricsMBean.class.getName(), description,
                infos.toArray(new MBeanAttributeInfo[0]), null, null, null);
    }

    /** Adds plain metrics in the order they are to be listed. */
    public static final class Builder {
        private final String description;
        private final Map<String, Metric> metrics = new LinkedHashMap<>();

        private Builder(String description) {
            this.description = description;
        }

        /** A monotonic counter; {@code name} ends in {@code _total}. */
        public Builder counter(String name, String description, LongSupplier value) {
            if (!name.endsWith("_total")) {
                throw new IllegalArgumentException("a counter's name ends in _total: " + name);
            }
            metrics.put(name, new Metric("long", description, value::getAsLong));
            return this;
        }

        /** A value that goes up and down. */
        public Builder gauge(String name, String description, LongSupplier value) {
            if (name.endsWith("_total")) {
                throw new IllegalArgumentException("a gauge's name does not end in _total: " + name);
            }
            metrics.put(name, new Metric("long", description, value::getAsLong));
            return this;
        }

        public MetricsMBean build() {
            Map<String, Metric> ordered = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
            return new MetricsMBean(description, () -> ordered);
        }
    }
}

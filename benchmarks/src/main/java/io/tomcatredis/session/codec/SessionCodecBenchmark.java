package io.tomcatredis.session.codec;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.tomcatredis.benchmarks.TypicalSession;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Encode + decode of every attribute of a {@link TypicalSession}, one value per attribute as the
 * session store writes them, with
 * <ul>
 *   <li>{@code kryo}: the codec of {@code serializer="kryo"} (format 2, Java serialization per
 *       class where Kryo is not faithful);</li>
 *   <li>{@code java}: the codec of {@code serializer="java"}, i.e. JDK serialization, the baseline;</li>
 *   <li>{@code kryoFormat1}: the Kryo configuration of release 0.1, without the per-class choice,
 *       to show what the choice costs the common case.</li>
 * </ul>
 * {@code session=common} is the session without the security context (no class there needs Java
 * serialization); {@code typical} includes it. In this package to reach the format 1 configuration.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class SessionCodecBenchmark {

    @Param({"typical", "common"})
    public String session;

    private List<Object> values;
    private AttributeCodec kryo;
    private AttributeCodec java;
    private Kryo format1;

    @Setup
    public void setUp() throws SerializationException {
        values = new ArrayList<>(TypicalSession.attributes(session.equals("typical")).values());
        ClassLoader loader = getClass().getClassLoader();
        kryo = AttributeCodec.create("kryo", loader, ClassFilter.ALLOW_ALL);
        java = AttributeCodec.create("java", loader, ClassFilter.ALLOW_ALL);
        format1 = LegacyKryoFactory.create(loader, ClassFilter.ALLOW_ALL);
    }

    @Benchmark
    public void kryo(Blackhole blackhole) throws SerializationException {
        for (Object value : values) {
            blackhole.consume(kryo.decode(kryo.encode(value)));
        }
    }

    @Benchmark
    public void java(Blackhole blackhole) throws SerializationException {
        for (Object value : values) {
            blackhole.consume(java.decode(java.encode(value)));
        }
    }

    @Benchmark
    public void kryoFormat1(Blackhole blackhole) {
        for (Object value : values) {
            Output output = new Output(256, -1);
            format1.writeClassAndObject(output, value);
            blackhole.consume(format1.readClassAndObject(new Input(output.toBytes())));
        }
    }

    /** Prints the stored bytes per attribute and in total, for each codec. */
    public static void main(String[] args) throws SerializationException {
        Map<String, Object> attributes = TypicalSession.attributes(true);
        ClassLoader loader = SessionCodecBenchmark.class.getClassLoader();
        AttributeCodec kryo = AttributeCodec.create("kryo", loader, ClassFilter.ALLOW_ALL);
        AttributeCodec java = AttributeCodec.create("java", loader, ClassFilter.ALLOW_ALL);
        Kryo format1 = LegacyKryoFactory.create(loader, ClassFilter.ALLOW_ALL);
        int kryoTotal = 0;
        int javaTotal = 0;
        int format1Total = 0;
        System.out.printf("%-24s %8s %8s %8s %7s%n", "attribute", "kryo", "java", "format1", "kryo/java");
        for (Map.Entry<String, Object> attribute : attributes.entrySet()) {
            int k = kryo.encode(attribute.getValue()).length;
            int j = java.encode(attribute.getValue()).length;
            Output output = new Output(256, -1);
            format1.writeClassAndObject(output, attribute.getValue());
            int f = output.toBytes().length;
            kryoTotal += k;
            javaTotal += j;
            format1Total += f;
            System.out.printf("%-24s %8d %8d %8d %7.2f%n", attribute.getKey(), k, j, f, (double) k / j);
        }
        System.out.printf("%-24s %8d %8d %8d %7.2f%n", "total", kryoTotal, javaTotal, format1Total,
                (double) kryoTotal / javaTotal);
    }
}

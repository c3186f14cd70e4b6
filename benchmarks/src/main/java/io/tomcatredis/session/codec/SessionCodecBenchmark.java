package io.tomcatredis.session.codec;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.tomcatredis.benchmarks.TypicalSession;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.crypto.spec.SecretKeySpec;
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
 *
 * <p>Compression ({@code compressionThreshold}, {@link CompressingCodec}), against {@code kryo}
 * (threshold 0, off) in the same run:
 * <ul>
 *   <li>{@code kryoCompressed}: encode + decode with the default threshold ({@value #THRESHOLD} bytes);</li>
 *   <li>{@code kryoUnchanged} / {@code kryoCompressedUnchanged}: the end-of-request check of a read
 *       attribute that did not change ({@link AttributeCodec#encode(Object, byte[])} against the
 *       bytes Redis holds), without and with compression: serialize, then compare (with
 *       compression: decompress what Redis holds, compare uncompressed);</li>
 *   <li>{@code kryoCompressedUnchangedByCompressing}: the same check done by compressing again and
 *       comparing compressed bytes, the design not taken.</li>
 * </ul>
 *
 * <p>Encryption ({@code encryptionKeyFile}, {@link EncryptingCodec}: AES-256-GCM after compression,
 * each value bound to its session and field), against {@code kryoCompressed} and
 * {@code kryoCompressedUnchanged} in the same run:
 * <ul>
 *   <li>{@code kryoCompressedEncrypted}: encode + decode;</li>
 *   <li>{@code kryoCompressedEncryptedUnchanged}: the end-of-request check of an unchanged read
 *       attribute: decrypt (and decompress) what Redis holds, serialize, compare plaintext.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class SessionCodecBenchmark {

    @Param({"typical", "common"})
    public String session;

    /** The default {@code compressionThreshold}, bytes. */
    static final int THRESHOLD = 512;

    private List<Object> values;
    private AttributeCodec kryo;
    private AttributeCodec java;
    private Kryo format1;
    private AttributeCodec kryoCompressed;
    private byte[][] stored;
    private byte[][] storedCompressed;
    private AttributeCodec[] kryoEncrypted;
    private byte[][] storedEncrypted;

    @Setup
    public void setUp() throws SerializationException {
        values = new ArrayList<>(TypicalSession.attributes(session.equals("typical")).values());
        ClassLoader loader = getClass().getClassLoader();
        kryo = AttributeCodec.create("kryo", loader, ClassFilter.DENY_LIST_ONLY);
        java = AttributeCodec.create("java", loader, ClassFilter.DENY_LIST_ONLY);
        format1 = LegacyKryoFactory.create(loader, ClassFilter.DENY_LIST_ONLY);
        kryoCompressed = AttributeCodec.create("kryo", loader, ClassFilter.DENY_LIST_ONLY, THRESHOLD);
        stored = new byte[values.size()][];
        storedCompressed = new byte[values.size()][];
        AttributeCodec encrypting = AttributeCodec.create("kryo", loader, ClassFilter.DENY_LIST_ONLY, THRESHOLD,
                EncryptionKeys.of(new EncryptionKeys.Key("2026-11", new SecretKeySpec(new byte[32],
                        "AES"))), false);
        kryoEncrypted = new AttributeCodec[values.size()];
        storedEncrypted = new byte[values.size()][];
        for (int i = 0; i < values.size(); i++) {
            stored[i] = kryo.encode(values.get(i));
            storedCompressed[i] = kryoCompressed.encode(values.get(i));
            kryoEncrypted[i] = encrypting.at("5AD9C4F1E0B2A3D4C5B6A7980F1E2D3C", "attr:attribute-" + i);
            storedEncrypted[i] = kryoEncrypted[i].encode(values.get(i));
        }
    }

    @Benchmark
    public void kryoCompressed(Blackhole blackhole) throws SerializationException {
        for (Object value : values) {
            blackhole.consume(kryoCompressed.decode(kryoCompressed.encode(value)));
        }
    }

    @Benchmark
    public void kryoCompressedEncrypted(Blackhole blackhole) throws SerializationException {
        for (int i = 0; i < kryoEncrypted.length; i++) {
            blackhole.consume(kryoEncrypted[i].decode(kryoEncrypted[i].encode(values.get(i))));
        }
    }

    @Benchmark
    public void kryoCompressedEncryptedUnchanged(Blackhole blackhole) throws SerializationException {
        for (int i = 0; i < storedEncrypted.length; i++) {
            blackhole.consume(kryoEncrypted[i].encode(values.get(i), storedEncrypted[i]) == storedEncrypted[i]);
        }
    }

    @Benchmark
    public void kryoUnchanged(Blackhole blackhole) throws SerializationException {
        for (int i = 0; i < stored.length; i++) {
            blackhole.consume(kryo.encode(values.get(i), stored[i]) == stored[i]);
        }
    }

    @Benchmark
    public void kryoCompressedUnchanged(Blackhole blackhole) throws SerializationException {
        for (int i = 0; i < storedCompressed.length; i++) {
            blackhole.consume(kryoCompressed.encode(values.get(i), storedCompressed[i]) == storedCompressed[i]);
        }
    }

    @Benchmark
    public void kryoCompressedUnchangedByCompressing(Blackhole blackhole) throws SerializationException {
        for (int i = 0; i < storedCompressed.length; i++) {
            blackhole.consume(Arrays.equals(kryoCompressed.encode(values.get(i)), storedCompressed[i]));
        }
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

    /**
     * Prints the stored bytes per attribute and in total, for each codec, and with compression at
     * the default threshold; plus session-bench's set of 100 product ids ("prod-100000"...).
     */
    public static void main(String[] args) throws SerializationException {
        Map<String, Object> attributes = new LinkedHashMap<>(TypicalSession.attributes(true));
        Set<String> recs = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            recs.add("prod-" + (100000 + i));
        }
        attributes.put("session-bench recs", recs);
        ClassLoader loader = SessionCodecBenchmark.class.getClassLoader();
        AttributeCodec kryo = AttributeCodec.create("kryo", loader, ClassFilter.DENY_LIST_ONLY);
        AttributeCodec java = AttributeCodec.create("java", loader, ClassFilter.DENY_LIST_ONLY);
        AttributeCodec compressed = AttributeCodec.create("kryo", loader, ClassFilter.DENY_LIST_ONLY, THRESHOLD);
        Kryo format1 = LegacyKryoFactory.create(loader, ClassFilter.DENY_LIST_ONLY);
        int kryoTotal = 0;
        int javaTotal = 0;
        int format1Total = 0;
        int compressedTotal = 0;
        System.out.printf("%-24s %8s %8s %8s %7s %8s %7s%n", "attribute", "kryo", "java", "format1", "kryo/java",
                "kryo+lz4", "lz4/kryo");
        for (Map.Entry<String, Object> attribute : attributes.entrySet()) {
            int k = kryo.encode(attribute.getValue()).length;
            int j = java.encode(attribute.getValue()).length;
            int c = compressed.encode(attribute.getValue()).length;
            Output output = new Output(256, -1);
            format1.writeClassAndObject(output, attribute.getValue());
            int f = output.toBytes().length;
            if (!attribute.getKey().startsWith("session-bench")) {
                kryoTotal += k;
                javaTotal += j;
                format1Total += f;
                compressedTotal += c;
            }
            System.out.printf("%-24s %8d %8d %8d %7.2f %8d %7.2f%n", attribute.getKey(), k, j, f, (double) k / j, c,
                    (double) c / k);
        }
        System.out.printf("%-24s %8d %8d %8d %7.2f %8d %7.2f%n", "total (typical session)", kryoTotal, javaTotal,
                format1Total, (double) kryoTotal / javaTotal, compressedTotal, (double) compressedTotal / kryoTotal);
    }
}

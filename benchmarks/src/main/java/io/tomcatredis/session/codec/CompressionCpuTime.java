package io.tomcatredis.session.codec;

import io.tomcatredis.benchmarks.TypicalSession;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.spec.SecretKeySpec;

/**
 * The figures of {@link SessionCodecBenchmark}'s compression variants as CPU time of the measuring
 * thread ({@link ThreadMXBean#getCurrentThreadCpuTime()}), in interleaved rounds: on a 2-core
 * machine shared with other builds, JMH's wall-clock scores carry errors as wide as the scores,
 * while the CPU time a thread spends on its own work is far less affected by the others. Each round
 * runs every variant once over the typical session's attributes (rotating the order); the figure
 * is the median over rounds of µs per session, and of the ratio to the variant without
 * compression in the same round. The variants {@code ... + AES} add encryption
 * ({@link EncryptingCodec}, AES-256-GCM, each value bound to its session and field); their ratio is
 * to the same variant without encryption in the same round.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.tomcatredis.session.codec.CompressionCpuTime [rounds] [sessions per round] [threshold]
 * </pre>
 */
public final class CompressionCpuTime {

    private static volatile long sink;

    private CompressionCpuTime() {
    }

    @FunctionalInterface
    interface Work {
        long run(int i) throws SerializationException;
    }

    public static void main(String[] args) throws SerializationException {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        int sessions = args.length > 1 ? Integer.parseInt(args[1]) : 2_000;
        int threshold = args.length > 2 ? Integer.parseInt(args[2]) : SessionCodecBenchmark.THRESHOLD;
        List<Object> values = new ArrayList<>(TypicalSession.attributes(true).values());
        ClassLoader loader = CompressionCpuTime.class.getClassLoader();
        AttributeCodec off = AttributeCodec.create("kryo", loader, ClassFilter.DENY_LIST_ONLY, 0);
        AttributeCodec on = AttributeCodec.create("kryo", loader, ClassFilter.DENY_LIST_ONLY, threshold);
        AttributeCodec encrypting = AttributeCodec.create("kryo", loader, ClassFilter.DENY_LIST_ONLY, threshold,
                EncryptionKeys.of(new EncryptionKeys.Key("2026-11", new SecretKeySpec(new byte[32], "AES"))), false);
        int n = values.size();
        byte[][] plain = new byte[n][];
        byte[][] compressed = new byte[n][];
        AttributeCodec[] aes = new AttributeCodec[n];
        byte[][] encrypted = new byte[n][];
        for (int i = 0; i < n; i++) {
            plain[i] = off.encode(values.get(i));
            compressed[i] = on.encode(values.get(i));
            aes[i] = encrypting.at("5AD9C4F1E0B2A3D4C5B6A7980F1E2D3C", "attr:attribute-" + i);
            encrypted[i] = aes[i].encode(values.get(i));
        }

        // name -> work on attribute i; pairs: a variant without compression, then with
        Map<String, Work> variants = new LinkedHashMap<>();
        variants.put("encode, off", i -> off.encode(values.get(i)).length);
        variants.put("encode, on", i -> on.encode(values.get(i)).length);
        variants.put("decode, off", i -> off.decode(plain[i]).hashCode());
        variants.put("decode, on", i -> on.decode(compressed[i]).hashCode());
        variants.put("unchanged check, off", i -> off.encode(values.get(i), plain[i]) == plain[i] ? 1 : 0);
        variants.put("unchanged check, on (decompress + compare)",
                i -> on.encode(values.get(i), compressed[i]) == compressed[i] ? 1 : 0);
        variants.put("unchanged check, on, by compressing again (not taken)",
                i -> Arrays.equals(on.encode(values.get(i)), compressed[i]) ? 1 : 0);
        variants.put("encode, on + AES", i -> aes[i].encode(values.get(i)).length);
        variants.put("decode, on + AES", i -> aes[i].decode(encrypted[i]).hashCode());
        variants.put("unchanged check, on (decompress + compare) + AES",
                i -> aes[i].encode(values.get(i), encrypted[i]) == encrypted[i] ? 1 : 0);
        List<String> names = new ArrayList<>(variants.keySet());

        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (String name : names) { // warm-up
            measure(threads, variants.get(name), n, sessions * 2);
        }
        double[][] perSession = new double[names.size()][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < names.size(); k++) {
                int v = (k + r) % names.size();
                perSession[v][r] = measure(threads, variants.get(names.get(v)), n, sessions);
            }
        }
        System.out.printf("compressionThreshold %d: %d of %d bytes stored (%d encrypted); %d rounds x %d sessions (%d attributes"
                + " each), thread CPU time%n", threshold, Arrays.stream(compressed).mapToInt(b -> b.length).sum(),
                Arrays.stream(plain).mapToInt(b -> b.length).sum(), Arrays.stream(encrypted).mapToInt(b -> b.length).sum(),
                rounds, sessions, n);
        System.out.printf("%-55s %12s %14s%n", "variant", "us/session", "x base (median)");
        for (int v = 0; v < names.size(); v++) {
            int baseline = names.get(v).endsWith(" + AES") ? names.indexOf(names.get(v).replace(" + AES", ""))
                    : names.get(v).contains(", off") ? v : names.indexOf(names.get(v).startsWith("unchanged")
                    ? "unchanged check, off" : names.get(v).replaceAll(", on.*", ", off"));
            double[] ratios = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                ratios[r] = perSession[v][r] / perSession[baseline][r];
            }
            System.out.printf("%-55s %12.2f %14.2f   rounds: %s%n", names.get(v), median(perSession[v]), median(ratios),
                    Arrays.toString(Arrays.stream(perSession[v]).map(x -> Math.round(x * 10) / 10.0).toArray()));
        }
    }

    /** CPU µs per session of {@code sessions} passes over the {@code n} attributes. */
    private static double measure(ThreadMXBean threads, Work work, int n, int sessions) throws SerializationException {
        long acc = 0;
        long start = threads.getCurrentThreadCpuTime();
        for (int s = 0; s < sessions; s++) {
            for (int i = 0; i < n; i++) {
                acc += work.run(i);
            }
        }
        long cpu = threads.getCurrentThreadCpuTime() - start;
        sink += acc;
        return cpu / 1_000.0 / sessions;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    }
}

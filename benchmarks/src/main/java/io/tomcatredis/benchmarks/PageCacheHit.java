package io.tomcatredis.benchmarks;

import io.tomcatredis.cache.RedisCache;
import io.tomcatredis.cache.RedisCacheFilter;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.servlets.DefaultServlet;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;

/**
 * Issue 15: a cached page hit against the same bytes from Tomcat's {@code DefaultServlet}, in one
 * interleaved run (plain, from Redis, from the local tier; round after round) on one embedded
 * Tomcat 11 and a real redis-server, the load from {@code wrk}. Three webapps serve the same file
 * (the sample shop's style sheet): {@code /plain} with DefaultServlet alone, {@code /redis} with
 * {@link RedisCacheFilter} in front ({@code localTierBytes} 0), {@code /local} with the local
 * tier on. Prints every run and the medians with their ratios to {@code /plain}.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.tomcatredis.benchmarks.PageCacheHit [rounds] [seconds] [connections]
 * </pre>
 */
public final class PageCacheHit {

    private static final List<String> VARIANTS = List.of(System.getProperty("variants", "plain,redis,local").split(","));

    private PageCacheHit() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int connections = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        byte[] css = Files.readAllBytes(Path.of("sample-webapp", "src", "main", "webapp", "static", "shop.css"));
        try (StandaloneRedis redis = StandaloneRedis.start()) {
            Path base = Files.createTempDirectory("page-cache-hit-");
            Tomcat tomcat = new Tomcat();
            tomcat.setBaseDir(base.toString());
            Connector connector = new Connector();
            connector.setPort(0);
            connector.setProperty("address", "127.0.0.1");
            tomcat.setConnector(connector);
            Map<String, Context> contexts = new LinkedHashMap<>();
            for (String variant : VARIANTS) {
                Path docs = Files.createDirectories(base.resolve(variant).resolve("static"));
                Files.write(docs.resolve("shop.css"), css);
                Context context = tomcat.addContext("/" + variant, base.resolve(variant).toString());
                Tomcat.addServlet(context, "default", new DefaultServlet());
                context.addServletMappingDecoded("/", "default");
                if (!variant.equals("plain")) {
                    FilterDef filter = new FilterDef();
                    filter.setFilterName("page-cache");
                    filter.setFilterClass(RedisCacheFilter.class.getName());
                    filter.addInitParameter("redisUri", redis.uri());
                    filter.addInitParameter("include", "/static/* 86400");
                    filter.addInitParameter("allowedHosts", "127.0.0.1");
                    filter.addInitParameter("localTierBytes", variant.equals("local") ? "16777216" : "0");
                    context.addFilterDef(filter);
                    FilterMap mapping = new FilterMap();
                    mapping.setFilterName("page-cache");
                    mapping.addURLPattern("/*");
                    context.addFilterMap(mapping);
                }
                contexts.put(variant, context);
            }
            tomcat.start();
            int port = connector.getLocalPort();
            HttpClient client = HttpClient.newHttpClient();
            for (String variant : VARIANTS) {
                String url = url(port, variant);
                for (int i = 0; i < 3; i++) {
                    HttpResponse<byte[]> reply = client.send(HttpRequest.newBuilder(URI.create(url)).build(),
                            HttpResponse.BodyHandlers.ofByteArray());
                    if (reply.statusCode() != 200 || !java.util.Arrays.equals(reply.body(), css)) {
                        throw new IllegalStateException(url + " did not answer the file: " + reply.statusCode());
                    }
                }
            }
            System.out.printf("date %s, %d cores, load before: %s, file %d bytes, wrk -t2 -c%d -d%ds, %d rounds%n",
                    Instant.now(), Runtime.getRuntime().availableProcessors(), loadAverage(), css.length, connections,
                    seconds, rounds);
            for (String variant : VARIANTS) {
                wrk(url(port, variant), 2, connections, 3);
            }
            Map<String, List<Double>> rates = new LinkedHashMap<>();
            Map<String, List<String>> latencies = new LinkedHashMap<>();
            System.out.println("round\tvariant\treq/s\tp50\tp99\tJVM CPU us/req\tRedis CPU us/req\tstatistics");
            com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            for (int round = 1; round <= rounds; round++) {
                for (String variant : VARIANTS) {
                    long jvmBefore = os.getProcessCpuTime();
                    double redisBefore = redisCpuSeconds(redis);
                    String out = wrk(url(port, variant), 2, connections, seconds);
                    double redisCpu = redisCpuSeconds(redis) - redisBefore;
                    long jvmCpu = os.getProcessCpuTime() - jvmBefore;
                    double rate = Double.parseDouble(find(out, "Requests/sec:\\s+([0-9.]+)"));
                    double requests = Double.parseDouble(find(out, "(\\d+) requests in"));
                    rates.computeIfAbsent(variant, v -> new ArrayList<>()).add(rate);
                    String p50 = find(out, "(?m)^\\s+50%\\s+(\\S+)");
                    String p99 = find(out, "(?m)^\\s+99%\\s+(\\S+)");
                    latencies.computeIfAbsent(variant, v -> new ArrayList<>()).add(p50 + "/" + p99);
                    System.out.printf("%d\t%s\t%.0f\t%s\t%s\t%.1f\t%.1f\t%s%n", round, variant, rate, p50, p99,
                            jvmCpu / 1000.0 / requests, redisCpu * 1e6 / requests,
                            variant.equals("plain") ? "-" : statistics(contexts.get(variant)));
                }
            }
            double plain = median(rates.getOrDefault("plain", rates.get(VARIANTS.get(0))));
            System.out.println("variant\tmedian req/s\tratio to plain\tper-round ratios");
            for (String variant : VARIANTS) {
                List<String> perRound = new ArrayList<>();
                for (int i = 0; i < rounds; i++) {
                    perRound.add(String.format("%.3f", rates.get(variant).get(i) / rates.getOrDefault("plain", rates.get(VARIANTS.get(0))).get(i)));
                }
                System.out.printf("%s\t%.0f\t%.3f\t%s%n", variant, median(rates.get(variant)),
                        median(rates.get(variant)) / plain, perRound);
            }
            System.out.println("load after: " + loadAverage());
            tomcat.stop();
            tomcat.destroy();
        }
    }

    /** used_cpu_sys + used_cpu_user of redis-server (INFO cpu), in seconds. */
    private static double redisCpuSeconds(StandaloneRedis redis) {
        try (redis.clients.jedis.Jedis jedis = redis.node().client()) {
            String info = jedis.info("cpu");
            return Double.parseDouble(find(info, "used_cpu_sys:([0-9.]+)"))
                    + Double.parseDouble(find(info, "used_cpu_user:([0-9.]+)"));
        }
    }

    private static String url(int port, String variant) {
        return "http://127.0.0.1:" + port + "/" + variant + "/static/shop.css";
    }

    private static String statistics(Context context) {
        var statistics = RedisCache.of(context.getServletContext()).statistics();
        return "hits=" + statistics.getHits() + " localHits=" + statistics.getLocalHits() + " misses="
                + statistics.getMisses();
    }

    private static String wrk(String url, int threads, int connections, int seconds) throws IOException,
            InterruptedException {
        Process process = new ProcessBuilder("wrk", "-t" + threads, "-c" + connections, "-d" + seconds + "s",
                "--latency", url).redirectErrorStream(true).start();
        StringBuilder out = new StringBuilder();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = reader.readLine()) != null; ) {
                out.append(line).append('\n');
            }
        }
        if (process.waitFor() != 0 || out.indexOf("Non-2xx") >= 0 || out.indexOf("Socket errors") >= 0) {
            throw new IllegalStateException("wrk failed or saw errors:\n" + out);
        }
        return out.toString();
    }

    private static String find(String text, String regex) {
        Matcher matcher = Pattern.compile(regex).matcher(text);
        if (!matcher.find()) {
            throw new IllegalStateException("no " + regex + " in:\n" + text);
        }
        return matcher.group(1);
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

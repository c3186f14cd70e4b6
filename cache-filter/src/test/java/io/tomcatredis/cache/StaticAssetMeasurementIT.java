package io.tomcatredis.cache;

import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.servlets.DefaultServlet;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A measurement, not a functional test (issue 14): the sample shop's style sheet as a cache hit
 * from Redis vs the same file from Tomcat's DefaultServlet on a Tomcat without the filter, medians
 * of 300 interleaved requests after 100 of warm-up. Runs only with {@code -Dmeasure=true}; the
 * ratio goes to benchmarks/RESULTS.md.
 */
@EnabledIfSystemProperty(named = "measure", matches = "true")
class StaticAssetMeasurementIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    @Test
    void cachedAssetHitVsDefaultServlet() throws Exception {
        Map<String, String> params = Map.of("redisUri", REDIS.get().uri(), "include", "/static/* 86400",
                "allowedHosts", "127.0.0.1");
        Tomcat plain = new Tomcat();
        Path base = Files.createTempDirectory("plain-");
        plain.setBaseDir(base.toString());
        Connector connector = new Connector();
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        plain.setConnector(connector);
        Files.createDirectories(base.resolve("docs"));
        Context context = plain.addContext("/shop", base.resolve("docs").toString());
        CacheSemanticsIT.withStaticFiles(context);
        plain.start();
        String plainUrl = "http://127.0.0.1:" + connector.getLocalPort() + "/shop/static/shop.css";
        try (CacheNode cached = CacheNode.start("asset", params, CacheSemanticsIT::withStaticFiles)) {
            String cachedUrl = cached.url("/static/shop.css");
            List<Long> hits = new ArrayList<>();
            List<Long> files = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                long hit = micros(() -> Http.get(cachedUrl));
                long file = micros(() -> Http.get(plainUrl));
                if (i >= 100) {
                    hits.add(hit);
                    files.add(file);
                }
            }
            long hit = median(hits);
            long file = median(files);
            System.out.printf("shop.css (%d bytes), median of 300: cache hit %d us, DefaultServlet without the filter"
                    + " %d us; DefaultServlet/hit %.2f%n", CacheSemanticsIT.CSS.length, hit, file, (double) file / hit);
        } finally {
            plain.stop();
            plain.destroy();
        }
    }

    private static long micros(Runnable request) {
        long start = System.nanoTime();
        request.run();
        return (System.nanoTime() - start) / 1000;
    }

    private static long median(List<Long> values) {
        long[] sorted = values.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}

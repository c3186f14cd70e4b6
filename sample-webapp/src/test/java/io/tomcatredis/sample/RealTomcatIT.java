package io.tomcatredis.sample;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.ProjectConf;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import redis.clients.jedis.Jedis;

/**
 * The drop-in JAR in the lib/ of the real Tomcat distributions (11, 10.1 and, with the javax JAR
 * and WAR, 9.0 from Maven Central),
 * two instances on one Redis, configured with the files of conf/, serving the sample shop and
 * Tomcat's own examples webapp. Redis runs conf/redis-session.conf with the users of
 * conf/users.acl (the session manager as tomcat-session, the cache filter as tomcat-cache), whose
 * credentials reach Tomcat as the README says: in catalina.properties.
 */
class RealTomcatIT {

    private static final String PASSWORD = "real-tomcat-secret";
    private static final String CACHE_PASSWORD = "cache-secret";

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone(RedisOptions.DEFAULTS
            .withShippedConf(ProjectConf.aclFileWithPasswords(Map.of("tomcat-session", PASSWORD, "tomcat-cache",
                    CACHE_PASSWORD)), "admin", "harness-admin-secret"));

    @Test
    void tomcat11SharesSessionsBetweenTwoInstancesAndAcrossARestart() throws Exception {
        exercise(System.getProperty("tomcat11.dist.version"), true);
    }

    @Test
    void tomcat10SharesSessionsBetweenTwoInstancesAndAcrossARestart() throws Exception {
        exercise(System.getProperty("tomcat10.dist.version"), false);
    }

    /**
     * Issue 17: Tomcat 9.0 (javax) with the other drop-in JAR and the shop transformed to javax,
     * the same exercise; one pair of instances, no browser.
     */
    @Test
    void tomcat9SharesSessionsBetweenTwoInstancesAndAcrossARestart() throws Exception {
        Path shopJavaxWar = Path.of(System.getProperty("shopJavaxWar"));
        try (java.util.jar.JarFile war = new java.util.jar.JarFile(shopJavaxWar.toFile())) {
            for (java.util.jar.JarEntry entry : war.stream().filter(e -> !e.getName().startsWith("META-INF/maven/")).toList()) {
                assertThat(new String(war.getInputStream(entry).readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1))
                        .as(entry.getName() + " of the javax shop").doesNotContain("jakarta");
            }
            assertThat(new String(war.getInputStream(war.getEntry("WEB-INF/web.xml")).readAllBytes(),
                    java.nio.charset.StandardCharsets.UTF_8)).contains("version=\"4.0\"", "xmlns.jcp.org/xml/ns/javaee");
        }
        exercise(System.getProperty("tomcat9.dist.version"), false, "tomcat-redis-tomcat9.jar", shopJavaxWar);
    }

    private void exercise(String version, boolean withBrowser) throws Exception {
        exercise(version, withBrowser, "tomcat-redis.jar", Path.of(System.getProperty("shopWar")));
    }

    private void exercise(String version, boolean withBrowser, String dropInJar, Path shopWar) throws Exception {
        REDIS.get().flushAll();
        Path home = TomcatInstance.home(version, dropInJar);
        String redisUri = "redis://tomcat-session:" + PASSWORD + "@" + REDIS.get().node().host() + ":"
                + REDIS.get().node().port();
        String cacheRedisUri = "redis://tomcat-cache:" + CACHE_PASSWORD + "@" + REDIS.get().node().host() + ":"
                + REDIS.get().node().port();
        try (TomcatInstance one = TomcatInstance.create(home, "node1", redisUri, cacheRedisUri, shopWar);
             TomcatInstance two = TomcatInstance.create(home, "node2", redisUri, cacheRedisUri, shopWar)) {
            // One scraped node is enough (and costs one agent start): Tomcat 11's.
            String metrics = withBrowser ? one.exportMetrics(Path.of(System.getProperty("itDownloads"),
                    "jmx_prometheus_javaagent.jar"), ProjectConf.file("jmx-exporter.yml")) : null;
            one.start();
            two.start();
            String before = metrics == null ? null : scrape(metrics);

            staticAssetsOfTheShopAreHitsOnBothNodes(one, two);

            Browserless visitor = new Browserless();
            assertThat(visitor.post(one.url("/shop/login"), Map.of("name", "Grace Hopper", "email", "grace@example.com",
                    "phone", "555")).substring(0, 3)).isEqualTo("302");
            assertThat(visitor.get(one.url("/shop/account"))).startsWith("200");
            if (metrics != null) {
                String after = scrape(metrics);
                // What an operator's Prometheus gets, kept for reading: target/metrics/node1.txt
                Files.createDirectories(Path.of("target", "metrics"));
                Files.writeString(Path.of("target", "metrics", "node1.txt"), after);
                metricsAreScrapedThroughThePrometheusAgentAndMove(before, after);
            }
            String account = visitor.get(two.url("/shop/account"));
            assertThat(account).startsWith("200").contains("Grace Hopper").contains(">node2</strong>");
            visitor.post(two.url("/shop/cart"), Map.of("id", "p-2"));
            visitor.post(one.url("/shop/cart"), Map.of("id", "p-3"));

            one.restart();

            String afterRestart = visitor.get(one.url("/shop/account"));
            assertThat(afterRestart).contains("Grace Hopper").contains("Pour-over kettle").contains("Hand grinder");
            String inspector = visitor.get(two.url("/shop/inspector"));
            assertThat(inspector).contains("attr:profile.name").contains("meta:lastAccessedTime")
                    .contains(":data:recommendations");

            managerWebappListsShowsAndInvalidatesFromRedis(two, visitor, one);
            signOutOnAllDevicesEndsTheSessionsOfTheVisitorOnBothNodes(one, two);

            Browserless examples = new Browserless();
            examples.get(one.url("/examples/servlets/servlet/SessionExample?dataname=color&datavalue=blue"));
            assertThat(examples.get(two.url("/examples/servlets/servlet/SessionExample"))).contains("color = blue");
            // default compressionThreshold (512 bytes): the shaded LZ4 writes on one node, reads on the other
            String big = "z".repeat(700);
            examples.get(one.url("/examples/servlets/servlet/SessionExample?dataname=big&datavalue=" + big));
            assertThat(examples.get(two.url("/examples/servlets/servlet/SessionExample"))).contains("big = " + big);
            try (Jedis admin = REDIS.get().node().client()) {
                byte[] stored = admin.keys("*examples*").stream().filter(k -> k.endsWith("}"))
                        .map(k -> admin.hget(k.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                                "attr:big".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                        .filter(java.util.Objects::nonNull).findFirst().orElseThrow();
                assertThat(stored[0]).as("stored LZ4-compressed (0xC4)").isEqualTo((byte) 0xC4);
                assertThat(stored.length).isLessThan(100);
            }

            assertThat(one.log("catalina")).contains("are stored in redis://").doesNotContain("SLF4J");
            assertThat(one.log("catalina") + two.log("catalina")).doesNotContain("SEVERE");

            if (withBrowser) {
                clickThroughInChromium(one, two);
            }
            try (Jedis admin = REDIS.get().node().client()) {
                assertThat(admin.aclLog()).as("commands refused to the tomcat-session and tomcat-cache users").isEmpty();
            }
        }
    }

    /** GET of the agent's /metrics in the Prometheus text format. */
    private static String scrape(String url) throws Exception {
        java.net.http.HttpResponse<String> response = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("GET " + url).isEqualTo(200);
        return response.body();
    }

    /**
     * Issue 16: conf/jmx-exporter.yml in the real Prometheus JMX exporter agent (from Maven
     * Central) on node 1 of the real distribution. Between the two scrapes node 1 served the shop's
     * assets (a miss, hits), a sign-in (a session created and saved) and the account page (a load):
     * every family is there with its type, and the counters that traffic drives moved.
     */
    private static void metricsAreScrapedThroughThePrometheusAgentAndMove(String before, String after) {
        String shop = "context=\"/shop\"";
        for (String[] family : new String[][] {
                {"tomcat_redis_session_loads_total", "counter"},
                {"tomcat_redis_session_saves_total", "counter"},
                {"tomcat_redis_session_round_trips_total", "counter"},
                {"tomcat_redis_session_errors_total", "counter"},
                {"tomcat_redis_session_unavailable_responses_total", "counter"},
                {"tomcat_redis_session_attributes_skipped_total", "counter"},
                {"tomcat_redis_session_expiry_claims_total", "counter"},
                {"tomcat_redis_session_sessions_in_redis", "gauge"},
                {"tomcat_redis_session_sessions_in_use_on_node", "gauge"},
                {"tomcat_redis_session_pool_active_connections", "gauge"},
                {"tomcat_redis_session_load_seconds_buckets_total", "counter"},
                {"tomcat_redis_session_load_seconds_sum_total", "counter"},
                {"tomcat_redis_session_load_seconds_count_total", "counter"},
                {"tomcat_redis_session_session_bytes_buckets_total", "counter"},
                {"tomcat_redis_session_attribute_bytes_buckets_total", "counter"},
                {"tomcat_redis_cache_requests_total", "counter"},
                {"tomcat_redis_cache_bypasses_total", "counter"},
                {"tomcat_redis_cache_evictions_total", "counter"},
                {"tomcat_redis_cache_stores_total", "counter"},
                {"tomcat_redis_cache_circuit_open", "gauge"},
                {"tomcat_redis_cache_bytes_in_redis", "gauge"},
                {"tomcat_redis_cache_lock_wait_seconds_buckets_total", "counter"}}) {
            assertThat(after).as(family[0]).contains("# TYPE " + family[0] + " " + family[1] + "\n");
        }
        assertThat(after).contains("tomcat_redis_session_load_seconds_buckets_total{context=\"/shop\",host=\"localhost\","
                + "le=\"+Inf\"}");
        for (String series : new String[] {
                "tomcat_redis_session_loads_total{" + shop,
                "tomcat_redis_session_saves_total{" + shop,
                "tomcat_redis_session_round_trips_total{" + shop + ",host=\"localhost\",operation=\"save\"}",
                "tomcat_redis_session_load_seconds_count_total{" + shop,
                "tomcat_redis_session_load_seconds_buckets_total{" + shop + ",host=\"localhost\",le=\"+Inf\"}",
                "tomcat_redis_cache_requests_total{" + shop + ",filter=\"page-cache\",outcome=\"hit\"}",
                "tomcat_redis_cache_requests_total{" + shop + ",filter=\"page-cache\",outcome=\"miss\"}",
                "tomcat_redis_cache_stores_total{" + shop}) {
            assertThat(value(after, series)).as(series + " moved between the scrapes").isGreaterThan(value(before, series));
        }
    }

    /** The value of the one sample whose line starts with {@code series}; 0 when the scrape has none. */
    private static double value(String scrape, String series) {
        java.util.List<String> lines = scrape.lines().filter(line -> line.startsWith(series)).toList();
        assertThat(lines.size()).as("samples of " + series).isLessThanOrEqualTo(1);
        return lines.isEmpty() ? 0 : Double.parseDouble(lines.get(0).substring(lines.get(0).lastIndexOf(' ') + 1));
    }

    /**
     * The shop's style sheet and script, served by the distribution's DefaultServlet under the
     * include rule {@code /static/*}: stored on the first request, hits on both nodes after it,
     * also for a browser revalidating its copy (issue 14).
     */
    private static void staticAssetsOfTheShopAreHitsOnBothNodes(TomcatInstance one, TomcatInstance two)
            throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        for (String asset : new String[] {"/shop/static/shop.css", "/shop/static/shop.js"}) {
            java.net.http.HttpResponse<String> first = http.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(one.url(asset))).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(first.statusCode()).as(asset).isEqualTo(200);
            for (TomcatInstance node : new TomcatInstance[] {two, one}) {
                java.net.http.HttpResponse<String> again = http.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(node.url(asset))).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(again.headers().firstValue("X-Cache")).as(asset).hasValue("HIT");
                assertThat(again.body()).as(asset).isEqualTo(first.body());
                assertThat(again.headers().firstValue("ETag")).as(asset).isEqualTo(first.headers().firstValue("ETag"));
            }
            String etag = first.headers().firstValue("ETag").orElseThrow();
            java.net.http.HttpResponse<String> revalidated = http.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(two.url(asset))).header("If-None-Match", etag).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(revalidated.statusCode()).as(asset).isEqualTo(304);
        }
    }

    /**
     * Tomcat's Manager webapp, Sessions page of /shop on node 2: lists the visitor's session (from
     * Redis), shows its attributes, and invalidates it for every node.
     */
    private static void managerWebappListsShowsAndInvalidatesFromRedis(TomcatInstance node, Browserless visitor,
            TomcatInstance other) {
        String auth = "Basic " + java.util.Base64.getEncoder().encodeToString("admin:admin-pass".getBytes());
        Browserless admin = new Browserless();
        String home = admin.get(node.url("/manager/html"), "Authorization", auth);
        String nonce = nonce(home);
        String id = visitor.session().replaceAll("\\..*", "");
        String list = admin.get(node.url("/manager/html/sessions?path=/shop&org.apache.catalina.filters.CSRF_NONCE="
                + nonce), "Authorization", auth);
        assertThat(list).contains(id);
        String detail = admin.get(node.url("/manager/html/sessions?path=/shop&action=sessionDetail&sessionId="
                + visitor.session() + "&org.apache.catalina.filters.CSRF_NONCE=" + nonce(list)), "Authorization", auth);
        assertThat(detail).contains("profile.name").contains("Grace Hopper");
        admin.post(node.url("/manager/html/sessions?org.apache.catalina.filters.CSRF_NONCE=" + nonce(detail)),
                Map.of("path", "/shop", "action", "invalidateSessions", "sessionIds", visitor.session()),
                "Authorization", auth);
        assertThat(visitor.get(other.url("/shop/account"))).startsWith("302");
    }

    /**
     * Issue 16: the visitor signed in on a phone (node 1) and a laptop (node 2) presses "Sign out on
     * all devices" on the phone; neither is signed in afterwards on either node, another visitor is.
     */
    private static void signOutOnAllDevicesEndsTheSessionsOfTheVisitorOnBothNodes(TomcatInstance one,
            TomcatInstance two) {
        Browserless phone = new Browserless();
        Browserless laptop = new Browserless();
        Browserless other = new Browserless();
        Map<String, String> ada = Map.of("name", "Ada Lovelace", "email", "ada@example.com", "phone", "1");
        phone.post(one.url("/shop/login"), ada);
        laptop.post(two.url("/shop/login"), ada);
        other.post(two.url("/shop/login"), Map.of("name", "Alan Turing", "email", "", "phone", ""));
        assertThat(phone.get(two.url("/shop/account"))).startsWith("200").contains("Signed in on 2 device(s)")
                .contains("Sign out on all devices");

        assertThat(phone.post(one.url("/shop/logout-everywhere"), Map.of())).startsWith("302");

        for (TomcatInstance node : List.of(one, two)) {
            assertThat(phone.get(node.url("/shop/account"))).startsWith("302");
            assertThat(laptop.get(node.url("/shop/account"))).startsWith("302");
            assertThat(other.get(node.url("/shop/account"))).startsWith("200").contains("Alan Turing");
        }
    }

    private static String nonce(String html) {
        java.util.regex.Matcher matcher = java.util.regex.Pattern.compile("CSRF_NONCE=([A-Za-z0-9_-]+)").matcher(html);
        assertThat(matcher.find()).as("a CSRF nonce in the Manager page").isTrue();
        return matcher.group(1);
    }

    /** Headless Chromium signs in on node 1, continues on node 2, and leaves a screenshot. */
    private static void clickThroughInChromium(TomcatInstance one, TomcatInstance two) throws Exception {
        Path chromium = Path.of("/usr/bin/chromium");
        Path driverBinary = Path.of("/usr/bin/chromedriver");
        assertThat(Files.isExecutable(chromium) && Files.isExecutable(driverBinary))
                .as("the browser test needs Debian's chromium and chromium-driver: apt-get install -y chromium"
                        + " chromium-driver (.ci/run installs them)").isTrue();
        ChromeOptions options = new ChromeOptions().setBinary(chromium.toFile()).addArguments("--headless=new",
                "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1200,900");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(driverBinary.toFile())
                .usingAnyFreePort().build();
        WebDriver browser = new ChromeDriver(service, options);
        try {
            browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
            browser.get(one.url("/shop/login"));
            browser.findElement(By.name("name")).clear();
            browser.findElement(By.name("name")).sendKeys("Katherine Johnson");
            browser.findElement(By.cssSelector("form.card button")).click();
            new org.openqa.selenium.support.ui.WebDriverWait(browser, Duration.ofSeconds(10)).until(
                    d -> !d.findElements(By.id("profile-name")).isEmpty());
            assertThat(browser.findElement(By.id("profile-name")).getText()).isEqualTo("Katherine Johnson");
            assertThat(browser.findElement(By.id("node")).getText()).isEqualTo("node1");

            browser.get(two.url("/shop/catalog/p-3"));
            new org.openqa.selenium.support.ui.WebDriverWait(browser, Duration.ofSeconds(10)).until(
                    d -> d.findElement(By.id("node")).getText().equals("node2"));
            // Cookies are per host, not per port: the same session reaches node 2.
            browser.findElement(By.cssSelector("form[action$='/cart'] button")).click();
            new org.openqa.selenium.support.ui.WebDriverWait(browser, Duration.ofSeconds(10)).until(
                    d -> !d.findElements(By.id("cart")).isEmpty());
            assertThat(browser.findElement(By.id("profile-name")).getText()).isEqualTo("Katherine Johnson");
            assertThat(browser.findElement(By.id("cart")).getText()).contains("Hand grinder");
            browser.get(one.url("/shop/catalog"));
            new org.openqa.selenium.support.ui.WebDriverWait(browser, Duration.ofSeconds(10)).until(
                    d -> d.findElement(By.id("node")).getText().equals("node1"));
            browser.get(two.url("/shop/catalog"));
            new org.openqa.selenium.support.ui.WebDriverWait(browser, Duration.ofSeconds(10)).until(
                    d -> d.findElement(By.id("node")).getText().equals("node2"));
            assertThat(browser.findElement(By.id("node")).getText()).isEqualTo("node2");

            browser.get(two.url("/shop/inspector"));
            Path screenshot = Path.of("target", "screenshots", "inspector-node2.png");
            Files.createDirectories(screenshot.getParent());
            Files.write(screenshot, ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
            assertThat(browser.findElement(By.id("session-key")).getText()).startsWith("tomcat-session:localhost/shop:{");
        } finally {
            browser.quit();
        }
    }
}

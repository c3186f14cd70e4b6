package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.connection.AclCheck;
import io.tomcatredis.connection.RedisClientHolder;
import io.tomcatredis.connection.RedisConnectionSettings;
import io.tomcatredis.connection.RedisConnector;
import io.tomcatredis.testsupport.ProjectConf;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.io.StringReader;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.management.ObjectName;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;
import redis.clients.jedis.Jedis;

/**
 * conf/cache-filter-web.xml as it stands (its ${...} values from system properties), on a Redis
 * running conf/redis-session.conf with the cache filter's user of conf/users.acl
 * ({@code tomcat-cache}): no command refused (ACL LOG). A user that lacks a permission the filter
 * needs is reported at startup (SEVERE, exact message) and every request passes uncached.
 */
class ShippedFilterConfigIT {

    private static final String PASSWORD = "shipped-filter-secret";

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone(RedisOptions.DEFAULTS
            .withShippedConf(ProjectConf.aclFileWithPasswords(Map.of("tomcat-cache", PASSWORD)), "admin",
                    "harness-admin-secret"));

    private static String uri(String user) {
        return "redis://" + user + ":" + PASSWORD + "@" + REDIS.get().node().host() + ":" + REDIS.get().node().port();
    }

    @Test
    void shippedFilterFragmentCachesPages() throws Exception {
        String fragment = Files.readString(ProjectConf.file("cache-filter-web.xml"));
        Document xml = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new InputSource(new StringReader("<web-app>" + fragment + "</web-app>")));
        Map<String, String> params = new HashMap<>();
        NodeList initParams = xml.getElementsByTagName("init-param");
        for (int i = 0; i < initParams.getLength(); i++) {
            Element param = (Element) initParams.item(i);
            params.put(param.getElementsByTagName("param-name").item(0).getTextContent().trim(),
                    param.getElementsByTagName("param-value").item(0).getTextContent().trim());
        }
        assertThat(xml.getElementsByTagName("filter-class").item(0).getTextContent())
                .isEqualTo(RedisCacheFilter.class.getName());

        System.setProperty("tomcatredis.cacheRedisUri", uri("tomcat-cache"));
        System.setProperty("tomcatredis.allowedHosts", "127.0.0.1");
        try (CacheNode node = CacheNode.start("shipped", params, CacheSemanticsIT::withStaticFiles)) {
            assertThat(Http.get(node.url("/catalog/page?id=s")).cache()).isEqualTo("MISS");
            assertThat(Http.get(node.url("/catalog/page?id=s")).cache()).isEqualTo("HIT");
            // Static files of the container's DefaultServlet, and the usual asset folders of a webapp.
            assertThat(Http.get(node.url("/static/shop.css")).cache()).isEqualTo("MISS");
            assertThat(Http.get(node.url("/static/shop.css")).cache()).isEqualTo("HIT");
            for (String asset : new String[] {"/assets/app.js", "/css/site.css", "/js/app.js", "/images/logo.svg",
                    "/img/x.png", "/fonts/a.woff2", "/webjars/lib.js"}) {
                Http.get(node.url(asset));
                assertThat(Http.get(node.url(asset)).cache()).as(asset).isEqualTo("HIT");
            }
            // Everything the filter's scripts do: conditional answers, evictions, marks, the memory budget.
            assertThat(Http.get(node.url("/static/shop.css"), "Range", "bytes=0-3").status()).isEqualTo(206);
            assertThat(Http.send("POST", node.url("/catalog/page?id=s")).status()).isEqualTo(200);
            node.cache().evictTag("catalog");
            assertThat(Http.get(node.url("/catalog/private")).cache()).isEqualTo("MISS");
            assertThat(Http.get(node.url("/catalog/private")).cache()).isEqualTo("MISS");
            try (Jedis admin = REDIS.get().node().client()) {
                assertThat(admin.aclLog()).as("commands refused to the tomcat-cache user").isEmpty();
            }
        } finally {
            System.clearProperty("tomcatredis.cacheRedisUri");
            System.clearProperty("tomcatredis.allowedHosts");
        }
    }

    /** The startup check's probes are what conf/users.acl grants, local tier included, and Redis can judge each. */
    @Test
    void cacheUserHasEveryPermissionTheStartupCheckAsksFor() {
        RedisConnectionSettings settings = RedisConnectionSettings.parse(Map.of(RedisConnectionSettings.REDIS_URI,
                uri("tomcat-cache"))::get);
        try (RedisClientHolder client = RedisConnector.connect(settings, "test")) {
            AclCheck.Result result = CacheAcl.check("test", "tomcat-cache", "tomcat-cache:/shop:",
                    new CacheKeys("tomcat-cache:/shop:"), true).run(client);
            assertThat(result.checked()).isTrue();
            assertThat(result.errors()).as("probes Redis could not judge").isEmpty();
            assertThat(result.denied()).isEmpty();
            assertThat(result.refusal()).isNull();
        }
    }

    /**
     * Issue 18: a cache user narrower than conf/users.acl (no HSET, no key pattern, no EVALSHA):
     * SEVERE at startup naming the user, what it lacks and conf/users.acl; every request then
     * passes uncached (the site stays up), counted as redis-permission.
     */
    @Test
    void userLackingAPermissionIsReportedAndEveryRequestPassesUncached() throws Exception {
        try (Jedis admin = REDIS.get().node().client()) {
            narrowed(admin, "cache-no-hset", "+hset", "+get");
            narrowed(admin, "cache-no-keys", "~tomcat-cache:*", "~other:*");
            narrowed(admin, "cache-no-evalsha", "+evalsha", "+get");
            admin.aclLogReset();
        }
        String end = ". Every request passes through uncached until the webapp is reloaded with a user that has them"
                + " (JMX: BypassesByReason redis-permission, metric redis_permission_denied)";
        assertThat(severe("cache-no-hset")).isEqualTo("RedisCacheFilter page-cache of /shop: the Redis user"
                + " \"cache-no-hset\" is denied commands it needs under keyPrefix \"tomcat-cache:/shop:\": HSET "
                + new CacheKeys("tomcat-cache:/shop:").entry("acl-check") + " f v; allow them in that user's ACL rule"
                + " (see conf/users.acl)" + end);
        assertThat(severe("cache-no-keys")).startsWith("RedisCacheFilter page-cache of /shop: the Redis user"
                + " \"cache-no-keys\" may not run the permission check").contains(": NOPERM").endsWith(end);
        assertThat(severe("cache-no-evalsha")).startsWith("RedisCacheFilter page-cache of /shop: the Redis user"
                + " \"cache-no-evalsha\" may not run the permission check").contains("evalsha").endsWith(end);
    }

    /** {@code user} with the shipped rules of tomcat-cache, {@code replaced} changed to {@code by}. */
    private static void narrowed(Jedis admin, String user, String replaced, String by) {
        List<String> rules = new ArrayList<>(ProjectConf.aclRules("tomcat-cache", replaced, by));
        rules.add(">" + PASSWORD);
        admin.aclSetUser(user, rules.toArray(String[]::new));
    }

    /** Starts the filter as {@code user}, checks that pages pass uncached, returns the SEVERE it logged. */
    private static String severe(String user) throws Exception {
        SevereLog severe = new SevereLog();
        try (CacheNode node = CacheNode.start("narrow-" + user, Map.of("redisUri", uri(user), "include",
                "/catalog/* 60", "allowedHosts", "127.0.0.1"))) {
            for (int i = 0; i < 2; i++) {
                Http.Reply reply = Http.get(node.url("/catalog/page?id=narrow"));
                assertThat(reply.status()).isEqualTo(200);
                assertThat(reply.cache()).isNotEqualTo("HIT");
            }
            assertThat(node.cache().statistics().getBypassesByReason()).contains("redis-permission=2");
            assertThat(ManagementFactory.getPlatformMBeanServer().getAttribute(new ObjectName(
                    "io.tomcatredis:type=CacheMetrics,context=/shop,filter=page-cache"), "redis_permission_denied"))
                    .isEqualTo(1L);
            assertThat(node.cache().statistics().getStores()).isZero();
        } finally {
            severe.close();
        }
        try (Jedis admin = REDIS.get().node().client()) {
            assertThat(admin.aclLog()).as("nothing sent that Redis refused, once the check found the user lacking")
                    .allSatisfy(entry -> assertThat(entry.getUsername()).isEqualTo(user));
            admin.aclLogReset();
        }
        assertThat(severe.messages()).hasSize(1);
        return severe.messages().get(0);
    }
}

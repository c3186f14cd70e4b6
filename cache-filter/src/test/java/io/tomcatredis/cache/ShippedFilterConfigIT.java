package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.ProjectConf;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.io.StringReader;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;
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
 * running conf/redis-session.conf with the Tomcat user it documents: no command refused (ACL LOG).
 */
class ShippedFilterConfigIT {

    private static final String PASSWORD = "shipped-filter-secret";

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone(RedisOptions.DEFAULTS
            .withInclude(ProjectConf.file("redis-session.conf")).withAdminUser("admin", "harness-admin-secret")
            .withConfig(ProjectConf.documentedAclUser("tomcat", PASSWORD)));

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

        System.setProperty("tomcatredis.redisUri", "redis://tomcat:" + PASSWORD + "@" + REDIS.get().node().host()
                + ":" + REDIS.get().node().port());
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
                assertThat(admin.aclLog()).as("commands refused to the documented Tomcat user").isEmpty();
            }
        } finally {
            System.clearProperty("tomcatredis.redisUri");
            System.clearProperty("tomcatredis.allowedHosts");
        }
    }
}

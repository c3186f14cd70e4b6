package io.tomcatredis.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import javax.servlet.http.HttpSession;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;

/**
 * Attack on issue 17's Tomcat 9 JAR with the Tomcat 9.0 classes of its test class path (embedded,
 * javax servlets): Servlet 4.0's deprecated HttpSession methods on our session, and the Servlet 4.0
 * request and response methods that reveal or encode a session id, or set a status with a reason
 * phrase, behind RedisCacheFilter: none may put a session id or an error into a stored page.
 */
class Tomcat9EmbeddedAttackIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private static Tomcat tomcat;
    private static int port;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void startTomcat9() throws LifecycleException, IOException {
        Path base = Files.createTempDirectory("tomcat9-attack");
        tomcat = new Tomcat();
        tomcat.setBaseDir(base.toString());
        tomcat.setPort(0);
        tomcat.getConnector();
        Context context = tomcat.addContext("/app", Files.createDirectories(base.resolve("app")).toString());
        io.tomcatredis.session.RedisSessionManager manager = new io.tomcatredis.session.RedisSessionManager();
        manager.setRedisUri(REDIS.get().uri());
        context.setManager(manager);

        FilterDef filter = new FilterDef();
        filter.setFilterName("page-cache");
        filter.setFilterClass("io.tomcatredis.cache.RedisCacheFilter");
        filter.addInitParameter("redisUri", REDIS.get().uri());
        filter.addInitParameter("include", "/* 60");
        filter.addInitParameter("allowedHosts", "localhost, 127.0.0.1");
        context.addFilterDef(filter);
        FilterMap map = new FilterMap();
        map.setFilterName("page-cache");
        map.addURLPattern("/*");
        context.addFilterMap(map);

        servlet(context, "/legacy", new HttpServlet() {
            @Override
            @SuppressWarnings("deprecation")
            protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
                HttpSession session = request.getSession();
                if (request.getParameter("v") != null) {
                    session.putValue("a", request.getParameter("v"));
                }
                if (request.getParameter("rm") != null) {
                    session.removeValue("a");
                }
                response.getWriter().print("a=" + session.getValue("a") + " names=" + Arrays.toString(session.getValueNames())
                        + " context=" + (session.getSessionContext() != null));
            }
        });
        servlet(context, "/encode", new HttpServlet() {
            @Override
            @SuppressWarnings("deprecation")
            protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
                response.getWriter().print("u=" + response.encodeUrl("/app/x") + " r=" + response.encodeRedirectUrl("/app/y"));
            }
        });
        servlet(context, "/from-url", new HttpServlet() {
            @Override
            @SuppressWarnings("deprecation")
            protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
                response.getWriter().print("fromUrl=" + request.isRequestedSessionIdFromUrl());
            }
        });
        servlet(context, "/status", new HttpServlet() {
            @Override
            @SuppressWarnings("deprecation")
            protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
                response.setStatus(Integer.parseInt(request.getParameter("s")), "Custom");
                response.getWriter().print("status " + request.getParameter("s"));
            }
        });
        tomcat.start();
        port = tomcat.getConnector().getLocalPort();
    }

    @AfterAll
    static void stopTomcat9() throws LifecycleException {
        if (tomcat != null) {
            tomcat.stop();
            tomcat.destroy();
        }
    }

    private static void servlet(Context context, String path, HttpServlet servlet) {
        String name = path.substring(1);
        Tomcat.addServlet(context, name, servlet);
        context.addServletMappingDecoded(path, name);
    }

    /** Servlet 4.0's putValue/getValue/removeValue/getValueNames/getSessionContext on our session, kept in Redis. */
    @Test
    void deprecatedHttpSessionMethodsWorkOnOurSessionAndReachRedis() throws Exception {
        HttpResponse<String> created = get("/legacy?v=blue", null);
        assertThat(created.body()).isEqualTo("a=blue names=[a] context=true");
        String id = sessionId(created);
        String key = "tomcat-session:localhost/app:{" + id + "}";
        try (Jedis jedis = REDIS.get().node().client()) {
            assertThat(jedis.hexists(key, "attr:a")).as("putValue saved").isTrue();
            assertThat(get("/legacy", id).body()).isEqualTo("a=blue names=[a] context=true");
            assertThat(get("/legacy?rm=1", id).body()).isEqualTo("a=null names=[] context=true");
            assertThat(jedis.hexists(key, "attr:a")).as("removeValue saved").isFalse();
        }
    }

    /** A page encoding URLs for a URL-tracked session carries its id: it must not be stored and served to others. */
    @Test
    void aPageWithAnEncodedSessionIdIsNotStored() throws Exception {
        String id = sessionId(get("/legacy?v=1", null));
        HttpResponse<String> own = get("/encode;jsessionid=" + id, null);
        assertThat(own.body()).contains(";jsessionid=" + id);
        HttpResponse<String> other = get("/encode", null);
        assertThat(other.body()).as("another client").doesNotContain("jsessionid").isEqualTo("u=/app/x r=/app/y");
        assertThat(get("/encode", null).body()).doesNotContain("jsessionid");
    }

    /** isRequestedSessionIdFromUrl (Servlet 4.0 only): a page stored for anonymous clients is not served to a URL session's. */
    @Test
    void isRequestedSessionIdFromUrlIsAnIdentityRead() throws Exception {
        String id = sessionId(get("/legacy?v=2", null));
        assertThat(get("/from-url", null).body()).isEqualTo("fromUrl=false");
        assertThat(get("/from-url", null).body()).isEqualTo("fromUrl=false");
        assertThat(get("/from-url;jsessionid=" + id, null).body()).isEqualTo("fromUrl=true");
    }

    /** setStatus(int, String) (Servlet 4.0 only): the status counts as setStatus(int)'s does; a 503 is not stored. */
    @Test
    void setStatusWithAReasonPhraseKeepsErrorsOutOfTheCache() throws Exception {
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> response = get("/status?s=503", null);
            assertThat(response.statusCode()).isEqualTo(503);
            assertThat(response.headers().firstValue("X-Cache")).as("attempt " + i).hasValue("MISS");
        }
        assertThat(get("/status?s=200", null).headers().firstValue("X-Cache")).hasValue("MISS");
        assertThat(get("/status?s=200", null).headers().firstValue("X-Cache")).as("a 200 is stored").hasValue("HIT");
    }

    private HttpResponse<String> get(String path, String sessionId) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/app" + path));
        if (sessionId != null) {
            request.header("Cookie", "JSESSIONID=" + sessionId);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String sessionId(HttpResponse<?> response) {
        String cookie = response.headers().firstValue("Set-Cookie").orElseThrow();
        return cookie.substring("JSESSIONID=".length(), cookie.indexOf(';'));
    }
}

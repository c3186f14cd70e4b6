package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.fidelity.FidelityCorpus;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.catalina.Context;
import org.apache.catalina.filters.CsrfPreventionFilter;
import org.apache.catalina.session.StandardManager;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 12 on two nodes behind a non-sticky balancer: what Java serialization round-trips, the
 * session store round-trips. The corpus classes are compiled into the webapp's WEB-INF/classes,
 * so the session store resolves them through the webapp's class loader as in production.
 */
@Tag("tomcat")
class SerializationFidelityIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private static Path webappClasses;
    private static TomcatNode node1;
    private static TomcatNode node2;

    @BeforeAll
    static void start() throws IOException {
        webappClasses = Files.createTempDirectory("fidelity-webapp-classes-");
        FidelityCorpus.compileInto(webappClasses);
        node1 = TomcatNode.start("node1", m -> m.setRedisUri(REDIS.get().uri()), SerializationFidelityIT::deploy);
        node2 = TomcatNode.start("node2", m -> m.setRedisUri(REDIS.get().uri()), SerializationFidelityIT::deploy);
    }

    @AfterAll
    static void stop() {
        node1.close();
        node2.close();
    }

    /** WEB-INF/classes with the corpus, the fidelity servlet, and Tomcat's CSRF filter on /csrf/*. */
    static void deploy(Context context) {
        Path classes = Path.of(context.getDocBase()).resolve("WEB-INF/classes");
        try (Stream<Path> files = Files.walk(webappClasses)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Path target = classes.resolve(webappClasses.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(file, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Tomcat.addServlet(context, "fidelity", new FidelityServlet());
        context.addServletMappingDecoded("/fidelity/*", "fidelity");
        context.addServletMappingDecoded("/csrf/*", "fidelity");
        FilterDef csrf = new FilterDef();
        csrf.setFilterName("csrf");
        csrf.setFilterClass(CsrfPreventionFilter.class.getName());
        csrf.addInitParameter("entryPoints", "/csrf/entry");
        context.addFilterDef(csrf);
        FilterMap mapping = new FilterMap();
        mapping.setFilterName("csrf");
        mapping.addURLPatternDecoded("/csrf/*");
        context.addFilterMap(mapping);
    }

    private static String at(TomcatNode node, String path) {
        return node.url("").replace("/app/s/", "/app/" + path);
    }

    @Test
    void corpusWrittenOnOneNodeReadsOnTheOtherAsJavaSerializationWouldGiveIt() {
        HttpSessionClient browser = new HttpSessionClient();
        assertThat(browser.ok(at(node1, "fidelity/store"))).startsWith("stored ");
        String stored = browser.ok(at(node1, "fidelity/store")).substring("stored ".length());

        assertThat(browser.ok(at(node2, "fidelity/compare"))).isEqualTo("OK " + stored);
    }

    /** Issue 12, first failing input: the nonce cache came back evicting every nonce (403). */
    @Test
    void csrfNonceIssuedOnOneNodeIsAcceptedOnTheOther() {
        HttpSessionClient browser = new HttpSessionClient();
        String nonce = browser.ok(at(node1, "csrf/entry"));
        String first = nonce;
        for (int i = 0; i < 4; i++) {
            TomcatNode next = i % 2 == 0 ? node2 : node1;
            HttpSessionClient.Reply reply = browser.get(at(next, "csrf/form?" + FidelityServlet.NONCE + "=" + nonce));
            assertThat(reply.status()).as("request %d on %s with the nonce of the previous request", i, next.name())
                    .isEqualTo(200);
            nonce = reply.body();
        }
        assertThat(browser.get(at(node2, "csrf/form?" + FidelityServlet.NONCE + "=" + first)).status())
                .as("a nonce among the last five is still valid").isEqualTo(200);
        assertThat(browser.get(at(node1, "csrf/form?" + FidelityServlet.NONCE + "=forged")).status())
                .as("the filter is active").isEqualTo(403);
    }

    /** The same flow with Tomcat's StandardManager: the behaviour the two nodes must match. */
    @Test
    void csrfFlowPassesWithStandardManager() {
        try (TomcatNode standard = TomcatNode.startWith("standard", StandardManager::new,
                SerializationFidelityIT::deploy)) {
            HttpSessionClient browser = new HttpSessionClient();
            String nonce = browser.ok(at(standard, "csrf/entry"));
            HttpSessionClient.Reply reply = browser.get(at(standard, "csrf/form?" + FidelityServlet.NONCE + "=" + nonce));
            assertThat(reply.status()).isEqualTo(200);
        }
    }

    /** Issue 12, point 2: a concurrent modification while encoding is written again, not a 500. */
    @Test
    void listModifiedWhileItIsWrittenIsStoredAfterARetry() {
        HttpSessionClient browser = new HttpSessionClient();
        assertThat(browser.ok(at(node1, "fidelity/growing-store"))).isEqualTo("stored");

        assertThat(browser.ok(at(node2, "fidelity/growing-get"))).isEqualTo("[grower, last, added concurrently]");
    }

    /** Issue 12, second failing input: the encode failed, and the user lost the attribute. */
    @Test
    void attributeHoldingALazyCollectionSurvivesOnTheOtherNode() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(at(node1, "fidelity/lazy-store"));

        assertThat(browser.ok(at(node2, "fidelity/lazy-get"))).isEqualTo("ann with uninitialized Account.orders");
    }
}

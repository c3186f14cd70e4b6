package io.tomcatredis.session.fidelity;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.codec.AttributeCodec;
import io.tomcatredis.session.codec.ClassFilter;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The differential fidelity test at codec level: for every value of the corpus, the copy that the
 * Kryo codec gives back (written by one codec, read by another, as two nodes do) keeps the same
 * observable state as the copy that Java serialization gives back. The corpus classes live in
 * their own class loader, as in a webapp. {@code SerializationFidelityIT} runs the same corpus
 * through Redis and two Tomcat nodes.
 */
class SerializationFidelityTest {

    private static Path classes;
    private static URLClassLoader webapp;

    @BeforeAll
    static void compileCorpus() throws IOException {
        classes = Files.createTempDirectory("fidelity-classes-");
        FidelityCorpus.compileInto(classes);
        webapp = new URLClassLoader(new URL[] {classes.toUri().toURL()}, SerializationFidelityTest.class.getClassLoader());
    }

    @AfterAll
    static void close() throws IOException {
        webapp.close();
    }

    @Test
    void corpusIsOutsideTheTestClassPathAndLargeEnough() {
        assertThat(FidelityCorpus.values(webapp)).hasSizeGreaterThanOrEqualTo(40);
        assertThat(FidelityCorpus.values(webapp).get("record with nested list").getClass().getClassLoader())
                .isSameAs(webapp);
    }

    @TestFactory
    Stream<DynamicTest> everyCorpusValueKeepsWhatJavaSerializationKeeps() {
        AttributeCodec writer = AttributeCodec.create("kryo", webapp, ClassFilter.ALLOW_ALL);
        AttributeCodec reader = AttributeCodec.create("kryo", webapp, ClassFilter.ALLOW_ALL);
        Map<String, Object> corpus = FidelityCorpus.values(webapp);
        return corpus.keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            Object viaJava = FidelityCorpus.javaRoundTrip(FidelityCorpus.values(webapp).get(name), webapp);
            Object viaStore = reader.decode(writer.encode(FidelityCorpus.values(webapp).get(name)));
            assertSameObservableState(name, viaJava, viaStore);
        }));
    }

    @TestFactory
    Stream<DynamicTest> javaSerializerKeepsItToo() {
        AttributeCodec java = AttributeCodec.create("java", webapp, ClassFilter.ALLOW_ALL);
        return FidelityCorpus.values(webapp).keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            Object viaJava = FidelityCorpus.javaRoundTrip(FidelityCorpus.values(webapp).get(name), webapp);
            Object viaStore = java.decode(java.encode(FidelityCorpus.values(webapp).get(name)));
            assertSameObservableState(name, viaJava, viaStore);
        }));
    }

    /** First decisions for every class made by several threads at once, on one codec, as under load. */
    @Test
    void threadsSharingOneFreshCodecAgreeWithJavaSerialization() throws Exception {
        AttributeCodec shared = AttributeCodec.create("kryo", webapp, ClassFilter.ALLOW_ALL);
        AttributeCodec reader = AttributeCodec.create("kryo", webapp, ClassFilter.ALLOW_ALL);
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<List<String>>> results = new java.util.ArrayList<>();
            for (int t = 0; t < 4; t++) {
                results.add(threads.submit(() -> {
                    List<String> differences = new java.util.ArrayList<>();
                    for (Map.Entry<String, Object> entry : FidelityCorpus.values(webapp).entrySet()) {
                        Object viaStore = reader.decode(shared.encode(entry.getValue()));
                        Object viaJava = FidelityCorpus.javaRoundTrip(
                                FidelityCorpus.values(webapp).get(entry.getKey()), webapp);
                        ObservableState.differences(viaJava, viaStore)
                                .forEach(d -> differences.add(entry.getKey() + ": " + d));
                    }
                    return differences;
                }));
            }
            for (java.util.concurrent.Future<List<String>> result : results) {
                assertThat(result.get(2, java.util.concurrent.TimeUnit.MINUTES)).isEmpty();
            }
        } finally {
            threads.shutdownNow();
        }
    }

    private static void assertSameObservableState(String name, Object viaJava, Object viaStore) {
        List<String> differences = ObservableState.differences(viaJava, viaStore);
        assertThat(differences).as("%s: observable state after the session store vs after Java serialization",
                name).isEmpty();
        assertThat(FidelityCorpus.probe(webapp, name, viaStore)).as("%s: behaviour", name)
                .isEqualTo(FidelityCorpus.probe(webapp, name, viaJava));
    }
}

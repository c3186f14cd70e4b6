package io.tomcatredis.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/** The drop-in JAR: our classes, every dependency relocated, SLF4J bound to java.util.logging. */
class ShadedJarIT {

    private static final String JAR = System.getProperty("shadedJar");

    @Test
    void containsTheManagerTheFilterAndRelocatedDependenciesOnly() throws IOException {
        try (JarFile jar = new JarFile(JAR)) {
            List<String> names = jar.stream().map(JarEntry::getName).filter(n -> n.endsWith(".class")).toList();
            assertThat(names).contains("io/tomcatredis/session/RedisSessionManager.class",
                    "io/tomcatredis/session/RedisStore.class", "io/tomcatredis/cache/RedisCacheFilter.class",
                    "io/tomcatredis/connection/RedisConnector.class",
                    "io/tomcatredis/shaded/redis/clients/jedis/RedisClient.class",
                    "io/tomcatredis/shaded/esotericsoftware/kryo/Kryo.class",
                    "io/tomcatredis/shaded/slf4j/jul/JDK14LoggerAdapter.class");
            assertThat(names).allMatch(n -> n.startsWith("io/tomcatredis/"), "every class is ours or relocated");
            JarEntry provider = jar.getJarEntry("META-INF/services/io.tomcatredis.shaded.slf4j.spi.SLF4JServiceProvider");
            assertThat(provider).as("relocated SLF4J provider registration").isNotNull();
        }
    }

    @Test
    void jedisInsideLogsThroughJavaUtilLoggingWithoutNoProviderWarning() throws Exception {
        // Load only the shaded JAR (plus the JDK), as Tomcat's common class loader would.
        try (URLClassLoader loader = new URLClassLoader(new URL[] {new java.io.File(JAR).toURI().toURL()},
                ClassLoader.getPlatformClassLoader())) {
            Class<?> factory = loader.loadClass("io.tomcatredis.shaded.slf4j.LoggerFactory");
            Object logger = factory.getMethod("getLogger", String.class).invoke(null, "probe");
            assertThat(logger.getClass().getName()).isEqualTo("io.tomcatredis.shaded.slf4j.jul.JDK14LoggerAdapter");
        }
    }
}

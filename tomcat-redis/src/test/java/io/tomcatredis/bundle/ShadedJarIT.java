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

    /**
     * compressionThreshold's LZ4 is relocated with the class names its factory builds from
     * strings, and ships no native library: the pure-Java instance works from the JAR alone.
     */
    @Test
    void lz4InsideIsRelocatedAndWorksWithoutNativeLibraries() throws Exception {
        try (JarFile jar = new JarFile(JAR)) {
            assertThat(jar.stream().map(JarEntry::getName))
                    .contains("io/tomcatredis/shaded/jpountz/lz4/LZ4Factory.class")
                    .noneMatch(n -> n.endsWith(".so") || n.endsWith(".dll") || n.endsWith(".dylib"));
        }
        try (URLClassLoader loader = new URLClassLoader(new URL[] {new java.io.File(JAR).toURI().toURL()},
                ClassLoader.getPlatformClassLoader())) {
            Class<?> factoryClass = loader.loadClass("io.tomcatredis.shaded.jpountz.lz4.LZ4Factory");
            Object factory = factoryClass.getMethod("safeInstance").invoke(null);
            Object compressor = factoryClass.getMethod("fastCompressor").invoke(factory);
            Object decompressor = factoryClass.getMethod("safeDecompressor").invoke(factory);
            byte[] value = "prod-100000 prod-100001 prod-100002 prod-100003 prod-100004".repeat(10)
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII);

            byte[] compressed = (byte[]) compressor.getClass().getMethod("compress", byte[].class)
                    .invoke(compressor, value);
            byte[] back = (byte[]) decompressor.getClass().getMethod("decompress", byte[].class, int.class)
                    .invoke(decompressor, compressed, value.length);

            assertThat(compressed.length).isLessThan(value.length / 4);
            assertThat(back).isEqualTo(value);
        }
    }
}

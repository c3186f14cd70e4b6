package io.tomcatredis.sample;

import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.ProjectConf;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * One instance of a real Tomcat distribution: a CATALINA_HOME unpacked from the zip Maven
 * Central serves (with the drop-in JAR in its lib/), and a CATALINA_BASE of its own with its
 * own HTTP and shutdown ports, {@code conf/context-standalone.xml} as its context.xml, the
 * sample shop and Tomcat's examples webapp.
 */
final class TomcatInstance implements AutoCloseable {

    private final Path home;
    private final Path base;
    private final String name;
    private final int httpPort;
    private Process process;
    private Path javaHome = Path.of(System.getProperty("java.home"));
    private String javaOptions = "";

    private TomcatInstance(Path home, Path base, String name, int httpPort) {
        this.home = home;
        this.base = base;
        this.name = name;
        this.httpPort = httpPort;
    }

    /** Unpacks {@code tomcat-<version>.zip} once and puts the drop-in JAR into its lib/. */
    static Path home(String version) {
        return home(version, "tomcat-redis.jar");
    }

    /** As {@link #home(String)}, with the drop-in JAR {@code jar} (a file of itDownloads: Tomcat 9's is another). */
    static Path home(String version, String jar) {
        Path downloads = Path.of(System.getProperty("itDownloads"));
        Path work = Path.of(System.getProperty("itWork"));
        Path home = work.resolve("apache-tomcat-" + version);
        if (Files.isDirectory(home)) {
            // Unpacked by an earlier run: the JAR of this build, not that run's.
            try {
                Files.copy(downloads.resolve(jar), home.resolve("lib").resolve(jar), StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return home;
        }
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(downloads.resolve("tomcat-" + version + ".zip")))) {
            for (ZipEntry entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry()) {
                Path target = work.resolve(entry.getName()).normalize();
                if (entry.isDirectory()) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(zip, target, StandardCopyOption.REPLACE_EXISTING);
                    if (entry.getName().endsWith(".sh")) {
                        target.toFile().setExecutable(true);
                    }
                }
            }
            Files.copy(downloads.resolve(jar), home.resolve("lib").resolve(jar),
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return home;
    }

    static TomcatInstance create(Path home, String name, String redisUri, String cacheRedisUri) {
        return create(home, name, redisUri, cacheRedisUri, Path.of(System.getProperty("shopWar")));
    }

    /** As {@link #create(Path, String, String)}, serving {@code shopWar} (Tomcat 9's is the javax one). */
    static TomcatInstance create(Path home, String name, String redisUri, String cacheRedisUri, Path shopWar) {
        Path base = home.getParent().resolve(home.getFileName() + "-" + name);
        try {
            deleteRecursively(base);
            for (String dir : new String[] {"logs", "temp", "webapps", "work"}) {
                Files.createDirectories(base.resolve(dir));
            }
            copyRecursively(home.resolve("conf"), base.resolve("conf"));
            int httpPort = freePort();
            int shutdownPort = freePort();
            Path serverXml = base.resolve("conf/server.xml");
            String server = Files.readString(serverXml)
                    .replace("port=\"8005\"", "port=\"" + shutdownPort + "\"")
                    .replace("port=\"8080\"", "port=\"" + httpPort + "\" address=\"127.0.0.1\"")
                    .replace("<Engine name=\"Catalina\" defaultHost=\"localhost\">",
                            "<Engine name=\"Catalina\" defaultHost=\"localhost\" jvmRoute=\"" + name + "\">");
            Files.writeString(serverXml, server);
            Files.copy(ProjectConf.file("context-standalone.xml"), base.resolve("conf/context.xml"),
                    StandardCopyOption.REPLACE_EXISTING);
            // The credentials where the README puts them: Tomcat turns this file into system properties.
            Files.writeString(base.resolve("conf/catalina.properties"), "\ntomcatredis.redisUri=" + redisUri
                    + "\ntomcatredis.cacheRedisUri=" + cacheRedisUri + "\n",
                    java.nio.file.StandardOpenOption.APPEND);
            Files.writeString(base.resolve("conf/logging.properties"), "\n"
                    + Files.readString(ProjectConf.file("logging.properties")), java.nio.file.StandardOpenOption.APPEND);
            Files.copy(shopWar, base.resolve("webapps/shop.war"));
            copyRecursively(home.resolve("webapps/examples"), base.resolve("webapps/examples"));
            copyRecursively(home.resolve("webapps/manager"), base.resolve("webapps/manager"));
            Files.writeString(base.resolve("conf/tomcat-users.xml"), """
                    <?xml version="1.0" encoding="UTF-8"?>
                    <tomcat-users xmlns="http://tomcat.apache.org/xml" version="1.0">
                      <role rolename="manager-gui"/>
                      <user username="admin" password="admin-pass" roles="manager-gui"/>
                    </tomcat-users>
                    """);
            return new TomcatInstance(home, base, name, httpPort);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs this instance on another JDK than the test's (set before {@link #start()}). */
    TomcatInstance onJava(Path javaHome) {
        this.javaHome = javaHome;
        return this;
    }

    /** Adds JVM options to {@code CATALINA_OPTS} (set before {@link #start()}). */
    TomcatInstance withJavaOptions(String options) {
        this.javaOptions += " " + options;
        return this;
    }

    /**
     * Serves requests on virtual threads, as Tomcat 11's documentation shows: a
     * {@code StandardVirtualThreadExecutor} named in {@code server.xml} and the HTTP connector
     * using it.
     */
    TomcatInstance withVirtualThreads() {
        Path serverXml = base.resolve("conf/server.xml");
        try {
            String server = Files.readString(serverXml);
            String connector = "<Connector port=\"" + httpPort + "\"";
            if (!server.contains(connector)) {
                throw new IllegalStateException("No HTTP connector on port " + httpPort + " in " + serverXml);
            }
            Files.writeString(serverXml, server
                    .replace("<Service name=\"Catalina\">", "<Service name=\"Catalina\">\n    <Executor name=\"virtual\""
                            + " className=\"org.apache.catalina.core.StandardVirtualThreadExecutor\"/>")
                    .replace(connector, connector + " executor=\"virtual\""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** Edits this instance's {@code conf/context.xml} (set before {@link #start()}). */
    TomcatInstance withContextXml(java.util.function.UnaryOperator<String> edit) {
        Path contextXml = base.resolve("conf/context.xml");
        try {
            Files.writeString(contextXml, edit.apply(Files.readString(contextXml)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    Path base() {
        return base;
    }

    /**
     * Runs the Prometheus JMX exporter agent in this instance's JVM from the next start on, with
     * {@code rules}, serving {@code /metrics} on a free loopback port.
     *
     * @return the URL of {@code /metrics}
     */
    String exportMetrics(Path agentJar, Path rules) {
        try {
            int port = freePort();
            withJavaOptions("-javaagent:" + agentJar + "=127.0.0.1:" + port + ":" + rules);
            return "http://127.0.0.1:" + port + "/metrics";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String url(String path) {
        return "http://127.0.0.1:" + httpPort + path;
    }

    /** Starts {@code catalina.sh run} and waits until the shop answers. */
    void start() {
        ProcessBuilder builder = new ProcessBuilder(home.resolve("bin/catalina.sh").toString(), "run")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(base.resolve("logs/console.log").toFile()));
        builder.environment().put("CATALINA_HOME", home.toString());
        builder.environment().put("CATALINA_BASE", base.toString());
        builder.environment().put("CATALINA_PID", base.resolve("tomcat.pid").toString());
        builder.environment().put("JAVA_HOME", javaHome.toString());
        builder.environment().put("CATALINA_OPTS", "-Dtomcatredis.node=" + name + javaOptions);
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot start Tomcat " + name, e);
        }
        Await.until(Duration.ofSeconds(120), "Tomcat " + name + " to serve the shop (" + base.resolve("logs") + ")",
                () -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("Tomcat " + name + " exited: see " + base.resolve("logs"));
                    }
                    return Browserless.status(url("/shop/catalog")) == 200;
                });
    }

    void stop() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        process = null;
    }

    void restart() {
        stop();
        start();
    }

    String log(String file) throws IOException {
        try (Stream<Path> files = Files.list(base.resolve("logs"))) {
            StringBuilder text = new StringBuilder();
            for (Path path : files.filter(p -> p.getFileName().toString().startsWith(file)).toList()) {
                text.append(Files.readString(path));
            }
            return text.toString();
        }
    }

    @Override
    public void close() {
        stop();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void copyRecursively(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path source : paths.toList()) {
                Path target = to.resolve(from.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
    }
}

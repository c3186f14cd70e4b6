package io.tomcatredis.session.it;

import io.tomcatredis.session.RedisSessionManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.catalina.Manager;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.authenticator.BasicAuthenticator;
import org.apache.catalina.realm.GenericPrincipal;
import org.apache.catalina.realm.RealmBase;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.LoginConfig;
import org.apache.tomcat.util.descriptor.web.SecurityCollection;
import org.apache.tomcat.util.descriptor.web.SecurityConstraint;
import java.security.Principal;
import java.util.List;

/**
 * One embedded Tomcat on a free loopback port with a context {@code /app} whose sessions are kept
 * by a {@link RedisSessionManager}, serving {@link SessionServlet} under {@code /app/s/*}.
 */
final class TomcatNode implements AutoCloseable {

    /** Password of every user but {@code ann}, for {@code HttpServletRequest.login} with any user name. */
    static final String ANY_USER_PASSWORD = "any-user-Pa55";

    private final String name;
    private final Consumer<RedisSessionManager> configuration;
    private final Supplier<Manager> managerFactory;
    private final Consumer<Context> customizer;
    private Path configFile;
    private final Path baseDir;
    private Tomcat tomcat;
    private Context context;
    private RedisSessionManager manager;
    private int port;

    private TomcatNode(String name, Consumer<RedisSessionManager> configuration, Supplier<Manager> managerFactory,
            Consumer<Context> customizer) {
        this.name = name;
        this.configuration = configuration;
        this.managerFactory = managerFactory;
        this.customizer = customizer;
        try {
            this.baseDir = Files.createTempDirectory("tomcat-" + name + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts a node whose engine has jvmRoute {@code name}; {@code configuration} sets manager attributes. */
    static TomcatNode start(String name, Consumer<RedisSessionManager> configuration) {
        return start(name, configuration, c -> { });
    }

    /** As {@link #start(String, Consumer)}, with {@code customizer} adding listeners or settings to the context. */
    static TomcatNode start(String name, Consumer<RedisSessionManager> configuration, Consumer<Context> customizer) {
        TomcatNode node = new TomcatNode(name, configuration, RedisSessionManager::new, customizer);
        node.startTomcat(0);
        return node;
    }

    /**
     * A node whose context is configured by a context.xml file as Tomcat reads it (the manager
     * comes from the file, not from code), e.g. one of the project's conf/ files.
     */
    static TomcatNode startFromContextXml(String name, Path contextXml) {
        TomcatNode node = new TomcatNode(name, m -> { }, () -> null, c -> { });
        node.configFile = contextXml;
        node.startTomcat(0);
        return node;
    }

    /** A node with any other manager, e.g. Tomcat's StandardManager for differential tests. */
    static TomcatNode startWith(String name, Supplier<Manager> managerFactory, Consumer<Context> customizer) {
        TomcatNode node = new TomcatNode(name, m -> { }, managerFactory, customizer);
        node.startTomcat(0);
        return node;
    }

    /** Stops this node and starts it again on the same port, as after a redeploy or restart. */
    void restart() {
        int previousPort = port;
        stopTomcat();
        startTomcat(previousPort);
    }

    private void startTomcat(int requestedPort) {
        tomcat = new Tomcat();
        tomcat.setBaseDir(baseDir.toString());
        Connector connector = new Connector();
        connector.setPort(requestedPort);
        connector.setProperty("address", "127.0.0.1");
        // Room for the 10 kB session id of the malformed-id test, so that it reaches the manager.
        connector.setProperty("maxHttpRequestHeaderSize", "65536");
        tomcat.setConnector(connector);
        tomcat.getEngine().setJvmRoute(name);
        // Own JMX domain per node: several nodes share this JVM.
        tomcat.getEngine().setName(name);
        Path docBase = baseDir.resolve("app");
        try {
            Files.createDirectories(docBase);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (configFile != null) {
            tomcat.setAddDefaultWebXmlToWebapp(false);
            context = tomcat.addWebapp("/app", docBase.toString());
            try {
                context.setConfigFile(configFile.toUri().toURL());
            } catch (java.net.MalformedURLException e) {
                throw new IllegalArgumentException(e);
            }
        } else {
            context = tomcat.addContext("/app", docBase.toString());
            Manager created = managerFactory.get();
            if (created instanceof RedisSessionManager redisManager) {
                configuration.accept(redisManager);
                manager = redisManager;
            }
            context.setManager(created);
        }
        customizer.accept(context);
        protectWithBasicAuth(context);
        Tomcat.addServlet(context, "session", new SessionServlet()).setAsyncSupported(true);
        context.addServletMappingDecoded("/s/*", "session");
        try {
            tomcat.start();
        } catch (LifecycleException e) {
            stopTomcat();
            throw new IllegalStateException("Tomcat " + name + " did not start", e);
        }
        if (context.getState() != LifecycleState.STARTED) {
            stopTomcat();
            throw new IllegalStateException("Context /app of " + name + " did not start: " + context.getState());
        }
        port = connector.getLocalPort();
        if (manager == null && context.getManager() instanceof RedisSessionManager fromFile) {
            manager = fromFile;
        }
    }

    /**
     * {@code /s/secure/*} needs user {@code ann} (password {@code secret}, role {@code user}) by
     * BASIC authentication; Tomcat caches the principal in the session. Any other user name logs in
     * with {@link #ANY_USER_PASSWORD} (role {@code user}).
     */
    private static void protectWithBasicAuth(Context context) {
        context.setRealm(new RealmBase() {
            @Override
            protected String getPassword(String username) {
                return "ann".equals(username) ? "secret" : ANY_USER_PASSWORD;
            }

            @Override
            protected Principal getPrincipal(String username) {
                return new GenericPrincipal(username, List.of("user"));
            }
        });
        LoginConfig login = new LoginConfig();
        login.setAuthMethod("BASIC");
        context.setLoginConfig(login);
        context.getPipeline().addValve(new BasicAuthenticator());
        context.addSecurityRole("user");
        SecurityCollection collection = new SecurityCollection();
        collection.addPatternDecoded("/s/secure/*");
        SecurityConstraint constraint = new SecurityConstraint();
        constraint.addAuthRole("user");
        constraint.addCollection(collection);
        context.addConstraint(constraint);
    }

    String name() {
        return name;
    }

    String url(String path) {
        return "http://127.0.0.1:" + port + "/app/s/" + path;
    }

    int port() {
        return port;
    }

    Context context() {
        return context;
    }

    RedisSessionManager manager() {
        return manager;
    }

    boolean isContextAvailable() {
        return context.getState() == LifecycleState.STARTED;
    }

    private void stopTomcat() {
        try {
            tomcat.stop();
            tomcat.destroy();
        } catch (LifecycleException e) {
            throw new IllegalStateException("Tomcat " + name + " did not stop", e);
        }
    }

    @Override
    public void close() {
        stopTomcat();
    }

    /** Stops every node a test class started; one that failed to start (null) is skipped. */
    static void closeAll(TomcatNode... nodes) {
        for (TomcatNode node : nodes) {
            if (node != null) {
                node.close();
            }
        }
    }
}

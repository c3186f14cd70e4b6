package io.tomcatredis.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.SslOptions;

/**
 * A set of Redis processes started together in one temporary folder and stopped together by
 * {@link #close()}. Subclasses decide the topology; this class knows how one node is configured
 * and how a client must connect to it (TLS, ACL user).
 */
public abstract class RedisDeployment implements AutoCloseable {

    private final Path root;
    private final RedisOptions options;
    private final TlsMaterial tls;
    private final List<RedisNode> nodes = new ArrayList<>();

    protected RedisDeployment(String kind, RedisOptions options) {
        this.options = options;
        try {
            this.root = Files.createTempDirectory("tomcat-redis-" + kind + "-");
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create a folder for Redis", e);
        }
        this.tls = options.tls ? TlsMaterial.generate(root.resolve("tls")) : null;
    }

    /** Every process of this deployment, in the order they were created. */
    public List<RedisNode> nodes() {
        return List.copyOf(nodes);
    }

    public RedisOptions options() {
        return options;
    }

    /** The generated certificates and stores, or null when TLS is off. */
    public TlsMaterial tls() {
        return tls;
    }

    /**
     * How a client connects to the data nodes: TLS with the test truststore (and client keystore
     * for mutual TLS) and the ACL user, as configured. Hostname verification stays on.
     */
    public JedisClientConfig clientConfig() {
        return connectionConfig(true).build();
    }

    /** For the single admin connections of {@link RedisNode#client()}, which speak RESP2. */
    private JedisClientConfig adminConfig(boolean authenticate) {
        return connectionConfig(authenticate).autoNegotiateProtocol(false).build();
    }

    /** Admin connections to sentinels: their own password, if any, instead of the ACL user. */
    private JedisClientConfig sentinelAdminConfig() {
        DefaultJedisClientConfig.Builder builder = connectionConfig(false).autoNegotiateProtocol(false);
        if (options.sentinelPassword != null) {
            builder.password(options.sentinelPassword);
        }
        return builder.build();
    }

    private DefaultJedisClientConfig.Builder connectionConfig(boolean authenticate) {
        DefaultJedisClientConfig.Builder builder = DefaultJedisClientConfig.builder().timeoutMillis(5000);
        if (authenticate && options.hasAclUser()) {
            builder.user(options.user).password(options.password);
        }
        if (tls != null) {
            SslOptions.Builder ssl = SslOptions.builder()
                    .truststore(tls.truststore().toFile(), TlsMaterial.STORE_PASSWORD.toCharArray())
                    .trustStoreType("PKCS12");
            if (options.mutualTls) {
                ssl.keystore(tls.clientKeystore().toFile(), TlsMaterial.STORE_PASSWORD.toCharArray())
                        .keyStoreType("PKCS12");
            }
            builder.ssl(true).sslOptions(ssl.build());
        }
        return builder;
    }

    /** The server and version of the first data node, e.g. {@code valkey 8.0.1}: see {@link RedisNode#serverVersion()}. */
    public String serverVersion() {
        return nodes.get(0).serverVersion();
    }

    /** Deletes every key on every master. */
    public abstract void flushAll();

    /** Kills every process that is still running and deletes the folder. */
    @Override
    public void close() {
        RuntimeException failure = null;
        for (RedisNode node : nodes) {
            try {
                node.kill();
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        deleteRecursively(root);
        if (failure != null) {
            throw failure;
        }
    }

    /** Creates (does not start) a {@code redis-server} node with the shared options applied. */
    protected RedisNode newServer(String name, List<String> topologyConfig) {
        int port = FreePorts.next();
        List<String> config = new ArrayList<>();
        // Defaults first so that an included file (conf/redis-session.conf) can override them.
        config.add("save \"\"");
        config.add("appendonly no");
        if (options.include != null) {
            config.add("include " + options.include);
        }
        config.addAll(listenerConfig(name, port));
        config.add("repl-diskless-sync-delay 0");
        if (options.aclFile != null) {
            // Redis refuses users in the configuration together with an ACL file.
            config.add("aclfile " + aclFileCopy(name));
        }
        if (options.hasAclUser()) {
            if (!options.defaultUserFromConfig) {
                config.add("user default off");
            }
            if (options.aclFile == null) {
                config.add("user " + options.user + " on >" + options.password + " ~* &* +@all");
            }
            config.add("masteruser " + options.user);
            config.add("masterauth " + options.password);
        }
        if (tls != null) {
            config.add("tls-replication yes");
            config.add("tls-cluster yes");
        }
        config.addAll(topologyConfig);
        config.addAll(options.extraConfig);
        return add(new RedisNode(name, options.serverOf(name).serverBinary(), root.resolve(name), port, config,
                adminConfig(true)));
    }

    /** The node's own copy of {@link RedisOptions#aclFile}, with the harness's user and password. */
    private Path aclFileCopy(String name) {
        try {
            List<String> lines = new ArrayList<>(Files.readAllLines(options.aclFile));
            if (options.hasAclUser()) {
                String start = "user " + options.user + " ";
                boolean found = false;
                for (int i = 0; i < lines.size(); i++) {
                    if (lines.get(i).startsWith(start)) {
                        lines.set(i, lines.get(i) + " >" + options.password);
                        found = true;
                    }
                }
                if (!found) {
                    lines.add(start + "on >" + options.password + " ~* &* +@all");
                }
            }
            Path copy = root.resolve(name).resolve("users.acl");
            Files.createDirectories(copy.getParent());
            Files.write(copy, lines);
            return copy;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot copy " + options.aclFile, e);
        }
    }

    /** Creates (does not start) a {@code redis-sentinel} node; sentinels use no ACL user themselves. */
    protected RedisNode newSentinel(String name, List<String> sentinelConfig) {
        int port = FreePorts.next();
        List<String> config = new ArrayList<>(listenerConfig(name, port));
        if (tls != null) {
            config.add("tls-replication yes");
        }
        if (options.sentinelPassword != null) {
            config.add("requirepass " + options.sentinelPassword);
        }
        config.addAll(sentinelConfig);
        return add(new RedisNode(name, options.server.sentinelBinary(), root.resolve(name), port, config,
                sentinelAdminConfig()));
    }

    private List<String> listenerConfig(String name, int port) {
        List<String> config = new ArrayList<>();
        config.add("bind " + RedisNode.HOST);
        config.add("daemonize no");
        config.add("logfile \"\"");
        config.add("dir " + root.resolve(name));
        if (tls == null) {
            config.add("port " + port);
        } else {
            config.add("port 0");
            config.add("tls-port " + port);
            config.add("tls-cert-file " + tls.serverCertificate());
            config.add("tls-key-file " + tls.serverKey());
            config.add("tls-client-cert-file " + tls.serverCertificate());
            config.add("tls-client-key-file " + tls.serverKey());
            config.add("tls-ca-cert-file " + tls.caCertificate());
            config.add("tls-auth-clients " + (options.mutualTls ? "yes" : "no"));
        }
        return config;
    }

    private RedisNode add(RedisNode node) {
        nodes.add(node);
        return node;
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            System.err.println("Warning: cannot delete " + dir + ": " + e);
        }
    }
}

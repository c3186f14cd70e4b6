package io.tomcatredis.testsupport;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What every node of a deployment shares: TLS, an ACL user, a configuration file to include (such
 * as the project's {@code conf/redis-session.conf}) and extra configuration lines (for the data
 * nodes and for the sentinels). Immutable; each {@code with*} method returns a copy.
 */
public final class RedisOptions {

    /**
     * Tls off, no ACL user, no include: a plain loopback Redis without persistence, of the server
     * the system property {@value RedisServer#PROPERTY} names (Redis when unset).
     */
    public static final RedisOptions DEFAULTS = new RedisOptions(false, false, null, null, false, null, List.of(),
            null, List.of(), RedisServer.fromSystemProperty(), Map.of(), null);

    final boolean tls;
    final boolean mutualTls;
    final String user;
    final String password;
    /** Whether the configuration, not the harness, decides what the {@code default} user may do. */
    final boolean defaultUserFromConfig;
    final Path include;
    final List<String> extraConfig;
    final String sentinelPassword;
    final List<String> sentinelExtraConfig;
    final RedisServer server;
    /** Nodes that run another server than {@link #server}, by node name (such as {@code shard-1-master}). */
    final Map<String, RedisServer> serverOfNode;
    /** The ACL file every data node loads ({@code aclfile}, a copy per node), or null. */
    final Path aclFile;

    private RedisOptions(boolean tls, boolean mutualTls, String user, String password, boolean defaultUserFromConfig,
            Path include, List<String> extraConfig, String sentinelPassword, List<String> sentinelExtraConfig,
            RedisServer server, Map<String, RedisServer> serverOfNode, Path aclFile) {
        this.tls = tls;
        this.mutualTls = mutualTls;
        this.user = user;
        this.password = password;
        this.defaultUserFromConfig = defaultUserFromConfig;
        this.include = include;
        this.extraConfig = List.copyOf(extraConfig);
        this.sentinelPassword = sentinelPassword;
        this.sentinelExtraConfig = List.copyOf(sentinelExtraConfig);
        this.server = Objects.requireNonNull(server);
        this.serverOfNode = Map.copyOf(serverOfNode);
        this.aclFile = aclFile;
    }

    /** Runs this server's binaries instead of the one {@value RedisServer#PROPERTY} names. */
    public RedisOptions withServer(RedisServer server) {
        return new RedisOptions(tls, mutualTls, user, password, defaultUserFromConfig, include, extraConfig,
                sentinelPassword, sentinelExtraConfig, server, serverOfNode, aclFile);
    }

    /**
     * Runs {@code server} on the data node named {@code nodeName} only (such as {@code
     * shard-1-master} of a {@link ClusterRedis}): mixed versions, as during a rolling upgrade.
     */
    public RedisOptions withServerOnNode(String nodeName, RedisServer server) {
        Map<String, RedisServer> all = new HashMap<>(serverOfNode);
        all.put(Objects.requireNonNull(nodeName), Objects.requireNonNull(server));
        return new RedisOptions(tls, mutualTls, user, password, defaultUserFromConfig, include, extraConfig,
                sentinelPassword, sentinelExtraConfig, this.server, all, aclFile);
    }

    /** The server whose binaries a data node runs: {@link #server} unless {@link #withServerOnNode} says otherwise. */
    RedisServer serverOf(String nodeName) {
        return serverOfNode.getOrDefault(nodeName, server);
    }

    /** The server whose binaries the deployment runs. */
    public RedisServer server() {
        return server;
    }

    /** Sentinels require this password from their clients (and from each other). */
    public RedisOptions withSentinelPassword(String password) {
        return new RedisOptions(tls, mutualTls, user, this.password, defaultUserFromConfig, include, extraConfig,
                Objects.requireNonNull(password), sentinelExtraConfig, server, serverOfNode, aclFile);
    }

    /**
     * Adds lines to every sentinel's configuration, such as {@code "sentinel auth-user mymaster
     * sentinel"}; they win over the harness's own.
     */
    public RedisOptions withSentinelConfig(String... lines) {
        List<String> all = new ArrayList<>(sentinelExtraConfig);
        all.addAll(List.of(lines));
        return new RedisOptions(tls, mutualTls, user, password, defaultUserFromConfig, include, extraConfig,
                sentinelPassword, all, server, serverOfNode, aclFile);
    }

    /** Clients must use TLS; certificates from a private CA generated at test time. */
    public RedisOptions withTls() {
        return new RedisOptions(true, mutualTls, user, password, defaultUserFromConfig, include, extraConfig,
                sentinelPassword, sentinelExtraConfig, server, serverOfNode, aclFile);
    }

    /** TLS where Redis also requires a client certificate signed by the test CA. */
    public RedisOptions withMutualTls() {
        return new RedisOptions(true, true, user, password, defaultUserFromConfig, include, extraConfig,
                sentinelPassword, sentinelExtraConfig, server, serverOfNode, aclFile);
    }

    /** Disables the {@code default} user and creates {@code user} with all permissions. */
    public RedisOptions withAclUser(String user, String password) {
        return new RedisOptions(tls, mutualTls, Objects.requireNonNull(user), Objects.requireNonNull(password), false,
                include, extraConfig, sentinelPassword, sentinelExtraConfig, server, serverOfNode, aclFile);
    }

    /**
     * Creates {@code user} with all permissions, for the harness's own connections, as
     * {@link #withAclUser} does, but leaves the {@code default} user as the configuration declares
     * it: for a configuration that locks it itself, such as {@code conf/redis-session.conf} (Redis
     * accepts one declaration per user).
     */
    public RedisOptions withAdminUser(String user, String password) {
        return new RedisOptions(tls, mutualTls, Objects.requireNonNull(user), Objects.requireNonNull(password), true,
                include, extraConfig, sentinelPassword, sentinelExtraConfig, server, serverOfNode, aclFile);
    }

    /** Includes a Redis configuration file; the harness still decides ports, folders and TLS. */
    public RedisOptions withInclude(Path configFile) {
        return new RedisOptions(tls, mutualTls, user, password, defaultUserFromConfig, configFile.toAbsolutePath(),
                extraConfig, sentinelPassword, sentinelExtraConfig, server, serverOfNode, aclFile);
    }

    /** Adds configuration lines such as {@code "maxmemory 10mb"}; they win over everything else. */
    public RedisOptions withConfig(String... lines) {
        List<String> all = new ArrayList<>(extraConfig);
        all.addAll(List.of(lines));
        return new RedisOptions(tls, mutualTls, user, password, defaultUserFromConfig, include, all, sentinelPassword,
                sentinelExtraConfig, server, serverOfNode, aclFile);
    }

    /**
     * Starts every data node with {@code aclfile} set to a copy of {@code aclFile} (such as one
     * written by {@link ProjectConf#aclFileWithPasswords}): Redis then takes its users from that
     * file only, as {@code conf/redis-session.conf} has it. The harness's own user
     * ({@link #withAdminUser}) gets {@code >password} on its line there, or a line of its own
     * ({@code ~* &* +@all}) when the file has none. {@code ACL LOAD}/{@code ACL SAVE} use each
     * node's copy.
     */
    public RedisOptions withAclFile(Path aclFile) {
        return new RedisOptions(tls, mutualTls, user, password, true, include, extraConfig, sentinelPassword,
                sentinelExtraConfig, server, serverOfNode, aclFile.toAbsolutePath());
    }

    /**
     * The project's {@code conf/redis-session.conf} with its users from {@code aclFile} (a copy of
     * {@code conf/users.acl} with passwords, see {@link ProjectConf#aclFileWithPasswords}), the
     * harness connecting as {@code adminUser}: what an operator deploys.
     */
    public RedisOptions withShippedConf(Path aclFile, String adminUser, String adminPassword) {
        return withInclude(ProjectConf.file("redis-session.conf")).withAdminUser(adminUser, adminPassword)
                .withAclFile(aclFile);
    }

    boolean hasAclUser() {
        return user != null;
    }
}

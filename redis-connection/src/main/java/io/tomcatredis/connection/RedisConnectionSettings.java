package io.tomcatredis.connection;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import redis.clients.jedis.HostAndPort;

/**
 * Where and how to connect to Redis, parsed and validated once from configuration attributes.
 * The session manager and the cache filter accept the same attribute names:
 *
 * <table>
 *   <caption>Connection attributes</caption>
 *   <tr><th>Attribute</th><th>Default</th><th>Meaning</th></tr>
 *   <tr><td>{@code redisUri}</td><td>{@code redis://localhost:6379}</td>
 *       <td>{@code redis://[user:password@]host:port[/db]}; {@code rediss://} for TLS</td></tr>
 *   <tr><td>{@code timeoutMillis}</td><td>2000</td>
 *       <td>connect, read and pool-wait timeout of every Redis call</td></tr>
 *   <tr><td>{@code maxConnections}</td><td>128</td><td>size of the connection pool</td></tr>
 *   <tr><td>{@code sentinelMaster}, {@code sentinels}</td><td></td>
 *       <td>Sentinel: the monitored name and {@code host:port,...} of the sentinels</td></tr>
 *   <tr><td>{@code sentinelPassword}</td><td></td><td>password of the sentinels themselves</td></tr>
 *   <tr><td>{@code clusterNodes}</td><td></td><td>Cluster: {@code host:port,...} of some nodes</td></tr>
 *   <tr><td>TLS attributes</td><td></td><td>see {@link TlsSettings}</td></tr>
 * </table>
 * With Sentinel or Cluster, {@code redisUri} gives only the scheme (TLS), user, password and
 * database; its host and port are not used.
 */
public final class RedisConnectionSettings {

    public static final String REDIS_URI = "redisUri";
    public static final String TIMEOUT_MILLIS = "timeoutMillis";
    public static final String MAX_CONNECTIONS = "maxConnections";
    public static final String SENTINEL_MASTER = "sentinelMaster";
    public static final String SENTINELS = "sentinels";
    public static final String SENTINEL_PASSWORD = "sentinelPassword";
    public static final String CLUSTER_NODES = "clusterNodes";

    public static final String DEFAULT_REDIS_URI = "redis://localhost:6379";
    public static final int DEFAULT_TIMEOUT_MILLIS = 2000;
    public static final int DEFAULT_MAX_CONNECTIONS = 128;

    private final String host;
    private final int port;
    private final boolean tls;
    private final String user;
    private final String password;
    private final int database;
    private final int timeoutMillis;
    private final int maxConnections;
    private final String sentinelMaster;
    private final List<HostAndPort> sentinels;
    private final String sentinelPassword;
    private final List<HostAndPort> clusterNodes;
    private final TlsSettings tlsSettings;

    private RedisConnectionSettings(String host, int port, boolean tls, String user, String password, int database,
            int timeoutMillis, int maxConnections, String sentinelMaster, List<HostAndPort> sentinels,
            String sentinelPassword, List<HostAndPort> clusterNodes, TlsSettings tlsSettings) {
        this.host = host;
        this.port = port;
        this.tls = tls;
        this.user = user;
        this.password = password;
        this.database = database;
        this.timeoutMillis = timeoutMillis;
        this.maxConnections = maxConnections;
        this.sentinelMaster = sentinelMaster;
        this.sentinels = sentinels;
        this.sentinelPassword = sentinelPassword;
        this.clusterNodes = clusterNodes;
        this.tlsSettings = tlsSettings;
    }

    /** How the Redis deployment is reached. */
    public enum Topology {
        /** One server at {@code redisUri}'s host and port. */
        STANDALONE,
        /** The master that {@code sentinels} name for {@code sentinelMaster}. */
        SENTINEL,
        /** A Redis Cluster, discovered from {@code clusterNodes}. */
        CLUSTER
    }

    /**
     * Parses the connection attributes.
     *
     * @param attributes returns the raw value of an attribute by name, or null when it is not set
     * @throws InvalidSettingException naming the first attribute whose value cannot be used
     */
    public static RedisConnectionSettings parse(Function<String, String> attributes) {
        Settings settings = new Settings(attributes);
        String uriText = settings.string(REDIS_URI, DEFAULT_REDIS_URI);
        int timeoutMillis = settings.integer(TIMEOUT_MILLIS, DEFAULT_TIMEOUT_MILLIS, 1, 600_000);
        int maxConnections = settings.integer(MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS, 1, 10_000);

        URI uri;
        try {
            uri = new URI(uriText);
        } catch (URISyntaxException e) {
            throw new InvalidSettingException(REDIS_URI, "\"" + redact(uriText) + "\" is not a URI ("
                    + e.getReason() + "); expected redis://[user:password@]host:port[/db] or rediss://...");
        }
        String scheme = uri.getScheme();
        if (!"redis".equalsIgnoreCase(scheme) && !"rediss".equalsIgnoreCase(scheme)) {
            throw new InvalidSettingException(REDIS_URI, "\"" + redact(uriText)
                    + "\" must start with redis:// or rediss:// (TLS)");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new InvalidSettingException(REDIS_URI, "\"" + redact(uriText) + "\" names no host");
        }
        int port = uri.getPort() == -1 ? 6379 : uri.getPort();
        if (port < 1 || port > 65535) {
            throw new InvalidSettingException(REDIS_URI, "port " + port + " is outside 1..65535");
        }
        String user = null;
        String password = null;
        String userInfo = uri.getRawUserInfo();
        if (userInfo != null && !userInfo.isEmpty()) {
            int colon = userInfo.indexOf(':');
            if (colon < 0) {
                password = decode(userInfo);
            } else {
                user = colon == 0 ? null : decode(userInfo.substring(0, colon));
                password = decode(userInfo.substring(colon + 1));
            }
        }
        int database = 0;
        String path = uri.getPath();
        if (path != null && path.length() > 1) {
            try {
                database = Integer.parseInt(path.substring(1));
            } catch (NumberFormatException e) {
                throw new InvalidSettingException(REDIS_URI, "database \"" + path.substring(1)
                        + "\" in \"" + redact(uriText) + "\" is not a whole number");
            }
            if (database < 0) {
                throw new InvalidSettingException(REDIS_URI, "database " + database + " is negative");
            }
        }
        boolean tls = "rediss".equalsIgnoreCase(scheme);
        String sentinelMaster = settings.string(SENTINEL_MASTER, null);
        List<HostAndPort> sentinels = addresses(settings, SENTINELS);
        List<HostAndPort> clusterNodes = addresses(settings, CLUSTER_NODES);
        if (sentinelMaster != null && sentinels.isEmpty()) {
            throw new InvalidSettingException(SENTINELS, "is required with sentinelMaster (host:port,host:port,...)");
        }
        if (!sentinels.isEmpty() && sentinelMaster == null) {
            throw new InvalidSettingException(SENTINEL_MASTER, "is required with sentinels: the name the sentinels"
                    + " monitor the master under");
        }
        if (!sentinels.isEmpty() && !clusterNodes.isEmpty()) {
            throw new InvalidSettingException(CLUSTER_NODES, "cannot be combined with sentinels: a deployment is"
                    + " either Sentinel or Cluster");
        }
        if (!clusterNodes.isEmpty() && database != 0) {
            throw new InvalidSettingException(REDIS_URI, "Redis Cluster has only database 0, not " + database);
        }
        String sentinelPassword = settings.string(SENTINEL_PASSWORD, null);
        TlsSettings tlsSettings = TlsSettings.parse(settings, tls);
        return new RedisConnectionSettings(uri.getHost(), port, tls, user, password, database, timeoutMillis,
                maxConnections, sentinelMaster, sentinels, sentinelPassword, clusterNodes, tlsSettings);
    }

    /** A comma-separated list of {@code host:port}, or an empty list when the attribute is not set. */
    private static List<HostAndPort> addresses(Settings settings, String name) {
        String raw = settings.string(name, null);
        if (raw == null) {
            return List.of();
        }
        List<HostAndPort> addresses = new ArrayList<>();
        for (String part : raw.split(",")) {
            String address = part.trim();
            int colon = address.lastIndexOf(':');
            if (colon <= 0 || colon == address.length() - 1) {
                throw new InvalidSettingException(name, "\"" + address + "\" is not host:port");
            }
            int port;
            try {
                port = Integer.parseInt(address.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new InvalidSettingException(name, "port of \"" + address + "\" is not a number");
            }
            if (port < 1 || port > 65535) {
                throw new InvalidSettingException(name, "port of \"" + address + "\" is outside 1..65535");
            }
            addresses.add(new HostAndPort(address.substring(0, colon), port));
        }
        return List.copyOf(addresses);
    }

    public Topology topology() {
        if (!sentinels.isEmpty()) {
            return Topology.SENTINEL;
        }
        return clusterNodes.isEmpty() ? Topology.STANDALONE : Topology.CLUSTER;
    }

    /** The name the sentinels monitor the master under, or null. */
    public String sentinelMaster() {
        return sentinelMaster;
    }

    public List<HostAndPort> sentinels() {
        return sentinels;
    }

    /** The password of the sentinels themselves (not of the data nodes), or null. */
    public String sentinelPassword() {
        return sentinelPassword;
    }

    public List<HostAndPort> clusterNodes() {
        return clusterNodes;
    }

    /** Truststore, keystore and verification for {@code rediss://}. */
    public TlsSettings tlsSettings() {
        return tlsSettings;
    }

    /** Replaces the password in a {@code redis://user:password@host} text with {@code ***}. */
    public static String redact(String uriText) {
        if (uriText == null) {
            return null;
        }
        int start = uriText.indexOf("//");
        int at = uriText.lastIndexOf('@');
        if (start < 0 || at < start) {
            return uriText;
        }
        String userInfo = uriText.substring(start + 2, at);
        int colon = userInfo.indexOf(':');
        String shown = colon < 0 ? "***" : userInfo.substring(0, colon) + ":***";
        return uriText.substring(0, start + 2) + shown + uriText.substring(at);
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public boolean tls() {
        return tls;
    }

    /** The ACL user, or null for the default user. */
    public String user() {
        return user;
    }

    /** The password, or null; never log it. */
    public String password() {
        return password;
    }

    public int database() {
        return database;
    }

    public int timeoutMillis() {
        return timeoutMillis;
    }

    public int maxConnections() {
        return maxConnections;
    }

    /** A description for logs, without any password. */
    @Override
    public String toString() {
        String credentials = user != null ? user + ":***@" : password != null ? ":***@" : "";
        String where = switch (topology()) {
            case STANDALONE -> host + ":" + port + "/" + database;
            case SENTINEL -> "sentinel master '" + sentinelMaster + "' via " + sentinels + "/" + database;
            case CLUSTER -> "cluster " + clusterNodes;
        };
        return (tls ? "rediss://" : "redis://") + credentials + where + " (timeoutMillis=" + timeoutMillis
                + ", maxConnections=" + maxConnections + (tls ? ", " + tlsSettings : "") + ")";
    }

    private static String decode(String text) {
        return URLDecoder.decode(text, StandardCharsets.UTF_8);
    }
}

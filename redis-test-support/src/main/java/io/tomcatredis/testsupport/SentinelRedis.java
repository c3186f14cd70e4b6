package io.tomcatredis.testsupport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

/**
 * A master, one replica and three sentinels (quorum 2) monitoring them as {@link #MASTER_NAME}.
 * Sentinels declare a master down after one second, so a failover completes in a few seconds.
 */
public final class SentinelRedis extends RedisDeployment {

    public static final String MASTER_NAME = "mymaster";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    private final List<RedisNode> dataNodes = new ArrayList<>();
    private final List<RedisNode> sentinels = new ArrayList<>();

    private SentinelRedis(RedisOptions options) {
        super("sentinel", options);
        RedisNode master = newServer("master", List.of());
        dataNodes.add(master);
        dataNodes.add(newServer("replica", List.of("replicaof " + master.host() + " " + master.port())));
        List<String> shipped = shippedSentinelConfig();
        for (int i = 1; i <= 3; i++) {
            List<String> config = new ArrayList<>();
            config.add("sentinel monitor " + MASTER_NAME + " " + master.host() + " " + master.port() + " 2");
            config.addAll(shipped);
            // Faster than the shipped 5 s, so that failover tests take seconds.
            config.add("sentinel down-after-milliseconds " + MASTER_NAME + " 1000");
            config.add("sentinel failover-timeout " + MASTER_NAME + " 10000");
            if (options.hasAclUser()) {
                config.add("sentinel auth-user " + MASTER_NAME + " " + options.user);
                config.add("sentinel auth-pass " + MASTER_NAME + " " + options.password);
            }
            config.addAll(options.sentinelExtraConfig);
            sentinels.add(newSentinel("sentinel-" + i, config));
        }
    }

    /**
     * The project's {@code conf/sentinel.conf} without the lines the harness decides itself
     * (port, master address, the passwords that the shipped file leaves to the operator), so that
     * tests run the shipped settings.
     */
    private static List<String> shippedSentinelConfig() {
        try {
            return java.nio.file.Files.readAllLines(ProjectConf.file("sentinel.conf")).stream()
                    .map(String::trim)
                    .filter(line -> !line.isEmpty() && !line.startsWith("#"))
                    .filter(line -> !line.startsWith("port ") && !line.startsWith("sentinel monitor "))
                    .filter(line -> !line.startsWith("requirepass ") && !line.startsWith("sentinel auth-"))
                    .toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Starts master, replica and sentinels and waits until the replica is linked and sentinels agree. */
    public static SentinelRedis start() {
        return start(RedisOptions.DEFAULTS);
    }

    public static SentinelRedis start(RedisOptions options) {
        return notStarted(options).startNodes();
    }

    /**
     * A deployment whose ports are chosen but where nothing runs yet, for clients configured
     * before Redis is up (a webapp deployed while Redis is away); {@link #startNodes()} starts it.
     */
    public static SentinelRedis notStarted(RedisOptions options) {
        return new SentinelRedis(options);
    }

    /** Starts every node of a {@link #notStarted} deployment and waits until it is healthy. */
    public SentinelRedis startNodes() {
        try {
            nodes().forEach(RedisNode::start);
            awaitHealthy();
            return this;
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    public List<RedisNode> sentinels() {
        return List.copyOf(sentinels);
    }

    /** The two data nodes, master first as created (roles change on failover). */
    public List<RedisNode> dataNodes() {
        return List.copyOf(dataNodes);
    }

    /** Sentinel addresses as {@code host:port,host:port,host:port}. */
    public String sentinelAddresses() {
        return sentinels.stream().map(s -> s.host() + ":" + s.port()).collect(Collectors.joining(","));
    }

    public Set<HostAndPort> sentinelHostAndPorts() {
        return sentinels.stream().map(RedisNode::hostAndPort).collect(Collectors.toSet());
    }

    /** The data node that the sentinels currently name as master. */
    public RedisNode currentMaster() {
        for (RedisNode sentinel : sentinels) {
            if (!sentinel.isRunning()) {
                continue;
            }
            try (Jedis jedis = sentinel.client()) {
                List<String> address = jedis.sentinelGetMasterAddrByName(MASTER_NAME);
                int port = Integer.parseInt(address.get(1));
                return dataNodes.stream().filter(n -> n.port() == port).findFirst()
                        .orElseThrow(() -> new IllegalStateException("Sentinel names unknown master " + address));
            }
        }
        throw new IllegalStateException("No sentinel is running");
    }

    /**
     * Waits until the current master has every running replica linked and every running sentinel
     * knows the other sentinels and the replicas.
     */
    public void awaitHealthy() {
        Await.until(READY_TIMEOUT, "sentinel deployment to be healthy", () -> {
            RedisNode master = currentMaster();
            if (!master.isRunning() || !"master".equals(master.info("replication", "role"))) {
                return false;
            }
            List<RedisNode> replicas = dataNodes.stream().filter(n -> n != master && n.isRunning()).toList();
            for (RedisNode replica : replicas) {
                if (!"up".equals(replica.info("replication", "master_link_status"))
                        || !Integer.toString(master.port()).equals(replica.info("replication", "master_port"))) {
                    return false;
                }
            }
            long runningSentinels = sentinels.stream().filter(RedisNode::isRunning).count();
            for (RedisNode sentinel : sentinels) {
                if (sentinel.isRunning() && !sentinelSees(sentinel, runningSentinels - 1, replicas.size())) {
                    return false;
                }
            }
            return true;
        });
    }

    /** Asks the sentinels for a failover and waits until the replica is the new, healthy master. */
    public RedisNode failover() {
        RedisNode old = currentMaster();
        try (Jedis sentinel = sentinels.stream().filter(RedisNode::isRunning).findFirst().orElseThrow().client()) {
            sentinel.sentinelFailover(MASTER_NAME);
        }
        return awaitNewMaster(old);
    }

    /** Waits until the sentinels have promoted another node than {@code old} and it acts as master. */
    public RedisNode awaitNewMaster(RedisNode old) {
        Await.until(READY_TIMEOUT, "sentinels to promote a new master instead of " + old, () -> {
            RedisNode current = currentMaster();
            return current != old && "master".equals(current.info("replication", "role"));
        });
        return currentMaster();
    }

    @Override
    public void flushAll() {
        try (Jedis jedis = currentMaster().client()) {
            jedis.flushAll();
        }
    }

    private static boolean sentinelSees(RedisNode sentinel, long otherSentinels, int replicas) {
        try (Jedis jedis = sentinel.client()) {
            List<Map<String, String>> known = jedis.sentinelSentinels(MASTER_NAME);
            long healthySentinels = known.stream().filter(s -> isHealthy(s.get("flags"))).count();
            long healthyReplicas = jedis.sentinelReplicas(MASTER_NAME).stream()
                    .filter(r -> isHealthy(r.get("flags"))).count();
            return healthySentinels >= otherSentinels && healthyReplicas >= replicas;
        }
    }

    private static boolean isHealthy(String flags) {
        return flags != null && !flags.contains("s_down") && !flags.contains("o_down")
                && !flags.contains("disconnected");
    }
}

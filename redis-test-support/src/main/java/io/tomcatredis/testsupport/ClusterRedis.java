package io.tomcatredis.testsupport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Protocol;

/**
 * A Redis Cluster of N masters with the 16384 slots split evenly, optionally with replicas. Built
 * with CLUSTER ADDSLOTSRANGE, MEET and REPLICATE directly, so {@code redis-cli} is not needed.
 * {@code cluster-require-full-coverage no}: a shard that is down does not stop the others.
 */
public final class ClusterRedis extends RedisDeployment {

    private static final int SLOTS = 16384;
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    private final List<RedisNode> masters = new ArrayList<>();
    private final List<RedisNode> replicas = new ArrayList<>();
    private final Map<RedisNode, RedisNode> masterOfReplica = new HashMap<>();
    private final Map<RedisNode, String> ids = new HashMap<>();

    private ClusterRedis(int masterCount, int replicasPerMaster, RedisOptions options) {
        super("cluster", options);
        for (int m = 1; m <= masterCount; m++) {
            RedisNode master = newServer("shard-" + m + "-master", clusterConfig());
            masters.add(master);
            for (int r = 1; r <= replicasPerMaster; r++) {
                RedisNode replica = newServer("shard-" + m + "-replica-" + r, clusterConfig());
                replicas.add(replica);
                masterOfReplica.put(replica, master);
            }
        }
    }

    /** Three masters, no replicas. */
    public static ClusterRedis start() {
        return start(3, 0, RedisOptions.DEFAULTS);
    }

    /** Starts the nodes, assigns slots, joins them and waits for {@code cluster_state:ok} everywhere. */
    public static ClusterRedis start(int masters, int replicasPerMaster, RedisOptions options) {
        return notStarted(masters, replicasPerMaster, options).startNodes();
    }

    /**
     * A cluster whose ports are chosen but where nothing runs yet, for clients configured before
     * Redis is up (a webapp deployed while Redis is away); {@link #startNodes()} starts and forms it.
     */
    public static ClusterRedis notStarted(int masters, int replicasPerMaster, RedisOptions options) {
        if (masters < 1 || replicasPerMaster < 0) {
            throw new IllegalArgumentException("masters must be >= 1 and replicasPerMaster >= 0");
        }
        return new ClusterRedis(masters, replicasPerMaster, options);
    }

    /** Starts every node of a {@link #notStarted} cluster, forms it and waits until it is healthy. */
    public ClusterRedis startNodes() {
        try {
            nodes().forEach(RedisNode::start);
            form();
            return this;
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    public List<RedisNode> masters() {
        return List.copyOf(masters);
    }

    public List<RedisNode> replicas() {
        return List.copyOf(replicas);
    }

    /** Seed addresses as {@code host:port,host:port,...}, all nodes. */
    public String clusterNodes() {
        return nodes().stream().map(n -> n.host() + ":" + n.port()).collect(Collectors.joining(","));
    }

    public Set<HostAndPort> hostAndPorts() {
        return nodes().stream().map(RedisNode::hostAndPort).collect(Collectors.toSet());
    }

    /** The cluster node id of {@code node}. */
    public String id(RedisNode node) {
        return ids.get(node);
    }

    /** The running node that currently serves {@code slot} as master. */
    public RedisNode masterForSlot(int slot) {
        for (String line : clusterNodesView()) {
            String[] f = line.split(" ");
            if (!f[2].contains("master") || f[2].contains("fail")) {
                continue;
            }
            for (int i = 8; i < f.length; i++) {
                String[] range = f[i].split("-");
                int from = Integer.parseInt(range[0]);
                int to = range.length > 1 ? Integer.parseInt(range[1]) : from;
                if (slot >= from && slot <= to) {
                    return nodeWithId(f[0]);
                }
            }
        }
        throw new IllegalStateException("No master serves slot " + slot);
    }

    /**
     * Waits until every running node reports {@code cluster_state:ok} and the masters that are
     * running cover all slots, e.g. after a master was killed and its replica took over.
     */
    public void awaitHealthy() {
        try {
            awaitHealthyOrThrow();
        } catch (IllegalStateException e) {
            StringBuilder view = new StringBuilder(e.getMessage()).append("; CLUSTER NODES of each running node:");
            for (RedisNode node : nodes()) {
                if (node.isRunning()) {
                    try (Jedis jedis = node.client()) {
                        view.append("\n").append(node).append(" state=").append(node.clusterInfo("cluster_state"))
                                .append("\n").append(jedis.clusterNodes());
                    } catch (RuntimeException ignored) {
                        view.append("\n").append(node).append(" unreachable");
                    }
                }
            }
            throw new IllegalStateException(view.toString(), e);
        }
    }

    private void awaitHealthyOrThrow() {
        Await.until(READY_TIMEOUT, "cluster to be healthy", () -> {
            for (RedisNode node : nodes()) {
                if (node.isRunning() && !"ok".equals(node.clusterInfo("cluster_state"))) {
                    return false;
                }
            }
            long servingMasters = clusterNodesView().stream()
                    .map(l -> l.split(" "))
                    .filter(f -> f[2].contains("master") && !f[2].contains("fail") && f.length > 8)
                    .filter(f -> nodeWithId(f[0]).isRunning())
                    .count();
            return servingMasters == masters.size();
        });
    }

    @Override
    public void flushAll() {
        for (RedisNode node : nodes()) {
            if (node.isRunning() && "master".equals(node.info("replication", "role"))) {
                try (Jedis jedis = node.client()) {
                    jedis.flushAll();
                }
            }
        }
    }

    private List<String> clusterConfig() {
        return List.of("cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-port " + FreePorts.next(),
                "cluster-node-timeout 2000", "cluster-require-full-coverage no", "appendonly no");
    }

    private void form() {
        for (RedisNode node : nodes()) {
            try (Jedis jedis = node.client()) {
                ids.put(node, jedis.clusterMyId());
            }
        }
        int perMaster = SLOTS / masters.size();
        for (int i = 0; i < masters.size(); i++) {
            int from = i * perMaster;
            int to = i == masters.size() - 1 ? SLOTS - 1 : from + perMaster - 1;
            try (Jedis jedis = masters.get(i).client()) {
                jedis.clusterAddSlotsRange(from, to);
            }
        }
        RedisNode first = masters.get(0);
        try (Jedis jedis = first.client()) {
            for (RedisNode other : nodes()) {
                if (other != first) {
                    jedis.sendCommand(Protocol.Command.CLUSTER, "MEET", other.host(), Integer.toString(other.port()),
                            Integer.toString(busPort(other)));
                }
            }
        }
        int total = nodes().size();
        // By their ids: a node in handshake counts in cluster_known_nodes under a temporary id (Valkey 8),
        // and CLUSTER REPLICATE of a master known only that way fails with "Unknown node".
        Await.until(READY_TIMEOUT, "all " + total + " cluster nodes to know each other", () -> nodes().stream()
                .allMatch(n -> {
                    try (Jedis jedis = n.client()) {
                        Set<String> known = jedis.clusterNodes().lines().map(l -> l.split(" ")[0])
                                .collect(Collectors.toSet());
                        return known.containsAll(ids.values());
                    }
                }));
        for (RedisNode replica : replicas) {
            try (Jedis jedis = replica.client()) {
                jedis.clusterReplicate(ids.get(masterOfReplica.get(replica)));
            }
        }
        Await.until(READY_TIMEOUT, "replicas to link and every node to see the final roles", () -> {
            for (RedisNode replica : replicas) {
                if (!"up".equals(replica.info("replication", "master_link_status"))) {
                    return false;
                }
            }
            for (RedisNode node : nodes()) {
                try (Jedis jedis = node.client()) {
                    long replicaLines = jedis.clusterNodes().lines().filter(l -> l.split(" ")[2].contains("slave"))
                            .count();
                    if (replicaLines != replicas.size()) {
                        return false;
                    }
                }
            }
            return true;
        });
        awaitHealthy();
    }

    private int busPort(RedisNode node) {
        // The bus port is part of the node's configuration, chosen when the node was created.
        try (Jedis jedis = node.client()) {
            return Integer.parseInt(jedis.configGet("cluster-port").get("cluster-port"));
        }
    }

    private List<String> clusterNodesView() {
        for (RedisNode node : nodes()) {
            if (node.isRunning()) {
                try (Jedis jedis = node.client()) {
                    return jedis.clusterNodes().lines().toList();
                }
            }
        }
        throw new IllegalStateException("No cluster node is running");
    }

    private RedisNode nodeWithId(String id) {
        return ids.entrySet().stream().filter(e -> e.getValue().equals(id)).map(Map.Entry::getKey).findFirst()
                .orElseThrow(() -> new IllegalStateException("Unknown cluster node id " + id));
    }
}

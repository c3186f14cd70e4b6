package io.tomcatredis.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisClientConfig;

/**
 * One {@code redis-server} or {@code redis-sentinel} process on a loopback port, with its own
 * folder for configuration, data and log. It can be stopped, killed, paused and restarted on the
 * same port and data folder, which is what the fault tests of the session store need.
 */
public final class RedisNode {

    static final String HOST = "127.0.0.1";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    private final String name;
    private final String binary;
    private final Path dir;
    private final int port;
    private final List<String> config;
    private final JedisClientConfig adminConfig;
    private Process process;
    private boolean paused;

    RedisNode(String name, String binary, Path dir, int port, List<String> config, JedisClientConfig adminConfig) {
        this.name = name;
        this.binary = binary;
        this.dir = dir;
        this.port = port;
        this.config = List.copyOf(config);
        this.adminConfig = adminConfig;
    }

    /** A name for logs and messages, e.g. {@code master}, {@code sentinel-2}, {@code shard-1-replica}. */
    public String name() {
        return name;
    }

    public String host() {
        return HOST;
    }

    /** The port clients connect to (the TLS port for a TLS node). */
    public int port() {
        return port;
    }

    public HostAndPort hostAndPort() {
        return new HostAndPort(HOST, port);
    }

    /** The node's folder: configuration file, data (RDB, AOF, nodes.conf) and log. */
    public Path dir() {
        return dir;
    }

    public Path logFile() {
        return dir.resolve(name + ".log");
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    public synchronized long pid() {
        if (process == null) {
            throw new IllegalStateException(name + " is not running");
        }
        return process.pid();
    }

    /**
     * Starts the process and waits until it answers PING. On a restart the configuration file is
     * kept as the node (Sentinel, Cluster) may have rewritten it, and the data folder is reused.
     */
    public synchronized void start() {
        if (isRunning()) {
            throw new IllegalStateException(name + " is already running");
        }
        Path configFile = dir.resolve(name + ".conf");
        try {
            Files.createDirectories(dir);
            if (!Files.exists(configFile)) {
                Files.write(configFile, config, StandardCharsets.UTF_8);
            }
            process = new ProcessBuilder(binary, configFile.toString())
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot start " + binary + " for " + name, e);
        }
        paused = false;
        ProcessReaper.register(process.toHandle());
        Process started = process;
        Await.until(START_TIMEOUT, name + " on port " + port + " to answer PING (log: " + logFile() + ")", () -> {
            if (!started.isAlive()) {
                throw new IllegalStateException(name + " exited with code " + started.exitValue() + ": " + logTail());
            }
            try (Jedis jedis = client()) {
                return "PONG".equals(jedis.ping());
            }
        });
    }

    /** Stops the process with SIGTERM (Redis then writes its AOF buffer and exits) and waits. */
    public synchronized void stop() {
        terminate(false);
    }

    /** Kills the process with SIGKILL, as a crash would, and waits for it to be gone. */
    public synchronized void kill() {
        terminate(true);
    }

    /** Stops the process and starts it again on the same port and data folder. */
    public synchronized void restart() {
        stop();
        start();
    }

    /** Freezes the process with SIGSTOP: the port stays open but nothing answers. */
    public synchronized void pause() {
        signal("STOP");
        paused = true;
    }

    /** Thaws a process frozen by {@link #pause()}. */
    public synchronized void resume() {
        signal("CONT");
        paused = false;
    }

    /** A new admin connection to this node; the caller closes it. */
    public Jedis client() {
        return new Jedis(hostAndPort(), adminConfig);
    }

    /** One field of {@code INFO <section>}, or null when the node does not report it. */
    /**
     * The server and its version as {@code INFO server} reports them, e.g. {@code redis 7.0.15} or
     * {@code valkey 8.0.1} (Valkey also reports a {@code redis_version} for client compatibility).
     */
    public String serverVersion() {
        try (Jedis jedis = client()) {
            String info = jedis.info("server");
            String valkey = Info.field(info, "valkey_version");
            return valkey != null ? "valkey " + valkey : "redis " + Info.field(info, "redis_version");
        }
    }

    public String info(String section, String field) {
        try (Jedis jedis = client()) {
            return Info.field(jedis.info(section), field);
        }
    }

    /** One field of {@code CLUSTER INFO}, such as {@code cluster_state}. */
    public String clusterInfo(String field) {
        try (Jedis jedis = client()) {
            return Info.field(jedis.clusterInfo(), field);
        }
    }

    private void terminate(boolean forcibly) {
        if (process == null) {
            return;
        }
        if (paused && !forcibly) {
            signal("CONT");
        }
        Process dying = process;
        if (forcibly) {
            dying.destroyForcibly();
        } else {
            dying.destroy();
        }
        try {
            if (!dying.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                dying.destroyForcibly();
                dying.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            dying.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        ProcessReaper.unregister(dying.toHandle());
        process = null;
        paused = false;
    }

    private void signal(String signal) {
        if (!isRunning()) {
            throw new IllegalStateException(name + " is not running");
        }
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
                    .redirectErrorStream(true).start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + signal + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot signal " + name, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while signalling " + name, e);
        }
    }

    private String logTail() {
        try {
            List<String> lines = Files.readAllLines(logFile(), StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public String toString() {
        return name + "@" + HOST + ":" + port;
    }
}

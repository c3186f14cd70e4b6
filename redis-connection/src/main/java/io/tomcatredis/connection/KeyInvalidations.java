package io.tomcatredis.connection;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import redis.clients.jedis.Connection;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisSentinelClient;

/**
 * Hears of every change Redis makes to the keys under a prefix, by Redis' client-side caching
 * protocol in broadcasting mode, on one dedicated connection to the master (RESP2):
 * <pre>
 *   ROLE                                                       → master (else: closed, opened again later)
 *   CLIENT ID                                                  → &lt;id&gt;
 *   CLIENT TRACKING ON REDIRECT &lt;id&gt; BCAST PREFIX &lt;prefix&gt;
 *   SUBSCRIBE __redis__:invalidate &lt;prefix&gt;heartbeat:&lt;uuid&gt;
 * </pre>
 * and, on the pooled client, every {@code boundMillis / 4} (at least 5 ms):
 * <pre>
 *   PUBLISH &lt;prefix&gt;heartbeat:&lt;uuid&gt; &lt;n&gt;
 * </pre>
 * Redis sends the name of every key under the prefix that any client changed (a write, a
 * deletion, an expiry or eviction; {@code null} when it flushed the database) before it answers
 * the writer, so a heartbeat arrives after the message of every change acknowledged to its writer
 * before the heartbeat was published: {@link #isCurrent} is true while the last heartbeat that
 * arrived was sent at most {@code boundMillis} ago. (Not a {@code PING} on the subscribed
 * connection: Jedis 8's {@code JedisPubSub.ping} can take its own {@code PONG} for an unexpected
 * message.)
 *
 * <p>Whenever the connection is not known to deliver everything (not yet subscribed, broken, no
 * heartbeat within {@code max(boundMillis, timeoutMillis)}, Redis flushed), the listener hears
 * {@link Listener#invalidatedAll}; the connection is then opened again after 100 ms, doubled after each
 * attempt that was not confirmed, up to 5 s. On
 * Redis Sentinel the connection goes to the current master (a failover closes it: Sentinel kills
 * the old master's clients). Redis Cluster is not supported (each master tracks only its own keys).
 * Thread-safe; the listener is called on this object's own thread.
 */
public final class KeyInvalidations implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(KeyInvalidations.class.getName());
    static final String CHANNEL = "__redis__:invalidate";
    private static final long RETRY_MILLIS = 100;
    /** The longest pause between attempts: a subscription Redis keeps refusing (NOPERM) costs one attempt per 5 s. */
    private static final long MAX_RETRY_MILLIS = 5_000;
    private static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final long NEVER = Long.MIN_VALUE;

    /** What a cache of values read from Redis must forget. */
    public interface Listener {
        /** Redis changed {@code key} (or may have). */
        void invalidated(String key);

        /** Any key may have changed without a message: drop everything. */
        void invalidatedAll();
    }

    private final RedisConnectionSettings settings;
    private final RedisClientHolder client;
    private final String clientName;
    private final String prefix;
    private final long boundNanos;
    private final long silenceNanos;
    private final Listener listener;
    private final LongSupplier nanoTime;
    private final Thread reader;
    private final ScheduledExecutorService pinger;

    private final Object lock = new Object();
    private final String heartbeatChannel;
    /** Heartbeats published and not yet heard back, oldest first; guarded by {@link #lock}. */
    private final Deque<long[]> unanswered = new ArrayDeque<>();
    /** The connection subscribed to both channels, or null; guarded by {@link #lock}. */
    private Connection subscribed;
    private Connection opened;
    private long nextHeartbeat;
    /** The pause before the next attempt: doubled after each attempt that was not confirmed; guarded by {@link #lock}. */
    private long retryMillis = RETRY_MILLIS;
    private boolean closed;
    /** When the last heartbeat that came back was published ({@link #nanoTime}), or {@link #NEVER}. */
    private volatile long confirmedSentAt = NEVER;
    private long lastLoggedNanos;

    /**
     * Starts listening in the background; {@link #isCurrent} is false until the subscription is
     * confirmed.
     *
     * @param client      the pooled client of the same settings; on Sentinel, it names the master
     * @param clientName  shown by {@code CLIENT LIST}
     * @param prefix      key prefix to hear of, e.g. the session {@code keyPrefix}
     * @param boundMillis how old, in ms, the last confirmation may be for {@link #isCurrent}; at least 1
     * @throws IllegalArgumentException for Redis Cluster, or a bound below 1
     */
    public static KeyInvalidations start(RedisConnectionSettings settings, RedisClientHolder client, String clientName,
            String prefix, long boundMillis, Listener listener) {
        KeyInvalidations invalidations = new KeyInvalidations(settings, client, clientName, prefix, boundMillis, listener,
                System::nanoTime);
        invalidations.reader.start();
        long period = Math.max(5, boundMillis / 4);
        invalidations.pinger.scheduleWithFixedDelay(invalidations::ping, period, period, TimeUnit.MILLISECONDS);
        return invalidations;
    }

    KeyInvalidations(RedisConnectionSettings settings, RedisClientHolder client, String clientName, String prefix,
            long boundMillis, Listener listener, LongSupplier nanoTime) {
        if (settings.topology() == RedisConnectionSettings.Topology.CLUSTER) {
            throw new IllegalArgumentException("not supported on Redis Cluster: each master tracks only its own keys");
        }
        if (boundMillis < 1) {
            throw new IllegalArgumentException("bound must be at least 1 ms, was " + boundMillis);
        }
        this.settings = settings;
        this.client = client;
        this.clientName = clientName;
        this.prefix = prefix;
        this.boundNanos = TimeUnit.MILLISECONDS.toNanos(boundMillis);
        this.silenceNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(boundMillis, settings.timeoutMillis()));
        this.listener = listener;
        this.nanoTime = nanoTime;
        this.heartbeatChannel = prefix + "heartbeat:" + UUID.randomUUID();
        this.reader = new Thread(this::listen, "tomcat-redis-invalidations " + prefix);
        this.reader.setDaemon(true);
        this.pinger = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "tomcat-redis-invalidations-ping " + prefix);
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Whether every change acknowledged by Redis more than {@code boundMillis} ago has been passed
     * to the listener (and none was lost since).
     */
    public boolean isCurrent() {
        long confirmed = confirmedSentAt;
        return confirmed != NEVER && nanoTime.getAsLong() - confirmed <= boundNanos;
    }

    private void listen() {
        while (true) {
            Connection connection = null;
            try {
                synchronized (lock) {
                    if (closed) {
                        return;
                    }
                }
                connection = new Connection(master(), RedisConnector.resp2Config(settings, clientName));
                synchronized (lock) {
                    if (closed) {
                        connection.close();
                        return;
                    }
                    opened = connection;
                }
                // A replica emits a replicated write's invalidation after a heartbeat applied in the same
                // batch: only a master's order holds the promise of isCurrent.
                connection.sendCommand(Protocol.Command.ROLE);
                Object role = connection.getOne();
                if (!(role instanceof List<?> parts) || parts.isEmpty() || !(parts.get(0) instanceof byte[] name)
                        || !"master".equals(utf8(name))) {
                    throw new IllegalStateException("not a master: " + master());
                }
                connection.sendCommand(Protocol.Command.CLIENT, "ID");
                long id = connection.getIntegerReply();
                connection.sendCommand(Protocol.Command.CLIENT, "TRACKING", "ON", "REDIRECT", Long.toString(id), "BCAST",
                        "PREFIX", prefix);
                connection.getStatusCodeReply();
                connection.setTimeoutInfinite();
                connection.sendCommand(Protocol.Command.SUBSCRIBE, CHANNEL, heartbeatChannel);
                receive(connection, connection.getOne());
                while (true) {
                    receive(connection, connection.getUnflushedObject());
                }
            } catch (RuntimeException e) {
                logRateLimited(e);
            } finally {
                if (connection != null) {
                    connection.close();
                }
                lost();
            }
            synchronized (lock) {
                try {
                    if (!closed) {
                        lock.wait(retryMillis);
                        retryMillis = Math.min(MAX_RETRY_MILLIS, retryMillis * 2);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /**
     * One reply on the subscribed connection: a subscription confirmed, a heartbeat, or an
     * invalidation, which a RESP2 connection gets as a message on {@value #CHANNEL} and a RESP3
     * connection as an {@code invalidate} push.
     */
    private void receive(Connection connection, Object reply) {
        if (!(reply instanceof List<?> parts) || parts.size() < 2 || !(parts.get(0) instanceof byte[] kind)) {
            throw new IllegalStateException("unexpected reply on the invalidation subscription: " + reply);
        }
        switch (utf8(kind)) {
            case "subscribe" -> {
                if (parts.size() == 3 && parts.get(2) instanceof Long count && count == 2) {
                    synchronized (lock) {
                        subscribed = connection;
                        retryMillis = RETRY_MILLIS;
                    }
                }
            }
            case "invalidate" -> invalidate(parts.get(1));
            case "message" -> {
                if (parts.size() != 3) {
                    throw new IllegalStateException("unexpected message on the invalidation subscription: " + reply);
                }
                String channel = parts.get(1) instanceof byte[] name ? utf8(name) : "";
                if (heartbeatChannel.equals(channel)) {
                    heard(Long.parseLong(utf8((byte[]) parts.get(2))));
                } else {
                    invalidate(parts.get(2));
                }
            }
            default -> {
                // Nothing else is sent on a subscribed connection; a future kind of push is not ours.
            }
        }
    }

    /** @param keys the key names, one name, or null when Redis flushed its data */
    private void invalidate(Object keys) {
        if (keys == null) {
            listener.invalidatedAll();
        } else if (keys instanceof List<?> names) {
            for (Object key : names) {
                listener.invalidated(utf8((byte[]) key));
            }
        } else {
            listener.invalidated(utf8((byte[]) keys));
        }
    }

    private void heard(long heartbeat) {
        synchronized (lock) {
            while (!unanswered.isEmpty() && unanswered.peekFirst()[0] <= heartbeat) {
                long[] sent = unanswered.pollFirst();
                if (sent[0] == heartbeat) {
                    confirmedSentAt = sent[1];
                }
            }
        }
    }

    private static String utf8(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private HostAndPort master() {
        if (settings.topology() == RedisConnectionSettings.Topology.SENTINEL) {
            return client.call(jedis -> ((RedisSentinelClient) jedis).getCurrentMaster());
        }
        return new HostAndPort(settings.host(), settings.port());
    }

    /** The subscription ended or never began: nothing heard so far can be relied on. */
    private void lost() {
        synchronized (lock) {
            subscribed = null;
            opened = null;
            unanswered.clear();
            confirmedSentAt = NEVER;
        }
        listener.invalidatedAll();
    }

    private void ping() {
        long now = nanoTime.getAsLong();
        long heartbeat;
        synchronized (lock) {
            if (subscribed == null) {
                return;
            }
            long[] oldest = unanswered.peekFirst();
            if (oldest != null && now - oldest[1] > silenceNanos) {
                // Redis stopped delivering on this connection: whatever it sends later may have gaps.
                confirmedSentAt = NEVER;
                subscribed.close();
                return;
            }
            heartbeat = ++nextHeartbeat;
            unanswered.addLast(new long[] {heartbeat, now});
        }
        try {
            client.call(jedis -> jedis.publish(heartbeatChannel, Long.toString(heartbeat)));
        } catch (RuntimeException e) {
            // Not heard back then: the silence bound above ends the subscription if this goes on.
            LOG.log(Level.FINE, "Heartbeat for " + prefix + " not published", e);
        }
    }

    private void logRateLimited(RuntimeException e) {
        long now = nanoTime.getAsLong();
        synchronized (lock) {
            if (closed) {
                return;
            }
            if (lastLoggedNanos != 0 && now - lastLoggedNanos < LOG_EVERY_NANOS) {
                LOG.log(Level.FINE, "Invalidation subscription for " + prefix + " lost", e);
                return;
            }
            lastLoggedNanos = now;
        }
        LOG.log(Level.WARNING, "Invalidation subscription for keys " + prefix + "* on " + settings
                + " lost or refused; the near cache answers nothing until it is back: " + e);
    }

    /** Stops listening; the listener hears {@link Listener#invalidatedAll} once more. */
    @Override
    public void close() {
        Connection current;
        synchronized (lock) {
            closed = true;
            current = opened;
            lock.notifyAll();
        }
        pinger.shutdownNow();
        if (current != null) {
            current.close();
        }
        try {
            reader.join(TimeUnit.NANOSECONDS.toMillis(silenceNanos) + 1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package io.tomcatredis.cache;

import com.github.benmanes.caffeine.cache.Ticker;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Logger;
import redis.clients.jedis.BinaryJedisPubSub;
import redis.clients.jedis.UnifiedJedis;

/**
 * Keeps this node's {@link LocalTier} subscribed to the invalidation channel: {@code SUBSCRIBE
 * <keyPrefix>{cache}invalidations} on a client of its own, a {@code PING <ns>} on the subscribed
 * connection every heartbeat (its PONG, ordered after every message published before it, tells
 * the tier how recent its view is), and a new subscription after {@code reconnectMillis} when the
 * connection breaks. The tier is told of every loss before anything else happens.
 *
 * <p>A connection that hangs without breaking (Redis paused, a silent network partition) gets no
 * PONG: the tier stops serving after {@code localTierMaxLagMillis} and drops its copies; the
 * subscription resumes when Redis answers again, or is reopened once TCP gives the connection up.
 */
final class InvalidationSubscriber implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(InvalidationSubscriber.class.getName());

    private final Supplier<UnifiedJedis> opener;
    private final byte[] channel;
    private final LocalTier tier;
    private final Ticker ticker;
    private final long reconnectMillis;
    private final Thread reader;
    private final ScheduledExecutorService heartbeat;
    private final Object lock = new Object();
    private volatile boolean closed;
    private volatile Listener listener;
    private UnifiedJedis client;

    /**
     * @param opener opens a client of its own for the subscription (never the filter's pool)
     * @param heartbeatMillis the period of the PINGs, ms
     * @param reconnectMillis the pause before a new subscription after a failure, ms
     */
    InvalidationSubscriber(Supplier<UnifiedJedis> opener, String channel, LocalTier tier, Ticker ticker,
            long heartbeatMillis, long reconnectMillis, String name) {
        this.opener = opener;
        this.channel = channel.getBytes(StandardCharsets.UTF_8);
        this.tier = tier;
        this.ticker = ticker;
        this.reconnectMillis = reconnectMillis;
        this.reader = new Thread(this::subscribeUntilClosed, "tomcat-redis-cache-invalidations " + name);
        this.reader.setDaemon(true);
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "tomcat-redis-cache-heartbeat " + name);
            thread.setDaemon(true);
            return thread;
        });
        this.heartbeat.scheduleWithFixedDelay(this::beat, heartbeatMillis, heartbeatMillis, TimeUnit.MILLISECONDS);
        this.reader.start();
    }

    private void subscribeUntilClosed() {
        boolean warned = false;
        while (!closed) {
            Listener current = new Listener();
            UnifiedJedis opened = null;
            try {
                opened = opener.get();
                synchronized (lock) {
                    if (closed) {
                        opened.close();
                        return;
                    }
                    client = opened;
                    listener = current;
                }
                // Blocks until the connection breaks or close() unsubscribes.
                opened.subscribe(current, channel);
            } catch (RuntimeException e) {
                if (!closed && !warned) {
                    LOG.warning("The page cache's local tier is off until its invalidation channel "
                            + new String(channel, StandardCharsets.UTF_8) + " is subscribed again: " + e);
                    warned = true;
                }
            } finally {
                tier.unsubscribed();
                listener = null;
                if (opened != null) {
                    closeQuietly(opened);
                }
            }
            if (current.confirmed) {
                warned = false;
            }
            pauseBeforeReconnect();
        }
    }

    private void pauseBeforeReconnect() {
        synchronized (lock) {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(reconnectMillis);
            long left;
            while (!closed && (left = deadline - System.nanoTime()) > 0) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** A PING on the subscribed connection, and the gate checked (a closed gate drops the copies). */
    private void beat() {
        Listener current = listener;
        if (current != null && current.confirmed) {
            try {
                current.ping(Long.toString(ticker.read()).getBytes(StandardCharsets.US_ASCII));
            } catch (RuntimeException e) {
                // The reader sees the broken connection too, and subscribes again.
                LOG.fine("Heartbeat PING of the invalidation channel failed: " + e);
            }
        }
        tier.checkGate();
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
        heartbeat.shutdownNow();
        Listener current = listener;
        if (current != null && current.isSubscribed()) {
            try {
                current.unsubscribe();
            } catch (RuntimeException e) {
                LOG.fine("UNSUBSCRIBE of the invalidation channel failed: " + e);
            }
        }
        UnifiedJedis opened;
        synchronized (lock) {
            opened = client;
        }
        try {
            reader.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (reader.isAlive() && opened != null) {
            // Redis does not answer the UNSUBSCRIBE: the daemon thread ends when the connection does.
            closeQuietly(opened);
        }
        tier.unsubscribed();
    }

    private static void closeQuietly(UnifiedJedis opened) {
        try {
            opened.close();
        } catch (RuntimeException e) {
            LOG.fine("Closing the invalidation client failed: " + e);
        }
    }

    private final class Listener extends BinaryJedisPubSub {

        private volatile boolean confirmed;

        @Override
        public void onSubscribe(byte[] subscribed, int count) {
            tier.subscribed();
            confirmed = true;
            ping(Long.toString(ticker.read()).getBytes(StandardCharsets.US_ASCII));
        }

        @Override
        public void onMessage(byte[] from, byte[] entryKey) {
            tier.invalidate(entryKey);
        }

        @Override
        public void onPong(byte[] sent) {
            try {
                tier.pong(Long.parseLong(new String(sent, StandardCharsets.US_ASCII)));
            } catch (NumberFormatException e) {
                LOG.fine("A PONG this node did not ask for: " + e);
            }
        }
    }
}

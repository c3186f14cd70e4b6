package io.tomcatredis.cache;

import com.github.benmanes.caffeine.cache.Ticker;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Logger;
import redis.clients.jedis.BinaryJedisPubSub;
import redis.clients.jedis.UnifiedJedis;

/**
 * Keeps this node's {@link LocalTier} subscribed to the invalidation channel: {@code SUBSCRIBE
 * <keyPrefix>{cache}invalidations} on a client of its own, a heartbeat every {@code
 * heartbeatMillis} ({@link CacheKeys#HEARTBEAT} in every bucket, in one pipeline on another
 * connection of that client: it keeps the bucket's {@code listeners} key, without which the
 * bucket's scripts publish nothing, and publishes {@code "heartbeat <node id> <ns>"}, with
 * {@code " <bucket>"} added when there are several buckets, which Redis delivers to the subscribed
 * connection after every message published before it on the bucket's node, so the arrival of the
 * heartbeat of every bucket tells the tier how recent its view is), and a new subscription after
 * {@code reconnectMillis} when the connection breaks. The tier is told of every loss before
 * anything else happens.
 *
 * <p>Why not {@code PING} on the subscribed connection: with RESP3 (Jedis 8's default) its reply
 * is a plain string, which Jedis' reader may take before {@code JedisPubSub.ping} registered its
 * handler, and then ends the subscription ("Unexpected message").
 *
 * <p>A connection that hangs without breaking (Redis paused, a silent network partition) delivers
 * no heartbeat: the tier stops serving after {@code localTierMaxLagMillis} and drops its copies;
 * the subscription resumes when Redis answers again, or is reopened once TCP gives the connection up.
 */
final class InvalidationSubscriber implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(InvalidationSubscriber.class.getName());
    /** Starts every heartbeat message; never the start of a key name, which is the keyPrefix's. */
    static final String HEARTBEAT = "heartbeat ";
    private static final long MAX_PAUSE_MILLIS = 2000;

    private final Supplier<UnifiedJedis> opener;
    private final byte[] channel;
    /** One key list per bucket: its listeners key. */
    private final List<List<byte[]>> listeners;
    private final byte[] listenMillis;
    private final LocalTier tier;
    private final Ticker ticker;
    private final byte[] heartbeatPrefix;
    private final long reconnectMillis;
    private final Thread reader;
    private final ScheduledExecutorService heartbeat;
    private final Object lock = new Object();
    private volatile boolean closed;
    private volatile Listener listener;
    private UnifiedJedis client;

    /**
     * @param opener opens a client of its own for the subscription (never the filter's pool)
     * @param listenersKeys {@link CacheKeys.Bucket#listeners()} of every bucket, in bucket order
     * @param listenMillis how long a heartbeat keeps each listeners key, ms: longer than the tier
     *     serves after its last heartbeat
     * @param heartbeatMillis the period of the heartbeats, ms
     * @param reconnectMillis the pause before a new subscription after a failure, ms; doubled after
     *     each attempt that was not confirmed, up to 2 s
     */
    InvalidationSubscriber(Supplier<UnifiedJedis> opener, String channel, List<String> listenersKeys, long listenMillis,
            LocalTier tier, Ticker ticker, long heartbeatMillis, long reconnectMillis, String name) {
        this.opener = opener;
        this.channel = channel.getBytes(StandardCharsets.UTF_8);
        this.listeners = listenersKeys.stream().map(key -> List.of(key.getBytes(StandardCharsets.UTF_8))).toList();
        this.listenMillis = Long.toString(listenMillis).getBytes(StandardCharsets.US_ASCII);
        this.tier = tier;
        this.ticker = ticker;
        this.heartbeatPrefix = (HEARTBEAT + UUID.randomUUID() + " ").getBytes(StandardCharsets.US_ASCII);
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
        long pauseMillis = reconnectMillis;
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
                pauseMillis = reconnectMillis;
            } else {
                // Refused again and again (Redis away, no Pub/Sub rights): back off, up to 2 s.
                pauseMillis = Math.min(Math.max(MAX_PAUSE_MILLIS, reconnectMillis), pauseMillis * 2);
            }
            pauseBeforeReconnect(pauseMillis);
        }
    }

    private void pauseBeforeReconnect(long pauseMillis) {
        synchronized (lock) {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(pauseMillis);
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

    /** A heartbeat published, and the gate checked (a closed gate drops the copies). */
    private void beat() {
        Listener current = listener;
        UnifiedJedis opened;
        synchronized (lock) {
            opened = client;
        }
        if (current != null && current.confirmed && opened != null) {
            publishHeartbeat(opened);
        }
        tier.checkGate();
    }

    private void publishHeartbeat(UnifiedJedis opened) {
        String time = Long.toString(ticker.read());
        List<List<byte[]>> args = new ArrayList<>(listeners.size());
        for (int bucket = 0; bucket < listeners.size(); bucket++) {
            byte[] text = (listeners.size() == 1 ? time : time + " " + bucket).getBytes(StandardCharsets.US_ASCII);
            byte[] message = Arrays.copyOf(heartbeatPrefix, heartbeatPrefix.length + text.length);
            System.arraycopy(text, 0, message, heartbeatPrefix.length, text.length);
            args.add(List.of(listenMillis, channel, message));
        }
        try {
            CacheStore.runInEach(opened, CacheKeys.HEARTBEAT, listeners, args);
        } catch (RuntimeException e) {
            // Redis does not answer: no heartbeat arrives, and the gate closes by itself.
            LOG.fine("Heartbeat of the invalidation channel failed: " + e);
        }
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

    private static final byte[] HEARTBEAT_BYTES = HEARTBEAT.getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LISTENERS_LOST_BYTES = CacheKeys.LISTENERS_LOST.getBytes(StandardCharsets.US_ASCII);

    private static boolean startsWith(byte[] message, byte[] prefix) {
        return message.length >= prefix.length && Arrays.equals(message, 0, prefix.length, prefix, 0, prefix.length);
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
        /**
         * With several buckets, the send time of the last heartbeat received from each (read on
         * the subscription's thread only); the tier is told the earliest, once every bucket's came.
         */
        private final long[] lastPerBucket = new long[listeners.size()];
        private final boolean[] heard = new boolean[listeners.size()];

        @Override
        public void onSubscribe(byte[] subscribed, int count) {
            tier.subscribed();
            confirmed = true;
            // The first heartbeat at once: the tier serves as soon as it is back.
            try {
                heartbeat.execute(InvalidationSubscriber.this::beat);
            } catch (RejectedExecutionException e) {
                // Closing.
            }
        }

        @Override
        public void onMessage(byte[] from, byte[] message) {
            if (!startsWith(message, HEARTBEAT_BYTES)) {
                tier.invalidate(message);
            } else if (Arrays.equals(message, LISTENERS_LOST_BYTES)) {
                // Scripts ran without announcing, or Redis was flushed: any copy may be gone from Redis.
                tier.dropAll();
            } else if (startsWith(message, heartbeatPrefix)) {
                try {
                    heartbeat(new String(message, heartbeatPrefix.length, message.length - heartbeatPrefix.length,
                            StandardCharsets.US_ASCII));
                } catch (RuntimeException e) {
                    LOG.fine("A heartbeat of this node that is not its own: " + e);
                }
            }
            // Another node's heartbeat: nothing changed.
        }

        /** {@code "<ns>"}, or {@code "<ns> <bucket>"} with several buckets. */
        private void heartbeat(String text) {
            if (heard.length == 1) {
                tier.pong(Long.parseLong(text));
                return;
            }
            int space = text.indexOf(' ');
            long sent = Long.parseLong(text, 0, space, 10);
            int bucket = Integer.parseInt(text, space + 1, text.length(), 10);
            if (!heard[bucket] || sent - lastPerBucket[bucket] > 0) {
                lastPerBucket[bucket] = sent;
                heard[bucket] = true;
            }
            long earliest = sent;
            for (int b = 0; b < heard.length; b++) {
                if (!heard[b]) {
                    return;
                }
                if (lastPerBucket[b] - earliest < 0) {
                    earliest = lastPerBucket[b];
                }
            }
            tier.pong(earliest);
        }
    }
}

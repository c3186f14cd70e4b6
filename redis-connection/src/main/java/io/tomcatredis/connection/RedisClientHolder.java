package io.tomcatredis.connection;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Owns the pooled Redis client of a session manager or cache filter and replaces it when it is no
 * good any more, so that Redis trouble heals without a redeploy:
 *
 * <ul>
 *   <li>A failure that {@link StaleConnection} names ({@code READONLY}, {@code LOADING},
 *       {@code MASTERDOWN}, a broken connection) retires the client with all its pooled
 *       connections, idle ones included; the next call opens a new client, whose connections reach
 *       whatever node the address names now (DNS or virtual IP failover). Only when the client is
 *       {@linkplain Reopen#ON_STALE_CONNECTION reopened on such failures}: a Cluster client follows
 *       failovers itself (MOVED, slot map refresh), so it is kept.</li>
 *   <li>A client that cannot be opened (Sentinel or Cluster unreachable at deploy time) is opened
 *       again on a later call, in the background; calls meanwhile fail with
 *       {@link RedisNotConnectedException}.</li>
 * </ul>
 *
 * <p>Cost on the hot path: one volatile read. Bounds: a call waits at most {@code timeoutMillis}
 * for a client being opened; open attempts start at most once per {@code reconnectMillis} and one
 * at a time; a retired client is closed {@code 2 * timeoutMillis} later (calls that already hold
 * it finish first; new calls never get it). Thread-safe.
 */
public final class RedisClientHolder implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(RedisClientHolder.class.getName());
    private static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(30);

    /** When a client that opened is replaced. */
    public enum Reopen {
        /** After any {@link StaleConnection} failure (standalone, Sentinel). */
        ON_STALE_CONNECTION,
        /** Never once open (Cluster: the client re-reads the slot map itself). */
        NEVER
    }

    private final Supplier<UnifiedJedis> opener;
    private final Reopen reopen;
    private final long timeoutMillis;
    private final long reconnectNanos;
    private final LongSupplier nanoTime;
    private final String description;

    private final Object lock = new Object();
    private volatile UnifiedJedis client;
    /** The open attempt under way, or null; guarded by {@link #lock}. */
    private CompletableFuture<UnifiedJedis> opening;
    /** When the next open attempt may start ({@link #nanoTime} units); guarded by {@link #lock}. */
    private long nextAttemptNanos;
    /** Why the last open attempt failed, or null; guarded by {@link #lock}. */
    private RuntimeException openFailure;
    /** When a dropped client was last logged at INFO; guarded by {@link #lock}. */
    private long lastDropLoggedNanos;
    private ScheduledThreadPoolExecutor background;
    private boolean closed;
    private final Set<UnifiedJedis> retired = ConcurrentHashMap.newKeySet();
    /** What runs on the first call that reaches Redis ({@link #whenReachable}), or null. */
    private final AtomicReference<Consumer<UnifiedJedis>> whenReachable = new AtomicReference<>();

    /**
     * Opens the client now; when Redis cannot be reached, the holder is still created and opens it
     * again on a later call (a WARNING says why).
     *
     * @param opener          opens a new client; throws a {@link JedisException} when Redis cannot be reached
     * @param timeoutMillis   how long a call waits for a client being opened, in ms (at least 1);
     *                        a retired client is closed twice that later
     * @throws RuntimeException what {@code opener} throws other than a {@link JedisException}
     * @param reconnectMillis minimum time between the starts of two open attempts, in ms (0 or more)
     * @param description     where the client connects to, for logs (no password)
     */
    public RedisClientHolder(Supplier<UnifiedJedis> opener, Reopen reopen, long timeoutMillis, long reconnectMillis,
            String description) {
        this(opener, reopen, timeoutMillis, reconnectMillis, description, System::nanoTime);
    }

    RedisClientHolder(Supplier<UnifiedJedis> opener, Reopen reopen, long timeoutMillis, long reconnectMillis,
            String description, LongSupplier nanoTime) {
        if (timeoutMillis < 1 || reconnectMillis < 0) {
            throw new IllegalArgumentException("timeoutMillis must be >= 1 and reconnectMillis >= 0");
        }
        this.opener = opener;
        this.reopen = reopen;
        this.timeoutMillis = timeoutMillis;
        this.reconnectNanos = TimeUnit.MILLISECONDS.toNanos(reconnectMillis);
        this.nanoTime = nanoTime;
        this.description = description;
        synchronized (lock) {
            nextAttemptNanos = nanoTime.getAsLong() + reconnectNanos;
        }
        try {
            client = opener.get();
        } catch (JedisException e) {
            // Redis trouble (any other exception, such as an unreadable keystore, is a configuration
            // error and stops the caller's start).
            synchronized (lock) {
                openFailure = e;
            }
            LOG.warning("Redis (" + description + ") cannot be reached now: " + e.getMessage()
                    + "; calls fail until it can, and it is tried again while calls come in");
        }
    }

    /**
     * Runs {@code command} on the current client. A failure that shows the client's connections
     * are stale retires the client (see the class comment) before it is rethrown as is.
     *
     * @throws RedisNotConnectedException when no client is open and none could be opened within
     *         {@code timeoutMillis}
     * @throws RuntimeException whatever {@code command} throws
     */
    public <T> T call(Function<UnifiedJedis, T> command) {
        UnifiedJedis current = client;
        if (current == null) {
            current = awaitOpen();
        }
        T result;
        try {
            result = command.apply(current);
        } catch (RuntimeException e) {
            failed(current, e);
            if (!(e instanceof JedisConnectionException)) {
                reached(current);
            }
            throw e;
        }
        reached(current);
        return result;
    }

    /**
     * Runs {@code task} once, on the thread of the first later {@link #call} that reaches Redis (a
     * reply, even an error reply), with that call's client: for what a component checks at start
     * (its ACL permissions) when Redis could not be reached then. A task that fails on a
     * connection error waits for the next call that reaches Redis; any other failure is logged.
     * Cost on the hot path: one volatile read.
     */
    public void whenReachable(Consumer<UnifiedJedis> task) {
        whenReachable.set(task);
    }

    private void reached(UnifiedJedis reachable) {
        Consumer<UnifiedJedis> task = whenReachable.get();
        if (task == null || !whenReachable.compareAndSet(task, null)) {
            return;
        }
        try {
            task.accept(reachable);
        } catch (JedisConnectionException e) {
            whenReachable.compareAndSet(null, task);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "A check once Redis (" + description + ") could be reached failed", e);
        }
    }

    /** Whether a client is open now (it may still fail). */
    public boolean isOpen() {
        return client != null;
    }

    /** Retires {@code used} when {@code failure} shows its connections are stale and it is still current. */
    void failed(UnifiedJedis used, RuntimeException failure) {
        if (reopen != Reopen.ON_STALE_CONNECTION) {
            return;
        }
        StaleConnection reason = StaleConnection.of(failure);
        if (reason == null) {
            return;
        }
        boolean firstInAWhile;
        synchronized (lock) {
            if (client != used || closed) {
                return;
            }
            client = null;
            retire(used);
            long now = nanoTime.getAsLong();
            firstInAWhile = lastDropLoggedNanos == 0 || now - lastDropLoggedNanos > LOG_EVERY_NANOS;
            if (firstInAWhile) {
                lastDropLoggedNanos = now;
            }
        }
        // A failover drops connections several times while it lasts: one INFO line per episode.
        LOG.log(firstInAWhile ? Level.INFO : Level.FINE, "Dropping the connections to Redis (" + description
                + ") after " + reason + " (" + failure.getMessage() + "); the next call connects again");
    }

    private UnifiedJedis awaitOpen() {
        CompletableFuture<UnifiedJedis> attempt;
        synchronized (lock) {
            if (closed) {
                throw new RedisNotConnectedException("the Redis client (" + description + ") is closed", null);
            }
            if (client != null) {
                return client;
            }
            if (opening == null) {
                long now = nanoTime.getAsLong();
                if (now - nextAttemptNanos < 0) {
                    throw new RedisNotConnectedException("Redis (" + description + ") cannot be reached"
                            + (openFailure != null ? ": " + openFailure.getMessage() : ""), openFailure);
                }
                nextAttemptNanos = now + reconnectNanos;
                opening = CompletableFuture.supplyAsync(this::openNow, background());
            }
            attempt = opening;
        }
        try {
            return attempt.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new RedisNotConnectedException("Redis (" + description + ") is still being connected to after "
                    + timeoutMillis + " ms", e);
        } catch (ExecutionException e) {
            throw new RedisNotConnectedException("Redis (" + description + ") cannot be reached: "
                    + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RedisNotConnectedException("Interrupted while connecting to Redis (" + description + ")", e);
        }
    }

    /** One open attempt, on the background thread. */
    private UnifiedJedis openNow() {
        UnifiedJedis opened;
        try {
            opened = opener.get();
        } catch (RuntimeException e) {
            synchronized (lock) {
                opening = null;
                openFailure = e;
            }
            LOG.log(Level.FINE, "Redis (" + description + ") cannot be reached yet", e);
            throw e;
        }
        synchronized (lock) {
            opening = null;
            if (closed) {
                opened.close();
                throw new RedisNotConnectedException("the Redis client (" + description + ") is closed", null);
            }
            boolean recovered = openFailure != null;
            openFailure = null;
            client = opened;
            if (recovered) {
                LOG.info("Redis (" + description + ") can be reached again");
            }
        }
        return opened;
    }

    /**
     * Closes {@code old} once calls that already hold it are done: they wait at most
     * {@code timeoutMillis} for a pooled connection and as long for Redis to answer.
     */
    private void retire(UnifiedJedis old) {
        retired.add(old);
        background().schedule(() -> {
            if (retired.remove(old)) {
                closeQuietly(old);
            }
        }, 2 * timeoutMillis, TimeUnit.MILLISECONDS);
    }

    /** The thread that opens and closes clients, started on first need and gone when idle. */
    private ScheduledThreadPoolExecutor background() {
        if (background == null) {
            background = new ScheduledThreadPoolExecutor(1, task -> {
                Thread thread = new Thread(task, "tomcat-redis-reconnect");
                thread.setDaemon(true);
                // Not the loader of the request that happened to start it: that would pin a webapp.
                thread.setContextClassLoader(RedisClientHolder.class.getClassLoader());
                return thread;
            });
            background.setKeepAliveTime(10, TimeUnit.SECONDS);
            background.allowCoreThreadTimeOut(true);
            background.setRemoveOnCancelPolicy(true);
        }
        return background;
    }

    /** Closes the client and every retired one, and stops the background thread. */
    @Override
    public void close() {
        UnifiedJedis current;
        ScheduledThreadPoolExecutor stopping;
        synchronized (lock) {
            closed = true;
            current = client;
            client = null;
            stopping = background;
        }
        if (stopping != null) {
            stopping.shutdownNow();
            try {
                // An open attempt under way ends within its connect timeouts; the thread is gone
                // before the webapp is, so Tomcat sees no leaked thread.
                stopping.awaitTermination(timeoutMillis, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (current != null) {
            closeQuietly(current);
        }
        for (UnifiedJedis old : retired) {
            if (retired.remove(old)) {
                closeQuietly(old);
            }
        }
    }

    private void closeQuietly(UnifiedJedis old) {
        try {
            old.close();
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "Closing a retired Redis client (" + description + ") failed", e);
        }
    }

    /** No Redis client is open: Redis could not be reached when one was last opened. */
    public static final class RedisNotConnectedException extends JedisConnectionException {
        private static final long serialVersionUID = 1L;

        RedisNotConnectedException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}

package io.tomcatredis.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * The opt-in local tier ({@code localTierBytes}): copies of hot entries, and of the Vary markers
 * that lead to them, in this node's heap (Caffeine, bounded by an estimate of their bytes), so
 * that a hit costs no round trip. It holds only what a Redis lookup returned (what the shared
 * store would serve to anyone who may be served it), under the entry's canonical key, with an
 * index from its Redis key name (what the invalidation messages name).
 *
 * <p>Redis stays the truth. Every script that removes or replaces an entry publishes its key name
 * on the invalidation channel ({@link CacheKeys#invalidations()}), which {@link
 * InvalidationSubscriber} delivers to {@link #invalidate}. The tier serves only while that
 * subscription is known to be alive: confirmed, and the last heartbeat this node published on
 * the channel and received back was sent less than {@code maxLagMillis} ago. A heartbeat arrives
 * after every message published before it, so a copy served at time t reflects every change
 * published before t - maxLagMillis. Whenever the gate closes (subscription not confirmed yet,
 * broken, reconnecting, or its heartbeat late), the whole tier is dropped.
 *
 * <p>A copy read from Redis before a change and put after the change's message arrived would
 * outlive it: every message and every change of the gate advances a generation, and a put whose
 * lookup began in an earlier generation is refused ({@link #put}).
 */
final class LocalTier {

    /**
     * A copy: an entry, or a Vary marker (the header names), with the URL it was looked up for
     * (what eviction by URL finds) and when it stops being used (epoch ms of the filter's clock).
     */
    record Copy(CachedResponse entry, String varyHeaders, String url, long until) {

        /** Estimated heap bytes: the body, header and key text (UTF-16), and the objects around them. */
        int weight() {
            long bytes = 256 + 2L * url.length();
            if (entry != null) {
                bytes += entry.body().length + 2L * entry.key().length();
                for (CachedResponse.Header header : entry.headers()) {
                    bytes += 48 + 2L * (header.name().length() + header.value().length());
                }
                for (String tag : entry.tags()) {
                    bytes += 48 + 2L * tag.length();
                }
            } else {
                bytes += 2L * varyHeaders.length();
            }
            return (int) Math.min(Integer.MAX_VALUE, bytes);
        }
    }

    private final CacheKeys keys;
    private final Clock clock;
    private final Ticker ticker;
    private final long maxBytes;
    private final long maxLagNanos;
    /**
     * The copies by canonical key (no SHA-256 on a local hit); null when the tier is off
     * ({@code localTierBytes} 0): nothing is kept, nothing is served.
     */
    private final Cache<String, Held> copies;
    /**
     * Redis key name of each copy's entry to the copy, for the channel's messages. A copy's
     * removal takes out its own mapping only (an identity, not an equal copy kept since).
     */
    private final Map<String, Held> byKeyName = new ConcurrentHashMap<>();

    /** A copy as held: identity matters ({@link #byKeyName}), so no record. */
    private static final class Held {
        private final String canonical;
        private final String keyName;
        private final Copy copy;

        private Held(String canonical, String keyName, Copy copy) {
            this.canonical = canonical;
            this.keyName = keyName;
            this.copy = copy;
        }
    }
    private final AtomicLong generation = new AtomicLong();
    private volatile boolean subscribed;
    /** {@link Ticker#read()} when the last heartbeat received was sent; valid while {@link #subscribed}. */
    private volatile long lastPongSent;

    /**
     * @param maxBytes the bound of the copies' estimated bytes; 0: the tier is off
     * @param maxLagMillis how old the last heartbeat received may be while copies are served, ms
     * @param ticker the monotonic time of the heartbeat and of Caffeine, in ns
     */
    LocalTier(CacheKeys keys, long maxBytes, long maxLagMillis, Clock clock, Ticker ticker) {
        this.keys = keys;
        this.clock = clock;
        this.ticker = ticker;
        this.maxBytes = maxBytes;
        this.maxLagNanos = TimeUnit.MILLISECONDS.toNanos(maxLagMillis);
        this.copies = maxBytes == 0 ? null : Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((String key, Held held) -> held.copy.weight())
                .expireAfter(new Expiry<String, Held>() {
                    @Override
                    public long expireAfterCreate(String key, Held held, long currentTime) {
                        return TimeUnit.MILLISECONDS.toNanos(Math.max(0, held.copy.until() - clock.millis()));
                    }

                    @Override
                    public long expireAfterUpdate(String key, Held held, long currentTime, long currentDuration) {
                        return expireAfterCreate(key, held, currentTime);
                    }

                    @Override
                    public long expireAfterRead(String key, Held held, long currentTime, long currentDuration) {
                        return currentDuration;
                    }
                })
                .ticker(ticker)
                .removalListener((String canonical, Held held, RemovalCause cause) -> {
                    if (held != null) {
                        byKeyName.remove(held.keyName, held);
                    }
                })
                // Maintenance (eviction to the bound) in the writing thread: the bound holds after each put.
                .executor(Runnable::run)
                .build();
    }

    /** The generation to pass to {@link #put}: read it before the Redis lookup whose result is put. */
    long generation() {
        return generation.get();
    }

    /**
     * The copy of {@code canonical} (an entry or a marker), or null: none, expired, or the gate is
     * closed (then every copy is dropped).
     */
    Copy get(String canonical) {
        if (copies == null) {
            return null;
        }
        if (!serving()) {
            dropAll();
            return null;
        }
        Held held = copies.getIfPresent(canonical);
        return held == null ? null : held.copy;
    }

    /**
     * Keeps a copy of what a Redis lookup of {@code canonical} returned, unless the lookup began
     * before the current {@code generation}, the gate is closed, or it would fill the tier alone.
     */
    void put(String canonical, Copy copy, long lookupGeneration) {
        if (copies == null || generation.get() != lookupGeneration || !serving() || copy.weight() > maxBytes
                || copy.until() <= clock.millis()) {
            return;
        }
        Held held = new Held(canonical, keys.entry(canonical), copy);
        // The copy first: a message that finds no mapping yet has advanced the generation, checked below.
        copies.put(canonical, held);
        byKeyName.put(held.keyName, held);
        if (generation.get() != lookupGeneration) {
            // A message (or a change of the gate) came in between: it may have been for this key.
            copies.invalidate(canonical);
        }
    }

    /** A message of the invalidation channel: the Redis key name of an entry or marker that changed. */
    void invalidate(byte[] entryKey) {
        generation.incrementAndGet();
        Held held = byKeyName.remove(new String(entryKey, StandardCharsets.UTF_8));
        if (copies != null && held != null) {
            copies.invalidate(held.canonical);
        }
    }

    /** After this node evicted a URL: its copies go at once, before its own message comes back. */
    void evictedUrl(String url) {
        drop(held -> held.copy.url().equals(url));
    }

    /** After this node evicted a tag: the copies carrying it go at once. */
    void evictedTag(String tag) {
        drop(held -> held.copy.entry() != null && held.copy.entry().tags().contains(tag));
    }

    private void drop(Predicate<Held> which) {
        generation.incrementAndGet();
        if (copies != null) {
            copies.asMap().values().removeIf(which);
        }
    }

    /** The subscription is confirmed: copies may be kept once the first heartbeat is back. */
    void subscribed() {
        generation.incrementAndGet();
        lastPongSent = ticker.read() - maxLagNanos - 1;
        subscribed = true;
    }

    /** The subscription broke, or is being reopened: nothing is served until it is confirmed again. */
    void unsubscribed() {
        subscribed = false;
        dropAll();
    }

    /** This node's heartbeat sent at {@code sentNanos} ({@link Ticker#read()}) arrived on the subscription. */
    void pong(long sentNanos) {
        if (sentNanos - lastPongSent > 0) {
            boolean was = serving();
            lastPongSent = sentNanos;
            if (!was) {
                // Lookups before the gate opened may predate the scripts' announcing (the listeners key).
                generation.incrementAndGet();
            }
        }
    }

    /** Drops every copy when the gate has closed; called by the heartbeat, so that a closed gate frees the heap. */
    void checkGate() {
        if (copies != null && !serving() && copies.estimatedSize() > 0) {
            dropAll();
        }
    }

    /** Whether copies are served: subscribed, and the last heartbeat received sent less than maxLagMillis ago. */
    boolean serving() {
        return subscribed && ticker.read() - lastPongSent < maxLagNanos;
    }

    void dropAll() {
        generation.incrementAndGet();
        if (copies != null) {
            copies.invalidateAll();
        }
    }

    /** Estimated bytes of the copies held, at most {@code localTierBytes}. */
    long bytes() {
        if (copies == null) {
            return 0;
        }
        copies.cleanUp();
        return copies.policy().eviction().map(eviction -> eviction.weightedSize().orElse(0)).orElse(0L);
    }

    long count() {
        if (copies == null) {
            return 0;
        }
        copies.cleanUp();
        return copies.estimatedSize();
    }
}

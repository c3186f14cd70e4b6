package io.tomcatredis.cache;

import io.tomcatredis.connection.LuaScript;
import io.tomcatredis.connection.RedisClientHolder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.logging.Logger;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisNoScriptException;
import redis.clients.jedis.exceptions.JedisRedirectionException;

/**
 * Reads and writes cache entries in the layout of {@link CacheKeys}; every call is one round trip
 * (a corrupt entry costs two more: it is deleted), or one pipeline for the calls that reach every
 * bucket (tag eviction, the byte and entry gauges). Every failure of the Redis client surfaces as
 * {@link CacheUnavailableException}, its cause. The client comes from a {@link RedisClientHolder}, which drops
 * stale connections (a failover behind a stable address, a broken connection) and opens a client
 * that could not be opened at startup once Redis answers.
 */
final class CacheStore {

    /**
     * HIT, STALE: an entry. PASS: "hit for pass", go to the application uncached. MISS: "hit for
     * miss", render without a lease (nobody waits for it) and store if storable. LEASE: render and
     * store. WAIT: another request holds the lease. FULL: Redis refused the lease for memory
     * ({@code OOM}): pass, and give memory back ({@link MemoryPressure}).
     */
    enum Outcome { HIT, STALE, PASS, MISS, LEASE, WAIT, FULL }

    /** What a release leaves on the URL ({@link CacheKeys}' {@code p:} key). */
    enum Mark {
        NONE(""), PASS("1"), MISS("m");

        private final String value;

        Mark(String value) {
            this.value = value;
        }
    }

    /**
     * What a lookup found: an entry (HIT, STALE), a vary marker, or what to do instead.
     *
     * @param since Redis' time of the lookup, in ms: a render that follows it began then, and its
     *     store is discarded if its URL or a tag of it was evicted since
     * @param ttlMillis of a HIT (an entry or a Vary marker), the key's {@code PTTL} when the store
     *     was asked for it (the local tier), else -1
     */
    record Lookup(Outcome outcome, CachedResponse entry, String varyHeaders, boolean refreshLease, long since,
            long ttlMillis) {

        Lookup(Outcome outcome, CachedResponse entry, String varyHeaders, boolean refreshLease, long since) {
            this(outcome, entry, varyHeaders, refreshLease, since, -1);
        }
    }

    private static final Logger LOG = Logger.getLogger(CacheStore.class.getName());

    private final RedisClientHolder redis;
    private final CacheKeys keys;
    private final Clock clock;
    private final boolean hitTtls;

    CacheStore(RedisClientHolder redis, CacheKeys keys, Clock clock) {
        this(redis, keys, clock, false);
    }

    /** @param hitTtls whether a HIT's lookup returns the key's {@code PTTL} ({@link Lookup#ttlMillis()}) */
    CacheStore(RedisClientHolder redis, CacheKeys keys, Clock clock, boolean hitTtls) {
        this.redis = redis;
        this.keys = keys;
        this.clock = clock;
        this.hitTtls = hitTtls;
    }

    /**
     * Looks {@code canonical} up (EVALSHA of {@link CacheKeys#LOOKUP}) and, when it is absent and
     * {@code wantLease}, takes the lease to render it for {@code leaseMillis} ms. An entry that
     * cannot be read (corrupt, written by an older version, or holding another key) is deleted and
     * counts as absent.
     *
     * @throws CacheUnavailableException when Redis fails
     */
    Lookup lookup(String canonical, String token, long leaseMillis, boolean wantLease) {
        return lookup(canonical, token, leaseMillis, wantLease, true);
    }

    /**
     * {@link #lookup} of a key where only an entry belongs (a variant of a URL whose responses
     * vary): a Vary marker found there is unreadable as well, deleted and counted as absent.
     *
     * @throws CacheUnavailableException when Redis fails
     */
    Lookup lookupEntry(String canonical, String token, long leaseMillis, boolean wantLease) {
        return lookup(canonical, token, leaseMillis, wantLease, false);
    }

    private Lookup lookup(String canonical, String token, long leaseMillis, boolean wantLease,
            boolean markerAllowed) {
        Lookup found = lookupOnce(canonical, token, leaseMillis, wantLease);
        if (found == null || !markerAllowed && found.varyHeaders() != null) {
            LOG.warning("The cache entry " + keys.entry(canonical) + " of " + canonical + " is unreadable (corrupt,"
                    + " or written by another version): deleted, the page is rendered and stored again");
            // The lookup of a stale entry takes the refresh lease: give it back with the entry.
            call("DEL", jedis -> jedis.del(keys.entry(canonical)));
            release(canonical, token);
            found = lookupOnce(canonical, token, leaseMillis, wantLease);
        }
        return found != null ? found : new Lookup(Outcome.PASS, null, null, false, 0);
    }

    @SuppressWarnings("unchecked")
    private Lookup lookupOnce(String canonical, String token, long leaseMillis, boolean wantLease) {
        Object result = run(CacheKeys.LOOKUP,
                bytes(keys.entry(canonical), keys.pass(canonical), keys.lease(canonical), keys.bucketOf(canonical).lru()),
                bytes(token, Long.toString(leaseMillis), Long.toString(clock.millis()), wantLease ? "1" : "0",
                        hitTtls ? "1" : "0"));
        List<Object> reply = (List<Object>) result;
        Outcome outcome = Outcome.valueOf(new String((byte[]) reply.get(0), StandardCharsets.UTF_8));
        long since = (Long) reply.get(1);
        warnRepaired(reply.get(2));
        if (outcome != Outcome.HIT && outcome != Outcome.STALE) {
            return new Lookup(outcome, null, null, false, since);
        }
        List<byte[]> flat = (List<byte[]>) reply.get(3);
        long ttl = outcome == Outcome.HIT && reply.size() > 4 && reply.get(4) instanceof Long pttl ? pttl : -1;
        String vary = CachedResponse.varyMarker(flat);
        if (vary != null) {
            return new Lookup(Outcome.HIT, null, vary, false, since, ttl);
        }
        CachedResponse entry = CachedResponse.fromFlatHash(flat);
        if (entry == null || !entry.key().equals(canonical)) {
            return null;
        }
        boolean refresh = outcome == Outcome.STALE && reply.size() > 4 && Long.valueOf(1).equals(reply.get(4));
        return new Lookup(outcome, entry, null, refresh, since, ttl);
    }

    /** What {@link #store} returns when the entry was discarded: its URL or a tag of it was evicted since its render began. */
    static final long DISCARDED_EVICTED = -1;

    /**
     * What {@link #store} returns when the entry was discarded: alone it is larger than its bucket's
     * budget ({@link #bucketBudget}), so keeping it would break the budget.
     */
    static final long DISCARDED_OVER_BUDGET = -2;

    /**
     * Stores an entry in its URL's bucket and releases the lease (EVALSHA of {@link
     * CacheKeys#STORE}); returns how many entries the bucket's byte budget ({@link #bucketBudget} of
     * {@code maxCacheBytes}) evicted, or {@link #DISCARDED_EVICTED} when the entry was discarded
     * because {@code url} or one of its tags was evicted since {@code renderSince} (Redis ms,
     * {@link Lookup#since()}), or {@link #DISCARDED_OVER_BUDGET} when it alone is larger than the
     * bucket's budget.
     *
     * @throws CacheUnavailableException when Redis fails
     */
    long store(CachedResponse entry, String leaseCanonical, String url, String token, long maxCacheBytes,
            long renderSince) {
        String variantsOf = entry.key().equals(url) ? null : url;
        CacheKeys.Bucket bucket = keys.bucketOf(url);
        List<byte[]> args = new ArrayList<>();
        long now = clock.millis();
        long ttl = Math.max(1, entry.staleUntil() - now);
        Map<String, byte[]> hash = entry.toHash();
        String entryKey = keys.entry(entry.key());
        // Tag memberships are counted by the script: a set it creates with its MEMORY USAGE, a member
        // of an existing one with membershipBytes.
        long bookkeeping = bookkeepingBytes(entryKey.length(), variantsOf == null ? 0 : 1);
        args.addAll(bytes(token, Long.toString(ttl), Long.toString(now),
                Long.toString(bucketBudget(maxCacheBytes)), Long.toString(bookkeeping), Integer.toString(entry.tags().size()),
                Long.toString(renderSince), Long.toString(CacheKeys.EVICTION_MEMORY_MILLIS),
                Long.toString(membershipBytes(entryKey.length()))));
        List<String> tags = List.copyOf(entry.tags());
        for (String tag : tags) {
            args.add(utf8(bucket.tag(tag)));
        }
        for (String tag : tags) {
            args.add(utf8(bucket.tagEvicted(tag)));
        }
        for (Map.Entry<String, byte[]> field : hash.entrySet()) {
            args.add(utf8(field.getKey()));
            args.add(field.getValue());
        }
        Object reply = run(CacheKeys.STORE, bytes(entryKey, keys.lease(leaseCanonical), bucket.lru(),
                bucket.sizes(), bucket.bytes(), variantsOf == null ? entryKey : keys.variants(variantsOf),
                keys.urlEvicted(url)), args);
        return countOf(reply);
    }

    /**
     * The byte budget of one bucket: {@code maxCacheBytes} divided by the number of buckets (all of
     * it on standalone and Sentinel), so that the buckets together never hold more than {@code
     * maxCacheBytes}, each kept within its share atomically by its own scripts.
     */
    long bucketBudget(long maxCacheBytes) {
        return maxCacheBytes / keys.buckets().size();
    }

    /**
     * What an entry (or an eviction time, with no memberships) costs Redis beyond its own {@code
     * MEMORY USAGE}, in bytes: its key in the
     * keyspace and the expiry table, its member of the LRU sorted set, its field of the sizes hash,
     * and its members of tag and variant sets (key names counted with their allocation, the
     * structures with Redis 7's 64-bit sizes). The budget then follows what Redis really uses
     * (see CacheMemoryBudgetIT).
     */
    static long bookkeepingBytes(int entryKeyLength, int memberships) {
        return 96 + (2 * (entryKeyLength + 16L) + 140) + memberships * membershipBytes(entryKeyLength);
    }

    /** What an entry's member of an existing set (a tag's, a URL's variants) costs Redis, in bytes. */
    static long membershipBytes(int entryKeyLength) {
        return entryKeyLength + 16L + 40;
    }

    /**
     * The count a script returns first ({@link CacheKeys#STORE}, {@link CacheKeys#EVICT_URL},
     * {@link CacheKeys#EVICT_TAG}), after logging the keys it repaired.
     */
    @SuppressWarnings("unchecked")
    private static long countOf(Object reply) {
        if (!(reply instanceof List<?> list) || list.isEmpty()) {
            return 0;
        }
        if (list.size() > 1) {
            warnRepaired(list.get(1));
        }
        return list.get(0) instanceof Long count ? count : 0;
    }

    /** Logs the keys a script found corrupt (of another type or value than the layout's) and repaired. */
    private static void warnRepaired(Object repaired) {
        if (repaired instanceof List<?> keys && !keys.isEmpty()) {
            List<String> names = new ArrayList<>();
            for (Object key : keys) {
                names.add(key instanceof byte[] raw ? new String(raw, StandardCharsets.UTF_8) : String.valueOf(key));
            }
            LOG.warning("Corrupt cache bookkeeping in Redis (of another type or value than the cache writes there,"
                    + " see the layout in README.md): " + names + " deleted or rebuilt");
        }
    }

    /** Writes the Vary marker of {@code canonical}, living until {@code staleUntil} (epoch ms). */
    void markVary(String canonical, String headerNames, long staleUntil) {
        run(CacheKeys.MARK_VARY, bytes(keys.entry(canonical)),
                bytes(Long.toString(Math.max(1, staleUntil - clock.millis())), headerNames,
                        keys.bucketOf(canonical).lru()));
    }

    /** Releases this request's lease without storing (EVALSHA of {@link CacheKeys#RELEASE}). */
    void release(String canonical, String token) {
        release(canonical, token, Mark.NONE, 0);
    }

    /**
     * Releases this request's lease without storing and marks the URL for {@code markMillis} ms
     * (EVALSHA of {@link CacheKeys#RELEASE}).
     */
    void release(String canonical, String token, Mark mark, long markMillis) {
        run(CacheKeys.RELEASE, bytes(keys.lease(canonical), keys.pass(canonical)),
                bytes(token, Long.toString(mark == Mark.NONE ? 0 : markMillis), mark.value));
    }

    /**
     * Keeps this request's (refresh) lease for {@code backOffMillis} ms from now, so that nobody
     * renders the URL again before then (EVALSHA of {@link CacheKeys#BACK_OFF}).
     */
    void backOff(String canonical, String token, long backOffMillis) {
        run(CacheKeys.BACK_OFF, bytes(keys.lease(canonical)), bytes(token, Long.toString(Math.max(1, backOffMillis))));
    }

    /**
     * Evicts a URL's entry, variants and mark, and remembers the eviction for
     * {@link CacheKeys#EVICTION_MEMORY_MILLIS}, counted in its bucket's share ({@link #bucketBudget})
     * of {@code maxCacheBytes} (EVALSHA of {@link CacheKeys#EVICT_URL}); returns how many entries went.
     */
    long evictUrl(String canonical, long maxCacheBytes) {
        CacheKeys.Bucket bucket = keys.bucketOf(canonical);
        String evicted = keys.urlEvicted(canonical);
        return countOf(run(CacheKeys.EVICT_URL, bytes(keys.entry(canonical), keys.variants(canonical),
                keys.pass(canonical), bucket.lru(), bucket.sizes(), bucket.bytes(), evicted,
                keys.lease(canonical)), bytes(Long.toString(CacheKeys.EVICTION_MEMORY_MILLIS),
                Long.toString(bucketBudget(maxCacheBytes)), Long.toString(bookkeepingBytes(evicted.length(), 0)))));
    }

    /**
     * Evicts the entries carrying a tag in every bucket, and remembers the eviction in every bucket
     * for {@link CacheKeys#EVICTION_MEMORY_MILLIS}, counted in each bucket's share ({@link #bucketBudget})
     * of {@code maxCacheBytes} (EVALSHA of {@link CacheKeys#EVICT_TAG} once per
     * bucket, in one pipeline: one round trip per Cluster node); returns how many entries went.
     *
     * @throws CacheUnavailableException when Redis fails: the buckets whose script ran are evicted,
     *     the others may still hold tagged entries
     */
    long evictTag(String tag, long maxCacheBytes) {
        List<List<byte[]>> keyLists = new ArrayList<>();
        List<List<byte[]>> argLists = new ArrayList<>();
        for (CacheKeys.Bucket bucket : keys.buckets()) {
            String evicted = bucket.tagEvicted(tag);
            keyLists.add(bytes(bucket.tag(tag), bucket.lru(), bucket.sizes(), bucket.bytes(), evicted));
            argLists.add(bytes(Long.toString(CacheKeys.EVICTION_MEMORY_MILLIS), Long.toString(bucketBudget(maxCacheBytes)),
                    Long.toString(bookkeepingBytes(evicted.length(), 0))));
        }
        long count = 0;
        for (Object reply : call("EVALSHA", jedis -> runInEach(jedis, CacheKeys.EVICT_TAG, keyLists, argLists))) {
            count += countOf(reply);
        }
        return count;
    }

    /**
     * Gives memory back when Redis refused a write of the cache for memory: in every bucket (on
     * Redis Cluster the shard out of memory holds several, and which is not known here; a healthy
     * shard's cache gives a tenth back too, which costs it only renders), evicts the least recently
     * used entries until the bucket counts {@code fraction} less than before and at least its share
     * of {@code minBytes} less, or {@code maxEntries} went (EVALSHA of {@link CacheKeys#SHED} per
     * bucket, in one pipeline; the script runs when Redis is out of memory). Returns {entries
     * evicted, bytes counted before, after}, summed over the buckets.
     *
     * @throws CacheUnavailableException when Redis fails
     */
    long[] shed(double fraction, long minBytes, int maxEntries) {
        int buckets = keys.buckets().size();
        List<byte[]> args = bytes(Long.toString(Math.round(fraction * 1_000_000)),
                Long.toString((minBytes + buckets - 1) / buckets), Integer.toString(maxEntries));
        List<List<byte[]>> keyLists = new ArrayList<>();
        List<List<byte[]>> argLists = new ArrayList<>();
        for (CacheKeys.Bucket bucket : keys.buckets()) {
            keyLists.add(bytes(bucket.lru(), bucket.sizes(), bucket.bytes()));
            argLists.add(args);
        }
        long[] total = new long[3];
        for (Object reply : call("EVALSHA", jedis -> runInEach(jedis, CacheKeys.SHED, keyLists, argLists))) {
            total[0] += countOf(reply);
            if (reply instanceof List<?> list && list.size() > 3 && list.get(2) instanceof Long before
                    && list.get(3) instanceof Long after) {
                total[1] += before;
                total[2] += after;
            }
        }
        return total;
    }

    /**
     * Entries in Redis: the sizes of every bucket's sizes hash ({@code HLEN}, one pipeline), summed;
     * a sizes key of another type (corrupt: the next store or eviction in its bucket deletes it)
     * counts none.
     */
    long entriesStored() {
        return call("HLEN", jedis -> {
            long total = 0;
            for (Long length : inEach(jedis, keys.buckets().size(), (pipeline, b) -> pipeline.hlen(sizes(b)),
                    (client, b) -> client.hlen(sizes(b)))) {
                total += length == null ? 0 : length;
            }
            return total;
        });
    }

    /**
     * Total bytes of the entries, as the budget counts them: every bucket's {@code bytes} (one
     * pipeline), summed; a bucket's total that is not a number (corrupt: the next store or eviction
     * in that bucket rebuilds it from its sizes hash) counts none.
     */
    long bytesStored() {
        return call("GET", jedis -> {
            long total = 0;
            for (String value : inEach(jedis, keys.buckets().size(), (pipeline, b) -> pipeline.get(bytesOf(b)),
                    (client, b) -> client.get(bytesOf(b)))) {
                try {
                    total += value == null ? 0 : Long.parseLong(value);
                } catch (NumberFormatException e) {
                    // Corrupt: counts none until its bucket's next store or eviction rebuilds it.
                }
            }
            return total;
        });
    }

    private String sizes(int bucket) {
        return keys.buckets().get(bucket).sizes();
    }

    private String bytesOf(int bucket) {
        return keys.buckets().get(bucket).bytes();
    }

    /**
     * One read per bucket in one pipeline. A bucket whose node answered a redirection ({@code
     * MOVED}, {@code ASK}: its slot moved since the client learned the slot map, a resharding) is
     * read again on its own, the client following the redirection and learning the new map; a
     * key of the wrong type ({@code WRONGTYPE}, corrupt) reads as null.
     */
    private static <T> List<T> inEach(UnifiedJedis jedis, int buckets, BiFunction<AbstractPipeline, Integer,
            Response<T>> queue, BiFunction<UnifiedJedis, Integer, T> alone) {
        List<Response<T>> responses = new ArrayList<>(buckets);
        try (AbstractPipeline pipeline = jedis.pipelined()) {
            for (int b = 0; b < buckets; b++) {
                responses.add(queue.apply(pipeline, b));
            }
            pipeline.sync();
        }
        List<T> values = new ArrayList<>(buckets);
        for (int b = 0; b < buckets; b++) {
            try {
                try {
                    values.add(responses.get(b).get());
                } catch (JedisRedirectionException e) {
                    values.add(alone.apply(jedis, b));
                }
            } catch (JedisDataException e) {
                if (e instanceof JedisRedirectionException || !String.valueOf(e.getMessage()).startsWith("WRONGTYPE")) {
                    throw e;
                }
                values.add(null);
            }
        }
        return values;
    }

    /**
     * Runs {@code script} once per key list, with the matching arguments, in one pipeline (on
     * Cluster, Jedis sends each node its part at once); a script Redis had not cached yet, or one
     * whose node answered a redirection ({@code MOVED}, {@code ASK}: its slot moved since the
     * client learned the slot map), is run again on its own ({@link LuaScript#run}, the client
     * following the redirection), only where it was refused. Returns the replies in order.
     *
     * @throws RuntimeException the Redis client's, for the first script Redis refused otherwise
     */
    static List<Object> runInEach(UnifiedJedis jedis, LuaScript script, List<List<byte[]>> keyLists,
            List<List<byte[]>> argLists) {
        List<Response<Object>> responses = new ArrayList<>(keyLists.size());
        try (AbstractPipeline pipeline = jedis.pipelined()) {
            for (int i = 0; i < keyLists.size(); i++) {
                responses.add(script.queue(pipeline, keyLists.get(i), argLists.get(i), false));
            }
            pipeline.sync();
        }
        List<Object> replies = new ArrayList<>(responses.size());
        for (int i = 0; i < responses.size(); i++) {
            try {
                replies.add(responses.get(i).get());
            } catch (JedisNoScriptException | JedisRedirectionException e) {
                replies.add(script.run(jedis, keyLists.get(i), argLists.get(i)));
            }
        }
        return replies;
    }

    private Object run(LuaScript script, List<byte[]> keyList, List<byte[]> args) {
        return call("EVALSHA", jedis -> script.run(jedis, keyList, args));
    }

    private <T> T call(String command, Function<UnifiedJedis, T> call) {
        try {
            return redis.call(call);
        } catch (RuntimeException e) {
            // A JedisException, or whatever else the client or its pool throws (relocated classes in
            // the drop-in JAR): the application and the rest of the filter see one failure type.
            throw new CacheUnavailableException(command, e);
        }
    }

    private static List<byte[]> bytes(String... values) {
        List<byte[]> list = new ArrayList<>(values.length);
        for (String value : values) {
            list.add(utf8(value));
        }
        return list;
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}

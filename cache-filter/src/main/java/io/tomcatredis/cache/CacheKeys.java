package io.tomcatredis.cache;

import io.tomcatredis.connection.LuaScript;
import io.tomcatredis.connection.RedisConnectionSettings;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import redis.clients.jedis.util.JedisClusterCRC16;

/**
 * The Redis layout of the page cache: the one class that knows its key names and Lua scripts.
 *
 * <p><b>Buckets.</b> The cache is split into buckets, each with a hash tag of its own and its own
 * bookkeeping (LRU index, sizes, byte total, tag sets, eviction memories, listeners flag), so that
 * every script touches the keys of one bucket, in one Redis Cluster slot. A URL's bucket is a hash
 * of its canonical URL (the text a canonical key starts with, up to its first line feed: the
 * string {@link #urlEvicted} hashes), so every entry, variant, lease, mark and Vary marker of one
 * URL is in its bucket and {@link #STORE} and {@link #EVICT_URL} reach them together.
 *
 * <ul>
 *   <li>Standalone and Sentinel: one bucket, hash tag {@code {cache}} (the layout of earlier
 *       versions, unchanged).</li>
 *   <li>Redis Cluster: {@value #CLUSTER_BUCKETS} buckets ({@link #CLUSTER_BUCKETS}, fixed: never
 *       derived from the number of masters, which changes), bucket b with the hash tag
 *       {@code {cache-<b>-<n>}} for the first n = 0, 1, 2, ... whose CRC16 slot lies in
 *       [b * 512, (b + 1) * 512): evenly spaced over the 16384 slots, so masters holding
 *       contiguous slot ranges (as {@code redis-cli --cluster create} assigns them) hold
 *       {@value #CLUSTER_BUCKETS} / masters buckets each, give or take one. A URL's bucket is
 *       the first 4 bytes of the SHA-256 of its canonical URL (the {@code <hash>} of its {@code
 *       x:} key), unsigned, mod {@value #CLUSTER_BUCKETS}.</li>
 * </ul>
 *
 * The keys of a bucket whose hash tag is {@code <b>} ({@code cache} standalone):
 * <pre>
 *   &lt;keyPrefix&gt;{&lt;b&gt;}e:&lt;hash&gt;   hash        an entry: status, headers, body, times, tags
 *                                  (or, for a response with Vary, a marker naming the headers)
 *   &lt;keyPrefix&gt;{&lt;b&gt;}l:&lt;hash&gt;   string      the lease of the one request rendering it
 *   &lt;keyPrefix&gt;{&lt;b&gt;}p:&lt;hash&gt;   string      "1": "hit for pass", the URL is not cacheable, skip waiting;
 *                                  "m": "hit for miss", its last render was not stored: render
 *                                  without waiting for another's, and store if storable
 *   &lt;keyPrefix&gt;{&lt;b&gt;}v:&lt;hash&gt;   set         the variant entries of a URL (responses with Vary)
 *   &lt;keyPrefix&gt;{&lt;b&gt;}t:&lt;tag&gt;    set         the entries of the bucket carrying a tag
 *   &lt;keyPrefix&gt;{&lt;b&gt;}x:&lt;hash&gt;   string      when the URL was last evicted (Redis TIME, ms), for 10 minutes;
 *                                  written only when the URL had an entry, variant, mark or lease
 *   &lt;keyPrefix&gt;{&lt;b&gt;}xt:&lt;tag&gt;   string      when the tag was last evicted (Redis TIME, ms), for 10 minutes;
 *                                  written in every bucket by a tag eviction
 *                                  (both eviction times are counted in the budget like entries: in
 *                                  lru, in xsizes and in bytes; the least recently used first, entry
 *                                  or eviction time, goes when the bucket needs room)
 *   &lt;keyPrefix&gt;{&lt;b&gt;}forgotten   string      the latest eviction time the budget removed before its 10 minutes
 *                                  (Redis TIME, ms), kept 10 minutes: a store whose render began at or
 *                                  before it is discarded, as the eviction it forgot would have done
 *   &lt;keyPrefix&gt;{&lt;b&gt;}lru         sorted set  entry or eviction-time key by last use (an eviction time: when
 *                                  written), for the bucket's byte budget
 *   &lt;keyPrefix&gt;{&lt;b&gt;}sizes       hash        entry key to its size in bytes: its MEMORY USAGE plus
 *                                  an estimate of its bookkeeping (the members and fields below),
 *                                  plus the MEMORY USAGE of each tag set it created ({@code HLEN}:
 *                                  the bucket's entries)
 *   &lt;keyPrefix&gt;{&lt;b&gt;}xsizes      hash        eviction-time key (x:, xt:) to its size in bytes: its MEMORY USAGE
 *                                  plus the same estimate of its bookkeeping
 *   &lt;keyPrefix&gt;{&lt;b&gt;}bytes       string      total size of the bucket's entries and eviction times (its budget:
 *                                  maxCacheBytes divided by the number of buckets)
 *   &lt;keyPrefix&gt;{&lt;b&gt;}listeners   string      "1" while a node's local tier listens (its heartbeats keep it in
 *                                  every bucket, 3 x localTierMaxLagMillis); only then do the
 *                                  bucket's scripts publish:
 *   &lt;keyPrefix&gt;{cache}invalidations  Pub/Sub channel (no key; one for all buckets): the e: key name of
 *                                  every entry or marker a script removed or replaced, for the
 *                                  nodes' local tiers; the heartbeats ("heartbeat &lt;node id&gt; &lt;ns&gt;",
 *                                  on Cluster "heartbeat &lt;node id&gt; &lt;ns&gt; &lt;bucket&gt;" from each
 *                                  bucket), and "heartbeat listeners-lost" when a heartbeat found a
 *                                  listeners key gone
 * </pre>
 * Literally, for {@code keyPrefix} {@code tomcat-cache:/shop:}: standalone
 * {@code tomcat-cache:/shop:{cache}e:3f2a...}, {@code tomcat-cache:/shop:{cache}lru}; Cluster
 * {@code tomcat-cache:/shop:{cache-0-1}e:...} ... {@code tomcat-cache:/shop:{cache-31-32}lru}
 * ({@link #bucketTags} lists them), the channel {@code tomcat-cache:/shop:{cache}invalidations}.
 * Every key has a TTL: an entry lives until its stale window ends; the bookkeeping keys live as
 * long as their longest-lived entry or eviction time ({@code lru}, {@code sizes}, {@code xsizes} and
 * {@code bytes} together: a count never outlives what it counts; an entry or eviction time gone by
 * its TTL stays counted until the budget takes it as least recently used, which only deletes what
 * is already gone and releases its count). {@code <hash>} is a SHA-256 of the canonical key ({@link CanonicalUrl}): scheme, host, the
 * container's path in its canonical encoding, query, the request's {@code Accept-Language} lines
 * (when it has any), and the values of the request headers a response varies on. The entry's
 * {@code key} field holds that canonical text; an entry whose key is not the URL alone is a
 * member of the URL's {@code v:} set.
 */
final class CacheKeys {

    /** The number of buckets on Redis Cluster: fixed, part of the layout. */
    static final int CLUSTER_BUCKETS = 32;

    private static final int SLOTS = 16384;

    private final String prefix;
    private final List<Bucket> buckets;

    /** The layout on standalone Redis and Sentinel: one bucket, {@code <keyPrefix>{cache}}. */
    CacheKeys(String prefix) {
        this(prefix, List.of("cache"));
    }

    private CacheKeys(String prefix, List<String> tags) {
        this.prefix = prefix;
        List<Bucket> all = new ArrayList<>(tags.size());
        for (String tag : tags) {
            all.add(new Bucket(prefix + "{" + tag + "}"));
        }
        this.buckets = List.copyOf(all);
    }

    /** The layout on Redis Cluster: {@value #CLUSTER_BUCKETS} buckets spread over the slots. */
    static CacheKeys cluster(String prefix) {
        return new CacheKeys(prefix, bucketTags());
    }

    /** The layout for a topology: {@link #cluster} on Cluster, else one bucket. */
    static CacheKeys of(String prefix, RedisConnectionSettings.Topology topology) {
        return topology == RedisConnectionSettings.Topology.CLUSTER ? cluster(prefix) : new CacheKeys(prefix);
    }

    /**
     * The hash tags of the Cluster buckets, without braces: for bucket b, {@code cache-<b>-<n>}
     * with the least n whose CRC16 slot ({@code JedisClusterCRC16}, Redis' key hash) lies in
     * [b * 16384 / B, (b + 1) * 16384 / B). {@code SCAN MATCH <keyPrefix>{cache-*}e:*} counts
     * entries (and Vary markers): a tag's keys match it only when the tag holds <code>}e:</code>, as
     * they match {@code <keyPrefix>*e:*} when it holds {@code e:} ({@code type:shoe}).
     */
    static List<String> bucketTags() {
        return BucketTags.TAGS;
    }

    /** Computed once, on first use on a Cluster. */
    private static final class BucketTags {
        static final List<String> TAGS;

        static {
            List<String> tags = new ArrayList<>(CLUSTER_BUCKETS);
            for (int b = 0; b < CLUSTER_BUCKETS; b++) {
                int from = b * SLOTS / CLUSTER_BUCKETS;
                int to = (b + 1) * SLOTS / CLUSTER_BUCKETS;
                for (int n = 0; ; n++) {
                    String tag = "cache-" + b + "-" + n;
                    int slot = JedisClusterCRC16.getSlot(tag);
                    if (slot >= from && slot < to) {
                        tags.add(tag);
                        break;
                    }
                }
            }
            TAGS = List.copyOf(tags);
        }
    }

    /** Every bucket, in order (one on standalone and Sentinel). */
    List<Bucket> buckets() {
        return buckets;
    }

    /**
     * The bucket of a canonical key: that of its URL, the text before its first line feed (a
     * canonical URL holds none, see {@link CanonicalUrl}).
     */
    Bucket bucketOf(String canonical) {
        if (buckets.size() == 1) {
            return buckets.get(0);
        }
        int end = canonical.indexOf('\n');
        String url = end < 0 ? canonical : canonical.substring(0, end);
        return buckets.get(Integer.remainderUnsigned(Integer.parseUnsignedInt(hash(url), 0, 8, 16), buckets.size()));
    }

    String entry(String canonical) {
        return bucketOf(canonical).base + "e:" + hash(canonical);
    }

    String lease(String canonical) {
        return bucketOf(canonical).base + "l:" + hash(canonical);
    }

    String pass(String canonical) {
        return bucketOf(canonical).base + "p:" + hash(canonical);
    }

    String variants(String canonical) {
        return bucketOf(canonical).base + "v:" + hash(canonical);
    }

    /** When the URL was last evicted: a store whose render began before is discarded. */
    String urlEvicted(String canonicalUrl) {
        return bucketOf(canonicalUrl).base + "x:" + hash(canonicalUrl);
    }

    /**
     * The Pub/Sub channel on which every script that removes or replaces an entry or a Vary marker
     * publishes its key name ({@code PUBLISH <keyPrefix>{cache}invalidations <entry key>}), for the
     * nodes' {@link LocalTier}s, while its bucket's {@link Bucket#listeners()} exists. One channel
     * for every bucket (a {@code PUBLISH} on a Cluster node reaches the subscribers of every node).
     * Not a key: nothing is stored under it.
     */
    String invalidations() {
        return prefix + "{cache}invalidations";
    }

    /** The keys of one bucket that are not an URL's: its budget, its tag indexes, its listeners flag. */
    static final class Bucket {

        private final String base;

        private Bucket(String base) {
            this.base = base;
        }

        String tag(String tag) {
            return base + "t:" + tag;
        }

        /** When the tag was last evicted: a store of an entry carrying it whose render began before is discarded. */
        String tagEvicted(String tag) {
            return base + "xt:" + tag;
        }

        String lru() {
            return base + "lru";
        }

        String sizes() {
            return base + "sizes";
        }

        String bytes() {
            return base + "bytes";
        }

        /**
         * Exists while some node's local tier listens on {@link CacheKeys#invalidations()}: kept by
         * its heartbeats ({@link CacheKeys#HEARTBEAT}, in every bucket). Without it the bucket's scripts publish
         * nothing: a Redis user without Pub/Sub rights (the documented ACL's {@code resetchannels})
         * never sees a refused PUBLISH, and a cache without local tiers sends no messages.
         */
        String listeners() {
            return base + "listeners";
        }

        @Override
        public String toString() {
            return base;
        }
    }

    static String hash(String canonical) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java runtime", e);
        }
    }

    /**
     * How long an eviction is remembered, in ms: a render that began before an eviction and stores
     * after it is discarded; one that ran longer than this is discarded too, as it cannot be told.
     */
    static final long EVICTION_MEMORY_MILLIS = 600_000;

    /** Lua: {@code now}, Redis' own clock in ms, the one clock every node's scripts share. */
    private static final String NOW = """
            local time = redis.call('TIME')
            local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
            """;

    /**
     * Lua: checks before any write. Every key of the layout is ours: one of another type, or a
     * string that is not what it should hold (written by something else, or cut by a crash), is
     * deleted or rebuilt, and named in {@code repaired}, which the script returns so that Java logs
     * a warning. The writes come after the checks, so no script stops half-way on our own data.
     */
    private static final String REPAIR = """
            local repaired = {}
            local function kind(key) return redis.call('TYPE', key)['ok'] end
            local function expect(key, wanted)
              local found = kind(key)
              if found ~= wanted and found ~= 'none' then
                redis.call('DEL', key)
                table.insert(repaired, key)
              end
            end
            local function budget(lru, sizes, bytes)
              -- The eviction times' sizes (xsizes) sit beside the entries' (sizes), in the same total.
              local xsizes = string.sub(lru, 1, -4) .. 'xsizes'
              local lost = kind(sizes) ~= 'hash' and kind(sizes) ~= 'none' or kind(xsizes) ~= 'hash' and kind(xsizes) ~= 'none'
              expect(sizes, 'hash')
              expect(xsizes, 'hash')
              if kind(lru) ~= 'zset' and kind(lru) ~= 'none' then
                redis.call('DEL', lru)
                table.insert(repaired, lru)
                for _, hash in ipairs({sizes, xsizes}) do
                  for _, entry in ipairs(redis.call('HKEYS', hash)) do redis.call('ZADD', lru, 0, entry) end
                end
                local ttl = math.max(redis.call('PTTL', sizes), redis.call('PTTL', xsizes))
                if ttl > 0 then redis.call('PEXPIRE', lru, ttl) end
              end
              -- The total follows the sizes: with them lost, the entries they counted are not counted
              -- (they still go at their TTL) rather than counted for ever.
              if lost or kind(bytes) ~= 'string' and kind(bytes) ~= 'none' or not tonumber(redis.call('GET', bytes) or '0') then
                local total = 0
                for _, hash in ipairs({sizes, xsizes}) do
                  local all = redis.call('HGETALL', hash)
                  for i = 2, #all, 2 do total = total + (tonumber(all[i]) or 0) end
                end
                redis.call('DEL', bytes)
                redis.call('SET', bytes, total)
                local ttl = math.max(redis.call('PTTL', sizes), redis.call('PTTL', xsizes))
                if ttl > 0 then redis.call('PEXPIRE', bytes, ttl) end
                table.insert(repaired, bytes)
              end
            end
            local function evictedAt(key)
              expect(key, 'string')
              local value = redis.call('GET', key)
              -- GET of a missing key is false in Lua: no eviction remembered (nil), nothing to write.
              if not value then return nil end
              if not tonumber(value) then
                table.insert(repaired, key)
                return false
              end
              return tonumber(value)
            end
            """;

    /**
     * Lua: {@code written(reply)} of a write run with {@code redis.pcall} that may be refused for
     * memory: the reply, or false when Redis refused it with {@code OOM} (then {@code full} is
     * true); any other error is raised as {@code redis.call} would.
     */
    private static final String OOM_TOLERANT = """
            local full = false
            local function written(reply)
              if type(reply) == 'table' and reply.err then
                if string.sub(reply.err, 1, 4) == 'OOM ' then
                  full = true
                  return false
                end
                error(reply)
              end
              return reply
            end
            """;

    /**
     * The shebang of a script that must run when Redis is out of memory (used memory above {@code
     * maxmemory} with {@code maxmemory-policy noeviction}): Redis refuses any other script that
     * writes then (Redis 7.0: at its first write that may add memory; a script with flags: at once).
     * Only for scripts that free memory: they delete entries, and add at most an eviction time (and
     * its count in the bucket's budget, which then frees as much).
     */
    private static final String ALLOW_OOM = "#!lua flags=allow-oom\n";

    /**
     * Lua: {@code announce(base, key)} publishes an entry key on the invalidation channel
     * ({@link #invalidations()}: the keyPrefix, the text of base before its hash tag, then
     * {@code {cache}invalidations}) when a local tier listens ({@link Bucket#listeners()}, looked
     * up once per script); base is the bucket's {@code <keyPrefix>{<tag>}}.
     */
    private static final String ANNOUNCE = """
            local announcing
            local function announce(base, key)
              if announcing == nil then announcing = redis.call('EXISTS', base .. 'listeners') == 1 end
              if announcing then redis.call('PUBLISH', string.match(base, '^[^{]*') .. '{cache}invalidations', key) end
            end
            """;

    /**
     * Lua: deletes entry victim, announces it on the invalidation channel ({@link #invalidations()}),
     * takes it out of its tag sets (a set left empty goes: its cost was
     * counted in the size of the entry that created it) and accounts for its size. Needs sizes,
     * bytes, lru (whose name, less "lru", is the base of every key of the layout). A victim that is
     * an eviction time ({@code x:}/{@code xt:}, counted in {@code xsizes}) is forgotten early: its
     * time, while it lives, raises the bucket's {@code forgotten} floor (kept {@link
     * #EVICTION_MEMORY_MILLIS}), so that a render that began before it is still discarded at
     * {@link #STORE}; it is not announced (no local tier holds it).
     * {@code shrink(lru, sizes, bytes, max, spare)} forgets the least recently used entries and
     * eviction times of the bucket, never spare, until its total is at most max; returns how many went.
     * {@code keep(keys, ms)} gives every key of the list that exists the longest PTTL among them and ms,
     * so that the bookkeeping keys of a bucket go together (a count never outlives what it counts).
     */
    private static final String FORGET = """
            local function forget(victim, sizes, bytes, lru)
              local base = string.sub(lru, 1, -4)
              if string.sub(victim, #base + 1, #base + 1) == 'x' then
                local size = tonumber(redis.call('HGET', base .. 'xsizes', victim))
                if redis.call('TYPE', victim)['ok'] == 'string' then
                  local at = tonumber(redis.call('GET', victim))
                  local floor = base .. 'forgotten'
                  if redis.call('TYPE', floor)['ok'] ~= 'string' then redis.call('DEL', floor) end
                  local was = tonumber(redis.call('GET', floor) or '')
                  if at and (not was or at > was) then redis.call('SET', floor, at, 'PX', MEMORY_MILLIS) end
                end
                redis.call('DEL', victim)
                redis.call('ZREM', lru, victim)
                redis.call('HDEL', base .. 'xsizes', victim)
                if size then redis.call('DECRBY', bytes, size) end
                return
              end
              local size = tonumber(redis.call('HGET', sizes, victim))
              if redis.call('TYPE', victim)['ok'] == 'hash' then
                for tag in string.gmatch(redis.call('HGET', victim, 'tags') or '', '%S+') do
                  local set = base .. 't:' .. tag
                  if redis.call('TYPE', set)['ok'] == 'set' then redis.call('SREM', set, victim) end
                end
              end
              redis.call('DEL', victim)
              announce(base, victim)
              redis.call('ZREM', lru, victim)
              redis.call('HDEL', sizes, victim)
              if size then redis.call('DECRBY', bytes, size) end
            end
            local function shrink(lru, sizes, bytes, max, spare)
              local total = tonumber(redis.call('GET', bytes) or '0')
              local evicted = 0
              while total > max do
                -- The least recently used other key (the spared one may not be the last: clocks of nodes differ).
                local lowest = redis.call('ZRANGE', lru, 0, 1)
                local victim = lowest[1] == spare and lowest[2] or lowest[1]
                if not victim then break end
                forget(victim, sizes, bytes, lru)
                total = tonumber(redis.call('GET', bytes) or '0')
                evicted = evicted + 1
              end
              return evicted
            end
            local function keep(keys, ms)
              local longest = tonumber(ms)
              for _, key in ipairs(keys) do longest = math.max(longest, redis.call('PTTL', key)) end
              for _, key in ipairs(keys) do
                local ttl = redis.call('PTTL', key)
                if ttl ~= -2 and ttl < longest then redis.call('PEXPIRE', key, longest) end
              end
            end
            """.replace("MEMORY_MILLIS", Long.toString(EVICTION_MEMORY_MILLIS));

    /**
     * Lua: {@code remember(key, at, ms, extra, lru, sizes, bytes)} writes an eviction time (Redis ms)
     * for ms and counts it in the bucket like an entry: in the LRU index (as used at {@code at}), in
     * {@code xsizes} (its {@code MEMORY USAGE} plus extra, its bookkeeping) and in the total, once
     * (a time rewritten keeps its count). Needs {@code FORGET} (for {@code keep}).
     */
    private static final String REMEMBER = """
            local function remember(key, at, ms, extra, lru, sizes, bytes)
              local xsizes = string.sub(lru, 1, -4) .. 'xsizes'
              redis.call('SET', key, at, 'PX', ms)
              redis.call('ZADD', lru, at, key)
              if redis.call('HEXISTS', xsizes, key) == 0 then
                local size = redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0') + tonumber(extra)
                redis.call('HSET', xsizes, key, size)
                redis.call('INCRBY', bytes, size)
              end
              keep({lru, sizes, xsizes, bytes}, ms)
            end
            """;

    /**
     * Looks an entry up and, when there is none or it is stale, takes the lease to render it (only
     * when asked: never for a HEAD). A key of another type than a hash is not an entry: deleted; a
     * lease or mark of another type, of another value, or without a TTL is deleted too (both are
     * always written with one). KEYS: entry, pass, lease, lru. ARGV: lease token, lease ms, now ms,
     * "1" to ask for a lease, "1" to have a hit's PTTL (for the local tier). Returns {"HIT", now,
     * repaired, hash[, PTTL ms]}, {"STALE", now, repaired, hash,
     * 1 if the refresh lease was taken}, {"PASS", ...}, {"MISS", ...}, {"LEASE", ...} or {"WAIT",
     * ...}: now is Redis' time in ms (the start of a render that follows, for {@link #STORE}),
     * repaired the keys repaired ({@code REPAIR}). When Redis refuses a write for memory ({@code
     * OOM}, {@link MemoryPressure}), a hit is still served (without its LRU update), a stale entry
     * without a refresh lease, and a lookup that wanted a lease answers {"FULL", ...} (pass).
     */
    static final LuaScript LOOKUP = new LuaScript(REPAIR + NOW + OOM_TOLERANT + """
            expect(KEYS[1], 'hash')
            expect(KEYS[2], 'string')
            expect(KEYS[3], 'string')
            local mark = redis.call('GET', KEYS[2])
            if mark and (mark ~= '1' and mark ~= 'm' or redis.call('PTTL', KEYS[2]) < 0) then
              redis.call('DEL', KEYS[2])
              table.insert(repaired, KEYS[2])
              mark = nil
            end
            if redis.call('EXISTS', KEYS[3]) == 1 and redis.call('PTTL', KEYS[3]) < 0 then
              redis.call('DEL', KEYS[3])
              table.insert(repaired, KEYS[3])
            end
            local e = redis.call('HGETALL', KEYS[1])
            if #e > 0 then
              if kind(KEYS[4]) == 'zset' then written(redis.pcall('ZADD', KEYS[4], 'XX', ARGV[3], KEYS[1])) end
              local fresh = tonumber(redis.call('HGET', KEYS[1], 'fresh'))
              if fresh and fresh <= tonumber(ARGV[3]) then
                local got = ARGV[4] == '1' and written(redis.pcall('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2])) and 1 or 0
                return {'STALE', now, repaired, e, got}
              end
              if ARGV[5] == '1' then return {'HIT', now, repaired, e, redis.call('PTTL', KEYS[1])} end
              return {'HIT', now, repaired, e}
            end
            if mark == 'm' then return {'MISS', now, repaired} end
            if mark then return {'PASS', now, repaired} end
            if ARGV[4] == '1' then
              local lease = written(redis.pcall('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]))
              if full then return {'FULL', now, repaired} end
              if lease then return {'LEASE', now, repaired} end
            end
            return {'WAIT', now, repaired}
            """);

    /**
     * Stores an entry, keeps the cache within its byte budget (least recently used first) and
     * releases the lease; the entry it replaces and every entry it evicts are published on the
     * invalidation channel; discards it instead when its URL or one of its tags was evicted since
     * its render began (an eviction always wins). Every key is checked ({@code REPAIR}) before the
     * first write; an eviction time that is not a number is taken as an eviction just before this
     * render began (renders that began earlier are discarded) and rewritten so. A tag set this store
     * creates is counted, with its {@code MEMORY USAGE}, in the entry's size. A render that began at
     * or before the bucket's {@code forgotten} floor is discarded too (an eviction time the budget
     * removed early). The budget takes the least recently used entries and eviction times ({@code
     * FORGET}'s {@code shrink}).
     * KEYS: entry, lease, lru, sizes, bytes, variants (or the entry again), the URL's eviction
     * time. ARGV: lease token, ttl ms, now ms, max bytes, bookkeeping bytes (added to the entry's
     * own {@code MEMORY USAGE}), number of tags n, render start (Redis ms, from {@link #LOOKUP}),
     * eviction memory ms, bytes of a member of an existing tag set, n tag keys, n tag eviction-time
     * keys, then field/value pairs. Returns {the number of entries evicted, -1 when the entry was
     * discarded for an eviction, or -2 when it alone is larger than max bytes (it is never kept,
     * and nothing else is evicted for it); the keys repaired}: the count includes the eviction
     * times the budget took.
     */
    static final LuaScript STORE = new LuaScript(REPAIR + ANNOUNCE + FORGET + NOW + """
            local n = tonumber(ARGV[6])
            local started = tonumber(ARGV[7])
            local discard = now - started > tonumber(ARGV[8])
            local function check(key)
              local at = evictedAt(key)
              if at == false then
                redis.call('SET', key, started - 1, 'PX', ARGV[8])
              elseif at and at >= started then
                discard = true
              end
            end
            check(KEYS[7])
            for i = 10 + n, 9 + 2 * n do check(ARGV[i]) end
            check(string.sub(KEYS[3], 1, -4) .. 'forgotten')
            expect(KEYS[1], 'hash')
            expect(KEYS[2], 'string')
            budget(KEYS[3], KEYS[4], KEYS[5])
            if KEYS[6] ~= KEYS[1] then expect(KEYS[6], 'set') end
            for i = 10, 9 + n do expect(ARGV[i], 'set') end
            if discard then
              if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
              return {-1, repaired}
            end
            if redis.call('HEXISTS', KEYS[4], KEYS[1]) == 1 then
              forget(KEYS[1], KEYS[4], KEYS[5], KEYS[3])
            elseif redis.call('EXISTS', KEYS[1]) == 1 then
              -- Not counted, so not forgotten (a Vary marker, an entry whose sizes were lost): replaced all the same.
              announce(string.sub(KEYS[3], 1, -4), KEYS[1])
            end
            redis.call('HSET', KEYS[1], unpack(ARGV, 10 + 2 * n))
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            redis.call('ZADD', KEYS[3], ARGV[3], KEYS[1])
            local tagBytes = 0
            for i = 10, 9 + n do
              local created = redis.call('EXISTS', ARGV[i]) == 0
              redis.call('SADD', ARGV[i], KEYS[1])
              if redis.call('PTTL', ARGV[i]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', ARGV[i], ARGV[2]) end
              if created then
                tagBytes = tagBytes + redis.call('MEMORY', 'USAGE', ARGV[i], 'SAMPLES', '0')
              else
                tagBytes = tagBytes + tonumber(ARGV[9])
              end
            end
            if KEYS[6] ~= KEYS[1] then
              redis.call('SADD', KEYS[6], KEYS[1])
              if redis.call('PTTL', KEYS[6]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[6], ARGV[2]) end
            end
            local size = redis.call('MEMORY', 'USAGE', KEYS[1], 'SAMPLES', '0') + tonumber(ARGV[5]) + tagBytes
            if size > tonumber(ARGV[4]) then
              -- Alone past the budget: kept, it would break it; evicting the others would not mend that.
              forget(KEYS[1], KEYS[4], KEYS[5], KEYS[3])
              if KEYS[6] ~= KEYS[1] then redis.call('SREM', KEYS[6], KEYS[1]) end
              if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
              return {-2, repaired}
            end
            redis.call('HSET', KEYS[4], KEYS[1], size)
            redis.call('INCRBY', KEYS[5], size)
            local evicted = shrink(KEYS[3], KEYS[4], KEYS[5], tonumber(ARGV[4]), KEYS[1])
            keep({KEYS[3], KEYS[4], string.sub(KEYS[3], 1, -4) .. 'xsizes', KEYS[5]}, ARGV[2])
            if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
            return {evicted, repaired}
            """);

    /**
     * Writes the Vary marker of a URL (a key of another type there is not ours to keep: replaced),
     * published on the invalidation channel when it names other headers than before.
     * KEYS: marker entry. ARGV: ttl ms, header names, the lru key (whose name, less "lru", is the base).
     */
    static final LuaScript MARK_VARY = new LuaScript(ANNOUNCE + """
            local kind = redis.call('TYPE', KEYS[1])['ok']
            if kind ~= 'hash' and kind ~= 'none' then redis.call('DEL', KEYS[1]) end
            if redis.call('HGET', KEYS[1], 'vary') ~= ARGV[2] then announce(string.sub(ARGV[3], 1, -4), KEYS[1]) end
            redis.call('HSET', KEYS[1], 'vary', ARGV[2])
            if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
            return 1
            """);

    /**
     * Releases a lease without storing; marks the URL "hit for pass" ("1") when it is not cacheable
     * by nature, or "hit for miss" ("m"). KEYS: lease, pass. ARGV: token, mark ms (0: no mark), mark.
     */
    static final LuaScript RELEASE = new LuaScript("""
            if redis.call('TYPE', KEYS[1])['ok'] == 'string' and redis.call('GET', KEYS[1]) == ARGV[1] then
              redis.call('DEL', KEYS[1])
            end
            if tonumber(ARGV[2]) > 0 then redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2]) end
            return 1
            """);

    /**
     * After a failed refresh of a stale entry: keeps the refresh lease (when still this request's)
     * for the back-off, so that no request refreshes again before it ends. KEYS: lease. ARGV: token,
     * back-off ms.
     */
    static final LuaScript BACK_OFF = new LuaScript("""
            if redis.call('TYPE', KEYS[1])['ok'] == 'string' and redis.call('GET', KEYS[1]) == ARGV[1] then
              redis.call('PEXPIRE', KEYS[1], ARGV[2])
              return 1
            end
            return 0
            """);

    /**
     * Evicts a URL: its entry or Vary marker, every variant, its pass mark, and remembers when,
     * but only when there was something (an entry, a variant, a mark, or a lease: every render in
     * flight holds one), so that unsafe requests to URLs never cached leave nothing in Redis.
     * Runs when Redis is out of memory too ({@link #ALLOW_OOM}): an eviction is never lost to it.
     * The eviction time is counted in the bucket's budget ({@code REMEMBER}), which then takes the
     * least recently used entries and eviction times until the bucket is within it ({@code shrink}).
     * KEYS: entry, variants, pass, lru, sizes, bytes, the URL's eviction time, lease. ARGV: memory
     * ms, the bucket's max bytes, the bookkeeping bytes of the eviction time. Returns {entries evicted, the keys repaired}.
     */
    static final LuaScript EVICT_URL = new LuaScript(ALLOW_OOM + REPAIR + ANNOUNCE + FORGET + REMEMBER + NOW + """
            budget(KEYS[4], KEYS[5], KEYS[6])
            expect(KEYS[2], 'set')
            expect(KEYS[7], 'string')
            if redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[3], KEYS[8]) == 0 then
              return {0, repaired}
            end
            local count = 0
            for _, variant in ipairs(redis.call('SMEMBERS', KEYS[2])) do forget(variant, KEYS[5], KEYS[6], KEYS[4]) count = count + 1 end
            if redis.call('EXISTS', KEYS[1]) == 1 then count = count + 1 end
            forget(KEYS[1], KEYS[5], KEYS[6], KEYS[4])
            redis.call('DEL', KEYS[2], KEYS[3])
            remember(KEYS[7], now, ARGV[1], ARGV[3], KEYS[4], KEYS[5], KEYS[6])
            shrink(KEYS[4], KEYS[5], KEYS[6], tonumber(ARGV[2]), nil)
            return {count, repaired}
            """);

    /**
     * Evicts every entry carrying a tag, and remembers when (always: a render in flight that will
     * carry the tag holds no key of it); runs when Redis is out of memory too ({@link #ALLOW_OOM}).
     * The eviction time is counted in the bucket's budget as in {@link #EVICT_URL}.
     * KEYS: tag set, lru, sizes, bytes, the tag's eviction time.
     * ARGV: memory ms, the bucket's max bytes, the bookkeeping bytes of the eviction time. Returns {entries evicted, the keys repaired}.
     */
    static final LuaScript EVICT_TAG = new LuaScript(ALLOW_OOM + REPAIR + ANNOUNCE + FORGET + REMEMBER + NOW + """
            budget(KEYS[2], KEYS[3], KEYS[4])
            expect(KEYS[1], 'set')
            expect(KEYS[5], 'string')
            local members = redis.call('SMEMBERS', KEYS[1])
            for _, entry in ipairs(members) do forget(entry, KEYS[3], KEYS[4], KEYS[2]) end
            redis.call('DEL', KEYS[1])
            remember(KEYS[5], now, ARGV[1], ARGV[3], KEYS[2], KEYS[3], KEYS[4])
            shrink(KEYS[2], KEYS[3], KEYS[4], tonumber(ARGV[2]), nil)
            return {#members, repaired}
            """);

    /**
     * Gives memory back in one bucket (run in every bucket) when Redis refused a write of the cache
     * for memory ({@link MemoryPressure}): evicts the least recently used entries, announcing each, until the bucket
     * counts ARGV[1] millionths less than before and at least ARGV[2] bytes less, or ARGV[3]
     * entries went. Runs under OOM ({@link #ALLOW_OOM}). KEYS: lru, sizes, bytes. Returns {entries
     * evicted, the keys repaired, the bucket's bytes before, after}.
     */
    static final LuaScript SHED = new LuaScript(ALLOW_OOM + REPAIR + ANNOUNCE + FORGET + """
            budget(KEYS[1], KEYS[2], KEYS[3])
            local before = tonumber(redis.call('GET', KEYS[3]) or '0')
            local target = math.max(0, math.min(before - math.floor(before * tonumber(ARGV[1]) / 1000000),
                                                before - tonumber(ARGV[2])))
            local total = before
            local evicted = 0
            while total > target and evicted < tonumber(ARGV[3]) do
              local victim = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
              if not victim then break end
              forget(victim, KEYS[2], KEYS[3], KEYS[1])
              total = tonumber(redis.call('GET', KEYS[3]) or '0')
              evicted = evicted + 1
            end
            return {evicted, repaired, before, total}
            """);

    /**
     * The message {@link #HEARTBEAT} publishes on {@link #invalidations()} when it found {@link
     * Bucket#listeners()} gone: announcements may have been lost, so every local tier drops every copy.
     * Starts as a heartbeat does (never a key name), so a node that does not know it ignores it.
     */
    static final String LISTENERS_LOST = "heartbeat listeners-lost";

    /**
     * A local tier's heartbeat in one bucket (run in every bucket): keeps the bucket's {@link
     * Bucket#listeners()} for at least {@code ttl} ms (never shortens another node's longer one),
     * then publishes the heartbeat on the channel, in that order and from the bucket's node, so
     * that a node that receives its heartbeat from every bucket knows every script of every bucket
     * since announces (a Cluster node forwards what is published on it in order, but two nodes'
     * messages may overtake each other). When it was gone (a {@code FLUSHALL}/{@code FLUSHDB}, a {@code DEL}, Redis'
     * {@code maxmemory} eviction of a key with a TTL), scripts may have removed entries without
     * announcing them, and a flush removed every entry without a script: it first publishes
     * {@link #LISTENERS_LOST}, on which every tier drops all its copies.
     * KEYS: listeners. ARGV: ttl ms, channel, message.
     */
    static final LuaScript HEARTBEAT = new LuaScript("""
            local ttl = redis.call('PTTL', KEYS[1])
            if ttl == -2 then redis.call('PUBLISH', ARGV[2], '%s') end
            if ttl < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
            return redis.call('PUBLISH', ARGV[2], ARGV[3])
            """.formatted(LISTENERS_LOST));
}

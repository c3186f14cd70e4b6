package io.tomcatredis.cache;

import io.tomcatredis.connection.LuaScript;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The Redis layout of the page cache: the one class that knows its key names and Lua scripts.
 * Every key carries the {@code {cache}} hash tag, so one script can touch an entry, its lease,
 * its tags and the LRU index in one slot, also on Redis Cluster.
 *
 * <pre>
 *   &lt;keyPrefix&gt;{cache}e:&lt;hash&gt;   hash        an entry: status, headers, body, times, tags
 *                                  (or, for a response with Vary, a marker naming the headers)
 *   &lt;keyPrefix&gt;{cache}l:&lt;hash&gt;   string      the lease of the one request rendering it
 *   &lt;keyPrefix&gt;{cache}p:&lt;hash&gt;   string      "1": "hit for pass", the URL is not cacheable, skip waiting;
 *                                  "m": "hit for miss", its last render was not stored: render
 *                                  without waiting for another's, and store if storable
 *   &lt;keyPrefix&gt;{cache}v:&lt;hash&gt;   set         the variant entries of a URL (responses with Vary)
 *   &lt;keyPrefix&gt;{cache}t:&lt;tag&gt;    set         the entries carrying a tag
 *   &lt;keyPrefix&gt;{cache}x:&lt;hash&gt;   string      when the URL was last evicted (Redis TIME, ms), for 10 minutes
 *   &lt;keyPrefix&gt;{cache}xt:&lt;tag&gt;   string      when the tag was last evicted (Redis TIME, ms), for 10 minutes
 *   &lt;keyPrefix&gt;{cache}lru         sorted set  entry key by last use, for the byte budget
 *   &lt;keyPrefix&gt;{cache}sizes       hash        entry key to its size in bytes: its MEMORY USAGE plus
 *                                  an estimate of its bookkeeping (the members and fields below)
 *   &lt;keyPrefix&gt;{cache}bytes       string      total size of the entries (the budget of maxCacheBytes)
 * </pre>
 * Every key has a TTL: an entry lives until its stale window ends; the bookkeeping keys live as
 * long as their longest-lived entry. {@code <hash>} is a SHA-256 of the canonical key ({@link CanonicalUrl}): scheme, host, the
 * container's path in its canonical encoding, query, the request's {@code Accept-Language} lines
 * (when it has any), and the values of the request headers a response varies on. The entry's
 * {@code key} field holds that canonical text; an entry whose key is not the URL alone is a
 * member of the URL's {@code v:} set.
 */
final class CacheKeys {

    private final String base;

    CacheKeys(String prefix) {
        this.base = prefix + "{cache}";
    }

    String entry(String canonical) {
        return base + "e:" + hash(canonical);
    }

    String lease(String canonical) {
        return base + "l:" + hash(canonical);
    }

    String pass(String canonical) {
        return base + "p:" + hash(canonical);
    }

    String variants(String canonical) {
        return base + "v:" + hash(canonical);
    }

    String tag(String tag) {
        return base + "t:" + tag;
    }

    /** When the URL was last evicted: a store whose render began before is discarded. */
    String urlEvicted(String canonicalUrl) {
        return base + "x:" + hash(canonicalUrl);
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

    /** Lua: deletes entry KEYS-relative victim and accounts for its size. Needs sizes, bytes, lru. */
    private static final String FORGET = """
            local function forget(victim, sizes, bytes, lru)
              local size = redis.call('HGET', sizes, victim)
              redis.call('DEL', victim)
              redis.call('ZREM', lru, victim)
              redis.call('HDEL', sizes, victim)
              if size then redis.call('DECRBY', bytes, size) end
            end
            """;

    /**
     * Looks an entry up and, when there is none or it is stale, takes the lease to render it (only
     * when asked: never for a HEAD). A key of another type than a hash is not an entry: deleted. KEYS: entry, pass,
     * lease, lru. ARGV: lease token, lease ms, now ms, "1" to ask for a lease. Returns {"HIT", hash},
     * {"STALE", hash, 1 if the refresh lease was taken}, {"PASS"}, {"MISS"}, {"LEASE"} or {"WAIT"},
     * each followed by Redis' time in ms (the start of a render that follows, for {@link #STORE}).
     */
    static final LuaScript LOOKUP = new LuaScript(NOW + """
            local kind = redis.call('TYPE', KEYS[1])['ok']
            if kind ~= 'hash' and kind ~= 'none' then redis.call('DEL', KEYS[1]) end
            local e = redis.call('HGETALL', KEYS[1])
            if #e > 0 then
              redis.call('ZADD', KEYS[4], 'XX', ARGV[3], KEYS[1])
              local fresh = tonumber(redis.call('HGET', KEYS[1], 'fresh'))
              if fresh and fresh <= tonumber(ARGV[3]) then
                local got = ARGV[4] == '1' and redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
                return {'STALE', now, e, got}
              end
              return {'HIT', now, e}
            end
            local mark = redis.call('GET', KEYS[2])
            if mark == 'm' then return {'MISS', now} end
            if mark then return {'PASS', now} end
            if ARGV[4] == '1' and redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'LEASE', now} end
            return {'WAIT', now}
            """);

    /**
     * Stores an entry, keeps the cache within its byte budget (least recently used first) and
     * releases the lease; discards it instead when its URL or one of its tags was evicted since
     * its render began (an eviction always wins). KEYS: entry, lease, lru, sizes, bytes, variants
     * (or the entry again), the URL's eviction time. ARGV: lease token, ttl ms, now ms, max bytes,
     * bookkeeping bytes (added to the entry's own {@code MEMORY USAGE}), number of tags n, render start (Redis ms, from {@link #LOOKUP}), eviction memory ms, n
     * tag keys, n tag eviction-time keys, then field/value pairs. Returns the number of entries
     * evicted, or -1 when the entry was discarded.
     */
    static final LuaScript STORE = new LuaScript(FORGET + NOW + """
            local n = tonumber(ARGV[6])
            local started = tonumber(ARGV[7])
            local discard = now - started > tonumber(ARGV[8])
            local evicted = redis.call('GET', KEYS[7])
            if evicted and tonumber(evicted) >= started then discard = true end
            for i = 9 + n, 8 + 2 * n do
              evicted = redis.call('GET', ARGV[i])
              if evicted and tonumber(evicted) >= started then discard = true end
            end
            if discard then
              if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
              return -1
            end
            if redis.call('HEXISTS', KEYS[4], KEYS[1]) == 1 then forget(KEYS[1], KEYS[4], KEYS[5], KEYS[3]) end
            redis.call('HSET', KEYS[1], unpack(ARGV, 9 + 2 * n))
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            redis.call('ZADD', KEYS[3], ARGV[3], KEYS[1])
            local size = redis.call('MEMORY', 'USAGE', KEYS[1], 'SAMPLES', '0') + tonumber(ARGV[5])
            redis.call('HSET', KEYS[4], KEYS[1], size)
            local total = redis.call('INCRBY', KEYS[5], size)
            for i = 9, 8 + n do
              redis.call('SADD', ARGV[i], KEYS[1])
              if redis.call('PTTL', ARGV[i]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', ARGV[i], ARGV[2]) end
            end
            if KEYS[6] ~= KEYS[1] then
              redis.call('SADD', KEYS[6], KEYS[1])
              if redis.call('PTTL', KEYS[6]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[6], ARGV[2]) end
            end
            evicted = 0
            while total > tonumber(ARGV[4]) do
              local victim = redis.call('ZRANGE', KEYS[3], 0, 0)[1]
              if not victim or victim == KEYS[1] then break end
              forget(victim, KEYS[4], KEYS[5], KEYS[3])
              total = tonumber(redis.call('GET', KEYS[5]) or '0')
              evicted = evicted + 1
            end
            for i = 3, 5 do
              if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
            end
            if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
            return evicted
            """);

    /** Writes the Vary marker of a URL. KEYS: marker entry. ARGV: ttl ms, header names. */
    static final LuaScript MARK_VARY = new LuaScript("""
            redis.call('HSET', KEYS[1], 'vary', ARGV[2])
            if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
            return 1
            """);

    /**
     * Releases a lease without storing; marks the URL "hit for pass" ("1") when it is not cacheable
     * by nature, or "hit for miss" ("m"). KEYS: lease, pass. ARGV: token, mark ms (0: no mark), mark.
     */
    static final LuaScript RELEASE = new LuaScript("""
            if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
            if tonumber(ARGV[2]) > 0 then redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2]) end
            return 1
            """);

    /**
     * After a failed refresh of a stale entry: keeps the refresh lease (when still this request's)
     * for the back-off, so that no request refreshes again before it ends. KEYS: lease. ARGV: token,
     * back-off ms.
     */
    static final LuaScript BACK_OFF = new LuaScript("""
            if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
            return 0
            """);

    /**
     * Evicts a URL: its entry or Vary marker, every variant, its pass mark, and remembers when.
     * KEYS: entry, variants, pass, lru, sizes, bytes, the URL's eviction time. ARGV: memory ms.
     */
    static final LuaScript EVICT_URL = new LuaScript(FORGET + NOW + """
            redis.call('SET', KEYS[7], now, 'PX', ARGV[1])
            local count = 0
            for _, variant in ipairs(redis.call('SMEMBERS', KEYS[2])) do forget(variant, KEYS[5], KEYS[6], KEYS[4]) count = count + 1 end
            if redis.call('EXISTS', KEYS[1]) == 1 then count = count + 1 end
            forget(KEYS[1], KEYS[5], KEYS[6], KEYS[4])
            redis.call('DEL', KEYS[2], KEYS[3])
            return count
            """);

    /**
     * Evicts every entry carrying a tag, and remembers when. KEYS: tag set, lru, sizes, bytes, the
     * tag's eviction time. ARGV: memory ms.
     */
    static final LuaScript EVICT_TAG = new LuaScript(FORGET + NOW + """
            redis.call('SET', KEYS[5], now, 'PX', ARGV[1])
            local members = redis.call('SMEMBERS', KEYS[1])
            for _, entry in ipairs(members) do forget(entry, KEYS[3], KEYS[4], KEYS[2]) end
            redis.call('DEL', KEYS[1])
            return #members
            """);
}

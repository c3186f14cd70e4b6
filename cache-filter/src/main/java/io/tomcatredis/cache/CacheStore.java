package io.tomcatredis.cache;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import redis.clients.jedis.UnifiedJedis;

/** Reads and writes cache entries in the layout of {@link CacheKeys}; every call is one round trip. */
final class CacheStore {

    enum Outcome { HIT, STALE, PASS, LEASE, WAIT }

    /** What a lookup found: an entry (HIT, STALE), a vary marker, or what to do instead. */
    record Lookup(Outcome outcome, CachedResponse entry, String varyHeaders, boolean refreshLease) {
    }

    private final UnifiedJedis jedis;
    private final CacheKeys keys;

    CacheStore(UnifiedJedis jedis, CacheKeys keys) {
        this.jedis = jedis;
        this.keys = keys;
    }

    @SuppressWarnings("unchecked")
    Lookup lookup(String canonical, String token, long leaseMillis, boolean wantLease) {
        Object result = CacheKeys.LOOKUP.run(jedis,
                bytes(keys.entry(canonical), keys.pass(canonical), keys.lease(canonical), keys.lru()),
                bytes(token, Long.toString(leaseMillis), Long.toString(System.currentTimeMillis()),
                        wantLease ? "1" : "0"));
        List<Object> reply = (List<Object>) result;
        Outcome outcome = Outcome.valueOf(new String((byte[]) reply.get(0), StandardCharsets.UTF_8));
        if (outcome != Outcome.HIT && outcome != Outcome.STALE) {
            return new Lookup(outcome, null, null, false);
        }
        List<byte[]> flat = (List<byte[]>) reply.get(1);
        String vary = CachedResponse.varyMarker(flat);
        if (vary != null) {
            return new Lookup(Outcome.HIT, null, vary, false);
        }
        CachedResponse entry = CachedResponse.fromFlatHash(flat);
        if (entry == null) {
            // Corrupt or foreign data under our key: treat as a miss; the next store replaces it.
            return new Lookup(Outcome.WAIT, null, null, false);
        }
        boolean refresh = outcome == Outcome.STALE && reply.size() > 2 && Long.valueOf(1).equals(reply.get(2));
        return new Lookup(outcome, entry, null, refresh);
    }

    /** Stores an entry and releases the lease; returns how many entries the byte budget evicted. */
    long store(CachedResponse entry, String leaseCanonical, String variantsOf, String token, long maxCacheBytes) {
        List<byte[]> args = new ArrayList<>();
        long ttl = Math.max(1, entry.staleUntil() - System.currentTimeMillis());
        Map<String, byte[]> hash = entry.toHash();
        long size = 0;
        for (Map.Entry<String, byte[]> field : hash.entrySet()) {
            size += field.getKey().length() + field.getValue().length;
        }
        args.addAll(bytes(token, Long.toString(ttl), Long.toString(System.currentTimeMillis()),
                Long.toString(maxCacheBytes), Long.toString(size), Integer.toString(entry.tags().size())));
        for (String tag : entry.tags()) {
            args.add(utf8(keys.tag(tag)));
        }
        for (Map.Entry<String, byte[]> field : hash.entrySet()) {
            args.add(utf8(field.getKey()));
            args.add(field.getValue());
        }
        String entryKey = keys.entry(entry.key());
        Object evicted = CacheKeys.STORE.run(jedis, bytes(entryKey, keys.lease(leaseCanonical), keys.lru(),
                keys.sizes(), keys.bytes(), variantsOf == null ? entryKey : keys.variants(variantsOf)), args);
        return evicted instanceof Long count ? count : 0;
    }

    void markVary(String canonical, String headerNames, long ttlMillis) {
        CacheKeys.MARK_VARY.run(jedis, bytes(keys.entry(canonical)), bytes(Long.toString(ttlMillis), headerNames));
    }

    void release(String canonical, String token, long passMillis) {
        CacheKeys.RELEASE.run(jedis, bytes(keys.lease(canonical), keys.pass(canonical)),
                bytes(token, Long.toString(passMillis)));
    }

    long evictUrl(String canonical) {
        Object count = CacheKeys.EVICT_URL.run(jedis, bytes(keys.entry(canonical), keys.variants(canonical),
                keys.pass(canonical), keys.lru(), keys.sizes(), keys.bytes()), List.of());
        return count instanceof Long n ? n : 0;
    }

    long evictTag(String tag) {
        Object count = CacheKeys.EVICT_TAG.run(jedis, bytes(keys.tag(tag), keys.lru(), keys.sizes(), keys.bytes()),
                List.of());
        return count instanceof Long n ? n : 0;
    }

    /** Total bytes of the entries, as the budget counts them. */
    long bytesStored() {
        String value = jedis.get(keys.bytes());
        return value == null ? 0 : Long.parseLong(value);
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

package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.RedisSessions;
import io.tomcatredis.session.RedisStore;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import org.apache.catalina.Context;
import org.apache.catalina.session.PersistentManager;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.UnifiedJedis;

/**
 * Attacks on the compression of attribute values ({@code compressionThreshold}): hostile stored
 * bytes flagged 0xC4, values at the threshold, nodes that disagree on the setting, the near cache
 * reusing a compressed value's object, the principal, concurrent in-place changes. Node ON
 * compresses from {@value #THRESHOLD} bytes, OFF compresses nothing, NC compresses without a near
 * cache (the reference), ST compresses with {@code nearCacheStalenessMillis}.
 */
@Tag("tomcat")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CompressionAttackIT {

    static final int THRESHOLD = 64;
    static final byte LZ4 = (byte) 0xC4;
    /** Highly compressible, long enough to cross the threshold on its own. */
    static final String PAD = "p".repeat(200);

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    /** Lists a request handed to "another thread" (the test) after the request ended. */
    static final Map<String, List<String>> LEAKED = new ConcurrentHashMap<>();
    static final Map<String, CountDownLatch> BARRIERS = new ConcurrentHashMap<>();

    private RedisUnderTest redis;
    private TomcatNode on;
    private TomcatNode off;
    private TomcatNode nc;
    private TomcatNode st;

    @BeforeAll
    void startNodes() {
        redis = RedisUnderTest.standalone(REDIS.get());
        on = TomcatNode.start("cmpOn", m -> {
            redis.configure(m);
            m.setProperty("compressionThreshold", Integer.toString(THRESHOLD));
        }, CompressionAttackIT::pages);
        off = TomcatNode.start("cmpOff", m -> {
            redis.configure(m);
            m.setProperty("compressionThreshold", "0");
        }, CompressionAttackIT::pages);
        nc = TomcatNode.start("cmpNc", m -> {
            redis.configure(m);
            m.setProperty("compressionThreshold", Integer.toString(THRESHOLD));
            m.setProperty("nearCacheSize", "0");
        }, CompressionAttackIT::pages);
        st = TomcatNode.start("cmpSt", m -> {
            redis.configure(m);
            m.setProperty("compressionThreshold", Integer.toString(THRESHOLD));
            m.setProperty("nearCacheStalenessMillis", "60000");
        }, CompressionAttackIT::pages);
    }

    @AfterAll
    void stopNodes() {
        TomcatNode.closeAll(on, off, nc, st);
        if (redis != null) {
            redis.close();
        }
    }

    @BeforeEach
    void emptyRedis() {
        redis.flushAll();
        LEAKED.clear();
        BARRIERS.clear();
    }

    static void pages(Context context) {
        Tomcat.addServlet(context, "cmp", new CompressionServlet()).setAsyncSupported(true);
        context.addServletMappingDecoded("/c/*", "cmp");
    }

    /** Operations on list attributes changed in place. */
    static final class CompressionServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        @SuppressWarnings("unchecked")
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            response.setContentType("text/plain;charset=UTF-8");
            String op = request.getPathInfo().substring(1);
            String name = request.getParameter("name");
            String value = request.getParameter("value");
            HttpSession session = request.getSession();
            String out;
            switch (op) {
                case "new" -> {
                    List<String> list = new ArrayList<>();
                    list.add(PAD);
                    session.setAttribute(name, list);
                    out = "ok";
                }
                case "repeat" -> {
                    session.setAttribute(name, value.repeat(Integer.parseInt(request.getParameter("n"))));
                    out = "ok";
                }
                case "len" -> {
                    Object v = session.getAttribute(name);
                    out = v == null ? "null" : Integer.toString(((String) v).length());
                }
                case "append" -> {
                    // both lists are read, so both are candidates for the save's change detection
                    List<String> other = (List<String>) session.getAttribute(request.getParameter("other"));
                    List<String> list = (List<String>) session.getAttribute(name);
                    awaitBarrier(request.getParameter("barrier"));
                    awaitBarrier(request.getParameter("after"));
                    list.add(value);
                    out = String.valueOf(other == null ? "" : other.size());
                }
                case "show" -> out = shown((List<String>) session.getAttribute(name));
                case "snapshot" -> out = String.valueOf(RedisSessions.of(session).snapshot().fields().get("attr:" + name));
                case "leak" -> {
                    LEAKED.put(request.getParameter("key"), (List<String>) session.getAttribute(name));
                    out = "ok";
                }
                default -> {
                    response.sendError(404);
                    return;
                }
            }
            response.getWriter().write(out);
        }
    }

    /** The list without its padding element. */
    static String shown(List<String> list) {
        return list == null ? "null" : String.valueOf(list.stream().filter(s -> !s.equals(PAD)).toList());
    }

    private static void awaitBarrier(String barrier) {
        if (barrier == null) {
            return;
        }
        CountDownLatch latch = BARRIERS.get(barrier);
        latch.countDown();
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("barrier " + barrier + " not reached");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String c(TomcatNode node, String path) {
        return node.url("").replace("/app/s/", "/app/c/") + path;
    }

    private UnifiedJedis jedis() {
        return redis.client();
    }

    private byte[] field(HttpSessionClient browser, String field) {
        return jedis().hget(redis.sessionKey(browser.sessionId()).getBytes(StandardCharsets.UTF_8),
                field.getBytes(StandardCharsets.UTF_8));
    }

    private void setField(HttpSessionClient browser, String field, byte[] bytes) {
        jedis().hset(redis.sessionKey(browser.sessionId()).getBytes(StandardCharsets.UTF_8),
                field.getBytes(StandardCharsets.UTF_8), bytes);
    }

    private static byte[] concat(byte[]... parts) {
        int length = Arrays.stream(parts).mapToInt(p -> p.length).sum();
        byte[] out = new byte[length];
        int at = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, out, at, part.length);
            at += part.length;
        }
        return out;
    }

    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    private static byte[] lz4(byte[] content) {
        LZ4Compressor compressor = LZ4Factory.safeInstance().fastCompressor();
        return compressor.compress(content);
    }

    private static byte[] varint(int value) {
        byte[] out = new byte[5];
        int at = 0;
        while ((value & ~0x7F) != 0) {
            out[at++] = (byte) ((value & 0x7F) | 0x80);
            value >>>= 7;
        }
        out[at++] = (byte) value;
        return Arrays.copyOf(out, at);
    }

    /** Hostile or corrupt values flagged 0xC4, by what they claim. */
    private Map<String, byte[]> hostileValues(byte[] legit) {
        byte[] content = "a".repeat(1000).getBytes(StandardCharsets.US_ASCII);
        byte[] block = lz4(content);
        Map<String, byte[]> values = new LinkedHashMap<>();
        values.put("0xC4 alone", bytes(0xC4));
        values.put("claims 2^31-1 (5-byte varint)", concat(bytes(0xC4, 0xFF, 0xFF, 0xFF, 0xFF, 0x07), block));
        values.put("claims 2^28-1 (largest 4-byte varint)", concat(bytes(0xC4, 0xFF, 0xFF, 0xFF, 0x7F), block));
        values.put("claims a negative int (5-byte varint)", concat(bytes(0xC4, 0x80, 0x80, 0x80, 0x80, 0x08), block));
        values.put("claims 0", concat(bytes(0xC4, 0x00), block));
        values.put("claims 16 MiB + 1", concat(bytes(0xC4), varint((16 << 20) + 1), new byte[70_000]));
        values.put("claims 16 MiB of a zero block", concat(bytes(0xC4), varint(16 << 20), new byte[70_000]));
        values.put("block expands beyond the claim", concat(bytes(0xC4), varint(16), block));
        values.put("block shorter than the claim", concat(bytes(0xC4), varint(1001), block));
        values.put("truncated header", bytes(0xC4, 0x80));
        values.put("truncated block", Arrays.copyOf(legit, legit.length - 3));
        values.put("legit header, garbage block", concat(Arrays.copyOf(legit, 3), new byte[legit.length - 3]));
        values.put("nested compressed value", concat(bytes(0xC4), varint(legit.length), lz4(legit)));
        values.put("compressed garbage Kryo", concat(bytes(0xC4), varint(1000), block));
        values.put("compressed 0xF2 then garbage", concat(bytes(0xC4), varint(100),
                lz4(concat(bytes(0xF2), "\u00ff".repeat(99).getBytes(StandardCharsets.ISO_8859_1)))));
        return values;
    }

    /**
     * Hostile 0xC4 values are dropped with a WARN on every kind of node: no 500, no OOM, no hang;
     * the session's other attributes stay, and the session keeps saving.
     */
    @Test
    void hostileCompressedValuesAreDroppedWithAWarn() {
        HttpSessionClient seed = new HttpSessionClient();
        seed.ok(c(on, "repeat?name=big&value=ab&n=100"));
        byte[] legit = field(seed, "attr:big");
        assertThat(legit[0]).as("a 200-byte value compressed").isEqualTo(LZ4);

        Map<String, String> failures = new LinkedHashMap<>();
        try (CapturedLog log = CapturedLog.of("io.tomcatredis")) {
            for (Map.Entry<String, byte[]> hostile : hostileValues(legit).entrySet()) {
                for (TomcatNode node : new TomcatNode[] {off, nc, on}) {
                    HttpSessionClient browser = new HttpSessionClient();
                    browser.ok(node.url("set?name=color&value=blue"));
                    browser.ok(c(node, "repeat?name=victim&value=ab&n=100"));
                    setField(browser, "attr:victim", hostile.getValue());
                    // the node's own near cache cannot know of a write that bypassed the version: read elsewhere
                    TomcatNode reader = node == off ? nc : off;
                    HttpSessionClient.Reply reply = browser.get(c(reader, "len?name=victim"));
                    String what = hostile.getKey() + " read on " + reader.name();
                    if (reply.status() != 200 || !reply.body().equals("null")) {
                        failures.put(what, reply.status() + " " + reply.body());
                        continue;
                    }
                    if (!browser.ok(reader.url("get?name=color")).equals("blue")) {
                        failures.put(what, "color lost");
                    }
                    browser.ok(reader.url("set?name=after&value=1"));
                    if (!browser.ok(on.url("get?name=after")).equals("1")) {
                        failures.put(what, "session no longer saves");
                    }
                }
            }
            assertThat(failures).as("hostile values not dropped cleanly").isEmpty();
            assertThat(log.text()).contains("Dropping session attribute 'victim'")
                    .contains("corrupt compressed value");
        }
    }

    /** A value written without compression (as by a release before it) reads on every node, and vice versa. */
    @Test
    void valuesWrittenWithAndWithoutCompressionReadEverywhere() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(c(off, "repeat?name=plain&value=xy&n=300"));
        browser.ok(c(on, "repeat?name=packed&value=xy&n=300"));
        assertThat(field(browser, "attr:plain")[0]).isEqualTo((byte) 0xF2);
        assertThat(field(browser, "attr:packed")[0]).isEqualTo(LZ4);
        assertThat(field(browser, "attr:packed").length).isLessThan(field(browser, "attr:plain").length);
        for (TomcatNode node : new TomcatNode[] {off, on, nc, st}) {
            assertThat(browser.ok(c(node, "len?name=plain"))).as(node.name()).isEqualTo("600");
            assertThat(browser.ok(c(node, "len?name=packed"))).as(node.name()).isEqualTo("600");
        }
        assertThat(field(browser, "attr:plain")[0]).as("an unchanged value is not rewritten").isEqualTo((byte) 0xF2);
        assertThat(field(browser, "attr:packed")[0]).as("an unchanged value is not rewritten").isEqualTo(LZ4);
    }

    /** A value exactly the threshold long is compressed, one byte shorter is not. */
    @Test
    void valueExactlyAtTheThresholdIsCompressedOneByteBelowIsNot() {
        HttpSessionClient probe = new HttpSessionClient();
        probe.ok(c(off, "repeat?name=v&value=a&n=40"));
        int overhead = field(probe, "attr:v").length - 40;
        int atThreshold = THRESHOLD - overhead;

        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(c(on, "repeat?name=at&value=a&n=" + atThreshold));
        browser.ok(c(on, "repeat?name=below&value=a&n=" + (atThreshold - 1)));
        browser.ok(c(off, "repeat?name=atOff&value=a&n=" + atThreshold));
        assertThat(field(browser, "attr:atOff")).hasSize(THRESHOLD);
        assertThat(field(browser, "attr:at")[0]).as("exactly the threshold").isEqualTo(LZ4);
        assertThat(field(browser, "attr:below")).as("one byte below").hasSize(THRESHOLD - 1);
        assertThat(field(browser, "attr:below")[0]).isNotEqualTo(LZ4);
        for (TomcatNode node : new TomcatNode[] {off, nc}) {
            assertThat(browser.ok(c(node, "len?name=at"))).isEqualTo(Integer.toString(atThreshold));
            assertThat(browser.ok(c(node, "len?name=below"))).isEqualTo(Integer.toString(atThreshold - 1));
        }
    }

    /** The principal is compressed like any value and read back on nodes with compression off. */
    @Test
    void compressedPrincipalAuthenticatesOnEveryNode() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(on.url("set?name=color&value=blue"));
        String basic = "Basic " + Base64.getEncoder().encodeToString("ann:secret".getBytes(StandardCharsets.UTF_8));
        assertThat(browser.get(on.url("secure/whoami"), "Authorization", basic).body()).isEqualTo("ann BASIC");
        byte[] principal = field(browser, "meta:principal");
        assertThat(principal).isNotNull();
        assertThat(principal[0]).as("the principal (well over " + THRESHOLD + " bytes) compressed").isEqualTo(LZ4);
        for (TomcatNode node : new TomcatNode[] {off, nc, st}) {
            assertThat(browser.ok(node.url("secure/whoami"))).as(node.name()).isEqualTo("ann BASIC");
        }
    }

    /** A corrupt compressed principal is dropped with a WARN: the request asks for credentials again, no 500. */
    @Test
    void corruptCompressedPrincipalIsDroppedNotA500() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(on.url("set?name=color&value=blue"));
        String basic = "Basic " + Base64.getEncoder().encodeToString("ann:secret".getBytes(StandardCharsets.UTF_8));
        assertThat(browser.get(on.url("secure/whoami"), "Authorization", basic).body()).isEqualTo("ann BASIC");
        byte[] principal = field(browser, "meta:principal");
        try (CapturedLog log = CapturedLog.of("io.tomcatredis")) {
            for (byte[] hostile : new byte[][] {bytes(0xC4), concat(bytes(0xC4, 0xFF, 0xFF, 0xFF, 0x7F), lz4(new byte[900])),
                    Arrays.copyOf(principal, principal.length - 2)}) {
                setField(browser, "meta:principal", hostile);
                for (TomcatNode node : new TomcatNode[] {off, nc}) {
                    assertThat(browser.get(node.url("secure/whoami")).status()).as(node.name()).isEqualTo(401);
                    assertThat(browser.ok(node.url("get?name=color"))).isEqualTo("blue");
                }
            }
            assertThat(log.text()).contains("(principal)").contains("corrupt compressed value");
        }
        assertThat(browser.get(nc.url("secure/whoami"), "Authorization", basic).body()).isEqualTo("ann BASIC");
    }

    /**
     * In-place changes of a compressed value alternate between a node that compresses and one that
     * does not; every node, with or without near cache, sees each change, and a read-only request
     * leaves the stored bytes as they are.
     */
    @Test
    void inPlaceChangesAcrossNodesThatDisagreeOnCompression() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(c(on, "new?name=list"));
        assertThat(field(browser, "attr:list")[0]).isEqualTo(LZ4);
        assertThat(browser.ok(c(off, "show?name=list"))).isEqualTo("[]");
        browser.ok(c(off, "append?name=list&value=b"));
        assertThat(field(browser, "attr:list")[0]).as("rewritten by OFF").isEqualTo((byte) 0xF2);
        assertThat(browser.ok(c(on, "show?name=list"))).isEqualTo("[b]");
        browser.ok(c(on, "append?name=list&value=c"));
        assertThat(field(browser, "attr:list")[0]).as("rewritten by ON").isEqualTo(LZ4);
        assertThat(browser.ok(c(off, "show?name=list"))).as("OFF's near cache").isEqualTo("[b, c]");
        assertThat(browser.ok(c(st, "show?name=list"))).isEqualTo("[b, c]");
        browser.ok(c(st, "append?name=list&value=d"));
        assertThat(browser.ok(c(on, "show?name=list"))).as("ON's near cache").isEqualTo("[b, c, d]");
        assertThat(browser.ok(c(nc, "show?name=list"))).isEqualTo("[b, c, d]");
        byte[] before = field(browser, "attr:list");
        String version = new String(field(browser, "meta:version"), StandardCharsets.UTF_8);
        for (TomcatNode node : new TomcatNode[] {off, on, nc, st}) {
            assertThat(browser.ok(c(node, "show?name=list"))).as(node.name()).isEqualTo("[b, c, d]");
        }
        assertThat(field(browser, "attr:list")).as("reads rewrote nothing").isEqualTo(before);
        assertThat(new String(field(browser, "meta:version"), StandardCharsets.UTF_8)).isEqualTo(version);
    }

    /**
     * A kept compressed value changed in place by another thread after its request ended is not
     * served by the near cache (it no longer compresses/serializes to what Redis holds).
     */
    @Test
    void keptCompressedValueChangedOutsideARequestIsNotServed() {
        Map<String, String> seen = new LinkedHashMap<>();
        for (TomcatNode node : new TomcatNode[] {nc, on, st}) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(c(node, "new?name=list"));
            browser.ok(c(node, "append?name=list&value=saved"));
            assertThat(field(browser, "attr:list")[0]).isEqualTo(LZ4);
            browser.ok(c(node, "leak?name=list&key=" + node.name()));
            LEAKED.get(node.name()).add("ghost");
            seen.put(node.name(), browser.ok(c(node, "show?name=list")));
            seen.put(node.name() + " in Redis", browser.ok(c(off, "show?name=list")));
        }
        assertThat(seen).containsEntry("cmpNc", "[saved]").containsEntry("cmpNc in Redis", "[saved]")
                .containsEntry("cmpOn", "[saved]").containsEntry("cmpOn in Redis", "[saved]")
                .containsEntry("cmpSt", "[saved]").containsEntry("cmpSt in Redis", "[saved]");
    }

    /**
     * Two requests on two nodes change two different compressed lists in place at the same time,
     * each reading both, the second saving after the first: neither node's unchanged (now stale)
     * copy overwrites the other's change, whichever of them compresses.
     */
    @Test
    void concurrentInPlaceChangesOfTwoCompressedValuesOnTwoNodesKeepBoth() throws Exception {
        for (TomcatNode[] pair : new TomcatNode[][] {{on, off}, {off, on}, {on, nc}, {st, on}, {on, st}}) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(c(pair[0], "new?name=x"));
            browser.ok(c(pair[0], "new?name=y"));
            browser.ok(c(pair[1], "show?name=x"));
            browser.ok(c(pair[0], "show?name=y"));
            String where = pair[0].name() + "-" + pair[1].name();
            BARRIERS.put("both" + where, new CountDownLatch(2));
            BARRIERS.put("after" + where, new CountDownLatch(2));
            HttpSessionClient tab1 = new HttpSessionClient();
            HttpSessionClient tab2 = new HttpSessionClient();
            tab1.sessionId(browser.sessionId());
            tab2.sessionId(browser.sessionId());
            CompletableFuture<String> first = CompletableFuture.supplyAsync(
                    () -> tab1.ok(c(pair[0], "append?name=x&other=y&value=1&barrier=both" + where)));
            CompletableFuture<String> second = CompletableFuture.supplyAsync(
                    () -> tab2.ok(c(pair[1], "append?name=y&other=x&value=2&barrier=both" + where
                            + "&after=after" + where)));
            first.get(60, TimeUnit.SECONDS); // saved before its response
            awaitBarrier("after" + where);
            second.get(60, TimeUnit.SECONDS);
            for (TomcatNode node : new TomcatNode[] {nc, pair[0], pair[1]}) {
                assertThat(browser.ok(c(node, "show?name=x"))).as(where + " x on " + node.name()).isEqualTo("[1]");
                assertThat(browser.ok(c(node, "show?name=y"))).as(where + " y on " + node.name()).isEqualTo("[2]");
            }
        }
    }

    private static PersistentManager persistentManager(String compressionThreshold) {
        PersistentManager manager = new PersistentManager();
        RedisStore store = new RedisStore();
        store.setProperty("redisUri", REDIS.get().uri());
        store.setProperty("compressionThreshold", compressionThreshold);
        manager.setStore(store);
        manager.setSaveOnRestart(true);
        return manager;
    }

    /**
     * RedisStore (PersistentManager) swaps out compressed values that RedisSessionManager nodes and
     * a store with compression off read and change in place; the snapshot reports stored sizes.
     */
    @Test
    void redisStoreSwapsCompressedValuesInAndOut() {
        HttpSessionClient browser = new HttpSessionClient();
        try (TomcatNode pm = TomcatNode.startWith("cmpPm", () -> persistentManager("64"), CompressionAttackIT::pages)) {
            browser.ok(c(pm, "new?name=list"));
            browser.ok(c(pm, "append?name=list&value=pm"));
        } // saveOnRestart: swapped out to Redis
        assertThat(field(browser, "attr:list")[0]).isEqualTo(LZ4);
        assertThat(browser.ok(c(off, "show?name=list"))).isEqualTo("[pm]");
        browser.ok(c(off, "append?name=list&value=off"));
        assertThat(browser.ok(c(on, "show?name=list"))).isEqualTo("[pm, off]");
        browser.ok(c(on, "append?name=list&value=on"));
        assertThat(browser.ok(c(on, "snapshot?name=list")))
                .isEqualTo(Integer.toString(field(browser, "attr:list").length));
        assertThat(field(browser, "attr:list")[0]).isEqualTo(LZ4);
        try (TomcatNode pm = TomcatNode.startWith("cmpPm0", () -> persistentManager("0"), CompressionAttackIT::pages)) {
            assertThat(browser.ok(c(pm, "show?name=list"))).isEqualTo("[pm, off, on]");
            browser.ok(c(pm, "append?name=list&value=pm0"));
        }
        assertThat(field(browser, "attr:list")[0]).as("written by the store with compression off").isEqualTo((byte) 0xF2);
        assertThat(browser.ok(c(nc, "show?name=list"))).isEqualTo("[pm, off, on, pm0]");
    }
}

package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The entry hash: header values verbatim whatever they hold, and what is not an entry of this format. */
class CachedResponseTest {

    private static CachedResponse entry(List<CachedResponse.Header> headers) {
        return new CachedResponse("https://h/p", 200, headers, "body".getBytes(StandardCharsets.UTF_8), false, 4,
                "\"e\"", 1, 2, 3, Set.of("t1", "t2"), true, false, "ja-JP", Set.of("x-frame-options", "x-odd:name"),
                Set.of("vary"));
    }

    private static List<byte[]> flat(Map<String, byte[]> hash) {
        List<byte[]> flat = new ArrayList<>();
        hash.forEach((name, value) -> {
            flat.add(name.getBytes(StandardCharsets.UTF_8));
            flat.add(value);
        });
        return flat;
    }

    @Test
    void headerValuesWithCrLfBackslashesAndColonsRoundTripVerbatim() {
        List<CachedResponse.Header> headers = List.of(
                new CachedResponse.Header("X-Note", "a\r\nSet-Cookie: evil=1"),
                new CachedResponse.Header("X-Other", "b\nX-Injected: 1\\n\\\\"),
                new CachedResponse.Header("Odd: Name\\", "c: d"),
                new CachedResponse.Header("X-Empty", ""));

        CachedResponse read = CachedResponse.fromFlatHash(flat(entry(headers).toHash()));

        assertThat(read).isNotNull();
        assertThat(read.headers()).containsExactlyElementsOf(headers);
        assertThat(read.anonymousOnly()).isTrue();
        assertThat(read.shared()).isFalse();
        assertThat(read.locale()).isEqualTo("ja-JP");
        assertThat(read.tags()).containsExactlyInAnyOrder("t1", "t2");
        assertThat(read.replaced()).containsExactlyInAnyOrder("x-frame-options", "x-odd:name");
    }

    @Test
    void entryWithoutHeadersRoundTrips() {
        assertThat(CachedResponse.fromFlatHash(flat(entry(List.of()).toHash())).headers()).isEmpty();
    }

    @Test
    void entryOfAnotherFormatOrCorruptIsNotRead() {
        Map<String, byte[]> hash = entry(List.of(new CachedResponse.Header("A", "b"))).toHash();
        hash.remove("format");
        assertThat(CachedResponse.fromFlatHash(flat(hash))).as("no format field: written by an older version")
                .isNull();
        hash.put("format", "2".getBytes(StandardCharsets.UTF_8));
        assertThat(CachedResponse.fromFlatHash(flat(hash))).as("format 2 does not say which headers replace").isNull();

        Map<String, byte[]> corrupt = entry(List.of()).toHash();
        corrupt.put("status", "two hundred".getBytes(StandardCharsets.UTF_8));
        assertThat(CachedResponse.fromFlatHash(flat(corrupt))).isNull();

        Map<String, byte[]> badHeaders = entry(List.of()).toHash();
        badHeaders.put("headers", "no separator\n".getBytes(StandardCharsets.UTF_8));
        assertThat(CachedResponse.fromFlatHash(flat(badHeaders))).isNull();
    }

    @Test
    void aBodyThatIsNotWhatTheEntrySaysOrAStatusOutOfRangeIsNotRead() throws Exception {
        Map<String, byte[]> shortBody = entry(List.of()).toHash();
        shortBody.put("body", "bod".getBytes(StandardCharsets.UTF_8));
        assertThat(CachedResponse.fromFlatHash(flat(shortBody))).isNull();

        Map<String, byte[]> notGzip = entry(List.of()).toHash();
        notGzip.put("gzip", "1".getBytes(StandardCharsets.UTF_8));
        assertThat(CachedResponse.fromFlatHash(flat(notGzip))).isNull();

        java.io.ByteArrayOutputStream gzipped = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream out = new java.util.zip.GZIPOutputStream(gzipped)) {
            out.write("body".getBytes(StandardCharsets.UTF_8));
        }
        Map<String, byte[]> gzip = entry(List.of()).toHash();
        gzip.put("gzip", "1".getBytes(StandardCharsets.UTF_8));
        gzip.put("body", gzipped.toByteArray());
        assertThat(CachedResponse.fromFlatHash(flat(gzip))).as("an intact gzip member, read decoded")
                .satisfies(read -> assertThat(read.body()).isEqualTo("body".getBytes(StandardCharsets.UTF_8)))
                .satisfies(read -> assertThat(read.gzipped()).isFalse());
        for (int fromEnd : new int[] {8, 10}) {
            // The CRC-32 (8 bytes from the end) and the deflate data before it: ISIZE still right.
            byte[] corrupt = gzipped.toByteArray();
            corrupt[corrupt.length - fromEnd] ^= 0x5a;
            gzip.put("body", corrupt);
            assertThat(CachedResponse.fromFlatHash(flat(gzip))).as("corrupt %d bytes before the end", fromEnd).isNull();
        }
        gzip.put("body", java.util.Arrays.copyOf(gzipped.toByteArray(), gzipped.size() - 3));
        assertThat(CachedResponse.fromFlatHash(flat(gzip))).as("cut short").isNull();

        for (String status : new String[] {"99", "600", "1234", "-200"}) {
            Map<String, byte[]> odd = entry(List.of()).toHash();
            odd.put("status", status.getBytes(StandardCharsets.UTF_8));
            assertThat(CachedResponse.fromFlatHash(flat(odd))).as(status).isNull();
        }
    }

    /** Regression (issue 14, attack finding 11): a missing etag was read as "" and served as {@code ETag:}. */
    @Test
    void anEntryMissingAFieldItAlwaysHasOrHoldingAValueNotOfItsFormIsNotRead() {
        for (String field : entry(List.of()).toHash().keySet()) {
            Map<String, byte[]> missing = entry(List.of()).toHash();
            missing.remove(field);
            assertThat(CachedResponse.fromFlatHash(flat(missing))).as("without " + field).isNull();
        }
        Map<String, String> malformed = Map.of("etag", "", "key", "", "gzip", "yes", "anonymous", "", "shared", "2",
                "stored", "soon", "fresh", "", "stale", "0");
        malformed.forEach((field, value) -> {
            Map<String, byte[]> odd = entry(List.of()).toHash();
            odd.put(field, value.getBytes(StandardCharsets.UTF_8));
            assertThat(CachedResponse.fromFlatHash(flat(odd))).as(field + " = '" + value + "'").isNull();
        });
    }
}

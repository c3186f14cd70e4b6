package io.tomcatredis.session.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SessionHashFormatTest {

    private static Map<byte[], byte[]> hash(String... fieldsAndValues) {
        Map<byte[], byte[]> hash = new HashMap<>();
        for (int i = 0; i < fieldsAndValues.length; i += 2) {
            hash.put(fieldsAndValues[i].getBytes(StandardCharsets.UTF_8),
                    fieldsAndValues[i + 1].getBytes(StandardCharsets.UTF_8));
        }
        return hash;
    }

    @Test
    void readsMetadataAttributesAndIgnoresUnknownFields() {
        StoredSession stored = SessionHashFormat.read(hash("meta:creationTime", "10", "meta:lastAccessedTime", "20",
                "meta:maxInactiveInterval", "30", "meta:version", "4", "meta:authType", "BASIC",
                "meta:activationListeners", "a\nb", "meta:dataKeys", "cart", "meta:fromTheFuture", "x",
                "attr:meta:creationTime", "v"));

        assertThat(stored.creationTime()).isEqualTo(10);
        assertThat(stored.lastAccessedTime()).isEqualTo(20);
        assertThat(stored.maxInactiveInterval()).isEqualTo(30);
        assertThat(stored.version()).isEqualTo(4);
        assertThat(stored.authType()).isEqualTo("BASIC");
        assertThat(stored.activationListeners()).containsExactlyInAnyOrder("a", "b");
        assertThat(stored.dataKeys()).containsExactly("cart");
        assertThat(stored.attributes()).containsOnlyKeys("meta:creationTime");
    }

    @Test
    void hashWithoutValidCreationTimeIsNoSession() {
        assertThat(SessionHashFormat.read(hash("meta:version", "1"))).isNull();
        assertThat(SessionHashFormat.read(hash("meta:creationTime", "soon"))).isNull();
        assertThat(SessionHashFormat.read(hash("meta:creationTime", "1", "meta:maxInactiveInterval", "99999999999")))
                .extracting(StoredSession::maxInactiveInterval).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void writesOnlyWhatChangedUnderLiteralFieldNames() {
        SessionHashFormat.Write write = SessionHashFormat.write(SessionChanges.update()
                .setAttribute("color", "blue".getBytes(StandardCharsets.UTF_8)).removeAttribute("size")
                .authentication(null, null).activationListeners(Set.of("b", "a")));

        assertThat(strings(write.pairs())).containsExactly("meta:activationListeners", "a\nb", "attr:color", "blue");
        assertThat(strings(write.deletions())).containsExactly("meta:principal", "meta:authType", "attr:size");
    }

    @Test
    void newSessionWritesCreationTimeAndInterval() {
        SessionHashFormat.Write write = SessionHashFormat.write(SessionChanges.created(123, 60));
        assertThat(strings(write.pairs())).containsExactly("meta:creationTime", "123", "meta:maxInactiveInterval", "60");
    }

    private static List<String> strings(List<byte[]> values) {
        return values.stream().map(v -> new String(v, StandardCharsets.UTF_8)).toList();
    }
}

package io.tomcatredis.session.codec;

import static org.assertj.core.api.Assertions.assertThat;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Output;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Values stored by release 0.1 (format 1) stay readable by today's codec, and are rewritten in format 2. */
class FormatCompatibilityAttackTest {

    private static final ClassLoader LOADER = FormatCompatibilityAttackTest.class.getClassLoader();

    static final class Profile implements Serializable {
        private static final long serialVersionUID = 1L;
        String name;
        List<String> roles;
        Map<String, Object> prefs;
    }

    private static byte[] format1(Object value) {
        Kryo legacy = LegacyKryoFactory.create(LOADER, ClassFilter.DENY_LIST_ONLY);
        try (Output output = new Output(256, -1)) {
            legacy.writeClassAndObject(output, value);
            return output.toBytes();
        }
    }

    @Test
    void aFormatOneProfileWithWrappedAndAccessOrderedCollectionsIsReadAndRewrittenInFormatTwo() throws Exception {
        Profile profile = new Profile();
        profile.name = "ann";
        profile.roles = Collections.unmodifiableList(new ArrayList<>(List.of("user", "admin")));
        LinkedHashMap<String, Object> prefs = new LinkedHashMap<>(16, 0.75f, true);
        prefs.put("theme", "dark");
        prefs.put("sorted", new TreeSet<>(List.of("b", "a")));
        prefs.put("plain", new HashMap<>(Map.of("k", 1)));
        prefs.get("theme");
        profile.prefs = prefs;
        byte[] old = format1(profile);
        assertThat(old[0] & 0xFF).as("format 1 starts with a Kryo class id").isLessThan(0x80);

        KryoCodec codec = new KryoCodec(LOADER, ClassFilter.DENY_LIST_ONLY);
        Profile read = (Profile) codec.decode(old);
        assertThat(read.name).isEqualTo("ann");
        assertThat(read.roles).containsExactly("user", "admin");
        assertThat(read.prefs.keySet()).containsExactly("sorted", "plain", "theme");

        byte[] rewritten = codec.encode(read);
        assertThat(rewritten[0]).isEqualTo(KryoCodec.FORMAT_2);
        Profile again = (Profile) new KryoCodec(LOADER, ClassFilter.DENY_LIST_ONLY).decode(rewritten);
        assertThat(again.roles).containsExactly("user", "admin");
        assertThat(again.prefs.keySet()).containsExactly("sorted", "plain", "theme");
    }

    @Test
    void javaSerializerReadsFormatOneToo() throws Exception {
        AttributeCodec java = AttributeCodec.create("java", LOADER, ClassFilter.DENY_LIST_ONLY);
        Object read = java.decode(format1(new HashMap<>(Map.of("k", List.of(1, 2)))));
        assertThat(read).isEqualTo(Map.of("k", List.of(1, 2)));
    }
}

package io.tomcatredis.session.codec;

import static org.assertj.core.api.Assertions.assertThat;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Output;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Attack on the 0xC4 flag of {@link CompressingCodec}: no value of an older format starts with it,
 * so every legitimate pre-compression value, however long, stays readable through the compressing
 * codec, and is written in today's format (compressed when long) on its next save.
 */
class CompressionFormatAttackTest {

    private static final ClassLoader LOADER = CompressionFormatAttackTest.class.getClassLoader();

    record Profile(String name, List<String> tags) implements Serializable {
    }

    /** Long values of the types sessions hold, of every registered Kryo class id and by class name. */
    private static List<Object> values() {
        String longText = "x".repeat(3000);
        List<String> list = new ArrayList<>();
        Map<String, Integer> map = new HashMap<>();
        for (int i = 0; i < 300; i++) {
            list.add("item-" + i);
            map.put("k" + i, i);
        }
        return List.of(longText, 42, 42L, 4.2d, 4.2f, true, (byte) 7, 'c', (short) 3, list, map,
                new LinkedHashSet<>(list), new Profile(longText, list), UUID.randomUUID(), new int[1000],
                new String[] {longText});
    }

    @Test
    void legacyKryoValuesNeverStartWith0xC4AndReadThroughTheCompressingCodec() throws Exception {
        Kryo legacy = LegacyKryoFactory.create(LOADER, ClassFilter.DENY_LIST_ONLY);
        AttributeCodec compressing = AttributeCodec.create("kryo", LOADER, ClassFilter.DENY_LIST_ONLY, 1);
        for (Object value : values()) {
            Output output = new Output(256, -1);
            legacy.writeClassAndObject(output, value);
            byte[] format1 = output.toBytes();

            assertThat(format1[0]).as(value.getClass().getName()).isNotEqualTo(CompressingCodec.LZ4)
                    .isNotEqualTo(KryoCodec.FORMAT_2).isNotEqualTo((byte) 0xAC);
            Object back = compressing.decode(format1);
            assertThat(back.getClass()).isEqualTo(value.getClass());
            if (!value.getClass().isArray()) {
                assertThat(back).isEqualTo(value);
            }
            byte[] next = compressing.encode(back, format1);
            assertThat(next).as("written again in today's format on its next save: " + value.getClass().getName())
                    .isNotEqualTo(format1);
            assertThat(compressing.decode(next).getClass()).isEqualTo(value.getClass());
        }
    }

    @Test
    void javaSerializedValuesReadThroughTheCompressingCodec() throws Exception {
        AttributeCodec compressing = AttributeCodec.create("kryo", LOADER, ClassFilter.DENY_LIST_ONLY, 1);
        for (Object value : values()) {
            byte[] java = JdkCodec.write(value);
            assertThat(java[0]).isEqualTo((byte) 0xAC);
            assertThat(compressing.decode(java).getClass()).isEqualTo(value.getClass());
        }
    }
}

package io.tomcatredis.session.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The compressed format ({@code compressionThreshold}, {@link CompressingCodec}): flagged by its
 * first byte, readable whatever the setting is now, bounded when read, and compared uncompressed
 * for change detection.
 */
class CompressingCodecTest {

    private static final ClassLoader LOADER = CompressingCodecTest.class.getClassLoader();

    private static AttributeCodec codec(String serializer, int threshold) {
        return AttributeCodec.create(serializer, LOADER, ClassFilter.DENY_LIST_ONLY, threshold);
    }

    /** A set of 100 similar strings, as a "recently viewed" attribute: about 1.3 kB serialized. */
    private static Set<String> recentlyViewed() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            ids.add("product-" + (100_000 + i * 37));
        }
        return ids;
    }

    @ParameterizedTest
    @ValueSource(strings = {"kryo", "java"})
    void aValueAtTheThresholdIsStoredCompressedAndReadBackWithTheSettingOnOffOrTheOtherSerializer(String serializer)
            throws Exception {
        Set<String> value = recentlyViewed();
        byte[] plain = codec(serializer, 0).encode(value);

        byte[] stored = codec(serializer, plain.length).encode(value);

        assertThat(stored[0]).isEqualTo(CompressingCodec.LZ4);
        assertThat(stored.length).isLessThan(plain.length / 2);
        assertThat(CompressingCodec.uncompressed(stored)).isEqualTo(plain);
        assertThat(codec(serializer, 256).decode(stored)).isEqualTo(value);
        assertThat(codec(serializer, 0).decode(stored)).as("setting off").isEqualTo(value);
        assertThat(codec(serializer, -1).decode(stored)).as("negative: off").isEqualTo(value);
        assertThat(codec(serializer.equals("kryo") ? "java" : "kryo", 256).decode(stored)).isEqualTo(value);
    }

    @Test
    void aValueBelowTheThresholdOrWithTheSettingOffIsStoredExactlyAsBefore() throws Exception {
        Set<String> value = recentlyViewed();
        byte[] plain = new KryoCodec(LOADER, ClassFilter.DENY_LIST_ONLY).encode(value);

        assertThat(codec("kryo", plain.length + 1).encode(value)).isEqualTo(plain);
        assertThat(codec("kryo", 0).encode(value)).isEqualTo(plain);
        assertThat(codec("kryo", -5).encode(value)).isEqualTo(plain);
        assertThat(codec("kryo", 256).encode("short")[0]).isEqualTo(KryoCodec.FORMAT_2);
    }

    @Test
    void valuesWrittenBeforeCompressionExistedAreReadWithTheSettingOn() throws Exception {
        Set<String> value = recentlyViewed();
        byte[] kryo = new KryoCodec(LOADER, ClassFilter.DENY_LIST_ONLY).encode(value);
        byte[] java = JdkCodec.write(new ArrayList<>(value));

        assertThat(codec("kryo", 64).decode(kryo)).isEqualTo(value);
        assertThat(codec("java", 64).decode(java)).isEqualTo(new ArrayList<>(value));
    }

    @Test
    void anIncompressibleValueIsStoredUncompressed() throws Exception {
        byte[] noise = new byte[2_000];
        new Random(42).nextBytes(noise);

        byte[] stored = codec("kryo", 256).encode(noise);

        assertThat(stored[0]).isEqualTo(KryoCodec.FORMAT_2);
        assertThat((byte[]) codec("kryo", 256).decode(stored)).isEqualTo(noise);
    }

    @Test
    void compressionIsDeterministic() throws Exception {
        assertThat(codec("kryo", 256).encode(recentlyViewed())).isEqualTo(codec("kryo", 256).encode(recentlyViewed()));
    }

    @Test
    void anUnchangedValueIsRecognisedUncompressedWhateverTheThresholdItWasStoredUnder() throws Exception {
        Set<String> value = recentlyViewed();
        byte[] compressed = codec("kryo", 256).encode(value);
        byte[] plain = codec("kryo", 0).encode(value);

        assertThat(codec("kryo", 256).encode(value, compressed)).isSameAs(compressed);
        assertThat(codec("kryo", 256).encode(value, plain)).as("stored before the setting was on").isSameAs(plain);
        assertThat(codec("kryo", 0).encode(value, compressed)).as("stored before the setting was off")
                .isSameAs(compressed);

        value.add("product-new");
        byte[] changed = codec("kryo", 256).encode(value, compressed);
        assertThat(changed).isNotSameAs(compressed);
        assertThat(changed[0]).isEqualTo(CompressingCodec.LZ4);
        assertThat(codec("kryo", 0).decode(changed)).isEqualTo(value);
        assertThat(codec("kryo", 256).encode(value, null)).isEqualTo(changed);
    }

    @Test
    void aCorruptStoredValueCountsAsChanged() throws Exception {
        Set<String> value = recentlyViewed();
        byte[] corrupt = codec("kryo", 256).encode(value);
        corrupt[corrupt.length / 2] ^= 0x55;

        byte[] bytes = codec("kryo", 256).encode(value, corrupt);

        assertThat(bytes).isNotSameAs(corrupt);
        assertThat(codec("kryo", 256).decode(bytes)).isEqualTo(value);
    }

    @Test
    void aClaimedLengthBeyondTheLimitOrTheBlockIsRefusedBeforeAnythingIsAllocated() {
        AttributeCodec codec = codec("kryo", 256);
        // 2^28 - 1 claimed, and 16 MiB + 1 with a block that could hold it
        byte[] huge = {CompressingCodec.LZ4, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x7F, 0x00};
        byte[] overLimit = new byte[5 + 70_000];
        overLimit[0] = CompressingCodec.LZ4;
        overLimit[1] = (byte) 0x81;
        overLimit[2] = (byte) 0x80;
        overLimit[3] = (byte) 0x80;
        overLimit[4] = 0x08;
        // 1,000 bytes claimed from a 3-byte block: more than LZ4 can expand
        byte[] overRatio = {CompressingCodec.LZ4, (byte) 0xE8, 0x07, 0x10, 0x41, 0x00};

        for (byte[] bytes : List.of(huge, overLimit, overRatio)) {
            assertThatThrownBy(() -> codec.decode(bytes)).isInstanceOf(SerializationException.class)
                    .hasMessageContaining("corrupt compressed value: it claims");
        }
    }

    @Test
    void aTruncatedHeaderOrBlockOrALengthTheBlockDoesNotFillIsRefused() throws Exception {
        AttributeCodec codec = codec("kryo", 256);
        byte[] stored = codec.encode(recentlyViewed());
        byte[] wrongLength = stored.clone();
        wrongLength[1] ^= 0x01; // one more or one less, the continuation bit kept

        List<byte[]> corrupt = List.of(new byte[] {CompressingCodec.LZ4}, new byte[] {CompressingCodec.LZ4, (byte) 0x80},
                new byte[] {CompressingCodec.LZ4, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01},
                new byte[] {CompressingCodec.LZ4, 0x00, 0x00},
                Arrays.copyOf(stored, stored.length - 3), wrongLength);
        for (byte[] bytes : corrupt) {
            assertThatThrownBy(() -> codec.decode(bytes)).isInstanceOf(SerializationException.class)
                    .hasMessageStartingWith("corrupt compressed value");
        }
    }

    @Test
    void aCompressedValueInsideACompressedValueIsRefused() throws Exception {
        byte[] inner = codec("kryo", 256).encode(recentlyViewed());
        byte[] twice = new CompressingCodec(new AttributeCodec() {
            @Override
            public byte[] encode(Object value) {
                return inner;
            }

            @Override
            public Object decode(byte[] bytes) {
                throw new AssertionError("not read");
            }
        }, 64).encode("ignored");
        assertThat(twice[0]).isEqualTo(CompressingCodec.LZ4);

        assertThatThrownBy(() -> codec("kryo", 256).decode(twice)).isInstanceOf(SerializationException.class)
                .hasMessage("corrupt compressed value: it holds another compressed value");
    }

    @Test
    void flippedBytesOfACompressedValueFailAsSerializationExceptionsOnly() throws Exception {
        AttributeCodec codec = codec("kryo", 256);
        byte[] stored = codec.encode(recentlyViewed());
        Random random = new Random(7);
        for (int i = 0; i < 2_000; i++) {
            byte[] bytes = stored.clone();
            for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
                bytes[1 + random.nextInt(bytes.length - 1)] ^= (byte) (1 + random.nextInt(255));
            }
            try {
                codec.decode(bytes);
            } catch (SerializationException expected) {
                // dropped with a WARN by the caller
            }
        }
    }
}

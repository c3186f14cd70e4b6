package io.tomcatredis.session.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * The encrypted format ({@link EncryptingCodec}): AES-GCM after compression, bound to session and
 * field, key id in clear for rotation, plaintext compared for change detection, anything that does
 * not authenticate refused.
 */
class EncryptingCodecTest {

    private static final ClassLoader LOADER = EncryptingCodecTest.class.getClassLoader();
    static final EncryptionKeys.Key K1 = key("k1", 1);
    static final EncryptionKeys.Key K2 = key("k2", 2);
    private static final String SESSION = "5AD9C4F1E0B2A3D4C5B6A7980F1E2D3C";
    private static final String FIELD = "attr:cart";

    static EncryptionKeys.Key key(String id, int seed) {
        byte[] secret = new byte[32];
        for (int i = 0; i < secret.length; i++) {
            secret[i] = (byte) (seed * 31 + i);
        }
        return new EncryptionKeys.Key(id, new SecretKeySpec(secret, "AES"));
    }

    private static AttributeCodec codec(EncryptionKeys keys, boolean acceptUnencrypted, int threshold) {
        return AttributeCodec.create("kryo", LOADER, ClassFilter.DENY_LIST_ONLY, threshold, keys, acceptUnencrypted);
    }

    private static AttributeCodec codec(EncryptionKeys.Key... keys) {
        return codec(EncryptionKeys.of(keys), false, 64).at(SESSION, FIELD);
    }

    private static List<String> cart() {
        List<String> cart = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            cart.add("secret-product-" + i);
        }
        return cart;
    }

    @Test
    void aValueIsCompressedThenEncryptedUnderTheFirstKeyWithItsIdInClear() throws Exception {
        byte[] stored = codec(K1, K2).encode(cart());

        assertThat(stored[0]).isEqualTo(EncryptingCodec.AES_GCM);
        assertThat(stored[1]).as("key id length").isEqualTo((byte) 2);
        assertThat(new String(stored, 2, 2, StandardCharsets.US_ASCII)).isEqualTo("k1");
        assertThat(new String(stored, StandardCharsets.ISO_8859_1)).doesNotContain("secret-product");
        byte[] compressed = codec(null, false, 64).encode(cart());
        assertThat(compressed[0]).as("compressed when unencrypted").isEqualTo(CompressingCodec.LZ4);
        assertThat(stored.length).as("header + nonce + compressed value + tag")
                .isEqualTo(4 + EncryptingCodec.NONCE_BYTES + compressed.length + EncryptingCodec.TAG_BITS / 8);
        assertThat(codec(K1, K2).decode(stored)).isEqualTo(cart());
        assertThat(codec(K1, K2).encode(cart())).as("a random nonce each time").isNotEqualTo(stored);
    }

    @Test
    void rotationReadsEveryListedKeyWritesTheFirstAndDropsUnlistedOnes() throws Exception {
        byte[] byK1 = codec(K1).encode(cart());

        assertThat(codec(K2, K1).decode(byK1)).as("[k2, k1] reads k1").isEqualTo(cart());
        byte[] byK2 = codec(K2, K1).encode(cart());
        assertThat(new String(byK2, 2, 2, StandardCharsets.US_ASCII)).isEqualTo("k2");
        assertThatThrownBy(() -> codec(K2).decode(byK1)).isInstanceOf(SerializationException.class)
                .hasMessage("the value is encrypted with key id \"k1\", which is not among the configured keys [k2]");
        assertThatThrownBy(() -> codec(null, false, 64).at(SESSION, FIELD).decode(byK1))
                .isInstanceOf(SerializationException.class).hasMessageContaining("encryption is not configured");
    }

    @Test
    void aValueMovedToAnotherSessionOrFieldOrForgedFailsAuthentication() throws Exception {
        byte[] stored = codec(K1).encode(cart());
        AttributeCodec codec = codec(EncryptionKeys.of(K1), false, 64);

        String failure = "the value fails authentication with key \"k1\" (forged, damaged, or copied from another"
                + " session or attribute)";
        assertThatThrownBy(() -> codec.at("6BD9C4F1E0B2A3D4C5B6A7980F1E2D3C", FIELD).decode(stored)).hasMessage(failure);
        assertThatThrownBy(() -> codec.at(SESSION, "attr:other").decode(stored)).hasMessage(failure);
        assertThatThrownBy(() -> codec.at(SESSION, "meta:principal").decode(stored)).hasMessage(failure);
        for (int i = 4; i < stored.length; i++) {
            byte[] forged = stored.clone();
            forged[i] ^= 1;
            assertThatThrownBy(() -> codec.at(SESSION, FIELD).decode(forged)).as("byte %d flipped", i)
                    .isInstanceOf(SerializationException.class);
        }
        EncryptionKeys.Key sameIdOtherSecret = key("k1", 9);
        assertThatThrownBy(() -> codec(sameIdOtherSecret).decode(stored)).hasMessage(failure);
    }

    @Test
    void malformedEncryptedValuesAreRefusedBeforeAnyDecryption() {
        AttributeCodec codec = codec(K1);
        for (byte[] bad : new byte[][] {{(byte) 0xE7}, {(byte) 0xE7, 0}, {(byte) 0xE7, (byte) 200, 'k'},
                {(byte) 0xE7, 2, 'k', '1', 1, 2, 3}}) {
            assertThatThrownBy(() -> codec.decode(bad)).isInstanceOf(SerializationException.class)
                    .hasMessageStartingWith("corrupt encrypted value");
        }
    }

    @Test
    void plaintextIsRefusedWithEncryptionOnUnlessAcceptedDuringAMigration() throws Exception {
        byte[] plain = codec(null, false, 64).encode("hello");

        assertThatThrownBy(() -> codec(K1).decode(plain)).isInstanceOf(SerializationException.class)
                .hasMessage("the value is not encrypted, and encryption is on (acceptUnencryptedValues=\"true\" reads"
                        + " such values during a migration)");
        assertThat(codec(EncryptionKeys.of(K1), true, 64).at(SESSION, FIELD).decode(plain)).isEqualTo("hello");
        byte[] rewritten = codec(EncryptionKeys.of(K1), true, 64).at(SESSION, FIELD).encode("hello", plain);
        assertThat(rewritten[0]).as("a migration rewrites a value encrypted").isEqualTo(EncryptingCodec.AES_GCM);
    }

    @Test
    void anUnchangedValueIsRecognisedByItsPlaintextAndKeepsItsStoredBytes() throws Exception {
        byte[] stored = codec(K1).encode(cart());

        assertThat(codec(K1).encode(cart(), stored)).as("unchanged: the same array").isSameAs(stored);
        assertThat(codec(K2, K1).encode(cart(), stored)).as("under an older key: not rewritten").isSameAs(stored);
        List<String> changed = cart();
        changed.add("one more");
        byte[] rewritten = codec(K1).encode(changed, stored);
        assertThat(rewritten).isNotSameAs(stored);
        assertThat(codec(K1).decode(rewritten)).isEqualTo(changed);
        byte[] forged = stored.clone();
        forged[forged.length - 1] ^= 1;
        assertThat(codec(K1).encode(cart(), forged)).as("unreadable stored bytes are replaced").isNotSameAs(forged);
        assertThat(codec(K2).encode(cart(), stored)).as("a key no longer listed: rewritten under k2")
                .isNotSameAs(stored);
    }

    @Test
    void decryptOnlyReadsBothFormsAndWritesUnencrypted() throws Exception {
        byte[] encrypted = codec(K1).encode(cart());
        AttributeCodec decryptOnly = AttributeCodec.create("kryo", LOADER, ClassFilter.DENY_LIST_ONLY, 64,
                EncryptionKeys.of(K1), false, false).at(SESSION, FIELD);

        assertThat(decryptOnly.decode(encrypted)).isEqualTo(cart());
        byte[] written = decryptOnly.encode(cart());
        assertThat(written[0]).as("written unencrypted (compressed)").isEqualTo(CompressingCodec.LZ4);
        assertThat(decryptOnly.decode(written)).isEqualTo(cart());
        assertThat(codec(null, false, 64).at(SESSION, FIELD).decode(written)).as("a node without keys reads it")
                .isEqualTo(cart());
        assertThat(decryptOnly.encode(cart(), encrypted)).as("unchanged: left encrypted").isSameAs(encrypted);
    }
}

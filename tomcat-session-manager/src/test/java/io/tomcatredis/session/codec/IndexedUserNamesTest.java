package io.tomcatredis.session.codec;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class IndexedUserNamesTest {

    private static final EncryptionKeys.Key K1 = key("k1", 1);
    private static final EncryptionKeys.Key K2 = key("k2", 2);

    private static EncryptionKeys.Key key(String id, int fill) {
        byte[] secret = new byte[32];
        java.util.Arrays.fill(secret, (byte) fill);
        return new EncryptionKeys.Key(id, new SecretKeySpec(secret, "AES"));
    }

    @Test
    void withoutEncryptionTheNameIsStoredAsItIs() {
        IndexedUserNames names = IndexedUserNames.of(null, true, false);
        assertThat(names.written("ann")).isEqualTo("ann");
        assertThat(names.written(null)).isNull();
        assertThat(names.lookedUp("ann")).containsExactly("ann");
    }

    /** The documented form, computed here on its own: hmac:<id>:<base64url HMAC-SHA256(derived key, name)>. */
    @Test
    void withEncryptionTheNameIsTheDocumentedHmacUnderTheFirstKey() throws Exception {
        IndexedUserNames names = IndexedUserNames.of(EncryptionKeys.of(K2, K1), true, false);
        Mac derive = Mac.getInstance("HmacSHA256");
        derive.init(new SecretKeySpec(K2.secret().getEncoded(), "HmacSHA256"));
        byte[] derived = derive.doFinal("tomcat-redis principal index v1".getBytes(StandardCharsets.US_ASCII));
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(derived, "HmacSHA256"));
        String expected = "hmac:k2:" + Base64.getUrlEncoder().withoutPadding()
                .encodeToString(mac.doFinal("Zoë".getBytes(StandardCharsets.UTF_8)));

        assertThat(names.written("Zoë")).isEqualTo(expected).isEqualTo(names.written("Zoë"));
        assertThat(names.written("Zoe")).isNotEqualTo(expected);
        assertThat(names.lookedUp("Zoë")).hasSize(2).first().isEqualTo(expected);
        assertThat(names.lookedUp("Zoë").get(1)).startsWith("hmac:k1:");
        assertThat(IndexedUserNames.of(EncryptionKeys.of(K1), true, false).lookedUp("Zoë"))
                .containsExactly(names.lookedUp("Zoë").get(1));
    }

    @Test
    void whileUnencryptedValuesAreReadTheNameInClearIsLookedUpToo() {
        assertThat(IndexedUserNames.of(EncryptionKeys.of(K1), true, true).lookedUp("ann"))
                .hasSize(2).last().isEqualTo("ann");
        IndexedUserNames decryptOnly = IndexedUserNames.of(EncryptionKeys.of(K1), false, true);
        assertThat(decryptOnly.written("ann")).as("decrypt-only writes in clear").isEqualTo("ann");
        assertThat(decryptOnly.lookedUp("ann")).hasSize(2).first().isEqualTo("ann");
    }

    /** "ann\uD800" has no UTF-8 form (getBytes writes "ann?"): never indexed, never looked up, so never "ann?"'s. */
    @Test
    void aNameThatIsNotWellFormedUtf16IsNeitherIndexedNorLookedUp() {
        for (IndexedUserNames names : new IndexedUserNames[] {IndexedUserNames.of(null, true, false),
                IndexedUserNames.of(EncryptionKeys.of(K1), true, true)}) {
            assertThat(names.written("ann\uD800")).isNull();
            assertThat(names.written("\uDC00ann")).isNull();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> names.lookedUp("ann\uD800"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not well-formed UTF-16");
            assertThat(names.written("ann?")).isNotNull();
            assertThat(names.written("\uD83D\uDE00")).as("a pair is well-formed").isNotNull();
        }
    }
}

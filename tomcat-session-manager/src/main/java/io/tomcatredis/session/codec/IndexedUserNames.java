package io.tomcatredis.session.codec;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

/**
 * What Redis holds for a user name: in {@code meta:principalName} and in the name of the user's
 * principal index key ({@code SessionKeys#principalIndexKey}). Without encryption, the name itself.
 * With encryption at rest ({@code encryptionKeyFile}/{@code encryptionKeyEnv}), Redis must not
 * learn who is signed in either, so it holds {@code hmac:<key id>:<base64url of HMAC-SHA256(k, name)>}
 * (RFC 2104; RFC 4648 section 5, unpadded), where {@code k} is derived from the AES key of that id
 * ({@code HMAC-SHA256(aesKey, "tomcat-redis principal index v1")}, so the AES key itself never
 * keys a MAC). Equal names map to equal text under one key, which is all the index needs.
 *
 * <p>Keys rotate: a session is written under the current key, and a lookup ({@link #lookedUp})
 * reads the index under every configured key (and under the plain name while unencrypted values are
 * still read, {@code acceptUnencryptedValues}), so a user signed in before a rotation or before
 * encryption was turned on is still found and signed out. A session's next save moves it to the
 * current key's index (its {@code meta:principalName} no longer matches, as for a change of user).
 */
public final class IndexedUserNames {

    private static final byte[] DERIVATION = "tomcat-redis principal index v1".getBytes(StandardCharsets.US_ASCII);
    private static final Log LOG = LogFactory.getLog(IndexedUserNames.class);

    private final List<String> ids;
    private final List<SecretKeySpec> macKeys;
    private final boolean writePlain;
    private final boolean readPlain;
    private final ThreadLocal<Mac[]> macs;
    private final AtomicBoolean warnedIllFormed = new AtomicBoolean();

    private IndexedUserNames(List<String> ids, List<SecretKeySpec> macKeys, boolean writePlain, boolean readPlain) {
        this.ids = ids;
        this.macKeys = macKeys;
        this.writePlain = writePlain;
        this.readPlain = readPlain;
        this.macs = ThreadLocal.withInitial(() -> new Mac[macKeys.size()]);
    }

    /**
     * @param keys            the encryption keys, or null when encryption is off (names are stored as they are)
     * @param encryptValues   false in decrypt-only mode, where values, and so names, are written in clear
     * @param acceptUnencrypted whether values written in clear are still read; lookups then also
     *                        read the index of the plain name
     */
    public static IndexedUserNames of(EncryptionKeys keys, boolean encryptValues, boolean acceptUnencrypted) {
        if (keys == null) {
            return new IndexedUserNames(List.of(), List.of(), true, true);
        }
        List<SecretKeySpec> derived = new ArrayList<>();
        for (String id : keys.ids()) {
            byte[] aes = keys.byId(id).secret().getEncoded();
            derived.add(new SecretKeySpec(hmac(new SecretKeySpec(aes, "HmacSHA256"), DERIVATION), "HmacSHA256"));
        }
        return new IndexedUserNames(keys.ids(), List.copyOf(derived), !encryptValues, acceptUnencrypted || !encryptValues);
    }

    /**
     * What a save writes for {@code userName}; null for null, and null (the session is not
     * indexed, with one WARN per manager) for a name that is not well-formed UTF-16: an unpaired
     * surrogate has no UTF-8 form ({@code String.getBytes} writes {@code ?} for it), so the name
     * would share its index with another user's ({@code "ann\uD800"} and {@code "ann?"}).
     */
    public String written(String userName) {
        if (userName == null) {
            return null;
        }
        if (!wellFormed(userName)) {
            if (!warnedIllFormed.getAndSet(true)) {
                LOG.warn("A session's user name is not well-formed UTF-16 (an unpaired surrogate): it is not added to"
                        + " the principal index, so it cannot be signed out everywhere (logged once; the name is not)");
            }
            return null;
        }
        return writePlain ? userName : sealed(0, userName);
    }

    /**
     * Every form under which sessions of {@code userName} may be indexed, the written one first.
     *
     * @throws IllegalArgumentException for a name that is not well-formed UTF-16 (see {@link #written}):
     *         no session is indexed under it, and it must not reach another user's
     */
    public List<String> lookedUp(String userName) {
        if (!wellFormed(userName)) {
            throw new IllegalArgumentException("The user name is not well-formed UTF-16 (an unpaired surrogate)");
        }
        List<String> forms = new ArrayList<>();
        forms.add(written(userName));
        for (int i = 0; i < macKeys.size(); i++) {
            String form = sealed(i, userName);
            if (!forms.contains(form)) {
                forms.add(form);
            }
        }
        if (readPlain && !forms.contains(userName)) {
            forms.add(userName);
        }
        return forms;
    }

    private static boolean wellFormed(String name) {
        return StandardCharsets.UTF_8.newEncoder().canEncode(name);
    }

    private String sealed(int key, String userName) {
        Mac[] perThread = macs.get();
        try {
            if (perThread[key] == null) {
                perThread[key] = Mac.getInstance("HmacSHA256");
                perThread[key].init(macKeys.get(key));
            }
            byte[] tag = perThread[key].doFinal(userName.getBytes(StandardCharsets.UTF_8));
            return "hmac:" + ids.get(key) + ":" + Base64.getUrlEncoder().withoutPadding().encodeToString(tag);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Every Java platform has HmacSHA256", e);
        }
    }

    private static byte[] hmac(SecretKeySpec key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Every Java platform has HmacSHA256", e);
        }
    }
}

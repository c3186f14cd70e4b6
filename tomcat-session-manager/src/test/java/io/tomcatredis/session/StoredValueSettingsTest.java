package io.tomcatredis.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tomcatredis.connection.InvalidSettingException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code encryptionKeyFile}, {@code encryptionKeyEnv}, {@code acceptUnencryptedValues} and the size
 * guards as parsed at start: every refusal with its exact message, and never key material in it.
 */
class StoredValueSettingsTest {

    static final String K1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    static final String K2 = "ICEiIyQlJicoKSorLC0uLw==";

    @TempDir
    Path dir;

    private static SessionManagerSettings parse(Map<String, String> attributes, Map<String, String> environment) {
        return SessionManagerSettings.parse(attributes::get, "p:", environment::get);
    }

    private static SessionManagerSettings parse(Map<String, String> attributes) {
        return parse(attributes, Map.of());
    }

    private String file(String content) throws IOException {
        Path file = Files.createTempFile(dir, "keys", ".txt");
        Files.writeString(file, content);
        return file.toString();
    }

    private static void refused(Map<String, String> attributes, Map<String, String> environment, String message) {
        assertThatThrownBy(() -> parse(attributes, environment)).isInstanceOf(InvalidSettingException.class)
                .hasMessage(message).message().doesNotContain(K1).doesNotContain(K2);
    }

    @Test
    void keysFromAFileFirstEncryptsCommentsAndBlankLinesIgnored() throws IOException {
        String path = file("# rotated 2026-11\n\nk2=" + K2 + "\r\nk1 = " + K1 + "\n");
        SessionManagerSettings settings = parse(Map.of("encryptionKeyFile", path));
        assertThat(settings.encryptionKeys().ids()).containsExactly("k2", "k1");
        assertThat(settings.encryptionKeys().current().id()).isEqualTo("k2");
        assertThat(settings.encryptionKeys().toString()).doesNotContain(K1).doesNotContain(K2);
        assertThat(settings.acceptUnencryptedValues()).isFalse();
    }

    @Test
    void keysFromAnEnvironmentVariableOnLinesOrCommas() {
        SessionManagerSettings settings = parse(Map.of("encryptionKeyEnv", "SESSION_KEYS"),
                Map.of("SESSION_KEYS", "k2=" + K2 + ",k1=" + K1));
        assertThat(settings.encryptionKeys().ids()).containsExactly("k2", "k1");
        assertThat(parse(Map.of()).encryptionKeys()).as("off by default").isNull();
    }

    @Test
    void badKeyFilesAreRefusedWithExactMessages() throws IOException {
        String prefix = "Invalid value for attribute 'encryptionKeyFile': ";
        refused(Map.of("encryptionKeyFile", dir.resolve("missing.txt").toString()), Map.of(),
                prefix + "file \"" + dir.resolve("missing.txt") + "\" does not exist");
        refused(Map.of("encryptionKeyFile", dir.toString()), Map.of(),
                prefix + "file \"" + dir + "\" cannot be read: IOException");
        refused(Map.of("encryptionKeyFile", file("k1=" + K1.substring(4))), Map.of(),
                prefix + "entry 1: the key is 29 bytes; AES needs 16, 24 or 32");
        refused(Map.of("encryptionKeyFile", file("k1=" + K1 + "\nk2=not*base64")), Map.of(),
                prefix + "entry 2: the key is not valid base64");
        refused(Map.of("encryptionKeyFile", file("k1=" + K1 + "\n# c\nk1=" + K2)), Map.of(),
                prefix + "entry 3: its key id is already used by entry 1");
        refused(Map.of("encryptionKeyFile", file("# nothing\n\n")), Map.of(),
                prefix + "no key is listed (expected lines of id=base64key)");
        refused(Map.of("encryptionKeyFile", file(K1)), Map.of(), prefix + "entry 1 is not id=base64key");
        refused(Map.of("encryptionKeyFile", file(K2)), Map.of(), prefix + "entry 1 is not id=base64key");
        refused(Map.of("encryptionKeyFile", file("k1=" + K1 + "\nk2=")), Map.of(), prefix + "entry 2 is not id=base64key");
        refused(Map.of("encryptionKeyFile", file("k 1=" + K1)), Map.of(),
                prefix + "entry 1: the key id must be 1 to 64 of A-Z a-z 0-9 . _ -");
    }

    @Test
    void keysInContextXmlAreRefusedWithoutEchoingThem() {
        refused(Map.of("encryptionKey", K1), Map.of(), "Invalid value for attribute 'encryptionKey': keys are never"
                + " read from context.xml, where they would sit in clear; name a file with encryptionKeyFile or an"
                + " environment variable with encryptionKeyEnv");
        refused(Map.of("encryptionKeyFile", "k1=" + K1), Map.of(), "Invalid value for attribute 'encryptionKeyFile':"
                + " the value looks like a key, not a file name: keys are never read from context.xml, where they would"
                + " sit in clear");
        refused(Map.of("encryptionKeyEnv", K2), Map.of(), "Invalid value for attribute 'encryptionKeyEnv': the value"
                + " looks like a key, not a variable name: keys are never read from context.xml, where they would sit"
                + " in clear");
    }

    @Test
    void otherEncryptionSettingsAreCheckedTogether() throws IOException {
        refused(Map.of("encryptionKeyEnv", "SESSION_KEYS"), Map.of(),
                "Invalid value for attribute 'encryptionKeyEnv': environment variable SESSION_KEYS is not set");
        refused(Map.of("encryptionKeyEnv", "session-keys"), Map.of(),
                "Invalid value for attribute 'encryptionKeyEnv': \"session-keys\" is not the name of an environment"
                        + " variable");
        refused(Map.of("encryptionKeyFile", file("k1=" + K1), "encryptionKeyEnv", "SESSION_KEYS"), Map.of(),
                "Invalid value for attribute 'encryptionKeyEnv': set either encryptionKeyFile or encryptionKeyEnv, not"
                        + " both");
        refused(Map.of("acceptUnencryptedValues", "true"), Map.of(),
                "Invalid value for attribute 'acceptUnencryptedValues': true needs encryption: set encryptionKeyFile or"
                        + " encryptionKeyEnv");
        assertThat(parse(Map.of("encryptionKeyFile", file("k1=" + K1), "acceptUnencryptedValues", "true"))
                .acceptUnencryptedValues()).isTrue();
        SessionManagerSettings decryptOnly = parse(Map.of("encryptionKeyFile", file("k1=" + K1), "encryptValues", "false"));
        assertThat(decryptOnly.encryptValues()).isFalse();
        assertThat(decryptOnly.acceptUnencryptedValues()).as("implied: it writes them").isTrue();
        refused(Map.of("encryptValues", "false"), Map.of(), "Invalid value for attribute 'encryptValues': false"
                + " (decrypt-only) needs keys: set encryptionKeyFile or encryptionKeyEnv");
        refused(Map.of("encryptionKeyFile", file("k1=" + K1), "encryptValues", "false", "acceptUnencryptedValues", "false"),
                Map.of(), "Invalid value for attribute 'acceptUnencryptedValues': false contradicts"
                        + " encryptValues=\"false\", which writes unencrypted values");
    }

    @Test
    void sizeLimitsAreOffByDefaultAndCheckedTogether() {
        SessionManagerSettings defaults = parse(Map.of());
        assertThat(defaults.maxAttributeBytes()).isZero();
        assertThat(defaults.maxSessionBytes()).isZero();
        assertThat(defaults.failOnSizeLimit()).isFalse();
        SessionManagerSettings set = parse(Map.of("maxAttributeBytes", "65536", "maxSessionBytes", "1048576",
                "sizeLimitAction", "FAIL"));
        assertThat(set.maxAttributeBytes()).isEqualTo(65536);
        assertThat(set.maxSessionBytes()).isEqualTo(1048576);
        assertThat(set.failOnSizeLimit()).isTrue();
        refused(Map.of("maxAttributeBytes", "-1"), Map.of(),
                "Invalid value for attribute 'maxAttributeBytes': -1 is outside the allowed range 0..2147483647");
        refused(Map.of("maxSessionBytes", "1MB"), Map.of(),
                "Invalid value for attribute 'maxSessionBytes': \"1MB\" is not a whole number");
        refused(Map.of("maxAttributeBytes", "2000", "maxSessionBytes", "1000"), Map.of(),
                "Invalid value for attribute 'maxAttributeBytes': 2000 is above maxSessionBytes (1000): no attribute"
                        + " could reach it");
        refused(Map.of("sizeLimitAction", "reject"), Map.of(),
                "Invalid value for attribute 'sizeLimitAction': \"reject\" is not one of warn, fail");
    }
}

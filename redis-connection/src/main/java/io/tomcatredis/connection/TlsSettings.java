package io.tomcatredis.connection;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * TLS for {@code rediss://}: an optional truststore (for a private CA), an optional keystore (for
 * mutual TLS), and how strictly the server is verified. Certificate and hostname verification are
 * on by default.
 *
 * <table>
 *   <caption>TLS attributes</caption>
 *   <tr><th>Attribute</th><th>Default</th><th>Meaning</th></tr>
 *   <tr><td>{@code truststore}</td><td>the JVM's</td><td>path of a truststore with the CA of Redis</td></tr>
 *   <tr><td>{@code truststorePassword}</td><td></td><td></td></tr>
 *   <tr><td>{@code truststoreType}</td><td>PKCS12</td><td></td></tr>
 *   <tr><td>{@code keystore}</td><td></td><td>path of a keystore with the client certificate</td></tr>
 *   <tr><td>{@code keystorePassword}</td><td></td><td></td></tr>
 *   <tr><td>{@code keystoreType}</td><td>PKCS12</td><td></td></tr>
 *   <tr><td>{@code tlsVerify}</td><td>full</td>
 *       <td>{@code full}: CA and hostname; {@code ca}: CA only; {@code none}: nothing (testing only)</td></tr>
 * </table>
 */
public record TlsSettings(Path truststore, String truststorePassword, String truststoreType, Path keystore,
        String keystorePassword, String keystoreType, String verify) {

    public static final String TRUSTSTORE = "truststore";
    public static final String TRUSTSTORE_PASSWORD = "truststorePassword";
    public static final String TRUSTSTORE_TYPE = "truststoreType";
    public static final String KEYSTORE = "keystore";
    public static final String KEYSTORE_PASSWORD = "keystorePassword";
    public static final String KEYSTORE_TYPE = "keystoreType";
    public static final String TLS_VERIFY = "tlsVerify";

    static TlsSettings parse(Settings settings, boolean tls) {
        Path truststore = file(settings, TRUSTSTORE);
        Path keystore = file(settings, KEYSTORE);
        String verify = settings.oneOf(TLS_VERIFY, "full", "full", "ca", "none");
        if (!tls && (truststore != null || keystore != null)) {
            throw new InvalidSettingException(truststore != null ? TRUSTSTORE : KEYSTORE,
                    "is set but redisUri does not start with rediss://, so TLS is off");
        }
        return new TlsSettings(truststore, settings.string(TRUSTSTORE_PASSWORD, null),
                settings.string(TRUSTSTORE_TYPE, "PKCS12"), keystore, settings.string(KEYSTORE_PASSWORD, null),
                settings.string(KEYSTORE_TYPE, "PKCS12"), verify);
    }

    private static Path file(Settings settings, String name) {
        String raw = settings.string(name, null);
        if (raw == null) {
            return null;
        }
        Path path = Path.of(raw);
        if (!Files.isReadable(path)) {
            throw new InvalidSettingException(name, "file \"" + raw + "\" does not exist or cannot be read");
        }
        return path;
    }

    @Override
    public String toString() {
        return "tlsVerify=" + verify + (truststore != null ? ", truststore=" + truststore : "")
                + (keystore != null ? ", keystore=" + keystore : "");
    }
}
